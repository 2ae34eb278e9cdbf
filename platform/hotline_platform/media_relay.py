"""The media relay (rtpengine) from asyncio: its "ng" control protocol and its DTMF reports.

ng protocol: one UDP datagram per request, ``<cookie> <bencoded dict>``, the reply echoes the
cookie. rtpengine caches each reply by cookie, so a request is simply sent again when its reply
is late (a retransmission is never executed twice). Every byte string of a reply is decoded as
UTF-8 (``surrogateescape``: never fails, and :func:`bencode` restores the same bytes), so SDP
bodies come back as ``str``.

DTMF: with ``dtmf-log-dest = HOST:PORT`` rtpengine sends one JSON datagram per RFC 4733 event
(at its end) to that address; :class:`DtmfEvents` listens there and calls back once per key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "DTMF_DIGITS",
    "DtmfEvents",
    "MediaRelayError",
    "MediaRelayUnavailable",
    "NgClient",
    "bdecode",
    "bencode",
    "parse_address",
]

log = logging.getLogger(__name__)


class MediaRelayUnavailable(RuntimeError):
    """The relay did not answer in time (down, restarting, or the wrong address)."""


class MediaRelayError(RuntimeError):
    """The relay answered ``result: error`` (e.g. an ``answer`` for a call it does not know)."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(f"rtpengine {command}: {reason}")
        self.command = command
        self.reason = reason


# --------------------------------------------------------------------------- bencode


def bencode(value: object) -> bytes:
    """Encode str (UTF-8), bytes, int, lists/tuples and mappings (keys sorted, as bencode
    requires). bool and None are refused: bencode has neither, and 1/0 would be a silent guess."""
    out: list[bytes] = []
    _encode(value, out)
    return b"".join(out)


def _encode(value: object, out: list[bytes]) -> None:
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    if isinstance(value, bytes):
        out += [str(len(value)).encode(), b":", value]
    elif isinstance(value, bool) or value is None:
        raise TypeError(f"bencode has no {value!r}")
    elif isinstance(value, int):
        out.append(b"i%de" % value)
    elif isinstance(value, list | tuple):
        out.append(b"l")
        for item in value:
            _encode(item, out)
        out.append(b"e")
    elif isinstance(value, Mapping):
        items = {_key(k): v for k, v in value.items()}
        out.append(b"d")
        for key in sorted(items):
            _encode(key, out)
            _encode(items[key], out)
        out.append(b"e")
    else:
        raise TypeError(f"cannot bencode {type(value).__name__}")


def _key(key: object) -> bytes:
    if isinstance(key, str):
        return key.encode("utf-8", "surrogateescape")
    if isinstance(key, bytes):
        return key
    raise TypeError(f"bencode dictionary keys are strings, not {type(key).__name__}")


def bdecode(data: bytes) -> object:
    """Decode one bencoded value (the whole of ``data``); byte strings become ``str``."""
    value, end = _decode(data, 0)
    if end != len(data):
        raise ValueError(f"trailing data after the bencoded value at offset {end}")
    return value


def _decode(data: bytes, pos: int) -> tuple[object, int]:
    if pos >= len(data):
        raise ValueError("truncated bencoded value")
    lead = data[pos : pos + 1]
    if lead == b"i":
        end = data.index(b"e", pos)
        return int(data[pos + 1 : end]), end + 1
    if lead == b"l":
        items: list[object] = []
        pos += 1
        while data[pos : pos + 1] != b"e":
            item, pos = _decode(data, pos)
            items.append(item)
        return items, pos + 1
    if lead == b"d":
        result: dict[str, object] = {}
        pos += 1
        while data[pos : pos + 1] != b"e":
            key, pos = _decode(data, pos)
            if not isinstance(key, str):
                raise ValueError("bencoded dictionary key is not a string")
            result[key], pos = _decode(data, pos)
        return result, pos + 1
    if lead.isdigit():
        colon = data.index(b":", pos)
        start = colon + 1
        end = start + int(data[pos:colon])
        if end > len(data):
            raise ValueError("truncated bencoded string")
        return data[start:end].decode("utf-8", "surrogateescape"), end
    raise ValueError(f"invalid bencoded value at offset {pos}: {lead!r}")


# --------------------------------------------------------------------------- ng client


def parse_address(address: str) -> tuple[str, int]:
    """``"host:port"`` -> ``(host, port)`` (the form of the HOTLINE_MEDIA_* settings)."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected host:port, got {address!r}")
    return host, int(port)


class _Replies(asyncio.DatagramProtocol):
    def __init__(self, pending: dict[bytes, asyncio.Future[bytes]]) -> None:
        self.pending = pending

    def datagram_received(self, data: bytes, addr: Any) -> None:
        cookie, _, body = data.partition(b" ")
        waiter = self.pending.get(cookie)
        if waiter is not None and not waiter.done():
            waiter.set_result(body)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable while the relay restarts: the request is sent again anyway.
        log.debug("media relay socket: %r", exc)


REPLY_BUFFER_BYTES = 4 * 1024 * 1024


class NgClient:
    """One UDP socket to rtpengine's ``listen-ng``; any number of concurrent commands.

    A request is sent again every ``retransmit_s`` seconds, ``retransmissions`` times at most;
    with no reply ``retransmit_s`` after the last one, :class:`MediaRelayUnavailable`.
    """

    def __init__(
        self, address: tuple[str, int], retransmit_s: float = 0.5, retransmissions: int = 3
    ) -> None:
        self.address = address
        self.retransmit_s = retransmit_s
        self.retransmissions = retransmissions
        self._pending: dict[bytes, asyncio.Future[bytes]] = {}
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Replies(self._pending), remote_addr=self.address
        )
        sock = self._transport.get_extra_info("socket")
        if sock is not None:
            # Replies to a burst of commands (hundreds of calls) must not overflow the
            # default ~200 KB buffer before the loop reads them: each lost reply costs a
            # retransmission and, past three, a failed call.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, REPLY_BUFFER_BYTES)

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def __aenter__(self) -> NgClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def command(self, name: str, params: Mapping[str, object]) -> dict[str, object]:
        """Send ``command: name`` with ``params``; the reply (``result`` ``ok``/``pong``, maybe
        with a ``warning``). Raises :class:`MediaRelayError` on ``result: error``."""
        if self._transport is None:
            raise RuntimeError("NgClient.start() was not called")
        cookie = secrets.token_hex(8).encode()
        request = cookie + b" " + bencode({**params, "command": name})
        waiter: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[cookie] = waiter
        try:
            for _ in range(self.retransmissions + 1):
                self._transport.sendto(request)
                with contextlib.suppress(TimeoutError):
                    body = await asyncio.wait_for(asyncio.shield(waiter), self.retransmit_s)
                    break
            else:
                raise MediaRelayUnavailable(
                    f"rtpengine at {self.address[0]}:{self.address[1]} did not answer {name!r} "
                    f"in {(self.retransmissions + 1) * self.retransmit_s:.1f}s"
                )
        finally:
            del self._pending[cookie]
            waiter.cancel()
        reply = bdecode(body)
        if not isinstance(reply, dict):
            raise MediaRelayError(name, f"reply is not a dictionary: {reply!r}")
        if reply.get("result") == "error":
            raise MediaRelayError(name, str(reply.get("error-reason", "no reason given")))
        return reply

    async def ping(self) -> None:
        """Raises unless the relay answers ``pong`` (readiness)."""
        reply = await self.command("ping", {})
        if reply.get("result") != "pong":
            raise MediaRelayError("ping", f"unexpected reply {reply!r}")


# --------------------------------------------------------------------------- DTMF reports

#: RFC 4733 event codes of the DTMF keys.
DTMF_DIGITS = "0123456789*#ABCD"


class _Reports(asyncio.DatagramProtocol):
    def __init__(self, handle: Callable[[bytes], None]) -> None:
        self.handle = handle

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.handle(data)


class DtmfEvents:
    """Listens where rtpengine's ``dtmf-log-dest`` points and calls
    ``on_digit(call_id, from_tag, digit)`` once per key press (``from_tag``: the tag of the
    party who pressed it, i.e. the caller's from-tag for the caller's keys).

    rtpengine 10.5 reports an event once, at its end (its three end packets are one report;
    a repeated press of the same key is a new RTP timestamp, so a new report), as
    ``{"callid", "source_tag", "tags", "type": "DTMF", "timestamp", "source_ip", "event",
    "duration" (ms), "volume"}``: nothing to de-duplicate here.
    """

    def __init__(self, address: tuple[str, int], on_digit: Callable[[str, str, str], None]) -> None:
        self.address = address
        self.on_digit = on_digit
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Reports(self._received), local_addr=self.address
        )

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        if self._transport is None:
            raise RuntimeError("DtmfEvents.start() was not called")
        port: int = self._transport.get_extra_info("sockname")[1]
        return port

    def _received(self, data: bytes) -> None:
        try:
            report = json.loads(data)
            if report.get("type", "DTMF") != "DTMF":
                return
            code = int(report["event"])
            call_id, tag = str(report["callid"]), str(report["source_tag"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed DTMF report: %r", data[:200])
            return
        if not 0 <= code < len(DTMF_DIGITS):
            return  # other telephone-events (flash, tones): not keys
        self.on_digit(call_id, tag, DTMF_DIGITS[code])
