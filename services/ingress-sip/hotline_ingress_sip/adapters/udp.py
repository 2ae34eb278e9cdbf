"""SIP over UDP on the asyncio loop (the Transport port, and the datagram input)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter

from hotline_ingress_sip.application.ports import Address

log = logging.getLogger(__name__)

_DATAGRAMS = Counter(
    "hotline_sip_datagrams_total", "SIP datagrams received and sent over UDP", ["direction"]
)
_RECEIVED = _DATAGRAMS.labels("received")
_SENT = _DATAGRAMS.labels("sent")
_BUFFER_BYTES = 4 * 1024 * 1024


def _is_ip_literal(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except OSError:
            continue
    return False


class UdpTransport(asyncio.DatagramProtocol):
    """Receives datagrams into `on_datagram` and sends what the application asks.

    Destinations given as host names are resolved with the loop's resolver (never blocking
    the loop) and cached; datagrams to a name still being resolved wait for it.
    """

    def __init__(self, on_datagram: Callable[[bytes, Address], None]) -> None:
        self._on_datagram = on_datagram
        self._transport: asyncio.DatagramTransport | None = None
        self._resolved: dict[str, str] = {}
        self._resolving: dict[str, list[tuple[bytes, int]]] = {}
        self.send_errors = 0

    # --------------------------------------------------------------------- lifecycle

    async def open(self, host: str, port: int, fd: int = -1) -> Address:
        """Bind host:port, or use the already bound socket `fd` (handed over by a supervisor)."""
        loop = asyncio.get_running_loop()
        if fd >= 0:
            sock = socket.socket(fileno=fd)
            sock.setblocking(False)
            await loop.create_datagram_endpoint(lambda: self, sock=sock)
        else:
            await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        return self.local_address

    @property
    def local_address(self) -> Address:
        if self._transport is None:
            raise RuntimeError("UDP transport not open")
        sockname = self._transport.get_extra_info("sockname")
        return str(sockname[0]), int(sockname[1])

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                with contextlib.suppress(OSError):  # best effort: the kernel may cap it
                    sock.setsockopt(socket.SOL_SOCKET, option, _BUFFER_BYTES)

    # --------------------------------------------------------------------- input

    def datagram_received(self, data: bytes, addr: Any) -> None:
        _RECEIVED.inc()
        try:
            self._on_datagram(data, (addr[0], addr[1]))
        except Exception:  # the stack never raises; this is the last line of defence
            log.exception("unhandled error for a datagram from %s", addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)

    # --------------------------------------------------------------------- output

    def send(self, data: bytes, addr: Address) -> None:
        transport = self._transport
        if transport is None:
            return
        host, port = addr
        ip = self._resolved.get(host)
        if ip is None:
            if _is_ip_literal(host):
                self._resolved[host] = ip = host
            else:
                self._resolve_then_send(host, port, data)
                return
        _SENT.inc()
        try:
            transport.sendto(data, (ip, port))
        except OSError as exc:
            self.send_errors += 1
            log.warning("cannot send to %s:%s: %s", host, port, exc)

    def _resolve_then_send(self, host: str, port: int, data: bytes) -> None:
        waiting = self._resolving.get(host)
        if waiting is not None:
            waiting.append((data, port))
            return
        self._resolving[host] = [(data, port)]
        asyncio.get_running_loop().create_task(self._resolve(host))

    async def _resolve(self, host: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                host, None, family=socket.AF_INET, type=socket.SOCK_DGRAM
            )
            ip = str(infos[0][4][0])
        except (OSError, IndexError) as exc:
            log.warning("cannot resolve SIP destination %s: %s", host, exc)
            self._resolving.pop(host, None)
            return
        self._resolved[host] = ip
        for data, port in self._resolving.pop(host, []):
            self.send(data, (ip, port))
