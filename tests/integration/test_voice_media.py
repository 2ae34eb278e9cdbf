"""Calls anchored in a real rtpengine (the ``media_relay`` fixture) by a real ingress-sip
subprocess: the platform answers the caller and plays music, the agent leg is bridged by the
relay, audio passes unchanged both ways, hold plays music and blocks the agent, a blind transfer
(REFER) puts the caller back in a queue, and SDP the platform cannot use is refused with 488.

The test plays the router (it publishes `offered`) and both phones (raw SIP over UDP, RTP from
Python sockets, so every payload can be compared).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from test_ingress_sip import (
    WAIT_S,
    Ingress,
    Peer,
    VoiceEvents,
    free_tcp_port,
    free_udp_port,
    offer,
    raw_request,
)

from hotline.interaction.v1.events_pb2 import (
    InteractionAbandoned,
    InteractionCompleted,
    InteractionEvent,
    SelfServiceFinished,
)
from hotline_cli.embedded import MediaRelayConfig
from hotline_ingress_sip.domain.sip import SipRequest, SipResponse, build_response, serialize
from hotline_platform.bus import EventPublisher, ensure_topics
from hotline_platform.envelope import new_envelope
from hotline_platform.media_relay import NgClient
from hotline_platform.topics import ROUTING_INTERACTIONS

pytestmark = pytest.mark.integration

QUEUE_ADDRESS = "+35121000001"
IVR_ADDRESS = "+35121000005"
TENANCY = f"""
sites: [{{id: lisbon}}]
tenants:
  - id: acme
    name: ACME
    credential: acme-test
    queues:
      - {{id: support-en, required_skills: [{{name: support, level: 1}}], ring_timeout_s: 10}}
      - {{id: support-de, required_skills: [{{name: support, level: 1}}], ring_timeout_s: 10}}
      - {{id: billing, ring_timeout_s: 10}}
    entry_points:
      - {{address: "{QUEUE_ADDRESS}", queue: support-en, site: lisbon}}
      - {{address: "+35121000002", queue: support-de, site: lisbon}}
      - address: "{IVR_ADDRESS}"
        kind: ivr
        site: lisbon
        ivr:
          language: en
          start: lang
          nodes:
            lang:
              menu:
                prompt: choose_language
                timeout_ms: 4000
                retries: 1
                options: {{"1": {{language: en, next: en}}, "2": {{language: de, next: de}},
                           "3": {{next: billing}}}}
                on_failure: en
            billing: {{route: {{queue: billing}}}}
            en: {{route: {{queue: support-en}}}}
            de: {{route: {{queue: support-de, intent: german}}}}
    agents:
      - {{id: acme-a1, name: Ana, site: lisbon, skills: [support], phone: "sip:a1@127.0.0.1:1"}}
  - id: globex
    name: Globex
    credential: globex-test
    queues:
      - {{id: sales, ring_timeout_s: 10}}
    entry_points:
      - {{address: "+35121000009", queue: sales, site: lisbon}}
"""
PCMU, PCMA, EVENT = 0, 8, 101
MUSIC_HZ, ANNOUNCEMENT_HZ, POSITION_HZ, WAIT_HZ = 440.0, 1000.0, 1800.0, 2400.0


def write_samples(path: Path, samples: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(samples.astype("<i2").tobytes())


def write_tone(path: Path, hz: float, seconds: float) -> None:
    n = np.arange(int(8000 * seconds))
    write_samples(path, 12000 * np.sin(2 * np.pi * hz * n / 8000))


# The menu prompt is noise, not a tone: only that file correlates with what the caller hears.
MENU_SAMPLES = np.random.default_rng(9).normal(0, 6000, 8000).clip(-32000, 32000)


@pytest.fixture(scope="module")
def anchored(
    broker: str, media_relay: MediaRelayConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ingress]:
    """ingress-sip with the relay, a DTMF listener and tone prompts (music 440 Hz, the
    announcement 1 kHz, every 1.5 s)."""
    ensure_topics(broker)
    base = tmp_path_factory.mktemp("ingress-media")
    (base / "hotline.yaml").write_text(TENANCY)
    write_tone(base / "prompts" / "en" / "moh.wav", MUSIC_HZ, 3.0)
    write_tone(base / "prompts" / "en" / "please_hold.wav", ANNOUNCEMENT_HZ, 0.5)
    write_samples(base / "prompts" / "en" / "choose_language.wav", MENU_SAMPLES)
    write_tone(base / "prompts" / "en" / "position_3.wav", POSITION_HZ, 0.6)
    write_tone(base / "prompts" / "en" / "wait_minutes_2.wav", WAIT_HZ, 0.6)
    sip_port = free_udp_port()
    log = base / "ingress-sip.log"
    env = {
        **os.environ,
        "HOTLINE_KAFKA_BOOTSTRAP": broker,
        "HOTLINE_CONFIG_PATH": str(base / "hotline.yaml"),
        "HOTLINE_SIP_PORT": str(sip_port),
        "HOTLINE_GRPC_PORT": str(free_tcp_port()),
        "HOTLINE_INSTANCE_ID": f"media-{uuid.uuid4().hex[:6]}",
        "HOTLINE_LOG_LEVEL": "INFO",
        "HOTLINE_MEDIA_RELAY_NG": f"127.0.0.1:{media_relay.ng_port}",
        "HOTLINE_MEDIA_DTMF_LISTEN": media_relay.dtmf_log_dest,
        "HOTLINE_PROMPTS_DIR": str(base / "prompts"),
        "HOTLINE_ANNOUNCE_EVERY_MS": "1500",
        "HOTLINE_MEDIA_CHECK_EVERY_MS": "500",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hotline_ingress_sip"], env=env, stdout=out, stderr=out
        )
    service = Ingress(proc, ("127.0.0.1", sip_port), log, broker)
    probe = Peer()
    try:
        deadline = time.monotonic() + WAIT_S
        probe.sock.settimeout(0.2)
        while True:
            if proc.poll() is not None:
                pytest.fail(f"ingress-sip exited with {proc.returncode}:\n{service.log_tail()}")
            assert time.monotonic() < deadline, service.log_tail()
            probe.send(raw_request("OPTIONS", probe, service.sip, call_id=uuid.uuid4().hex,
                                   branch=f"z9hG4bK-{uuid.uuid4().hex}"), service.sip)  # fmt: skip
            try:
                if probe.recv_raw()[0].startswith(b"SIP/2.0 200"):
                    break
            except TimeoutError:
                continue
    finally:
        probe.close()
    yield service
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0, service.log_tail()
    assert '"level": "ERROR"' not in log.read_text(), service.log_tail()


@pytest.fixture
def voice(anchored: Ingress) -> Iterator[VoiceEvents]:
    events = VoiceEvents(anchored.bootstrap)
    yield events
    events.close()


@pytest.fixture(scope="module")
def router(anchored: Ingress) -> Iterator[EventPublisher]:
    publisher = EventPublisher(anchored.bootstrap, "test-router-media")
    yield publisher
    publisher.flush(10)


# ------------------------------------------------------------------------------ media helpers


class RtpSocket:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.seq = 0

    def send(self, to: tuple[str, int], payload: bytes, *, ssrc: int, pt: int = PCMU) -> None:
        self.seq += 1
        header = struct.pack("!BBHII", 0x80, pt, self.seq, self.seq * 160, ssrc)
        self.sock.sendto(header + payload, to)

    def receive(self, quiet_s: float = 0.3, limit_s: float = 5.0) -> list[tuple[int, bytes]]:
        """(ssrc, payload) of every packet until none came for `quiet_s`."""
        out: list[tuple[int, bytes]] = []
        self.sock.settimeout(quiet_s)
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            try:
                data = self.sock.recv(2048)
            except TimeoutError:
                break
            out.append((struct.unpack("!I", data[8:12])[0], data[12:]))
        return out

    def close(self) -> None:
        self.sock.close()


def sdp(port: int, formats: str = f"{PCMU} {EVENT}", *, direction: str = "sendrecv",
        address: str = "127.0.0.1", extra: str = "") -> str:  # fmt: skip
    names = {PCMU: "PCMU", PCMA: "PCMA", EVENT: "telephone-event", 18: "G729"}
    lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", f"c=IN IP4 {address}", "t=0 0",
             f"m=audio {port} RTP/AVP {formats}"]  # fmt: skip
    lines += [f"a=rtpmap:{pt} {names[int(pt)]}/8000" for pt in formats.split()]
    lines += [f"a={direction}", *([extra] if extra else []), ""]
    return "\r\n".join(lines)


def media_of(body: bytes) -> tuple[tuple[str, int], list[str], str]:
    """Where to send audio, the offered formats, and the direction of an SDP body."""
    lines = body.decode().split("\r\n")
    address = next(x for x in lines if x.startswith("c=")).split()[-1]
    m = next(x for x in lines if x.startswith("m=audio")).split()
    direction = next(
        (x[2:] for x in lines if x[2:] in ("sendrecv", "sendonly", "recvonly", "inactive")),
        "sendrecv",
    )
    return (address, int(m[1])), m[3:], direction


def tone_frequency(payload: bytes) -> float:
    """The dominant frequency of a PCMU frame, from its zero crossings (160 samples)."""
    samples = [_ulaw(b) for b in payload]
    crossings = sum(1 for a, b in zip(samples, samples[1:], strict=False) if (a < 0) != (b < 0))
    return crossings * 8000 / (2 * len(samples))


def best_correlation(heard: np.ndarray, prompt: np.ndarray) -> float:
    """The highest normalised correlation of a 0.25 s stretch of the prompt with the audio
    heard, over every alignment (the caller may hear the prompt from any point on)."""
    piece = prompt[2000:4000]
    piece = (piece - piece.mean()) / piece.std()
    best = 0.0
    for lag in range(0, len(heard) - len(piece), 8):
        window = heard[lag:lag + len(piece)]
        if window.std() > 0:
            corr = float(np.dot((window - window.mean()) / window.std(), piece)) / len(piece)
            best = max(best, corr)
    return best


def _ulaw(byte: int) -> int:
    byte = ~byte & 0xFF
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    return -(magnitude - 0x84) if sign else magnitude - 0x84


class Phone:
    """One side of a call: a SIP peer and its RTP socket."""

    def __init__(self) -> None:
        self.sip = Peer()
        self.rtp = RtpSocket()

    def close(self) -> None:
        self.sip.close()
        self.rtp.close()


@pytest.fixture
def phones() -> Iterator[list[Phone]]:
    made = [Phone() for _ in range(3)]
    yield made
    for p in made:
        p.close()


def in_dialog(method: str, phone: Phone, invite: SipRequest, ingress: Ingress, *, cseq: int,
              body: str = "", headers: tuple[str, ...] = ()) -> bytes:  # fmt: skip
    """A request from an agent phone inside the dialog `invite` (from ingress-sip) created."""
    branch = f"z9hG4bK-{uuid.uuid4().hex}"
    head = [
        f"{method} sip:hotline@{ingress.sip[0]}:{ingress.sip[1]} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{phone.sip.port};branch={branch}",
        f"From: {invite.headers.get('to')};tag=ag",
        f"To: {invite.headers.get('from')}",
        f"Call-ID: {invite.call_id}",
        f"CSeq: {cseq} {method}",
        f"Contact: <sip:agent@127.0.0.1:{phone.sip.port}>",
        "Max-Forwards: 70",
        *headers,
    ]
    if body:
        head.append("Content-Type: application/sdp")
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def call_in(ingress: Ingress, caller: Phone, body: str, *, user: str = QUEUE_ADDRESS
            ) -> tuple[str, SipResponse]:  # fmt: skip
    """INVITE from the caller; its final response (provisional ones skipped)."""
    call_id = f"media-{uuid.uuid4().hex}"
    caller.sip.send(raw_request("INVITE", caller.sip, ingress.sip, call_id=call_id, user=user,
                                branch=f"z9hG4bK-{uuid.uuid4().hex}", body=body),
                    ingress.sip)  # fmt: skip
    while True:
        response, _ = caller.sip.recv()
        assert isinstance(response, SipResponse)
        if response.status >= 200:
            return call_id, response


def hang_up(ingress: Ingress, caller: Phone, call_id: str, ok: SipResponse) -> None:
    caller.sip.send(raw_request("BYE", caller.sip, ingress.sip, call_id=call_id, cseq=2,
                                branch=f"z9hG4bK-{uuid.uuid4().hex}", to_tag=ok.to_tag),
                    ingress.sip)  # fmt: skip


def ack(ingress: Ingress, caller: Phone, call_id: str, response: SipResponse) -> None:
    caller.sip.send(raw_request("ACK", caller.sip, ingress.sip, call_id=call_id,
                                branch=f"z9hG4bK-{uuid.uuid4().hex}", to_tag=response.to_tag),
                    ingress.sip)  # fmt: skip


def answer_offer(agent: Phone) -> tuple[SipRequest, tuple[str, int], tuple[str, int]]:
    """The agent phone answers ingress-sip's INVITE; (invite, ingress address, where the
    agent sends audio)."""
    invite, from_ingress = agent.sip.recv()
    assert isinstance(invite, SipRequest) and invite.method == "INVITE"
    relay, formats, _ = media_of(invite.body)
    assert formats == [str(PCMU), str(EVENT)], "the agent is offered the caller's codec only"
    ok = build_response(invite, 200, to_tag="ag",
                        extra=[("Contact", f"<sip:agent@127.0.0.1:{agent.sip.port}>"),
                               ("Content-Type", "application/sdp")],
                        body=sdp(agent.rtp.port).encode())  # fmt: skip
    agent.sip.send(serialize(ok), from_ingress)
    ack_, _ = agent.sip.recv()
    assert isinstance(ack_, SipRequest) and ack_.method == "ACK"
    return invite, from_ingress, relay


def expect_request(phone: Phone, method: str) -> tuple[SipRequest, tuple[str, int]]:
    request, source = phone.sip.recv()
    assert isinstance(request, SipRequest) and request.method == method, request
    return request, source


def frames(seed: int, count: int) -> list[bytes]:
    return [bytes((seed + i + n) % 256 for n in range(160)) for i in range(count)]


CALLER_SSRC, AGENT_SSRC = 0xCA11, 0xA6E7


def talk(sender: Phone, to: tuple[str, int], receiver: Phone, seed: int, ssrc: int) -> None:
    """`sender` sends 20 frames; `receiver` gets exactly those payloads, in order."""
    sent = frames(seed, 20)
    for payload in sent:
        sender.rtp.send(to, payload, ssrc=ssrc)
        time.sleep(0.005)
    got = [p for s, p in receiver.rtp.receive() if s == ssrc]
    assert got == sent


def music_heard(phone: Phone, hz: float) -> int:
    """How many of the frames the phone receives now carry the tone `hz`."""
    return sum(
        1 for _ssrc, p in phone.rtp.receive(quiet_s=0.5, limit_s=1.5)
        if abs(tone_frequency(p) - hz) < 60
    )


# ------------------------------------------------------------------------------ the tests


def test_anchored_call_music_bridge_hold_resume_and_blind_transfer(
    anchored, voice, router, phones
) -> None:
    caller, agent, second = phones
    call_id, ok = call_in(anchored, caller, sdp(caller.rtp.port, f"{PCMU} {PCMA} {EVENT}"))
    # The platform answers at once, with the relay's address and the caller's first codec.
    assert ok.status == 200, ok
    to_relay, formats, _ = media_of(ok.body)
    assert formats == [str(PCMU), str(EVENT)]
    assert to_relay[1] != caller.rtp.port
    ack(anchored, caller, call_id, ok)
    interaction = voice.arrived(call_id).envelope.interaction_id
    caller.rtp.send(to_relay, frames(0, 1)[0], ssrc=CALLER_SSRC)  # symmetric RTP: latch
    assert music_heard(caller, MUSIC_HZ) > 5, "the waiting caller hears the music"

    # The router offers an agent: its phone is bridged by the relay, audio passes unchanged.
    offer(router, interaction, agent.sip.port, ring_ms=60_000)
    invite, from_ingress, agent_to_relay = answer_offer(agent)
    assert voice.next(interaction, "offer_accepted").offer_accepted.agent_id == "acme-a1"
    caller.rtp.receive(quiet_s=0.3)  # the music stops
    talk(caller, to_relay, agent, 1, CALLER_SSRC)
    talk(agent, agent_to_relay, caller, 101, AGENT_SSRC)

    # Hold: the agent phone re-INVITEs sendonly; the caller hears music, not the agent.
    hold = sdp(agent.rtp.port, direction="sendonly")
    agent.sip.send(in_dialog("INVITE", agent, invite, anchored, cseq=2, body=hold), from_ingress)
    held, _ = agent.sip.recv()
    assert isinstance(held, SipResponse) and held.status == 200
    agent.sip.send(in_dialog("ACK", agent, invite, anchored, cseq=2), from_ingress)
    assert media_of(held.body)[2] == "recvonly"
    assert voice.next(interaction, "held").held.agent_id == "acme-a1"
    time.sleep(0.2)
    for payload in frames(7, 10):
        agent.rtp.send(agent_to_relay, payload, ssrc=AGENT_SSRC)
    heard = caller.rtp.receive(quiet_s=0.5, limit_s=1.5)
    assert not [p for s, p in heard if s == AGENT_SSRC], "a held caller does not hear the agent"
    assert sum(1 for _s, p in heard if abs(tone_frequency(p) - MUSIC_HZ) < 60) > 5

    # Resume: audio flows again both ways; the hold time is on record.
    agent.sip.send(in_dialog("INVITE", agent, invite, anchored, cseq=3,
                             body=sdp(agent.rtp.port)), from_ingress)  # fmt: skip
    resumed, _ = agent.sip.recv()
    assert isinstance(resumed, SipResponse) and resumed.status == 200
    agent.sip.send(in_dialog("ACK", agent, invite, anchored, cseq=3), from_ingress)
    assert media_of(resumed.body)[2] == "sendrecv"
    assert voice.next(interaction, "resumed").resumed.held_ms > 0
    caller.rtp.receive(quiet_s=0.3)
    talk(agent, agent_to_relay, caller, 151, AGENT_SSRC)

    # A transfer to another tenant's queue is refused; to our other queue it is done.
    elsewhere = ("Refer-To: <sip:sales@127.0.0.1>",)
    agent.sip.send(in_dialog("REFER", agent, invite, anchored, cseq=4, headers=elsewhere),
                   from_ingress)  # fmt: skip
    refused, _ = agent.sip.recv()
    assert isinstance(refused, SipResponse) and refused.status == 403
    ours = ("Refer-To: <sip:billing@127.0.0.1>",)  # reached through the IVR only
    agent.sip.send(in_dialog("REFER", agent, invite, anchored, cseq=5, headers=ours),
                   from_ingress)  # fmt: skip
    accepted, _ = agent.sip.recv()
    assert isinstance(accepted, SipResponse) and accepted.status == 202
    notify, source = expect_request(agent, "NOTIFY")
    assert notify.body.startswith(b"SIP/2.0 200")
    agent.sip.send(serialize(build_response(notify, 200)), source)
    bye, source = expect_request(agent, "BYE")
    agent.sip.send(serialize(build_response(bye, 200)), source)
    transferred = voice.next(interaction, "transferred").transferred
    assert (transferred.from_agent_id, transferred.to_queue_id) == ("acme-a1", "billing")
    assert music_heard(caller, MUSIC_HZ) > 5, "the transferred caller hears music again"

    # The next agent is bridged to the same caller dialog and relay ports.
    offer(router, interaction, second.sip.port, ring_ms=60_000, attempt=2)
    _invite2, _from2, second_to_relay = answer_offer(second)
    voice.next(interaction, "offer_accepted")
    caller.rtp.receive(quiet_s=0.3)
    talk(caller, to_relay, second, 201, CALLER_SSRC)
    talk(second, second_to_relay, caller, 221, AGENT_SSRC + 1)

    caller.sip.send(raw_request("BYE", caller.sip, anchored.sip, call_id=call_id, cseq=2,
                                branch=f"z9hG4bK-{uuid.uuid4().hex}", to_tag=ok.to_tag),
                    anchored.sip)  # fmt: skip
    bye2, source = expect_request(second, "BYE")
    second.sip.send(serialize(build_response(bye2, 200)), source)
    assert voice.next(interaction, "completed").completed.agent_id == "acme-a2"


def test_waiting_caller_hears_announcements_between_music(anchored, voice, phones) -> None:
    caller = phones[0]
    call_id, ok = call_in(anchored, caller, sdp(caller.rtp.port))
    ack(anchored, caller, call_id, ok)
    interaction = voice.arrived(call_id).envelope.interaction_id
    to_relay = media_of(ok.body)[0]
    caller.rtp.send(to_relay, frames(0, 1)[0], ssrc=CALLER_SSRC)
    heard = caller.rtp.receive(quiet_s=1.0, limit_s=4.0)
    tones = {round(tone_frequency(p) / 100) * 100 for _s, p in heard}
    assert {400, 1000} <= tones, f"music and the announcement: {sorted(tones)}"
    caller.sip.send(raw_request("BYE", caller.sip, anchored.sip, call_id=call_id, cseq=2,
                                branch=f"z9hG4bK-{uuid.uuid4().hex}", to_tag=ok.to_tag),
                    anchored.sip)  # fmt: skip
    assert voice.next(interaction, "abandoned").abandoned.waited_ms > 0


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("", "no SDP"),
        (sdp(40000, "18"), "no common codec"),
        (sdp(40000, address="not-an-address"), "bad connection address"),
        ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n",
         "no audio stream"),
    ],
)
def test_sdp_the_platform_cannot_anchor_is_refused_with_488(anchored, phones, body, why) -> None:
    caller = phones[0]
    _call_id, response = call_in(anchored, caller, body)
    assert response.status == 488
    assert why in (response.headers.get("warning") or "")
    # and the service goes on: the next call is answered
    call_id, ok = call_in(anchored, caller, sdp(caller.rtp.port))
    assert ok.status == 200
    ack(anchored, caller, call_id, ok)
    caller.sip.send(raw_request("BYE", caller.sip, anchored.sip, call_id=call_id, cseq=2,
                                branch=f"z9hG4bK-{uuid.uuid4().hex}", to_tag=ok.to_tag),
                    anchored.sip)  # fmt: skip


def send_digit(phone: Phone, to: tuple[str, int], digit: int) -> None:
    """One RFC 4733 key press (event `digit`, 100 ms, three end packets), as phones send it."""
    timestamp = 8000
    for n, duration in enumerate((160, 320, 480, 800, 800, 800)):
        end = 0x80 if duration == 800 else 0
        payload = struct.pack("!BBH", digit, end | 10, duration)
        phone.rtp.seq += 1
        marker = 0x80 if n == 0 else 0
        header = struct.pack("!BBHII", 0x80, marker | EVENT, phone.rtp.seq, timestamp, CALLER_SSRC)
        phone.rtp.sock.sendto(header + payload, to)
        time.sleep(0.02)


def test_ivr_language_choice_by_dtmf_routes_to_the_chosen_queue(anchored, voice, phones) -> None:
    caller = phones[0]
    call_id, ok = call_in(anchored, caller, sdp(caller.rtp.port), user=IVR_ADDRESS)
    assert ok.status == 200
    ack(anchored, caller, call_id, ok)
    interaction = voice.arrived(call_id).envelope.interaction_id
    to_relay = media_of(ok.body)[0]
    caller.rtp.send(to_relay, frames(0, 1)[0], ssrc=CALLER_SSRC)
    heard = np.array([_ulaw(b) for _s, p in caller.rtp.receive(quiet_s=0.4, limit_s=1.5)
                      for b in p], dtype=float)  # fmt: skip
    assert best_correlation(heard, MENU_SAMPLES) > 0.9, "the caller hears the menu prompt"
    send_digit(caller, to_relay, 2)
    finished = voice.next(interaction, "self_service_finished").self_service_finished
    assert finished.outcome == SelfServiceFinished.OUTCOME_ROUTE_TO_QUEUE
    assert (finished.queue_id, finished.language, finished.intent) == ("support-de", "de", "german")
    assert music_heard(caller, MUSIC_HZ) > 5, "then music while queued"
    hang_up(anchored, caller, call_id, ok)
    abandoned = voice.next(interaction, "abandoned").abandoned
    assert abandoned.stage == InteractionAbandoned.STAGE_IN_QUEUE


def test_hanging_up_in_the_ivr_is_customer_left_not_an_abandon(anchored, voice, phones) -> None:
    caller = phones[0]
    call_id, ok = call_in(anchored, caller, sdp(caller.rtp.port), user=IVR_ADDRESS)
    ack(anchored, caller, call_id, ok)
    interaction = voice.arrived(call_id).envelope.interaction_id
    hang_up(anchored, caller, call_id, ok)
    finished = voice.next(interaction, "self_service_finished").self_service_finished
    assert finished.outcome == SelfServiceFinished.OUTCOME_CUSTOMER_LEFT
    assert voice.kinds(interaction) == ["arrived", "self_service_finished"]


def test_a_call_whose_media_the_relay_dropped_ends_as_media_timeout(
    anchored, voice, router, phones, media_relay
) -> None:
    """rtpengine deletes a call after its `timeout` without audio; here the test deletes it at
    once (the same state for ingress-sip): both legs get a BYE, `completed` says why."""
    caller, agent = phones[0], phones[1]
    call_id, ok = call_in(anchored, caller, sdp(caller.rtp.port))
    ack(anchored, caller, call_id, ok)
    interaction = voice.arrived(call_id).envelope.interaction_id
    offer(router, interaction, agent.sip.port, ring_ms=60_000)
    answer_offer(agent)
    voice.next(interaction, "offer_accepted")

    async def drop() -> None:
        async with NgClient(("127.0.0.1", media_relay.ng_port)) as ng:
            await ng.command("delete", {"call-id": call_id})

    asyncio.run(drop())
    for phone in (caller, agent):
        bye, source = expect_request(phone, "BYE")
        phone.sip.send(serialize(build_response(bye, 200)), source)
    completed = voice.next(interaction, "completed").completed
    assert completed.ended_by == InteractionCompleted.ENDED_BY_SYSTEM
    assert completed.reason == "media_timeout"


def test_a_queued_caller_is_told_its_position_and_the_estimated_wait(
    anchored, voice, router, phones
) -> None:
    caller = phones[0]
    call_id, ok = call_in(anchored, caller, sdp(caller.rtp.port))
    ack(anchored, caller, call_id, ok)
    interaction = voice.arrived(call_id).envelope.interaction_id
    caller.rtp.send(media_of(ok.body)[0], frames(0, 1)[0], ssrc=CALLER_SSRC)
    caller.rtp.receive(quiet_s=0.3, limit_s=0.6)
    # The router queues it third, with two minutes to wait.
    queued = InteractionEvent(envelope=new_envelope(
        tenant_id="acme", producer="router/test", interaction_id=interaction, site_id="lisbon"))
    queued.queued.queue_id = "support-en"
    queued.queued.position = 3
    queued.queued.estimated_wait_ms = 110_000
    router.publish(ROUTING_INTERACTIONS, queued)
    router.flush(10)
    heard = [round(tone_frequency(p) / 100) * 100 for _s, p in
             caller.rtp.receive(quiet_s=1.0, limit_s=4.0)]  # fmt: skip
    position = [i for i, hz in enumerate(heard) if hz == POSITION_HZ]
    wait = [i for i, hz in enumerate(heard) if hz == WAIT_HZ]
    assert len(position) > 10 and len(wait) > 10, sorted(set(heard))
    assert max(position) < min(wait), "the position first, then the wait"
    assert round(MUSIC_HZ / 100) * 100 in heard[max(wait):], "then music again"
    hang_up(anchored, caller, call_id, ok)
    voice.next(interaction, "abandoned")
