"""The ng client and the DTMF listener against a real rtpengine (the ``media_relay`` fixture):
SDP rewriting, RTP relayed both ways, a WAV played to the caller, RFC 4733 keys reported once,
errors and a relay that does not answer."""

from __future__ import annotations

import asyncio
import math
import socket
import struct
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hotline_cli.embedded import MediaRelayConfig
from hotline_platform.media_relay import (
    DtmfEvents,
    MediaRelayError,
    MediaRelayUnavailable,
    NgClient,
    parse_address,
)

pytestmark = pytest.mark.integration

PCMU, EVENT = 0, 101


def sdp(port: int, session: int) -> str:
    return "\r\n".join([
        "v=0", f"o=- {session} 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
        f"m=audio {port} RTP/AVP {PCMU} {EVENT}", f"a=rtpmap:{PCMU} PCMU/8000",
        f"a=rtpmap:{EVENT} telephone-event/8000", f"a=fmtp:{EVENT} 0-15", "a=sendrecv", "",
    ])  # fmt: skip


def media(body: str) -> tuple[str, int]:
    """The connection address and the audio port of an SDP body."""
    lines = body.split("\r\n")
    address = next(line for line in lines if line.startswith("c=")).split()[-1]
    port = next(line for line in lines if line.startswith("m=audio")).split()[1]
    return address, int(port)


def rtp(seq: int, timestamp: int, payload_type: int, payload: bytes, marker: bool = False,
        ssrc: int = 0x0B0E) -> bytes:  # fmt: skip
    return struct.pack("!BBHII", 0x80, marker << 7 | payload_type, seq, timestamp, ssrc) + payload


@contextmanager
def udp() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    try:
        yield sock
    finally:
        sock.close()


def port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def receive_all(sock: socket.socket, quiet_s: float) -> list[bytes]:
    """Every datagram until none came for ``quiet_s``."""
    packets: list[bytes] = []
    sock.settimeout(quiet_s)
    try:
        while True:
            packets.append(sock.recv(2048))
    except TimeoutError:
        return packets


async def bridged_call(
    ng: NgClient, call_id: str, caller: socket.socket, callee: socket.socket
) -> tuple[tuple[str, int], tuple[str, int]]:
    """offer (caller's SDP) + answer (callee's SDP); where the caller and the callee must send."""
    offer = await ng.command(
        "offer", {"call-id": call_id, "from-tag": "caller", "sdp": sdp(port(caller), 1)}
    )
    answer = await ng.command(
        "answer",
        {"call-id": call_id, "from-tag": "caller", "to-tag": "callee",
         "sdp": sdp(port(callee), 2), "flags": ["port-latching"]},
    )  # fmt: skip
    return media(str(answer["sdp"])), media(str(offer["sdp"]))


def ng_address(relay: MediaRelayConfig) -> tuple[str, int]:
    return "127.0.0.1", relay.ng_port


def test_offer_answer_relay_both_ways_and_delete(media_relay: MediaRelayConfig) -> None:
    async def run() -> None:
        with udp() as caller, udp() as callee:
            async with NgClient(ng_address(media_relay)) as ng:
                to_callee, to_caller = await bridged_call(ng, "relay-1", caller, callee)
                # Both SDPs were rewritten to the relay's own ports.
                for address, relay_port in (to_callee, to_caller):
                    assert address == "127.0.0.1"
                    assert media_relay.port_min <= relay_port <= media_relay.port_max
                assert to_callee != to_caller
                for seq in range(5):
                    sent = rtp(seq, seq * 160, PCMU, bytes([seq]) * 160)
                    caller.sendto(sent, to_callee)
                    assert callee.recv(2048) == sent  # byte-identical, header included
                    back = rtp(100 + seq, seq * 160, PCMU, bytes([0x80 + seq]) * 160, ssrc=7)
                    callee.sendto(back, to_caller)
                    assert caller.recv(2048) == back
                deleted = await ng.command("delete", {"call-id": "relay-1"})
                assert deleted["result"] == "ok"
                with pytest.raises(MediaRelayError):
                    await ng.command("query", {"call-id": "relay-1"})

    asyncio.run(run())


def write_tone(path: Path, hz: float, seconds: float) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"".join(
            struct.pack("<h", int(12000 * math.sin(2 * math.pi * hz * n / 8000)))
            for n in range(int(seconds * 8000))
        ))  # fmt: skip


def ulaw_to_linear(byte: int) -> int:
    byte = ~byte & 0xFF
    magnitude = (((byte & 0x0F) << 3) + 0x84) << ((byte & 0x70) >> 4)
    return (0x84 - magnitude) if byte & 0x80 else (magnitude - 0x84)


def test_play_media_reaches_the_caller(media_relay: MediaRelayConfig, tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"
    write_tone(tone, 440, 1.0)

    async def run() -> list[bytes]:
        with udp() as caller, udp() as callee:
            async with NgClient(ng_address(media_relay)) as ng:
                await bridged_call(ng, "play-1", caller, callee)
                played = await ng.command(
                    "play media", {"call-id": "play-1", "from-tag": "caller", "file": str(tone)}
                )
                assert played["result"] == "ok"
                packets = await asyncio.to_thread(receive_all, caller, 0.5)
                assert receive_all(callee, 0.1) == []  # only the named party hears it
                await ng.command("delete", {"call-id": "play-1"})
                return packets

    packets = asyncio.run(run())
    assert 45 <= len(packets) <= 55  # 1 s in 20 ms packets
    assert {p[1] & 0x7F for p in packets} == {PCMU}
    samples = [ulaw_to_linear(b) for p in packets for b in p[12:]]
    crossings = sum(1 for a, b in zip(samples, samples[1:], strict=False) if (a < 0) != (b < 0))
    assert abs(crossings / (len(samples) / 8000) / 2 - 440) < 10  # the tone's frequency


def test_rfc4733_keys_are_reported_once_each(media_relay: MediaRelayConfig) -> None:
    digits: list[tuple[str, str, str]] = []

    async def run() -> None:
        listener = DtmfEvents(parse_address(media_relay.dtmf_log_dest),
                              lambda *digit: digits.append(digit))  # fmt: skip
        await listener.start()
        try:
            with udp() as caller, udp() as callee:
                async with NgClient(ng_address(media_relay)) as ng:
                    to_callee, _ = await bridged_call(ng, "dtmf-1", caller, callee)
                    seq, timestamp = 0, 0
                    for seq in range(5):  # a phone sends audio before any key
                        caller.sendto(rtp(seq, timestamp, PCMU, b"\xff" * 160), to_callee)
                        timestamp += 160
                        await asyncio.sleep(0.02)
                    seq += 1
                    for code in (1, 11, 11):  # "1", "#", "#": a key pressed twice counts twice
                        # RFC 4733: a marked start, updates, then the end packet sent 3 times.
                        for duration in range(160, 960, 160):
                            payload = struct.pack("!BBH", code, 10, duration)
                            caller.sendto(
                                rtp(seq, timestamp, EVENT, payload, marker=duration == 160),
                                to_callee,
                            )
                            seq += 1
                            await asyncio.sleep(0.02)
                        for _ in range(3):
                            payload = struct.pack("!BBH", code, 0x80 | 10, 960)
                            caller.sendto(rtp(seq, timestamp, EVENT, payload), to_callee)
                            seq += 1
                            await asyncio.sleep(0.02)
                        timestamp += 960 + 1600
                    deadline = time.monotonic() + 3
                    while len(digits) < 3 and time.monotonic() < deadline:
                        await asyncio.sleep(0.05)
                    await asyncio.sleep(0.5)  # room for a duplicate report to show up
                    await ng.command("delete", {"call-id": "dtmf-1"})
        finally:
            await listener.close()

    asyncio.run(run())
    assert digits == [("dtmf-1", "caller", "1"), ("dtmf-1", "caller", "#"),
                      ("dtmf-1", "caller", "#")]  # fmt: skip


def test_answer_for_an_unknown_call_is_a_media_relay_error(
    media_relay: MediaRelayConfig,
) -> None:
    async def run() -> None:
        async with NgClient(ng_address(media_relay)) as ng:
            with pytest.raises(MediaRelayError) as raised:
                await ng.command(
                    "answer",
                    {"call-id": "nobody", "from-tag": "a", "to-tag": "b", "sdp": sdp(4000, 1)},
                )
        assert raised.value.command == "answer"
        assert "unknown call" in raised.value.reason.lower()

    asyncio.run(run())


def test_a_relay_that_does_not_answer_is_unavailable_after_retransmissions() -> None:
    async def run() -> None:
        with udp() as silent:  # bound, never answers
            async with NgClient(("127.0.0.1", port(silent)), 0.1, 2) as ng:
                started = time.monotonic()
                with pytest.raises(MediaRelayUnavailable):
                    await ng.command("ping", {})
                assert 0.25 < time.monotonic() - started < 1.0
            requests = receive_all(silent, 0.1)
        # The first request and two retransmissions, all with the same cookie.
        assert len(requests) == 3 and len(set(requests)) == 1

    asyncio.run(run())
