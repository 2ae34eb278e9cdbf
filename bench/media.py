"""Voice media anchored in rtpengine: concurrent calls with audio both ways, and the SIP call
rate with and without anchoring. Writes bench/results/media.json.

Set-up: a memory-only Tansu broker, rtpengine (userspace, as hotline_cli.embedded starts it) and
two ingress-sip processes, one anchoring every queue call in rtpengine and one without a relay
(the reference for the call rate). The bench plays the router and every phone:

- Signalling (this process, asyncio, one UDP socket for all callers and one for all agent
  phones): a caller INVITEs a queue entry point; once ingress-sip answers it (200 with the
  relay's SDP, or 180 without a relay: both only after `arrived` is recorded) the router
  stand-in publishes `offered` for an agent phone of the bench (the interaction id is derived
  from the INVITE as ingress-sip derives it); the phone answers at once. The router's own
  latency is not part of this measurement.
- Audio (worker processes, one epoll loop each, 2 sockets per call): every caller and agent
  phone sends a 20 ms PCMU frame every 20 ms (send times spread evenly over the 20 ms) to the
  address its SDP exchange gave it; each frame carries its send time. The phones of `--probes`
  calls read and measure what they receive, with the kernel's receive timestamp
  (SO_TIMESTAMPNS), so a busy generator does not distort the delays; the other phones do not
  read (this machine has too little CPU to read every frame in Python beside the relay). A few
  control pairs of sockets send to each other directly in the same schedule: their delay
  variation is what the generator and the machine add without the relay.

Per step of concurrent calls (held `--hold-s`): frames lost (measured calls: sent minus distinct
received, after a 1 s drain; every call: datagrams the kernel dropped at the relay's full
sockets); added jitter = per stream, transit time minus the stream's smallest transit time
(packet delay variation, RFC 5481), p99 over all measured frames (the RFC 3550 interarrival
jitter per stream is given too); the generator's lateness against its schedule; CPU of
ingress-sip and rtpengine over the window, per call and second. A step passes with every call
set up and none ended by the platform before the caller hangs up, 0 frames lost, 0 relay drops
and jitter p99 < 5 ms; the steps stop at the first failure (unless `--keep-going`).

Call rate: `--cps-calls` calls with N in flight (each N of `--cps-in-flight` in turn), each
INVITE -> answer -> ACK -> offer -> agent answers -> BYE, through the anchoring ingress-sip and
through the other; the figure is the best rate with no failed call.

`python -m bench.media [--steps 50,100] [--hold-s 20] [--realtime]`; `make bench` runs it with
the defaults. On a machine other sessions keep busy, use `--realtime`: the kernel shares the CPU
equally between sessions (autogroups), so the relay and the generator would get a fraction of a
core whatever they need, and the steps would measure the other work, not the relay.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import json
import multiprocessing
import os
import resource
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import wave
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TypeVar

import yaml

from bench.rest_api import _cpu_s
from hotline.common.v1.envelope_pb2 import CHANNEL_VOICE
from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline_cli import embedded
from hotline_ingress_sip.domain.sdp import SdpError, parse_audio
from hotline_ingress_sip.domain.sip import (
    SipParseError,
    SipRequest,
    SipResponse,
    build_response,
    interaction_id_for,
    parse,
    serialize,
)
from hotline_platform.bus import EventPublisher, ensure_topics
from hotline_platform.envelope import new_envelope
from hotline_platform.topics import ROUTING_INTERACTIONS

T = TypeVar("T")
RESULTS = Path(__file__).resolve().parent / "results"
TENANT, QUEUE, ENTRY = "bench", "bench-queue", "media-bench"
CONFIG = {
    "sites": [{"id": "bench"}],
    "tenants": [
        {
            "id": TENANT,
            "credential": "bench-credential",
            "queues": [{"id": QUEUE, "ring_timeout_s": 30}],
            "entry_points": [{"address": ENTRY, "queue": QUEUE, "site": "bench"}],
            "agents": [{"id": "bench-a1", "name": "Bench", "site": "bench",
                        "phone": "sip:a1@127.0.0.1:1"}],  # fmt: skip
        }
    ],
}
FRAME_S = 0.020
FRAME = struct.Struct("!BBHIIq")  # RTP header (PCMU) + the send time in ns
PAD = bytes(160 - 8)  # the rest of a 20 ms PCMU frame
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; Python does not export it
STAMP = struct.Struct("qq")  # struct timespec
BIN_NS = 10_000  # histogram bins of 10 us
CONTROL_PAIRS = 4  # per audio worker: streams that bypass the relay
JITTER_LIMIT_MS = 5.0
SIP_WAIT_S = 15.0


# ------------------------------------------------------------------------------ signalling


def _sdp(port: int) -> str:
    return "\r\n".join(["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
                        f"m=audio {port} RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000",
                        "a=rtpmap:101 telephone-event/8000", "a=sendrecv", ""])  # fmt: skip


class CallFailed(RuntimeError):
    pass


@dataclass(eq=False)
class BenchCall:
    call_id: str
    interaction_id: str
    agent_rtp_port: int
    answered: asyncio.Future[SipResponse]  # the caller's final response
    agent_acked: asyncio.Future[None]  # the agent phone's 200 was ACKed: the call is up
    bye_answered: asyncio.Future[None]  # the caller's BYE got its 200
    agent_bye: asyncio.Future[None]  # the agent phone got its BYE
    ack: bytes = b""
    hanging_up: bool = False  # the caller sent its BYE
    dropped: bool = False  # the platform ended the call (a BYE the bench did not ask for)
    offered: bool = False
    agent_ok: bytes = b""  # the agent phone's 200 (sent again if the INVITE is)
    caller_sends_to: tuple[str, int] = ("", 0)
    agent_sends_to: tuple[str, int] = ("", 0)


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, handle: Callable[[SipRequest | SipResponse, tuple[str, int]], None]) -> None:
        self._handle = handle

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            message = parse(data)
        except SipParseError:
            return
        self._handle(message, addr)


class Phones:
    """All callers on one UDP socket, all agent phones on another; the router stand-in."""

    def __init__(self, ingress: tuple[str, int], publisher: EventPublisher) -> None:
        self.ingress = ingress
        self._publisher = publisher
        self._by_call_id: dict[str, BenchCall] = {}
        self._by_interaction: dict[str, BenchCall] = {}
        self._callers: asyncio.DatagramTransport | None = None
        self._agents: asyncio.DatagramTransport | None = None
        self.caller_port = self.agent_port = 0

    async def open(self) -> None:
        self._callers, self.caller_port = await self._bind(self._on_caller)
        self._agents, self.agent_port = await self._bind(self._on_agent)

    @staticmethod
    async def _bind(
        handle: Callable[[SipRequest | SipResponse, tuple[str, int]], None],
    ) -> tuple[asyncio.DatagramTransport, int]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # bursts of set-ups
        sock.bind(("127.0.0.1", 0))
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(partial(_Endpoint, handle), sock=sock)
        return transport, sock.getsockname()[1]

    def close(self) -> None:
        for transport in (self._callers, self._agents):
            if transport is not None:
                transport.close()

    def _request(self, method: str, call_id: str, *, cseq: int, to_tag: str = "",
                 body: str = "") -> bytes:  # fmt: skip
        host, port = self.ingress
        to = f"<sip:{ENTRY}@{host}:{port}>" + (f";tag={to_tag}" if to_tag else "")
        head = [
            f"{method} sip:{ENTRY}@{host}:{port} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.caller_port};branch=z9hG4bK-{uuid.uuid4().hex}",
            f"From: <sip:+999@127.0.0.1:{self.caller_port}>;tag=caller",
            f"To: {to}",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:+999@127.0.0.1:{self.caller_port}>",
            "Max-Forwards: 70",
        ]
        if body:
            head.append("Content-Type: application/sdp")
        head.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(head) + "\r\n\r\n" + body).encode()

    async def place(self, caller_rtp_port: int, agent_rtp_port: int) -> BenchCall:
        """A call up to both phones connected; raises CallFailed otherwise."""
        assert self._callers is not None
        loop = asyncio.get_running_loop()
        call_id = f"bench-{uuid.uuid4().hex}"
        invite = self._request("INVITE", call_id, cseq=1, body=_sdp(caller_rtp_port))
        parsed = parse(invite)
        assert isinstance(parsed, SipRequest)
        call = BenchCall(call_id, interaction_id_for(parsed), agent_rtp_port,
                         loop.create_future(), loop.create_future(), loop.create_future(),
                         loop.create_future())  # fmt: skip
        self._by_call_id[call_id] = call
        self._by_interaction[call.interaction_id] = call
        self._callers.sendto(invite, self.ingress)
        try:
            answer = await asyncio.wait_for(call.answered, SIP_WAIT_S)
            if answer.status != 200:
                raise CallFailed(f"caller got {answer.status}")
            call.ack = self._request("ACK", call_id, cseq=1, to_tag=answer.to_tag)
            self._callers.sendto(call.ack, self.ingress)
            stream = parse_audio(answer.body)
            call.caller_sends_to = (stream.address, stream.port)
            await asyncio.wait_for(call.agent_acked, SIP_WAIT_S)
        except (TimeoutError, SdpError) as exc:
            self._forget(call)
            raise CallFailed(f"set-up of {call_id}: {exc!r}") from exc
        return call

    async def hang_up(self, call: BenchCall) -> None:
        """The caller hangs up; CallFailed if the platform had ended the call before."""
        assert self._callers is not None
        if call.dropped:
            self._forget(call)
            raise CallFailed(f"{call.call_id} was ended by the platform")
        call.hanging_up = True
        to_tag = call.answered.result().to_tag
        self._callers.sendto(self._request("BYE", call.call_id, cseq=2, to_tag=to_tag),
                             self.ingress)  # fmt: skip
        try:
            await asyncio.wait_for(asyncio.gather(call.bye_answered, call.agent_bye), SIP_WAIT_S)
        except TimeoutError as exc:
            raise CallFailed(f"hang-up of {call.call_id}: no BYE/200") from exc
        finally:
            self._forget(call)

    def _forget(self, call: BenchCall) -> None:
        self._by_call_id.pop(call.call_id, None)
        self._by_interaction.pop(call.interaction_id, None)

    def _offer(self, call: BenchCall) -> None:
        """The router stand-in: offer the waiting call to its own agent phone."""
        call.offered = True
        event = InteractionEvent(envelope=new_envelope(
            tenant_id=TENANT, producer="router/bench", interaction_id=call.interaction_id,
            agent_id="bench-a1", site_id="bench"))  # fmt: skip
        offered = event.offered
        offered.offer_id = str(uuid.uuid4())
        offered.agent_id = "bench-a1"
        offered.queue_id = QUEUE
        offered.agent_endpoint = f"sip:bench-a1@127.0.0.1:{self.agent_port}"
        offered.ring_timeout_ms = 30_000
        offered.attempt = 1
        offered.channel = CHANNEL_VOICE
        self._publisher.publish(ROUTING_INTERACTIONS, event)

    def _on_caller(self, message: SipRequest | SipResponse, addr: tuple[str, int]) -> None:
        call = self._by_call_id.get(message.call_id)
        if isinstance(message, SipRequest):
            # e.g. a BYE when the platform gives up on a call: acknowledge it
            if message.method != "ACK" and self._callers is not None:
                self._callers.sendto(serialize(build_response(message, 200)), addr)
            if message.method == "BYE" and call is not None:
                call.dropped = True
            return
        if call is None:
            return
        method = message.cseq[1]
        if method == "INVITE":
            if message.status in (180, 183, 200) and not call.offered:
                self._offer(call)
            if message.status < 200:
                return
            if not call.answered.done():
                call.answered.set_result(message)
            elif call.ack and self._callers is not None:  # a 200 again: our ACK was lost
                self._callers.sendto(call.ack, self.ingress)
        elif method == "BYE" and not call.bye_answered.done():
            call.bye_answered.set_result(None)

    def _on_agent(self, message: SipRequest | SipResponse, addr: tuple[str, int]) -> None:
        if not isinstance(message, SipRequest) or self._agents is None:
            return
        if message.method == "INVITE":
            call = self._by_interaction.get(message.headers.get("x-hotline-interaction") or "")
            if call is None:
                self._agents.sendto(serialize(build_response(message, 480)), addr)
                return
            if not call.agent_ok:
                try:
                    stream = parse_audio(message.body)
                except SdpError:
                    self._agents.sendto(serialize(build_response(message, 488)), addr)
                    return
                call.agent_sends_to = (stream.address, stream.port)
                self._by_call_id[message.call_id] = call
                ok = build_response(
                    message, 200, to_tag="agent",
                    extra=[("Contact", f"<sip:bench-a1@127.0.0.1:{self.agent_port}>"),
                           ("Content-Type", "application/sdp")],
                    body=_sdp(call.agent_rtp_port).encode())  # fmt: skip
                call.agent_ok = serialize(ok)
            self._agents.sendto(call.agent_ok, addr)
            return
        call = self._by_call_id.get(message.call_id)
        if message.method == "ACK":
            if call is not None and not call.agent_acked.done():
                call.agent_acked.set_result(None)
            return
        self._agents.sendto(serialize(build_response(message, 200)), addr)
        if message.method == "BYE" and call is not None and not call.agent_bye.done():
            call.dropped = call.dropped or not call.hanging_up
            call.agent_bye.set_result(None)


async def _bounded(jobs: Iterable[Callable[[], Awaitable[T]]], in_flight: int
                   ) -> list[T | BaseException]:  # fmt: skip
    """Run the coroutine factories `in_flight` at a time; results or exceptions, in order."""
    gate = asyncio.Semaphore(in_flight)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(j) for j in jobs), return_exceptions=True))


async def call_rate(phones: Phones, calls: int, in_flight: int, pids: dict[str, int]
                    ) -> dict[str, object]:  # fmt: skip
    """Calls set up and torn down per second, `in_flight` at a time (no audio sent by the
    phones; both SDPs point at a socket that is never read), and the CPU each of `pids` (and
    this process: the phones and the router stand-in) used meanwhile, in % of one core."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    port = sink.getsockname()[1]
    setup_ms: list[float] = []

    async def one() -> None:
        started = time.monotonic()
        call = await phones.place(port, port)
        setup_ms.append((time.monotonic() - started) * 1000)
        await phones.hang_up(call)

    for _ in range(3):  # warm-up: the first offer waits for the producer's first connection
        await one()
    setup_ms.clear()
    pids = {**pids, "bench": os.getpid()}
    cpu = {name: _cpu_s(pid) for name, pid in pids.items()}
    started = time.monotonic()
    outcomes = await _bounded([one] * calls, in_flight)
    elapsed = time.monotonic() - started
    cpu = {name: round(100 * (_cpu_s(pid) - cpu[name]) / elapsed, 1) for name, pid in pids.items()}
    sink.close()
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    if failed:
        print(f"    first failure: {failed[0]!r}", flush=True)
    ok = calls - len(failed)
    setup_ms.sort()
    return {
        "calls": calls,
        "in_flight": in_flight,
        "failed": len(failed),
        "seconds": round(elapsed, 2),
        "cps": round(ok / elapsed, 1),
        "setup_ms_p50": round(setup_ms[len(setup_ms) // 2], 1) if setup_ms else None,
        "setup_ms_p99": round(setup_ms[int(len(setup_ms) * 0.99)], 1) if setup_ms else None,
        "cpu_pct": cpu,
    }


# ------------------------------------------------------------------------------ audio workers


def _within(ports: tuple[int, int], port: int) -> bool:
    return ports[0] <= port <= ports[1]


def udp_drops(bound: Callable[[int], bool], *, remote: bool = False) -> int:
    """Datagrams the kernel dropped because a socket was full (the `drops` column of
    /proc/net/udp), summed over the sockets whose local (or `remote`) port is `bound`. For the
    relay's port range: the relay's own loss, for every call, measured or not; for the
    measuring phones: frames the generator was too slow to read (its loss, not the relay's);
    for the sockets connected to the relay's ng port: replies ingress-sip did not get."""
    total = 0
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if bound(int(fields[2 if remote else 1].rsplit(":", 1)[1], 16)):
            total += int(fields[-1])
    return total


def _percentile(histogram: Counter[int], q: float) -> float:
    """The q-quantile, in ms, of a histogram of BIN_NS bins (upper edge of the bin)."""
    total = sum(histogram.values())
    if total == 0:
        return 0.0
    rank, seen = q * total, 0
    for bin_, count in sorted(histogram.items()):
        seen += count
        if seen >= rank:
            return (bin_ + 1) * BIN_NS / 1e6
    return 0.0  # pragma: no cover - the loop reaches the total


def _media_worker(conn: Connection, calls: int, probes: int, realtime: bool) -> None:
    """Audio of `calls` calls (sockets 2i: caller i, 2i+1: its agent phone). Sends the ports,
    gets (destinations, start, seconds), sends frames and measures, sends the figures.

    Every phone sends; only the first `probes` calls' phones read and measure what they
    receive (reading every frame would take more CPU than this machine has beside the relay):
    the others' sockets keep a minimal buffer and the kernel drops what they are sent. A few
    control pairs of sockets send to each other directly, in the same schedule: their delay
    variation is what the generator and the machine add without the relay."""
    if realtime:
        _realtime(os.getpid())
    relayed, measured = 2 * calls, 2 * probes
    socks = []
    for k in range(relayed + 2 * CONTROL_PAIRS):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if measured <= k < relayed:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)  # the kernel's minimum
        else:  # room for seconds of audio should the generator be kept from reading it
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        socks.append(sock)
    conn.send([s.getsockname()[1] for s in socks[:relayed]])
    dests, start, seconds = conn.recv()
    dests += [socks[k ^ 1].getsockname() for k in range(relayed, len(socks))]
    read = [*range(measured), *range(relayed, len(socks))]  # stream k is read on socket k ^ 1
    streams = len(socks)
    frames = int(seconds / FRAME_S) + 1
    poller = select.epoll()
    by_fd: dict[int, int] = {}
    for k in read:
        poller.register(socks[k].fileno(), select.EPOLLIN)
        by_fd[socks[k].fileno()] = k
    cmsg = socket.CMSG_SPACE(STAMP.size)
    ssrc_base = 0x10000000 + (os.getpid() % 65536) * 4096
    got = [bytearray(frames) for _ in range(streams)]
    transits = [array.array("q") for _ in range(streams)]
    counts = Counter[str]()
    measuring = False

    def drain(k: int) -> None:
        sock, stream = socks[k], k ^ 1
        while True:
            try:
                data, anc, _flags, _addr = sock.recvmsg(512, cmsg)
            except BlockingIOError:
                return
            if not measuring:
                continue  # music before the agent was bridged
            if len(data) < FRAME.size:
                counts["foreign"] += 1
                continue
            _v, _pt, seq, _ts, ssrc, sent_ns = FRAME.unpack_from(data)
            if ssrc != ssrc_base + stream or seq >= frames:
                counts["foreign"] += 1
                continue
            if got[stream][seq]:
                counts["duplicates"] += 1
                continue
            got[stream][seq] = 1
            sec, nsec = STAMP.unpack(anc[0][2]) if anc else divmod(time.time_ns(), 10**9)
            transits[stream].append(sec * 1_000_000_000 + nsec - sent_ns)

    def poll(until: float) -> None:
        for fd, _event in poller.poll(max(0.0, until - time.time())):
            drain(by_fd[fd])

    while time.time() < start:  # discard what came before (music while waiting)
        poll(start)
    measuring = True
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    lateness = Counter[int]()
    phase = [k * FRAME_S / streams for k in range(streams)]
    end = start + frames * FRAME_S
    position = round_ = 0
    due = start
    while round_ < frames:
        now = time.time()
        while due <= now:
            sent_ns = time.time_ns()
            lateness[int(sent_ns - due * 1e9) // BIN_NS] += 1
            header = FRAME.pack(0x80, 0, round_, round_ * 160, ssrc_base + position, sent_ns)
            socks[position].sendto(header + PAD, dests[position])
            position += 1
            if position == streams:
                position, round_ = 0, round_ + 1
                if round_ == frames:
                    break
            due = start + round_ * FRAME_S + phase[position]
        poll(min(due, end))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    drain_until = time.time() + 1.0
    while time.time() < drain_until:
        poll(drain_until)
    delay_variation, control_variation = Counter[int](), Counter[int]()
    jitters = []
    for k in read:  # the measured streams (the sets of sockets and of streams are the same)
        series = transits[k]
        if not series:
            continue
        low = min(series)
        if k >= relayed:
            control_variation.update((t - low) // BIN_NS for t in series)
            continue
        delay_variation.update((t - low) // BIN_NS for t in series)
        jitter, previous = 0.0, series[0]
        for t in series:  # RFC 3550 6.4.1, in arrival order
            jitter += (abs(t - previous) - jitter) / 16
            previous = t
        jitters.append(jitter / 1e6)
    received = sum(sum(got[k]) for k in range(measured))
    conn.send({
        "sent": frames * relayed,
        "measured": frames * measured,
        "lost": frames * measured - received,
        "control_lost": frames * 2 * CONTROL_PAIRS - sum(sum(g) for g in got[relayed:]),
        "phone_socket_drops": udp_drops({socks[k].getsockname()[1] for k in read}.__contains__),
        "duplicates": counts["duplicates"],
        "foreign": counts["foreign"],
        "delay_variation": dict(delay_variation),
        "control_variation": dict(control_variation),
        "lateness": dict(lateness),
        "rfc3550_jitter_ms": jitters,
        "cpu_s": cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime,
    })  # fmt: skip
    for sock in socks:
        sock.close()


# ------------------------------------------------------------------------------ the steps


@dataclass
class Stack:
    work: Path
    broker: subprocess.Popen[bytes]
    relay: subprocess.Popen[bytes]
    relay_ports: tuple[int, int]
    ng_port: int
    anchored: subprocess.Popen[bytes] | None = None
    direct: subprocess.Popen[bytes] | None = None
    anchored_sip: tuple[str, int] = ("127.0.0.1", 0)
    direct_sip: tuple[str, int] = ("127.0.0.1", 0)
    bootstrap: str = ""

    def stop(self) -> None:
        for proc in (self.anchored, self.direct, self.relay, self.broker):
            if proc is not None:
                embedded.stop_process(proc.pid)


def _wait_options(proc: subprocess.Popen[bytes], sip: tuple[str, int], log: Path) -> None:
    """ingress-sip is ready when it answers OPTIONS."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)
        port = sock.getsockname()[1]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            branch = f"z9hG4bK-{uuid.uuid4().hex}"
            sock.sendto((f"OPTIONS sip:ping@{sip[0]}:{sip[1]} SIP/2.0\r\n"
                         f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch}\r\n"
                         "From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:ping@127.0.0.1>\r\n"
                         f"Call-ID: {branch}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                         "Content-Length: 0\r\n\r\n").encode(), sip)  # fmt: skip
            try:
                if sock.recv(65535).startswith(b"SIP/2.0 200"):
                    return
            except TimeoutError:
                continue
    raise RuntimeError(f"ingress-sip did not answer OPTIONS; see {log}")


def _start_ingress(work: Path, name: str, env: dict[str, str]
                   ) -> tuple[subprocess.Popen[bytes], tuple[str, int]]:  # fmt: skip
    sip = ("127.0.0.1", _free_udp_port())
    log = work / f"ingress-sip-{name}.log"
    proc = embedded.spawn([sys.executable, "-m", "hotline_ingress_sip"], log, env={
        **env, "HOTLINE_SIP_PORT": str(sip[1]), "HOTLINE_INSTANCE_ID": f"bench-{name}",
        "HOTLINE_GRPC_PORT": str(embedded.find_free_port())})  # fmt: skip
    try:
        _wait_options(proc, sip, log)
    except BaseException:
        embedded.stop_process(proc.pid)
        raise
    return proc, sip


def start_stack(max_calls: int) -> Stack:
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-media-"))
    broker_port = embedded.find_free_port()
    broker = embedded.start_broker(broker_port, work / "broker.log")
    embedded.wait_broker_ready(broker_port, timeout=30, proc=broker, log_path=work / "broker.log")
    bootstrap = f"127.0.0.1:{broker_port}"
    ensure_topics(bootstrap)
    # 4 ports per call, twice over (a deleted call's ports are not reused at once), above the
    # stack's and the tests' ranges and below the ephemeral ports the phones bind.
    port_min = 20_000
    max_calls = max(max_calls, 500)  # the call rate has hundreds of calls in flight too
    relay_config = embedded.MediaRelayConfig(
        ng_port=embedded.find_free_port(), cli_port=embedded.find_free_port(),
        dtmf_log_dest=f"127.0.0.1:{embedded.find_free_port()}",
        port_min=port_min, port_max=port_min + 8 * max_calls + 99,
        timeout_s=300)  # fmt: skip
    relay = embedded.start_media_relay(work / "rtpengine", relay_config, work / "rtpengine.log")
    stack = Stack(work, broker, relay, (port_min, relay_config.port_max), relay_config.ng_port,
                  bootstrap=bootstrap)  # fmt: skip
    try:
        embedded.wait_media_relay_ready(relay_config.ng_port, timeout=20, proc=relay,
                                        log_path=work / "rtpengine.log")  # fmt: skip
        (work / "hotline.yaml").write_text(yaml.safe_dump(CONFIG))
        (work / "prompts" / "en").mkdir(parents=True)
        with wave.open(str(work / "prompts" / "en" / "moh.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(bytes(2 * 8000))  # a second of silence, played in a loop
        base = {**os.environ, "HOTLINE_KAFKA_BOOTSTRAP": bootstrap,
                "HOTLINE_CONFIG_PATH": str(work / "hotline.yaml"),
                "HOTLINE_LOG_LEVEL": "WARNING", "HOTLINE_METRICS_PORT": "0"}  # fmt: skip
        media = {"HOTLINE_MEDIA_RELAY_NG": f"127.0.0.1:{relay_config.ng_port}",
                 "HOTLINE_MEDIA_DTMF_LISTEN": relay_config.dtmf_log_dest,
                 "HOTLINE_PROMPTS_DIR": str(work / "prompts"),
                 "HOTLINE_ANNOUNCE_EVERY_MS": "0"}  # fmt: skip
        stack.anchored, stack.anchored_sip = _start_ingress(work, "anchored", {**base, **media})
        stack.direct, stack.direct_sip = _start_ingress(work, "direct", base)
    except BaseException:
        stack.stop()
        raise
    return stack


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def media_step(stack: Stack, phones: Phones, calls: int, hold_s: float,
                     args: argparse.Namespace) -> dict[str, object]:  # fmt: skip
    assert stack.anchored is not None
    workers, in_flight, probes = args.workers, args.in_flight, args.probes
    context = multiprocessing.get_context("spawn")
    shares = [calls // workers + (1 if w < calls % workers else 0) for w in range(workers)]
    probes = min(probes, calls)
    pipes, procs = [], []
    for share in (s for s in shares if s):
        parent, child = context.Pipe()
        measured = -(-probes * share // calls)  # the worker's part of the measured calls
        proc = context.Process(target=_media_worker, daemon=True,
                               args=(child, share, measured, args.realtime))  # fmt: skip
        proc.start()
        pipes.append((parent, share))
        procs.append(proc)
    placed: list[BenchCall] = []
    failures: list[str] = []
    try:
        ports = [await asyncio.to_thread(p.recv) for p, _ in pipes]
        jobs = [
            partial(phones.place, c, a)
            for worker_ports in ports
            for c, a in zip(worker_ports[0::2], worker_ports[1::2], strict=True)
        ]
        setup_started = time.monotonic()
        outcomes = await _bounded(jobs, in_flight)
        setup_s = time.monotonic() - setup_started
        failures = [repr(o) for o in outcomes if isinstance(o, BaseException)]
        placed = [o for o in outcomes if isinstance(o, BenchCall)]
        start = time.time() + 1.0
        by_worker = iter(outcomes)
        for pipe, share in pipes:
            dests = []
            for _ in range(share):
                call = next(by_worker)
                if isinstance(call, BenchCall):
                    dests += [call.caller_sends_to, call.agent_sends_to]
                else:  # not set up: its frames go nowhere and count as lost
                    dests += [("127.0.0.1", 9), ("127.0.0.1", 9)]
            pipe.send((dests, start, hold_s))
        # CPU over the steady part of the window (a second after the start to before the end)
        await asyncio.sleep(start - time.time())
        in_relay = partial(_within, stack.relay_ports)
        drops0 = udp_drops(in_relay)
        await asyncio.sleep(1.0)
        cpu0 = (_cpu_s(stack.anchored.pid), _cpu_s(stack.relay.pid), time.monotonic())
        await asyncio.sleep(max(0.5, hold_s - 1.5))
        cpu1 = (_cpu_s(stack.anchored.pid), _cpu_s(stack.relay.pid), time.monotonic())
        load = os.getloadavg()[0]
        results = [await asyncio.to_thread(p.recv) for p, _ in pipes]
        dropped = udp_drops(in_relay) - drops0
        ended = sum(1 for c in placed if c.dropped)
    finally:
        hangups = await _bounded([partial(phones.hang_up, c) for c in placed], in_flight)
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    hangup_failures = sum(1 for h in hangups if isinstance(h, BaseException))
    delay_variation, control, lateness = Counter[int](), Counter[int](), Counter[int]()
    jitters: list[float] = []
    for r in results:
        delay_variation.update({int(k): v for k, v in r["delay_variation"].items()})
        control.update({int(k): v for k, v in r["control_variation"].items()})
        lateness.update({int(k): v for k, v in r["lateness"].items()})
        jitters += r["rfc3550_jitter_ms"]
    seconds = cpu1[2] - cpu0[2]
    sent = sum(r["sent"] for r in results)
    measured = sum(r["measured"] for r in results)
    lost = sum(r["lost"] for r in results)
    jitter_p99 = _percentile(delay_variation, 0.99)
    step = {
        "calls": calls,
        "set_up": len(placed),
        "setup_failed": len(failures),
        "setup_seconds": round(setup_s, 2),
        "ended_by_platform": ended,
        "hangup_failed": hangup_failures,
        "frames_sent": sent,
        "relay_socket_drops": dropped,
        "calls_measured": probes,
        "frames_measured": measured,
        "frames_lost": lost,
        "duplicates": sum(r["duplicates"] for r in results),
        "jitter_p50_ms": _percentile(delay_variation, 0.5),
        "jitter_p99_ms": jitter_p99,
        "jitter_p999_ms": _percentile(delay_variation, 0.999),
        "jitter_max_ms": _percentile(delay_variation, 1.0),
        "rfc3550_jitter_mean_ms": round(sum(jitters) / len(jitters), 3) if jitters else None,
        "rfc3550_jitter_max_ms": round(max(jitters), 3) if jitters else None,
        "control_jitter_p99_ms": _percentile(control, 0.99),
        "control_lost": sum(r["control_lost"] for r in results),
        "generator_lateness_p99_ms": _percentile(lateness, 0.99),
        "generator_cpu_pct": round(100 * sum(r["cpu_s"] for r in results) / hold_s, 1),
        "cpu_ms_per_call_s_ingress": round(1000 * (cpu1[0] - cpu0[0]) / calls / seconds, 4),
        "cpu_ms_per_call_s_rtpengine": round(1000 * (cpu1[1] - cpu0[1]) / calls / seconds, 4),
        "rtpengine_cpu_pct": round(100 * (cpu1[1] - cpu0[1]) / seconds, 1),
        "ingress_cpu_pct": round(100 * (cpu1[0] - cpu0[0]) / seconds, 1),
        "load_average_1m": round(load, 2),
    }
    phone_drops = sum(r["phone_socket_drops"] for r in results)
    step["phone_socket_drops"] = phone_drops
    reasons = [why for why, failed in (
        ("calls not set up", failures), ("calls ended by the platform", ended),
        ("frames lost", lost), ("relay socket drops", dropped),
        (f"jitter p99 >= {JITTER_LIMIT_MS} ms", jitter_p99 >= JITTER_LIMIT_MS),
        # then the step did not measure the relay: frames waited for the generator
        ("the generator was late or dropped frames it could not read",
         step["generator_lateness_p99_ms"] >= JITTER_LIMIT_MS or phone_drops),  # type: ignore[operator]
    ) if failed]  # fmt: skip
    step["failed_because"] = reasons
    step["ok"] = not reasons
    if failures:
        print(f"    first set-up failure: {failures[0]}", flush=True)
    return step


def _best_rate(runs: list[dict[str, object]]) -> float:
    return max((float(r["cps"]) for r in runs if r["failed"] == 0), default=0.0)  # type: ignore[arg-type]


def _realtime(pid: int) -> None:
    """Every thread of `pid` to SCHED_RR priority 10 (the policy is per thread on Linux): it
    runs before any ordinary process, within the kernel's real-time throttle (95 % of a CPU).
    Niceness does not do this: with autogroups it only counts within a session."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setscheduler(int(tid), os.SCHED_RR, os.sched_param(10))


async def run(args: argparse.Namespace) -> dict[str, object]:
    steps, hold_s = [int(s) for s in args.steps.split(",")], args.hold_s
    stack = await asyncio.to_thread(start_stack, max(steps))  # it runs its own event loop
    publisher = EventPublisher(stack.bootstrap, "router-bench")
    anchored = Phones(stack.anchored_sip, publisher)
    direct = Phones(stack.direct_sip, publisher)
    await anchored.open()
    await direct.open()
    load_before = os.getloadavg()
    done: list[dict[str, object]] = []
    try:
        assert stack.anchored is not None and stack.direct is not None
        pids = {"ingress-sip": stack.anchored.pid, "rtpengine": stack.relay.pid,
                "broker": stack.broker.pid}  # fmt: skip
        direct_pids = {"ingress-sip": stack.direct.pid, "broker": stack.broker.pid}
        rates_with, rates_without = [], []
        for level in (int(x) for x in args.cps_in_flight.split(",")):
            # with and without in turn, so that both see the same load from elsewhere
            rates_with.append(await call_rate(anchored, args.cps_calls, level, pids))
            print(f"  call rate with media anchored: {rates_with[-1]}", flush=True)
            rates_without.append(await call_rate(direct, args.cps_calls, level, direct_pids))
            print(f"  call rate without media:       {rates_without[-1]}", flush=True)
        if args.realtime:  # for the audio steps only: the call rate is always measured plain
            for proc in (stack.relay, stack.anchored):
                _realtime(proc.pid)
        for calls in steps:
            step = await media_step(stack, anchored, calls, hold_s, args)
            done.append(step)
            print(f"  {calls:>4} calls: lost {step['frames_lost']}/{step['frames_measured']} "
                  f"measured, relay drops {step['relay_socket_drops']}, "
                  f"set-up failed {step['setup_failed']}, ended {step['ended_by_platform']}, "
                  f"jitter p99 {step['jitter_p99_ms']} ms "
                  f"(without the relay {step['control_jitter_p99_ms']} ms), "
                  f"generator late p99 {step['generator_lateness_p99_ms']} ms, "
                  f"rtpengine {step['rtpengine_cpu_pct']} %, "
                  f"ingress {step['ingress_cpu_pct']} %, load {step['load_average_1m']}"
                  + (f"; FAILED: {', '.join(step['failed_because'])}"  # type: ignore[arg-type]
                     if step["failed_because"] else ""),
                  flush=True)  # fmt: skip
            if not step["ok"] and not args.keep_going:
                break
    finally:
        anchored.close()
        direct.close()
        publisher.flush(10)
        publisher.close()
        ng_reply_drops = udp_drops(lambda port: port == stack.ng_port, remote=True)
        stack.stop()
    failed = [i for i, s in enumerate(done) if not s["ok"]]
    passed = done[: failed[0]] if failed else done  # the steps before the first failure
    best = passed[-1] if passed else None
    no_loss = [n for n, s in zip(steps, done, strict=False)
               if s["frames_lost"] == 0 and s["relay_socket_drops"] == 0]  # fmt: skip
    reference = best or (done[-1] if done else {})
    return {
        "max_calls_zero_loss": best["calls"] if best else 0,
        "jitter_p99_ms": reference.get("jitter_p99_ms"),
        "cps_with_media": _best_rate(rates_with),
        "cps_without_media": _best_rate(rates_without),
        "cpu_ms_per_call_s_ingress": reference.get("cpu_ms_per_call_s_ingress"),
        "cpu_ms_per_call_s_rtpengine": reference.get("cpu_ms_per_call_s_rtpengine"),
        "calls_tried": [s["calls"] for s in done],
        "max_calls_tried_zero_loss_any_jitter": max(no_loss, default=0),
        "generator_lateness_p99_ms": reference.get("generator_lateness_p99_ms"),
        "hold_s": hold_s,
        "pass_rule": "every call set up and none ended by the platform, 0 frames lost, 0 "
                     f"relay socket drops, added jitter p99 < {JITTER_LIMIT_MS} ms",
        "jitter": "per stream: transit (kernel receive time - send time) minus the stream's "
                  "smallest transit (RFC 5481 PDV); percentiles over all frames",
        "cps_rule": "the best rate with no failed call over the numbers of calls in flight",
        "call_rate_with_media": rates_with,
        "call_rate_without_media": rates_without,
        "realtime": args.realtime,
        "logs": str(stack.work),
        # ingress-sip sent an ng command again for want of a timely reply (0.5 s)
        "ng_retransmissions": (stack.work / "rtpengine.log").read_text(errors="replace")
                              .count("as a duplicate"),
        # of which replies dropped at ingress-sip's full ng socket (it asks about every call
        # at once every media_check_every_ms)
        "ng_reply_drops": ng_reply_drops,
        "steps": done,
        "workers": args.workers,
        "cores": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default=os.environ.get("BENCH_MEDIA_STEPS",
                                                          "50,100,200,300,500"))
    parser.add_argument("--hold-s", type=float,
                        default=float(os.environ.get("BENCH_MEDIA_HOLD_S", "20")))
    parser.add_argument("--workers", type=int, default=2, help="audio generator processes")
    parser.add_argument("--in-flight", type=int, default=20, help="calls set up at a time")
    parser.add_argument("--probes", type=int, default=50, help="calls whose audio is measured")
    parser.add_argument("--cps-calls", type=int, default=600)
    parser.add_argument("--cps-in-flight", default="10,20,40", help="tried in turn")
    parser.add_argument("--keep-going", action="store_true",
                        help="try every step, even after one failed")  # fmt: skip
    parser.add_argument("--realtime", action="store_true",
                        help="for the audio steps, rtpengine, ingress-sip and the audio "
                        "generators at real-time priority (SCHED_RR): in production they have "
                        "their CPU; on a machine shared with other sessions, autogroup "
                        "scheduling gives each session an equal share, which starves the relay "
                        "and the generator")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS / "media.json")
    args = parser.parse_args(argv if argv is not None else [])
    result = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"media: max_calls_zero_loss={result['max_calls_zero_loss']} "
          f"jitter_p99_ms={result['jitter_p99_ms']} cps_with_media={result['cps_with_media']} "
          f"(without {result['cps_without_media']}) -> {args.out}")  # fmt: skip
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
