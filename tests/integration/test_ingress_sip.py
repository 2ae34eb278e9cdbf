"""ingress-sip for real: `python -m hotline_ingress_sip` as a subprocess against a Tansu broker,
driven by sipp (tests/sipp/*.xml) and by raw UDP where a test needs exact control of the order
of SIP messages. The test plays the router: it reads hotline.voice.interactions.v1 and writes
`offered` events to hotline.routing.interactions.v1.

Nothing is measured by time: waits have generous upper bounds and end as soon as the awaited
event or message is there.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from google.protobuf.message import DecodeError

from hotline.common.v1.envelope_pb2 import CHANNEL_VOICE, DIRECTION_INBOUND
from hotline.ingress.v1.events_pb2 import IngressEvent
from hotline.interaction.v1.events_pb2 import (
    IDENTITY_KIND_PHONE,
    InteractionAbandoned,
    InteractionCompleted,
    InteractionEvent,
    SelfServiceFinished,
)
from hotline_ingress_sip.domain.sip import (
    SipRequest,
    SipResponse,
    build_response,
    parse,
    serialize,
)
from hotline_platform.bus import EventPublisher, ensure_topics
from hotline_platform.envelope import new_envelope, occurred_at_ms
from hotline_platform.topics import (
    INGRESS_LIVENESS,
    ROUTING_INTERACTIONS,
    VOICE_INTERACTIONS,
    dead_letter_topic,
)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SIPP_DIR = REPO / "tests" / "sipp"
WAIT_S = 30.0
QUEUE_ADDRESS = "+35121000001"
ANNOUNCE_ADDRESS = "announce-acme"
TENANCY = f"""
sites: [{{id: lisbon}}]
tenants:
  - id: acme
    name: ACME
    credential: acme-test
    queues:
      - {{id: support-en, required_skills: [{{name: support, level: 1}}], ring_timeout_s: 10}}
    entry_points:
      - {{address: "{QUEUE_ADDRESS}", queue: support-en, site: lisbon}}
      - {{address: "{ANNOUNCE_ADDRESS}", kind: announcement, site: lisbon}}
    agents:
      - {{id: acme-a1, name: Ana, site: lisbon, skills: [support], phone: "sip:a1@127.0.0.1:1"}}
"""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ------------------------------------------------------------------------------ the service


@dataclass
class Ingress:
    proc: subprocess.Popen[bytes]
    sip: tuple[str, int]
    log: Path
    bootstrap: str
    instance_id: str = ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _options(port: int, sock: socket.socket) -> bytes:
    branch = f"z9hG4bK-{uuid.uuid4().hex}"
    return (
        f"OPTIONS sip:ping@127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{sock.getsockname()[1]};branch={branch}\r\n"
        "From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:ping@127.0.0.1>\r\n"
        f"Call-ID: {branch}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


@pytest.fixture(scope="module")
def ingress(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingress]:
    ensure_topics(broker)
    base = tmp_path_factory.mktemp("ingress-sip")
    config = base / "hotline.yaml"
    config.write_text(TENANCY)
    sip_port = free_udp_port()
    log = base / "ingress-sip.log"
    instance_id = f"test-{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "HOTLINE_KAFKA_BOOTSTRAP": broker,
        "HOTLINE_CONFIG_PATH": str(config),
        "HOTLINE_SIP_PORT": str(sip_port),
        "HOTLINE_GRPC_PORT": str(free_tcp_port()),
        "HOTLINE_INSTANCE_ID": instance_id,
        "HOTLINE_LOG_LEVEL": "INFO",
        "HOTLINE_HEARTBEAT_INTERVAL_MS": "500",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hotline_ingress_sip"], env=env, stdout=out, stderr=out
        )
    service = Ingress(proc, ("127.0.0.1", sip_port), log, broker, instance_id)
    # Ready = answers OPTIONS (the offers consumer is positioned before SIP is served).
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)
        deadline = time.monotonic() + WAIT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"ingress-sip exited with {proc.returncode}:\n{service.log_tail()}")
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"ingress-sip did not answer OPTIONS:\n{service.log_tail()}")
            sock.sendto(_options(sip_port, sock), service.sip)
            try:
                reply = sock.recv(65535)
            except TimeoutError:
                continue
            if reply.startswith(b"SIP/2.0 200"):
                break
    yield service
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"ingress-sip did not stop on SIGTERM:\n{service.log_tail()}")
    assert code == 0, f"ingress-sip exited with {code}:\n{service.log_tail()}"
    assert '"level": "ERROR"' not in log.read_text(), service.log_tail()


# ------------------------------------------------------------------------------ Kafka helpers


class TopicReader:
    """Everything on a topic from the beginning, read as the test waits for it."""

    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"test-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 50,
            }
        )
        self._consumer.assign(
            [TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)]
        )
        self.records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = []

    def wait_for(self, match: Callable[[bytes | None, bytes | None, dict[str, bytes]], bool]):
        seen = 0
        deadline = time.monotonic() + WAIT_S
        while True:
            for key, value, headers in self.records[seen:]:
                if match(key, value, dict(headers)):
                    return key, value, dict(headers)
            seen = len(self.records)
            if time.monotonic() > deadline:
                return None
            for msg in self._consumer.consume(500, 0.1):
                if msg.error() is None:
                    self.records.append((msg.key(), msg.value(), list(msg.headers() or [])))

    def close(self) -> None:
        self._consumer.close()


def _parse(value: bytes | None) -> InteractionEvent:
    # The broker is shared by the session: other tests leave garbage on this topic on purpose.
    try:
        return InteractionEvent.FromString(value or b"")
    except DecodeError:
        return InteractionEvent()


class VoiceEvents:
    def __init__(self, bootstrap: str) -> None:
        topic = VOICE_INTERACTIONS
        self._reader = TopicReader(bootstrap, topic.name, topic.partitions)

    def wait(self, what: str, match: Callable[[InteractionEvent], bool]) -> InteractionEvent:
        def decoded(_key: bytes | None, value: bytes | None, _h: dict[str, bytes]) -> bool:
            return match(_parse(value))

        found = self._reader.wait_for(decoded)
        assert found is not None, f"no {what} on {VOICE_INTERACTIONS.name} within {WAIT_S}s"
        return _parse(found[1])

    def arrived(self, session_ref_prefix: str) -> InteractionEvent:
        return self.wait(
            f"arrived for {session_ref_prefix}*",
            lambda e: (
                e.WhichOneof("event") == "arrived"
                and e.arrived.session_ref.startswith(session_ref_prefix)
            ),
        )

    def next(self, interaction_id: str, kind: str) -> InteractionEvent:
        return self.wait(
            f"{kind} of {interaction_id}",
            lambda e: e.envelope.interaction_id == interaction_id and e.WhichOneof("event") == kind,
        )

    def kinds(self, interaction_id: str) -> list[str]:
        out = []
        for _key, value, _headers in self._reader.records:
            event = _parse(value)
            if event.envelope.interaction_id == interaction_id:
                out.append(str(event.WhichOneof("event")))
        return out

    def close(self) -> None:
        self._reader.close()


@pytest.fixture
def voice(ingress: Ingress) -> Iterator[VoiceEvents]:
    events = VoiceEvents(ingress.bootstrap)
    yield events
    events.close()


@pytest.fixture(scope="module")
def router(ingress: Ingress) -> Iterator[EventPublisher]:
    publisher = EventPublisher(ingress.bootstrap, "test-router")
    yield publisher
    publisher.flush(10)


def offer(
    router: EventPublisher, interaction_id: str, agent_port: int, *, ring_ms: int, attempt: int = 1
) -> InteractionEvent:
    """Play the router: publish `offered` for an agent phone on 127.0.0.1:agent_port."""
    event = InteractionEvent(
        envelope=new_envelope(
            tenant_id="acme",
            producer="router/test",
            interaction_id=interaction_id,
            agent_id=f"acme-a{attempt}",
            site_id="lisbon",
        )
    )
    offered = event.offered
    offered.offer_id = str(uuid.uuid4())
    offered.agent_id = f"acme-a{attempt}"
    offered.queue_id = "support-en"
    offered.agent_endpoint = f"sip:acme-a{attempt}@127.0.0.1:{agent_port}"
    offered.ring_timeout_ms = ring_ms
    offered.attempt = attempt
    offered.channel = CHANNEL_VOICE
    router.publish(ROUTING_INTERACTIONS, event)
    router.flush(10)
    return event


# ------------------------------------------------------------------------------ sipp


@dataclass
class Sipp:
    proc: subprocess.Popen[bytes]
    log: Path

    def finish(self) -> int:
        try:
            return self.proc.wait(timeout=WAIT_S + 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -9

    def output(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-25:])


@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[Callable[..., Sipp]]:
    started: list[Sipp] = []
    shutil.copytree(SIPP_DIR / "pcap", tmp_path / "pcap")  # media scenarios read ./pcap/

    def run(scenario: str, *args: str) -> Sipp:
        log = tmp_path / f"sipp-{len(started)}-{scenario}.log"
        command = [
            "sipp", "-sf", str(SIPP_DIR / scenario), "-i", "127.0.0.1",
            "-m", "1", "-nostdin", "-timeout", "60s", *args,
        ]  # fmt: skip
        with log.open("wb") as out:
            proc = subprocess.Popen(command, cwd=tmp_path, stdout=out, stderr=out)
        started.append(Sipp(proc, log))
        return started[-1]

    yield run
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def caller_args(ingress: Ingress, test_id: str, *extra: str) -> list[str]:
    return [
        "-s", QUEUE_ADDRESS, f"{ingress.sip[0]}:{ingress.sip[1]}", "-p", str(free_udp_port()),
        "-cid_str", f"{test_id}-%u-%p@%s", *extra,
    ]  # fmt: skip


def expect_success(run: Sipp, what: str) -> None:
    code = run.finish()
    assert code == 0, f"sipp {what} exited {code}:\n{run.output()}"


# ------------------------------------------------------------------------------ the tests


def test_arrival_offer_answer_and_caller_hang_up(ingress, voice, router, sipp) -> None:
    agent_port = free_udp_port()
    agent = sipp("agent_phone.xml", "-p", str(agent_port), "-d", "200")
    test_id = f"acc-{uuid.uuid4().hex[:6]}"
    talk_300_ms_patience_60_s = ("-d", "300", "-recv_timeout", "60000")
    caller = sipp("caller_media.xml", *caller_args(ingress, test_id, *talk_300_ms_patience_60_s))

    arrived = voice.arrived(test_id)
    env = arrived.envelope
    interaction = env.interaction_id
    assert (env.tenant_id, env.site_id) == ("acme", "lisbon")
    assert env.producer.startswith("ingress-sip/test-") and env.event_id and env.occurred_at.seconds
    assert env.correlation_id == interaction and env.causation_id == ""
    a = arrived.arrived
    assert (a.channel, a.direction) == (CHANNEL_VOICE, DIRECTION_INBOUND)
    assert a.entry_point_id == QUEUE_ADDRESS
    assert a.to_address.startswith(f"sip:{QUEUE_ADDRESS}@")
    assert a.from_address.startswith("sip:+15551@127.0.0.1:")
    assert [(h.kind, h.value) for h in a.identity_hints] == [(IDENTITY_KIND_PHONE, "+15551")]

    offered = offer(router, interaction, agent_port, ring_ms=10_000)
    accepted = voice.next(interaction, "offer_accepted")
    assert accepted.offer_accepted.offer_id == offered.offered.offer_id
    assert accepted.offer_accepted.agent_id == "acme-a1"
    assert accepted.offer_accepted.queue_id == "support-en"
    assert accepted.offer_accepted.since_arrival_ms >= 0
    assert accepted.envelope.causation_id == offered.envelope.event_id
    assert accepted.envelope.agent_id == "acme-a1"

    completed = voice.next(interaction, "completed")
    assert completed.completed.ended_by == InteractionCompleted.ENDED_BY_CUSTOMER
    assert completed.completed.agent_id == "acme-a1"
    assert completed.completed.talk_ms >= 0
    expect_success(caller, "caller")
    expect_success(agent, "agent phone")
    assert voice.kinds(interaction) == ["arrived", "offer_accepted", "completed"]


def test_agent_hangs_up_first(ingress, voice, router, sipp) -> None:
    agent_port = free_udp_port()
    # the agent talks until -recv_timeout passes, then sends BYE; the caller would talk 60 s
    agent = sipp("agent_phone.xml", "-p", str(agent_port), "-recv_timeout", "300")
    test_id = f"agbye-{uuid.uuid4().hex[:6]}"
    caller = sipp("caller.xml", *caller_args(ingress, test_id, "-d", "60000"))
    interaction = voice.arrived(test_id).envelope.interaction_id
    offer(router, interaction, agent_port, ring_ms=10_000)
    completed = voice.next(interaction, "completed")
    assert completed.completed.ended_by == InteractionCompleted.ENDED_BY_AGENT
    expect_success(agent, "agent phone")
    expect_success(caller, "caller")


def test_caller_giving_up_in_queue_is_abandoned(ingress, voice, sipp) -> None:
    test_id = f"aband-{uuid.uuid4().hex[:6]}"
    # patience 300 ms, and no router: the caller CANCELs, gets 200 + 487, ACKs
    caller = sipp("caller.xml", *caller_args(ingress, test_id, "-recv_timeout", "300"))
    interaction = voice.arrived(test_id).envelope.interaction_id
    abandoned = voice.next(interaction, "abandoned")
    assert abandoned.abandoned.stage == InteractionAbandoned.STAGE_IN_QUEUE
    assert abandoned.abandoned.waited_ms >= 0
    expect_success(caller, "caller")
    assert voice.kinds(interaction) == ["arrived", "abandoned"]


def test_agent_not_answering_times_out_and_the_next_offer_connects(
    ingress, voice, router, sipp
) -> None:
    silent_port, answering_port = free_udp_port(), free_udp_port()
    silent = sipp("agent_noanswer.xml", "-p", str(silent_port))
    answering = sipp("agent_phone.xml", "-p", str(answering_port))
    test_id = f"noans-{uuid.uuid4().hex[:6]}"
    caller = sipp("caller.xml", *caller_args(ingress, test_id, "-d", "100"))
    interaction = voice.arrived(test_id).envelope.interaction_id

    first = offer(router, interaction, silent_port, ring_ms=500)
    timed_out = voice.next(interaction, "offer_timed_out")
    assert timed_out.offer_timed_out.offer_id == first.offered.offer_id
    assert timed_out.offer_timed_out.agent_id == "acme-a1"
    assert timed_out.offer_timed_out.rang_ms >= 0
    assert timed_out.envelope.causation_id == first.envelope.event_id
    expect_success(silent, "silent agent phone (CANCEL, 200, 487, ACK)")

    second = offer(router, interaction, answering_port, ring_ms=10_000, attempt=2)
    accepted = voice.next(interaction, "offer_accepted")
    assert accepted.offer_accepted.offer_id == second.offered.offer_id
    assert voice.next(interaction, "completed").completed.agent_id == "acme-a2"
    expect_success(answering, "answering agent phone")
    expect_success(caller, "caller")
    assert voice.kinds(interaction) == ["arrived", "offer_timed_out", "offer_accepted", "completed"]


def router_times_out(router: EventPublisher, offered: InteractionEvent) -> None:
    """Play the router timing an offer out itself (ingress silent past ring time-out + grace):
    `offer_timed_out` on the routing topic."""
    event = InteractionEvent(
        envelope=new_envelope(
            tenant_id="acme",
            producer="router/test",
            interaction_id=offered.envelope.interaction_id,
            agent_id=offered.offered.agent_id,
            causation_id=offered.envelope.event_id,
            site_id="lisbon",
        )
    )
    timed_out = event.offer_timed_out
    timed_out.offer_id = offered.offered.offer_id
    timed_out.agent_id = offered.offered.agent_id
    timed_out.queue_id = offered.offered.queue_id
    router.publish(ROUTING_INTERACTIONS, event)
    router.flush(10)


def test_offer_timed_out_by_the_router_cancels_the_ringing_phone_and_the_next_offer_rings(
    ingress, voice, router, sipp
) -> None:
    silent_port, answering_port = free_udp_port(), free_udp_port()
    silent = sipp("agent_noanswer.xml", "-p", str(silent_port))
    answering = sipp("agent_phone.xml", "-p", str(answering_port))
    test_id = f"rto-{uuid.uuid4().hex[:6]}"
    caller = sipp("caller.xml", *caller_args(ingress, test_id, "-d", "100"))
    interaction = voice.arrived(test_id).envelope.interaction_id

    # ingress's own ring time-out is far away: only the router's time-out can end this ring
    # (same partition as the offer, so read after it; CANCEL waits for the phone's 180)
    first = offer(router, interaction, silent_port, ring_ms=120_000)
    router_times_out(router, first)
    expect_success(silent, "silent agent phone (CANCEL, 200, 487, ACK)")

    second = offer(router, interaction, answering_port, ring_ms=10_000, attempt=2)
    accepted = voice.next(interaction, "offer_accepted")
    assert accepted.offer_accepted.offer_id == second.offered.offer_id
    assert voice.next(interaction, "completed").completed.agent_id == "acme-a2"
    expect_success(answering, "answering agent phone")
    expect_success(caller, "caller")
    # the router published the time-out; ingress adds no outcome of its own for that offer
    assert voice.kinds(interaction) == ["arrived", "offer_accepted", "completed"]


# --------------------------------------------------------------- raw UDP, exact message order


class Peer:
    """A UDP SIP endpoint driven by the test (a caller or an agent phone)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(WAIT_S)
        self.port: int = self.sock.getsockname()[1]

    def send(self, data: bytes, to: tuple[str, int]) -> None:
        self.sock.sendto(data, to)

    def recv_raw(self) -> tuple[bytes, tuple[str, int]]:
        data, addr = self.sock.recvfrom(65535)
        return data, addr

    def recv(self) -> tuple[SipRequest | SipResponse, tuple[str, int]]:
        data, addr = self.recv_raw()
        return parse(data), addr

    def close(self) -> None:
        self.sock.close()


def raw_request(method: str, peer: Peer, target: tuple[str, int], *, call_id: str,
                branch: str, user: str = QUEUE_ADDRESS, cseq: int = 1, to_tag: str = "",
                body: str = "") -> bytes:  # fmt: skip
    to = f"<sip:{user}@{target[0]}:{target[1]}>" + (f";tag={to_tag}" if to_tag else "")
    head = [
        f"{method} sip:{user}@{target[0]}:{target[1]} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{peer.port};branch={branch}",
        f"From: <sip:+999@127.0.0.1:{peer.port}>;tag=raw",
        f"To: {to}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        f"Contact: <sip:+999@127.0.0.1:{peer.port}>",
        "Max-Forwards: 70",
    ]
    if body:
        head.append("Content-Type: application/sdp")
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


@pytest.fixture
def peers() -> Iterator[Callable[[], Peer]]:
    made: list[Peer] = []

    def make() -> Peer:
        made.append(Peer())
        return made[-1]

    yield make
    for p in made:
        p.close()


def test_caller_cancel_while_the_agent_rings_cancels_the_agent_leg(
    ingress, voice, router, peers
) -> None:
    caller, agent = peers(), peers()
    call_id = f"cancel-{uuid.uuid4().hex}"
    branch = f"z9hG4bK-{uuid.uuid4().hex}"
    invite = raw_request("INVITE", caller, ingress.sip, call_id=call_id, branch=branch,
                         body="v=0\r\n")  # fmt: skip
    caller.send(invite, ingress.sip)
    assert caller.recv()[0].status == 180  # type: ignore[union-attr]
    interaction = voice.arrived(call_id).envelope.interaction_id

    offer(router, interaction, agent.port, ring_ms=60_000)
    agent_invite, from_ingress = agent.recv()
    assert isinstance(agent_invite, SipRequest) and agent_invite.method == "INVITE"
    assert agent_invite.body == b"v=0\r\n"
    agent.send(serialize(build_response(agent_invite, 180, to_tag="ag")), from_ingress)

    # the agent rings: now the caller gives up
    caller.send(raw_request("CANCEL", caller, ingress.sip, call_id=call_id, branch=branch),
                ingress.sip)  # fmt: skip
    responses = [caller.recv()[0] for _ in range(2)]
    assert sorted((r.status, r.cseq[1]) for r in responses) == [  # type: ignore[union-attr]
        (200, "CANCEL"), (487, "INVITE")
    ]  # fmt: skip
    cancel, _ = agent.recv()
    assert isinstance(cancel, SipRequest) and cancel.method == "CANCEL"
    assert cancel.top_via.branch == agent_invite.top_via.branch
    agent.send(serialize(build_response(cancel, 200, to_tag="ag")), from_ingress)
    agent.send(serialize(build_response(agent_invite, 487, to_tag="ag")), from_ingress)
    ack, _ = agent.recv()
    assert isinstance(ack, SipRequest) and ack.method == "ACK"

    abandoned = voice.next(interaction, "abandoned")
    assert abandoned.abandoned.stage == InteractionAbandoned.STAGE_WHILE_OFFERED
    assert abandoned.envelope.agent_id == "acme-a1"


def test_malformed_datagrams_get_400_and_the_next_call_is_served(ingress, voice, peers, sipp):
    peer = peers()
    call_id = f"bad-{uuid.uuid4().hex}"
    bad = raw_request("INVITE", peer, ingress.sip, call_id=call_id, branch="z9hG4bK-bad1")
    peer.send(bad.replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE"), ingress.sip)
    data, _ = peer.recv_raw()
    assert data.startswith(
        b"SIP/2.0 400 Bad Request - CSeq method BYE does not match request method INVITE\r\n"
    ), data
    assert f"Call-ID: {call_id}".encode() in data

    peer.send(bad.replace(b"Content-Length: 0", b"Content-Length: 42"), ingress.sip)
    data, _ = peer.recv_raw()
    assert data.startswith(b"SIP/2.0 400 Bad Request - Content-Length 42 exceeds"), data

    # garbage gets nothing; the OPTIONS sent after it is the next thing answered
    peer.send(b"\x00\x01\x02 this is not SIP at all \xff\xfe", ingress.sip)
    peer.send(b"INVITE sip:x@y SIP/2.0\r\n\r\n", ingress.sip)  # no Via: nowhere to answer
    peer.send(_options(ingress.sip[1], peer.sock), ingress.sip)
    reply, _ = peer.recv()
    assert isinstance(reply, SipResponse) and (reply.status, reply.cseq[1]) == (200, "OPTIONS")

    # unknown entry point and unsupported methods
    peer.send(raw_request("INVITE", peer, ingress.sip, call_id=f"nf-{call_id}",
                          branch="z9hG4bK-nf", user="no-such-number"), ingress.sip)  # fmt: skip
    reply, _ = peer.recv()
    assert isinstance(reply, SipResponse) and reply.status == 404
    peer.send(raw_request("MESSAGE", peer, ingress.sip, call_id=f"m-{call_id}",
                          branch="z9hG4bK-m"), ingress.sip)  # fmt: skip
    reply, _ = peer.recv()
    assert isinstance(reply, SipResponse) and reply.status == 405

    # and a real call still works: the announcement answers and finishes self-service
    test_id = f"after-bad-{uuid.uuid4().hex[:6]}"
    announce = sipp(
        "announcement_caller.xml", "-s", ANNOUNCE_ADDRESS, f"{ingress.sip[0]}:{ingress.sip[1]}",
        "-p", str(free_udp_port()), "-cid_str", f"{test_id}-%u-%p@%s", "-d", "100",
    )  # fmt: skip
    interaction = voice.arrived(test_id).envelope.interaction_id
    finished = voice.next(interaction, "self_service_finished")
    assert finished.self_service_finished.outcome == SelfServiceFinished.OUTCOME_CONTAINED
    expect_success(announce, "announcement caller")


def test_undecodable_routing_record_is_dead_lettered(ingress, router) -> None:
    dead_letters = dead_letter_topic("ingress-sip")
    reader = TopicReader(ingress.bootstrap, dead_letters.name, dead_letters.partitions)
    garbage = b"\x08\x96\x01 not an InteractionEvent " + uuid.uuid4().bytes
    router.publish_raw(ROUTING_INTERACTIONS, b"acme", garbage, 3)
    router.flush(10)
    found = reader.wait_for(lambda _k, value, _h: value == garbage)
    reader.close()
    assert found is not None, f"nothing dead-lettered:\n{ingress_log(ingress)}"
    key, _value, headers = found
    assert key == b"acme"
    assert headers["hotline-source-topic"] == ROUTING_INTERACTIONS.name.encode()
    assert headers["hotline-source-partition"] == b"3"
    assert headers["hotline-reason"]


def test_liveness_started_before_serving_then_heartbeats(ingress) -> None:
    """One `started` per tenant served (the config's acme), durable before SIP answered the
    fixture's OPTIONS, then heartbeats of the same incarnation (every 500 ms here)."""
    reader = TopicReader(ingress.bootstrap, INGRESS_LIVENESS.name, INGRESS_LIVENESS.partitions)
    producer = f"ingress-sip/{ingress.instance_id}"

    def ours(kind: str) -> list[IngressEvent]:
        out = []
        for key, value, _headers in reader.records:
            try:
                event = IngressEvent.FromString(value or b"")
            except DecodeError:
                continue
            if event.envelope.producer == producer and event.WhichOneof("event") == kind:
                assert key == event.envelope.tenant_id.encode()
                out.append(event)
        return out

    found = reader.wait_for(lambda _k, _v, _h: len(ours("heartbeat")) >= 2)
    reader.close()
    assert found is not None, f"no heartbeats:\n{ingress_log(ingress)}"
    [started] = ours("started")
    assert started.envelope.tenant_id == "acme"
    assert started.started.instance_id == ingress.instance_id
    assert started.started.heartbeat_interval_ms == 500
    for beat in ours("heartbeat"):
        assert beat.heartbeat.incarnation_id == started.started.incarnation_id
        assert beat.heartbeat.started_at_ms == occurred_at_ms(started.envelope)


def ingress_log(ingress: Ingress) -> str:
    return ingress.log_tail()
