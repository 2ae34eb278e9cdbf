"""ingress-sip says when its process starts and that it is alive, once per tenant served,
on hotline.ingress.liveness.v1 (the router ends the calls of a restarted or silent instance)."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf.message import Message
from ingress_sip_harness import AGENT, CALLER, CALLER_SDP, Harness, request

from hotline.ingress.v1.events_pb2 import IngressEvent
from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline_ingress_sip.adapters.kafka_events import instruction_from_event
from hotline_ingress_sip.adapters.liveness import Liveness
from hotline_ingress_sip.adapters.memory import ManualClock
from hotline_ingress_sip.domain.events import EndedByRouter
from hotline_ingress_sip.domain.sip import SipRequest, interaction_id_for, parse
from hotline_platform import codec, topics
from hotline_platform.envelope import ContractViolation, new_envelope, occurred_at_ms


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[tuple[topics.Topic, Message]] = []
        self.flushed_after: list[int] = []

    def publish(self, topic: topics.Topic, event: Message) -> None:
        self.published.append((topic, event))

    def flush(self, timeout: float = 10) -> None:
        self.flushed_after.append(len(self.published))


def _events(pub: RecordingPublisher, kind: str) -> list[IngressEvent]:
    out = []
    for topic, event in pub.published:
        assert topic is topics.INGRESS_LIVENESS
        assert isinstance(event, IngressEvent)
        # Every record passes the consumers' contract checks (no interaction or agent named).
        decoded = codec.decode(topic, codec.encode(event), event.envelope.tenant_id.encode())
        assert isinstance(decoded, IngressEvent)
        if event.WhichOneof("event") == kind:
            out.append(event)
    return out


def test_started_once_per_tenant_and_flushed_then_heartbeats() -> None:
    pub = RecordingPublisher()
    clock = ManualClock(1_000_000)
    calls = [3]
    live = Liveness(
        pub, "sip-0", ["acme", "globex", "acme"], clock, interval_ms=2000,
        active_calls=lambda: calls[0],
    )
    live.announce_start()
    started = _events(pub, "started")
    assert sorted(e.envelope.tenant_id for e in started) == ["acme", "globex"]
    assert pub.flushed_after == [2]  # durable before any call is taken
    for e in started:
        assert e.envelope.producer == "ingress-sip/sip-0"
        assert not e.envelope.interaction_id and not e.envelope.agent_id
        assert occurred_at_ms(e.envelope) == 1_000_000
        assert e.started.instance_id == "sip-0"
        assert e.started.incarnation_id == live.incarnation_id
        assert e.started.heartbeat_interval_ms == 2000

    clock.now += 2000
    live.beat()
    beats = _events(pub, "heartbeat")
    assert sorted(e.envelope.tenant_id for e in beats) == ["acme", "globex"]
    for e in beats:
        assert occurred_at_ms(e.envelope) == 1_002_000
        assert e.heartbeat.started_at_ms == 1_000_000
        assert e.heartbeat.incarnation_id == live.incarnation_id
        assert e.heartbeat.active_calls == 3


def test_every_process_start_is_a_new_incarnation() -> None:
    clock = ManualClock()
    first = Liveness(RecordingPublisher(), "sip-0", ["acme"], clock)
    second = Liveness(RecordingPublisher(), "sip-0", ["acme"], clock)
    assert first.incarnation_id != second.incarnation_id


def test_heartbeats_run_on_the_loop_until_stopped() -> None:
    async def scenario() -> int:
        live = Liveness(RecordingPublisher(), "sip-0", ["acme"], ManualClock(), interval_ms=10)
        live.announce_start()
        live.start()
        await asyncio.sleep(0.08)
        await live.stop()
        beats = live.heartbeats
        await asyncio.sleep(0.03)
        assert live.heartbeats == beats
        return beats

    assert asyncio.run(scenario()) >= 3


def test_interaction_topics_still_require_a_subject() -> None:
    event = IngressEvent(envelope=new_envelope(tenant_id="acme", producer="ingress-sip/x"))
    event.heartbeat.instance_id = "x"
    payload = codec.encode(event)
    assert codec.decode(topics.INGRESS_LIVENESS, payload, b"acme")
    wrong = InteractionEvent(envelope=new_envelope(tenant_id="acme", producer="ingress-sip/x"))
    wrong.abandoned.reason = "x"
    with pytest.raises(ContractViolation, match="neither an interaction nor an agent"):
        codec.decode(topics.VOICE_INTERACTIONS, codec.encode(wrong), b"acme")


def test_a_restarted_process_acts_on_nothing_of_its_previous_incarnation() -> None:
    """A new process holds only its own calls: offers and withdrawals for interactions of the
    process before it (the router may still be catching up) ring and cancel nobody, and a
    request in a dialog of the old process gets 481."""
    sip = Harness()
    sip.send(request("INVITE", body=CALLER_SDP))  # this process's own call: i-1
    sip.sent()
    sip.offer("i-of-the-old-process")
    sip.withdraw("i-of-the-old-process")
    assert sip.sent_to(AGENT) == []
    assert sip.calls.stats.offers_ignored == 1
    assert sip.kinds() == ["CallArrived"]
    sip.send(request("BYE", call_id="call-of-the-old-process", branch="z9hG4bK-old"))
    assert [getattr(m, "status", 0) for m in sip.sent_to(CALLER)] == [481]
    sip.offer("i-1")  # its own call still rings
    assert sip.agent_invite().uri == f"sip:a1@{AGENT[0]}:{AGENT[1]}"


# ----------------------------------------------------------------- the router took us for lost


def test_a_waiting_call_the_router_ended_is_released_without_a_second_fact() -> None:
    """A stall longer than the router's limit: the router ended the call (`abandoned`
    ingress_lost); the caller still waiting here gets 480, and no fact of ours follows."""
    sip = Harness()
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.sent()
    sip.offer("i-1")
    sip.agent_invite()
    sip.calls.on_offers([EndedByRouter("i-1", "other-tenant")])  # not that tenant's call
    assert sip.sent() == []
    sip.calls.on_offers([EndedByRouter("i-1", "acme")])
    assert [getattr(m, "status", 0) for m in sip.sent_to(CALLER)] == [480]
    assert sip.kinds() == ["CallArrived"]
    assert sip.calls.active_calls == 0 and sip.calls.stats.ended_by_router == 1
    sip.offer("i-1", n=2)  # whatever the router still sends rings nobody
    assert sip.sent_to(AGENT) == []


def test_a_connected_call_the_router_ended_is_hung_up_on_both_legs() -> None:
    sip = Harness()
    sip.connect()
    sip.sent()
    sip.calls.on_offers([EndedByRouter("i-1", "acme")])
    sent = sip.sent()
    assert sorted(getattr(m, "method", "") for m, _ in sent) == ["BYE", "BYE"]
    assert sip.kinds() == ["CallArrived", "OfferAccepted"]
    assert sip.calls.active_calls == 0


def test_router_terminal_facts_are_read_as_endings() -> None:
    ev = InteractionEvent(
        envelope=new_envelope(tenant_id="acme", producer="router/r", interaction_id="i-1")
    )
    ev.abandoned.reason = "ingress_lost"
    assert instruction_from_event(ev) == EndedByRouter("i-1", "acme")
    ev.completed.agent_id = "a1"
    assert instruction_from_event(ev) == EndedByRouter("i-1", "acme")


# ------------------------------------------------- an INVITE that outlived the process it reached


def test_an_invite_names_its_interaction_by_its_transaction() -> None:
    """A retransmission (same transaction) names the same interaction in any process; another
    call, or a new INVITE of the same caller, names another."""
    first = parse(request("INVITE", body=CALLER_SDP))
    again = parse(request("INVITE", body=CALLER_SDP))
    assert isinstance(first, SipRequest) and isinstance(again, SipRequest)
    assert interaction_id_for(first) == interaction_id_for(again)
    others = [
        parse(request("INVITE", call_id="call-2")),
        parse(request("INVITE", branch="z9hG4bK-c2")),
        parse(request("INVITE", from_tag="ct2")),
        parse(request("INVITE", cseq=2)),
        parse(request("INVITE", user="+35121000002")),
    ]
    ids = {interaction_id_for(o) for o in others if isinstance(o, SipRequest)}
    assert len(ids) == 5 and interaction_id_for(first) not in ids


def test_a_retransmitted_invite_of_a_call_the_router_ended_is_refused() -> None:
    """The process that recorded `arrived` died before the caller heard an answer; the router
    ended the call (`ingress_lost`); the caller's retransmission reaches this process. It is
    answered 480 and starts nothing: the call stays one interaction, ended once."""
    sip = Harness()
    sip.calls.on_offers([EndedByRouter("i-1", "acme")])  # the id the INVITE below maps to
    sip.send(request("INVITE", body=CALLER_SDP))
    assert [getattr(m, "status", 0) for m in sip.sent_to(CALLER)] == [480]
    assert sip.kinds() == []
    assert sip.calls.active_calls == 0 and sip.calls.stats.ended_elsewhere == 1
