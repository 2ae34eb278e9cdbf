"""Hold, resume and blind transfer from the REST API, end to end: the gateway (subprocess, in
front of a real router on a real broker) learns from the event topics which agent a call is
connected to, admits the request, records the command on hotline.voice.commands.v1, and the
real ingress-sip subprocess holding the call does it in a real rtpengine: the caller hears
music, the agent again, then music in the queue it was transferred to.

Phones and the router's offer are played by the test (test_voice_media.py's helpers).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from gateway_stack import GatewayStack, start
from test_call_commands import agent_heard
from test_voice_media import (  # noqa: F401 (fixtures)
    AGENT_SSRC,
    CALLER_SSRC,
    EVENT,
    MUSIC_HZ,
    PCMU,
    TENANCY,
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
    voice,
)

from hotline_ingress_sip.domain.sip import build_response, serialize
from hotline_platform.topics import EVENT_PARTITIONS, partition_for

pytestmark = pytest.mark.integration

WAIT_S = 30.0


@pytest.fixture(scope="module")
def gateway(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayStack]:
    """Router, WFM and the gateway with the same tenancy as the anchored ingress-sip. The test
    plays the router's offer itself: the real router must not own acme's partition, or its
    claim would fence the played offer (ingress-sip drops a fenced router's facts)."""
    tenancy = yaml.safe_load(TENANCY)
    acme = partition_for("acme")
    others = ",".join(str(p) for p in range(EVENT_PARTITIONS) if p != acme)
    running = start(
        broker, tmp_path_factory.mktemp("gateway-calls"), tenancy["tenants"],
        router_env={"HOTLINE_PARTITIONS": others},
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(gateway: GatewayStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{gateway.base_url}/v1/tenants/acme/interactions",
                      headers={"Authorization": "Bearer acme-test"}, timeout=10) as client:
        yield client


def accepted(api: httpx.Client, path: str, **kwargs: Any) -> dict[str, Any]:
    """POST until the gateway's board knows the call is connected (it folds the topics as
    they come); the 202's body."""
    deadline = time.monotonic() + WAIT_S
    while True:
        response = api.post(path, **kwargs)
        if response.status_code != 404 or time.monotonic() > deadline:
            assert response.status_code == 202, response.text
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.2)


def test_the_api_holds_resumes_and_transfers_a_connected_call(
    anchored, voice, router, phones, gateway, api  # noqa: F811 (the fixtures imported above)
) -> None:
    caller, agent, _ = phones
    unknown = api.post(f"/{uuid.uuid4()}/hold")
    assert unknown.status_code == 404, unknown.text
    assert unknown.headers["content-type"] == "application/problem+json"

    call_id, ok = call_in(anchored, caller, sdp(caller.rtp.port, f"{PCMU} {EVENT}"))
    ack(anchored, caller, call_id, ok)
    to_relay = media_of(ok.body)[0]
    interaction = voice.arrived(call_id).envelope.interaction_id
    caller.rtp.send(to_relay, frames(0, 1)[0], ssrc=CALLER_SSRC)  # symmetric RTP: latch
    offer(router, interaction, agent.sip.port, ring_ms=60_000)
    _invite, _from_ingress, agent_to_relay = answer_offer(agent)
    voice.next(interaction, "offer_accepted")

    held = accepted(api, f"/{interaction}/hold", headers={"Idempotency-Key": f"h-{call_id}"})
    assert (held["agent_id"], held["action"], held["status"]) == ("acme-a1", "hold", "accepted")
    assert voice.next(interaction, "held").held.agent_id == "acme-a1"
    heard_agent, heard_music = agent_heard(caller, agent, agent_to_relay)
    assert heard_agent == 0 and heard_music > 5, "held: music, not the agent"

    # A retry with the same key answers the same command: nothing is asked twice.
    again = api.post(f"/{interaction}/hold", headers={"Idempotency-Key": f"h-{call_id}"})
    assert again.status_code == 202 and again.json() == held
    assert again.headers["Idempotent-Replayed"] == "true"

    assert accepted(api, f"/{interaction}/resume")["action"] == "resume"
    assert voice.next(interaction, "resumed").resumed.held_ms > 0
    time.sleep(0.2)
    talk(agent, agent_to_relay, caller, 71, AGENT_SSRC)
    assert voice.kinds(interaction).count("held") == 1

    refused = api.post(f"/{interaction}/transfer", json={"to_queue_id": "sales"})
    assert refused.status_code == 422, refused.text  # globex's queue, not acme's
    moved = accepted(api, f"/{interaction}/transfer", json={"to_queue_id": "billing"})
    assert moved["to_queue_id"] == "billing"
    bye, source = expect_request(agent, "BYE")
    agent.sip.send(serialize(build_response(bye, 200)), source)
    transferred = voice.next(interaction, "transferred").transferred
    assert (transferred.from_agent_id, transferred.to_queue_id) == ("acme-a1", "billing")
    assert music_heard(caller, MUSIC_HZ) > 5, "the transferred caller hears music again"
    # The agent's leg is over: the call is no longer connected to anyone (eventually 404).
    deadline = time.monotonic() + WAIT_S
    while api.post(f"/{interaction}/hold").status_code != 404:
        assert time.monotonic() < deadline, "the board still has the call connected"
        time.sleep(0.2)

    caller.sip.send(raw_request("BYE", caller.sip, anchored.sip, call_id=call_id, cseq=2,
                                branch=f"z9hG4bK-{uuid.uuid4().hex}", to_tag=ok.to_tag),
                    anchored.sip)  # fmt: skip
