"""Mapping between ingress-sip's domain facts and the contract (no broker)."""

from __future__ import annotations

import pytest

from hotline.common.v1.envelope_pb2 import CHANNEL_CHAT, CHANNEL_VOICE, DIRECTION_INBOUND
from hotline.interaction.v1.events_pb2 import (
    IDENTITY_KIND_PHONE,
    InteractionAbandoned,
    InteractionCompleted,
    InteractionEvent,
    SelfServiceFinished,
)
from hotline_ingress_sip.adapters.kafka_events import (
    instruction_from_event,
    offer_from_event,
    to_event,
    withdrawal_from_event,
)
from hotline_ingress_sip.domain import events as facts
from hotline_platform.envelope import check_envelope, new_envelope, occurred_at_ms

BASE = {
    "interaction_id": "i-1",
    "tenant_id": "acme",
    "site_id": "lisbon",
    "at_ms": 1_700_000_000_123,
}


def test_arrived_carries_the_call_and_a_valid_envelope() -> None:
    event = to_event(
        facts.CallArrived(
            **BASE,
            from_address="sip:911@h",
            to_address="sip:+351@x",
            entry_point_id="+351",
            caller_id="911",
            session_ref="cid@h",
        ),
        "ingress-sip/i0",
    )
    check_envelope(event)
    env = event.envelope
    assert (env.tenant_id, env.site_id, env.interaction_id) == ("acme", "lisbon", "i-1")
    assert env.producer == "ingress-sip/i0" and env.correlation_id == "i-1"
    assert occurred_at_ms(env) == BASE["at_ms"]
    a = event.arrived
    assert (a.channel, a.direction, a.entry_point_id, a.session_ref) == (
        CHANNEL_VOICE,
        DIRECTION_INBOUND,
        "+351",
        "cid@h",
    )
    assert (a.from_address, a.to_address) == ("sip:911@h", "sip:+351@x")
    assert [(h.kind, h.value) for h in a.identity_hints] == [(IDENTITY_KIND_PHONE, "911")]


@pytest.mark.parametrize(
    ("fact", "kind", "check"),
    [
        (
            facts.OfferAccepted(
                **BASE, agent_id="a1", causation_id="e1", offer_id="o1", queue_id="q",
                since_arrival_ms=42,
            ),
            "offer_accepted",
            lambda e: (e.offer_accepted.offer_id, e.offer_accepted.since_arrival_ms) == ("o1", 42),
        ),
        (
            facts.OfferRejected(
                **BASE, agent_id="a1", causation_id="e1", offer_id="o1", queue_id="q",
                reason="sip:486",
            ),
            "offer_rejected",
            lambda e: e.offer_rejected.reason == "sip:486",
        ),
        (
            facts.OfferTimedOut(
                **BASE, agent_id="a1", causation_id="e1", offer_id="o1", queue_id="q", rang_ms=9
            ),
            "offer_timed_out",
            lambda e: (e.offer_timed_out.agent_id, e.offer_timed_out.rang_ms) == ("a1", 9),
        ),
        (
            facts.CallCompleted(**BASE, agent_id="a1", ended_by=facts.EndedBy.AGENT, talk_ms=7),
            "completed",
            lambda e: (e.completed.ended_by, e.completed.talk_ms)
            == (InteractionCompleted.ENDED_BY_AGENT, 7),
        ),
        (
            facts.CallAbandoned(
                **BASE, stage=facts.AbandonStage.WHILE_OFFERED, waited_ms=5, reason="cancelled"
            ),
            "abandoned",
            lambda e: (e.abandoned.stage, e.abandoned.waited_ms)
            == (InteractionAbandoned.STAGE_WHILE_OFFERED, 5),
        ),
        (
            facts.SelfServiceFinished(
                **BASE, outcome=facts.SelfServiceOutcome.CONTAINED, duration_ms=3
            ),
            "self_service_finished",
            lambda e: e.self_service_finished.outcome == SelfServiceFinished.OUTCOME_CONTAINED,
        ),
    ],
)  # fmt: skip
def test_each_fact_becomes_its_event(fact, kind, check) -> None:
    event = to_event(fact, "ingress-sip/i0")
    check_envelope(event)
    assert event.WhichOneof("event") == kind
    assert check(event)
    assert event.envelope.agent_id == fact.agent_id
    assert event.envelope.causation_id == fact.causation_id
    assert InteractionEvent.FromString(event.SerializeToString()) == event


def offered_event(channel: int = CHANNEL_VOICE) -> InteractionEvent:
    event = InteractionEvent(
        envelope=new_envelope(tenant_id="acme", producer="router/r0", interaction_id="i-1")
    )
    o = event.offered
    o.offer_id, o.agent_id, o.queue_id = "o1", "a1", "q"
    o.agent_endpoint, o.ring_timeout_ms, o.attempt, o.channel = "sip:a1@h:1", 900, 2, channel
    return event


def test_offered_becomes_an_offer_caused_by_that_event() -> None:
    event = offered_event()
    offer = offer_from_event(event)
    assert offer == facts.Offer(
        "i-1", "acme", "o1", "a1", "q", "sip:a1@h:1", 900, 2, event.envelope.event_id
    )


def test_other_kinds_and_channels_are_not_offers() -> None:
    assert offer_from_event(offered_event(CHANNEL_CHAT)) is None
    queued = InteractionEvent(
        envelope=new_envelope(tenant_id="acme", producer="router/r0", interaction_id="i-1")
    )
    queued.queued.queue_id = "q"
    assert offer_from_event(queued) is None


def test_the_routers_offer_timed_out_withdraws_the_offer() -> None:
    event = InteractionEvent(
        envelope=new_envelope(
            tenant_id="acme", producer="router/r0", interaction_id="i-1", agent_id="a1"
        )
    )
    t = event.offer_timed_out
    t.offer_id, t.queue_id, t.rang_ms = "o1", "q", 17_000
    withdrawn = facts.OfferWithdrawn("i-1", "acme", "o1", "a1")
    assert withdrawal_from_event(event) == withdrawn
    assert instruction_from_event(event) == withdrawn
    assert offer_from_event(event) is None
    offered = offered_event()
    assert withdrawal_from_event(offered) is None
    assert isinstance(instruction_from_event(offered), facts.Offer)
    queued = InteractionEvent(
        envelope=new_envelope(tenant_id="acme", producer="router/r0", interaction_id="i-1")
    )
    queued.queued.queue_id = "q"
    queued.queued.position, queued.queued.estimated_wait_ms = 3, 90_000
    assert instruction_from_event(queued) == facts.QueuePlacement("i-1", "acme", "q", 3, 90_000)
    wrap_up = InteractionEvent(envelope=queued.envelope)
    wrap_up.wrap_up_started.agent_id = "a1"
    assert instruction_from_event(wrap_up) is None
