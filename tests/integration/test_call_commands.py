"""Hold, resume and blind transfer asked for from the desktop or the REST API reach the call:
a command published on hotline.voice.commands.v1 (as the gateway writes it) is done by the
real ingress-sip subprocess holding the call, in a real rtpengine (the caller hears music and
not the agent while held, hears the agent again once resumed, is queued again on a transfer).
A command for another agent, or read again, changes nothing.

The test plays the router (`offered`), both phones and the gateway (test_voice_media.py's
fixtures and helpers; the gateway's own message builder).
"""

from __future__ import annotations

import time
import uuid

import pytest
from test_voice_media import (  # noqa: F401 (fixtures)
    AGENT_SSRC,
    CALLER_SSRC,
    EVENT,
    MUSIC_HZ,
    PCMU,
    Phone,
    ack,
    anchored,
    answer_offer,
    call_in,
    expect_request,
    frames,
    media_of,
    music_heard,
    offer,
    phones,
    raw_request,
    router,
    sdp,
    talk,
    tone_frequency,
    voice,
)

from hotline.voice.v1.commands_pb2 import CallCommand
from hotline_gateway.adapters.kafka_calls import to_message
from hotline_gateway.domain.calls import CallAction, CallRequest
from hotline_ingress_sip.domain.sip import build_response, serialize
from hotline_platform.bus import EventPublisher
from hotline_platform.topics import VOICE_COMMANDS

pytestmark = pytest.mark.integration


def command(publisher: EventPublisher, interaction: str, action: CallAction, *,
            agent: str = "acme-a1", to_queue: str = "") -> CallCommand:  # fmt: skip
    """Publish a command as the gateway does (and wait until the broker has it)."""
    message = to_message(
        CallRequest("acme", interaction, agent, action, to_queue, "user:test"), "gateway/test"
    )
    publisher.publish(VOICE_COMMANDS, message)
    publisher.flush(10)
    return message


def agent_heard(caller: Phone, agent: Phone, to_relay: tuple[str, int]) -> tuple[int, int]:
    """The agent speaks 10 frames: (agent frames, music frames) the caller receives."""
    caller.rtp.receive(quiet_s=0.3)
    for payload in frames(9, 10):
        agent.rtp.send(to_relay, payload, ssrc=AGENT_SSRC)
        time.sleep(0.005)
    heard = caller.rtp.receive(quiet_s=0.5, limit_s=1.5)
    return (
        sum(1 for s, _p in heard if s == AGENT_SSRC),
        sum(1 for _s, p in heard if abs(tone_frequency(p) - MUSIC_HZ) < 60),
    )


def test_commands_hold_resume_and_transfer_the_agents_connected_call(
    anchored, voice, router, phones  # noqa: F811 (the fixtures imported above)
) -> None:
    caller, agent, _ = phones
    call_id, ok = call_in(anchored, caller, sdp(caller.rtp.port, f"{PCMU} {EVENT}"))
    assert ok.status == 200, ok
    ack(anchored, caller, call_id, ok)
    to_relay = media_of(ok.body)[0]
    interaction = voice.arrived(call_id).envelope.interaction_id
    caller.rtp.send(to_relay, frames(0, 1)[0], ssrc=CALLER_SSRC)  # symmetric RTP: latch
    offer(router, interaction, agent.sip.port, ring_ms=60_000)
    _invite, _from_ingress, agent_to_relay = answer_offer(agent)
    voice.next(interaction, "offer_accepted")
    talk(agent, agent_to_relay, caller, 31, AGENT_SSRC)

    # Another agent's command (the call is not connected to it) changes nothing.
    command(router, interaction, CallAction.HOLD, agent="acme-a2")
    time.sleep(0.5)
    assert "held" not in voice.kinds(interaction)
    talk(agent, agent_to_relay, caller, 41, AGENT_SSRC)

    # Hold: the caller hears music, not the agent.
    hold = command(router, interaction, CallAction.HOLD)
    held = voice.next(interaction, "held")
    assert held.held.agent_id == "acme-a1"
    heard_agent, heard_music = agent_heard(caller, agent, agent_to_relay)
    assert heard_agent == 0, "a held caller does not hear the agent"
    assert heard_music > 5, "a held caller hears music"

    # Resume: the agent is heard again; the hold time is on record.
    command(router, interaction, CallAction.RESUME)
    assert voice.next(interaction, "resumed").resumed.held_ms > 0
    time.sleep(0.2)
    talk(agent, agent_to_relay, caller, 51, AGENT_SSRC)

    # The hold command read again (same id) is not done twice.
    router.publish(VOICE_COMMANDS, hold)
    router.flush(10)
    time.sleep(0.5)
    assert voice.kinds(interaction).count("held") == 1
    talk(agent, agent_to_relay, caller, 61, AGENT_SSRC)

    # A transfer to another tenant's queue is refused; to the tenant's queue it is done:
    # the agent's leg ends (BYE), the caller hears music and waits in that queue.
    command(router, interaction, CallAction.TRANSFER, to_queue="sales")
    time.sleep(0.5)
    assert "transferred" not in voice.kinds(interaction)
    command(router, interaction, CallAction.TRANSFER, to_queue="billing")
    bye, source = expect_request(agent, "BYE")
    agent.sip.send(serialize(build_response(bye, 200)), source)
    transferred = voice.next(interaction, "transferred").transferred
    assert (transferred.from_agent_id, transferred.to_queue_id) == ("acme-a1", "billing")
    assert music_heard(caller, MUSIC_HZ) > 5, "the transferred caller hears music again"

    caller.sip.send(raw_request("BYE", caller.sip, anchored.sip, call_id=call_id, cseq=2,
                                branch=f"z9hG4bK-{uuid.uuid4().hex}", to_tag=ok.to_tag),
                    anchored.sip)  # fmt: skip
    ended = voice.wait("the end", lambda e: e.envelope.interaction_id == interaction
                       and e.WhichOneof("event") in ("abandoned", "completed"))
    assert ended.WhichOneof("event") in ("abandoned", "completed")
