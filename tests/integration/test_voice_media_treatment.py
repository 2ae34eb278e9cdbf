"""The router's treatment heard on the wire: a real ingress-sip with a real rtpengine (the
fixtures of test_voice_media), the test playing the router and the caller's phone.
A waiting caller whose contact flows out to a closed message hears the queue's closed prompt,
then gets BYE, and ingress-sip publishes nothing (the router's `flowed_out` is the fact). A
caller the router offers a callback hears the offer, presses 1, hears the confirmation and
is released: `callback_requested`, never an abandon."""

from __future__ import annotations

import time

import pytest
from test_voice_media import (
    CALLER_SSRC,
    MUSIC_HZ,
    ack,
    anchored,
    call_in,
    expect_request,
    frames,
    hang_up,
    media_of,
    phones,
    router,
    sdp,
    send_digit,
    tone_frequency,
    voice,
    write_tone,
)

from hotline.interaction.v1.events_pb2 import InteractionEvent, InteractionFlowedOut
from hotline_ingress_sip.domain.sip import build_response, serialize
from hotline_platform.envelope import new_envelope
from hotline_platform.topics import ROUTING_INTERACTIONS

pytestmark = pytest.mark.integration
__all__ = ["anchored", "phones", "router", "voice"]  # fixtures, imported for these tests

CLOSED_HZ = 3000.0


def test_a_caller_flowing_out_closed_hears_the_closed_prompt_then_is_released(
    anchored, voice, router, phones
) -> None:
    # The prompt is looked up when played: written here, next to the fixture's prompts.
    write_tone(anchored.log.parent / "prompts" / "en" / "queue_closed.wav", CLOSED_HZ, 1.0)
    caller = phones[0]
    call_id, ok = call_in(anchored, caller, sdp(caller.rtp.port))
    ack(anchored, caller, call_id, ok)
    interaction = voice.arrived(call_id).envelope.interaction_id
    caller.rtp.send(media_of(ok.body)[0], frames(0, 1)[0], ssrc=CALLER_SSRC)
    caller.rtp.receive(quiet_s=0.3, limit_s=0.6)  # the music

    flowed = InteractionEvent(envelope=new_envelope(
        tenant_id="acme", producer="router/test", interaction_id=interaction, site_id="lisbon"))
    flowed.flowed_out.from_queue_id = "support-en"
    flowed.flowed_out.reason = "closed"
    flowed.flowed_out.target = InteractionFlowedOut.TARGET_CLOSED
    flowed.flowed_out.prompt = "queue_closed"
    sent_at = time.monotonic()
    router.publish(ROUTING_INTERACTIONS, flowed)
    router.flush(10)
    heard = [round(tone_frequency(p) / 100) * 100 for _s, p in
             caller.rtp.receive(quiet_s=0.5, limit_s=4.0)]  # fmt: skip
    closed = [i for i, hz in enumerate(heard) if hz == CLOSED_HZ]
    assert len(closed) > 25, sorted(set(heard))  # most of its second (50 frames)
    assert round(MUSIC_HZ / 100) * 100 not in heard[closed[0]:], "no music after it"
    bye, source = expect_request(caller, "BYE")
    caller.sip.send(serialize(build_response(bye, 200)), source)
    assert bye.call_id == call_id
    assert time.monotonic() - sent_at >= 0.9, "released once the prompt was played"
    # No fact of ingress-sip's own: read on to a later call of the tenant (same partition).
    time.sleep(0.5)
    later = phones[1]
    later_id, later_ok = call_in(anchored, later, sdp(later.rtp.port))
    ack(anchored, later, later_id, later_ok)
    later_interaction = voice.arrived(later_id).envelope.interaction_id
    assert voice.kinds(interaction) == ["arrived"]
    hang_up(anchored, later, later_id, later_ok)
    voice.next(later_interaction, "abandoned")


CALLBACK_OFFER_HZ, CONFIRMED_HZ = 2800.0, 3400.0


def test_a_caller_offered_a_callback_presses_the_key_and_is_released_as_a_callback(
    anchored, voice, router, phones
) -> None:
    prompts = anchored.log.parent / "prompts" / "en"
    write_tone(prompts / "callback_offer.wav", CALLBACK_OFFER_HZ, 0.6)
    write_tone(prompts / "callback_confirmed.wav", CONFIRMED_HZ, 0.6)
    caller = phones[0]
    call_id, ok = call_in(anchored, caller, sdp(caller.rtp.port))
    ack(anchored, caller, call_id, ok)
    interaction = voice.arrived(call_id).envelope.interaction_id
    to_relay = media_of(ok.body)[0]
    caller.rtp.send(to_relay, frames(0, 1)[0], ssrc=CALLER_SSRC)
    caller.rtp.receive(quiet_s=0.3, limit_s=0.6)

    queued = InteractionEvent(envelope=new_envelope(
        tenant_id="acme", producer="router/test", interaction_id=interaction, site_id="lisbon"))
    queued.queued.queue_id = "support-en"
    queued.queued.position = 3
    queued.queued.estimated_wait_ms = 110_000
    queued.queued.callback_offered = True
    router.publish(ROUTING_INTERACTIONS, queued)
    router.flush(10)
    heard = [round(tone_frequency(p) / 100) * 100 for _s, p in
             caller.rtp.receive(quiet_s=1.0, limit_s=3.0)]  # fmt: skip
    assert heard.count(CALLBACK_OFFER_HZ) > 10, sorted(set(heard))  # after the wait

    send_digit(caller, to_relay, 1)
    requested = voice.next(interaction, "callback_requested").callback_requested
    assert requested.queue_id == "support-en"
    assert requested.callback_address.startswith("sip:")
    heard = [round(tone_frequency(p) / 100) * 100 for _s, p in
             caller.rtp.receive(quiet_s=0.5, limit_s=3.0)]  # fmt: skip
    assert heard.count(CONFIRMED_HZ) > 10, sorted(set(heard))
    bye, source = expect_request(caller, "BYE")
    caller.sip.send(serialize(build_response(bye, 200)), source)
    later = phones[1]
    later_id, later_ok = call_in(anchored, later, sdp(later.rtp.port))
    ack(anchored, later, later_id, later_ok)
    later_interaction = voice.arrived(later_id).envelope.interaction_id
    assert voice.kinds(interaction) == ["arrived", "callback_requested"], "not an abandon"
    hang_up(anchored, later, later_id, later_ok)
    voice.next(later_interaction, "abandoned")
