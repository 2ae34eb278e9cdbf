"""The router's flow-out to a closed message or a callback, and a callback requested,
release the caller held here without a fact of ours (router domain/treatment.py); a caller
offered a callback (`queued`) may press the key (the wire: test_voice_media_treatment.py)."""

from __future__ import annotations

from ingress_sip_harness import CALLER, CALLER_SDP, Harness, request

from hotline.interaction.v1.events_pb2 import InteractionEvent, InteractionFlowedOut
from hotline_ingress_sip.adapters.kafka_events import instruction_from_event, to_event
from hotline_ingress_sip.domain.call import Call
from hotline_ingress_sip.domain.events import EndedByRouter, EntryPoint, QueuePlacement
from hotline_platform.envelope import new_envelope

CALLER_URI = "sip:+351912@example.net"


def _event() -> InteractionEvent:
    return InteractionEvent(
        envelope=new_envelope(tenant_id="acme", producer="router/r", interaction_id="i-1")
    )


def test_releasing_flow_outs_and_callback_requests_are_read_as_endings() -> None:
    for target, prompt in (
        (InteractionFlowedOut.TARGET_CLOSED, "queue_closed"),
        (InteractionFlowedOut.TARGET_CALLBACK, ""),  # a callback's caller hears no closed prompt
    ):
        ev = _event()
        ev.flowed_out.target = target
        ev.flowed_out.prompt = "queue_closed"
        assert instruction_from_event(ev) == EndedByRouter("i-1", "acme", "flowed_out", prompt)
    ev = _event()
    ev.callback_requested.queue_id = "q"
    assert instruction_from_event(ev) == EndedByRouter("i-1", "acme", "callback")


def test_a_flow_out_to_another_queue_keeps_the_caller() -> None:
    ev = _event()
    ev.flowed_out.target = InteractionFlowedOut.TARGET_QUEUE
    ev.flowed_out.to_queue_id = "overflow"
    assert instruction_from_event(ev) is None


def test_a_waiting_caller_flowing_out_closed_is_released_and_nothing_is_published() -> None:
    """No media here: released at once (the prompt is played by an anchored call, see
    tests/integration/test_voice_media_treatment.py)."""
    sip = Harness()
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.sent()
    ev = _event()
    ev.flowed_out.target = InteractionFlowedOut.TARGET_CLOSED
    ev.flowed_out.prompt = "queue_closed"
    instruction = instruction_from_event(ev)
    assert instruction is not None
    sip.calls.on_offers([instruction])
    assert [getattr(m, "status", 0) for m in sip.sent_to(CALLER)] == [480]
    assert sip.kinds() == ["CallArrived"]  # the router's flowed_out is the one fact
    assert sip.calls.active_calls == 0


def test_queued_says_whether_a_callback_is_offered() -> None:
    ev = _event()
    ev.queued.queue_id = "q"
    ev.queued.estimated_wait_ms = 300_000
    ev.queued.callback_offered = True
    placement = instruction_from_event(ev)
    assert isinstance(placement, QueuePlacement) and placement.callback_offered


def test_a_callback_request_ends_the_waiting_call_and_is_recorded_not_as_an_abandon() -> None:
    call, _ = Call.arrive(
        "i-1", EntryPoint("+351", "acme", queue_id="q"), session_ref="s", from_address=CALLER_URI,
        to_address="sip:+351@x", caller_id="+351912", now_ms=1_000,
    )
    assert call.may_call_back
    fact = call.callback_requested(61_000, "q")
    assert (fact.queue_id, fact.callback_address, fact.waited_ms) == ("q", CALLER_URI, 60_000)
    assert call.is_over
    event = to_event(fact, "ingress-sip/x")
    assert event.WhichOneof("event") == "callback_requested"
    assert event.callback_requested.callback_address == CALLER_URI
    withheld, _ = Call.arrive(
        "i-2", EntryPoint("+351", "acme", queue_id="q"), session_ref="s",
        from_address="sip:anonymous@anonymous.invalid", to_address="sip:+351@x", caller_id="",
        now_ms=1_000,
    )
    assert not withheld.may_call_back
