"""Ports the use cases depend on; adapters implement them (UDP, Kafka, asyncio, in-memory)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from hotline_ingress_sip.domain.events import Fact
from hotline_ingress_sip.domain.transactions import Cancellable

Address = tuple[str, int]


class Transport(Protocol):
    """Sends one datagram. `addr` may name a host; the adapter resolves it without blocking."""

    def send(self, data: bytes, addr: Address) -> None: ...


class Timers(Protocol):
    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> Cancellable: ...


class Clock(Protocol):
    def now_ms(self) -> int:
        """Wall-clock time in milliseconds since the epoch (event times and durations)."""
        ...


class InteractionEvents(Protocol):
    """Where the facts ingress-sip observes go (Kafka: hotline.voice.interactions.v1)."""

    def publish(self, fact: Fact, on_recorded: Callable[[], None] | None = None) -> None:
        """Publish without waiting; `on_recorded` runs on the caller's loop once the fact is
        durable (never, if it is lost: the process then stops, crash-only)."""
        ...
