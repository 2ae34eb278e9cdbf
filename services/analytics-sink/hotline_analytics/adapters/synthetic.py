"""Contract events of whole voice-call lifecycles, as the services publish them (docs/flow.md).

Used by the tests and the event-throughput benchmark to feed the sink realistic traffic without
SIP: each call yields its interaction events (voice and routing topics) and the agent's state
changes (agents topic), chained by causation ids, at given times.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from google.protobuf.message import Message

from hotline.agent.v1.events_pb2 import AgentEvent, AgentState
from hotline.common.v1.envelope_pb2 import CHANNEL_VOICE, DIRECTION_INBOUND
from hotline.interaction.v1.events_pb2 import (
    IdentityHint,
    IdentityKind,
    InteractionAbandoned,
    InteractionCompleted,
    InteractionEvent,
    SelfServiceFinished,
)
from hotline_platform.envelope import new_envelope
from hotline_platform.topics import AGENTS, ROUTING_INTERACTIONS, VOICE_INTERACTIONS, Topic


class CallEnd(StrEnum):
    ANSWERED = "answered"  # answered, talked, wrapped up
    ABANDONED = "abandoned"  # caller hung up while queued (short or not: see wait_ms)
    ABANDONED_WHILE_OFFERED = "abandoned_while_offered"
    WAITING = "waiting"  # still in queue when the events stop
    CONTAINED = "contained"  # announcement entry point: no queue


@dataclass(frozen=True)
class Call:
    tenant_id: str
    arrived_at_ms: int
    end: CallEnd = CallEnd.ANSWERED
    queue_id: str = "support"
    agent_id: str = "agent-1"
    interaction_id: str = ""
    queue_after_ms: int = 40  # arrival -> queued (router latency)
    wait_ms: int = 8_000  # queued -> answered / abandoned
    talk_ms: int = 120_000
    hold_ms: int = 0
    wrap_up_ms: int = 30_000
    rejected_offers: int = 0  # offers that rang out before the answered one
    wrap_up_ended: bool = True  # False: the agent is still in wrap-up
    sl_threshold_s: int = 20
    site_id: str = "lisbon"
    caller: str = "+351910000000"
    priority: int = 0
    agent_site_id: str = ""  # the offered agent's site ("": site_id)
    routing_steps: int = 0  # bullseye steps taken before the first offer (offers carry it)

    def with_id(self) -> Call:
        if self.interaction_id:
            return self
        return Call(**{**self.__dict__, "interaction_id": str(uuid.uuid4())})


def call_events(call: Call) -> list[tuple[Topic, Message]]:
    """The events of one call, in the order they happen."""
    call = call.with_id()
    out: list[tuple[Topic, Message]] = []
    last = [""]

    def interaction(
        topic: Topic, at_ms: int, producer: str, site_id: str = ""
    ) -> InteractionEvent:
        event = InteractionEvent(
            envelope=new_envelope(
                tenant_id=call.tenant_id,
                producer=producer,
                interaction_id=call.interaction_id,
                occurred_at_ms=at_ms,
                causation_id=last[0],
                site_id=site_id or call.site_id,
            )
        )
        last[0] = event.envelope.event_id
        out.append((topic, event))
        return event

    def agent_state(at_ms: int, state: int, previous: int, reason: str = "") -> None:
        event = AgentEvent(
            envelope=new_envelope(
                tenant_id=call.tenant_id,
                producer="router/router-0",
                agent_id=call.agent_id,
                occurred_at_ms=at_ms,
                causation_id=last[0],
                site_id=call.site_id,
            )
        )
        change = event.state_changed
        change.state = state
        change.previous_state = previous
        change.reason_code = reason
        change.interaction_id = call.interaction_id
        change.previous_state_ms = 1_000
        out.append((AGENTS, event))

    t = call.arrived_at_ms
    arrived = interaction(VOICE_INTERACTIONS, t, "ingress-sip/ingress-sip-0").arrived
    arrived.channel = CHANNEL_VOICE
    arrived.direction = DIRECTION_INBOUND
    arrived.from_address = f"sip:{call.caller}@10.0.0.1"
    arrived.to_address = "sip:+35121000001@hotline"
    arrived.entry_point_id = "+35121000001"
    arrived.session_ref = f"{call.interaction_id}@10.0.0.1"
    arrived.identity_hints.append(
        IdentityHint(kind=IdentityKind.IDENTITY_KIND_PHONE, value=call.caller)
    )
    if call.end is CallEnd.CONTAINED:
        done = interaction(VOICE_INTERACTIONS, t + call.talk_ms, "ingress-sip/ingress-sip-0")
        done.self_service_finished.outcome = SelfServiceFinished.OUTCOME_CONTAINED
        done.self_service_finished.duration_ms = call.talk_ms
        return out

    queued_at = t + call.queue_after_ms
    queued = interaction(ROUTING_INTERACTIONS, queued_at, "router/router-0").queued
    queued.queue_id = call.queue_id
    queued.channel = CHANNEL_VOICE
    queued.service_level_threshold_s = call.sl_threshold_s
    queued.required_skills.add(name="support", level=1)
    queued.priority = call.priority
    for step in range(1, call.routing_steps + 1):
        expanded = interaction(ROUTING_INTERACTIONS, queued_at + step, "router/router-0")
        expanded.routing_expanded.queue_id = call.queue_id
        expanded.routing_expanded.step = step
        expanded.routing_expanded.waited_ms = step
    if call.end is CallEnd.WAITING:
        return out

    answer_at = queued_at + call.wait_ms
    attempts = call.rejected_offers + (1 if call.end is not CallEnd.ABANDONED else 0)
    offer_at = answer_at - 10 * (attempts + 1)
    accepted_offer = ""
    for attempt in range(1, attempts + 1):
        offer_id = str(uuid.uuid4())
        # The router stamps an offer with the offered agent's site.
        offered = interaction(
            ROUTING_INTERACTIONS, offer_at, "router/router-0", call.agent_site_id
        ).offered
        offered.offer_id = offer_id
        offered.agent_id = call.agent_id
        offered.queue_id = call.queue_id
        offered.agent_endpoint = f"sip:{call.agent_id}@127.0.0.1:15101"
        offered.ring_timeout_ms = 10_000
        offered.attempt = attempt
        offered.channel = CHANNEL_VOICE
        offered.routing_step = call.routing_steps
        agent_state(offer_at, AgentState.AGENT_STATE_RESERVED, AgentState.AGENT_STATE_READY)
        offer_at += 5
        if attempt <= call.rejected_offers:
            timed_out = interaction(VOICE_INTERACTIONS, offer_at, "ingress-sip/ingress-sip-0")
            timed_out.offer_timed_out.offer_id = offer_id
            timed_out.offer_timed_out.agent_id = call.agent_id
            timed_out.offer_timed_out.queue_id = call.queue_id
            timed_out.offer_timed_out.rang_ms = 5
            agent_state(
                offer_at,
                AgentState.AGENT_STATE_NOT_READY,
                AgentState.AGENT_STATE_RESERVED,
                "missed_offer",
            )
            offer_at += 5
        else:
            accepted_offer = offer_id

    if call.end in (CallEnd.ABANDONED, CallEnd.ABANDONED_WHILE_OFFERED):
        gone = interaction(VOICE_INTERACTIONS, answer_at, "ingress-sip/ingress-sip-0").abandoned
        gone.stage = (
            InteractionAbandoned.STAGE_WHILE_OFFERED
            if call.end is CallEnd.ABANDONED_WHILE_OFFERED
            else InteractionAbandoned.STAGE_IN_QUEUE
        )
        gone.waited_ms = answer_at - t
        gone.reason = "caller hung up"
        return out

    accepted = interaction(VOICE_INTERACTIONS, answer_at, "ingress-sip/ingress-sip-0")
    accepted.offer_accepted.offer_id = accepted_offer
    accepted.offer_accepted.agent_id = call.agent_id
    accepted.offer_accepted.queue_id = call.queue_id
    accepted.offer_accepted.since_arrival_ms = answer_at - t
    agent_state(answer_at, AgentState.AGENT_STATE_BUSY, AgentState.AGENT_STATE_RESERVED)

    end_at = answer_at + call.talk_ms
    completed = interaction(VOICE_INTERACTIONS, end_at, "ingress-sip/ingress-sip-0").completed
    completed.ended_by = InteractionCompleted.ENDED_BY_CUSTOMER
    completed.agent_id = call.agent_id
    completed.talk_ms = call.talk_ms
    completed.hold_ms = call.hold_ms
    started = interaction(ROUTING_INTERACTIONS, end_at + 2, "router/router-0").wrap_up_started
    started.agent_id = call.agent_id
    agent_state(end_at + 2, AgentState.AGENT_STATE_WRAP_UP, AgentState.AGENT_STATE_BUSY)
    if not call.wrap_up_ended:
        return out

    ended_at = end_at + 2 + call.wrap_up_ms
    ended = interaction(ROUTING_INTERACTIONS, ended_at, "router/router-0").wrap_up_ended
    ended.agent_id = call.agent_id
    ended.disposition.code = "resolved"
    ended.disposition.resolved = True
    ended.wrap_up_ms = call.wrap_up_ms
    agent_state(ended_at, AgentState.AGENT_STATE_READY, AgentState.AGENT_STATE_WRAP_UP)
    return out
