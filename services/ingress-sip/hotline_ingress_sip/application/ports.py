"""Ports the use cases depend on; adapters implement them (UDP, Kafka, asyncio, in-memory)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class MediaReply:
    """A media relay's answer to one command: its fields, or why it failed."""

    ok: bool
    fields: Mapping[str, object]
    error: str = ""


class MediaRelay(Protocol):
    """The media relay that anchors every call's audio (rtpengine, over its ng protocol)."""

    def request(
        self, command: str, params: Mapping[str, object], on_reply: Callable[[MediaReply], None]
    ) -> None:
        """Send one command without waiting; `on_reply` runs on the caller's loop with the
        reply, or a failed reply when the relay refused it or did not answer."""
        ...


class Prompts(Protocol):
    """Where the audio files played to callers are (a path the media relay can read)."""

    def path(self, tenant_id: str, name: str, language: str) -> str | None:
        """The file of prompt `name` in `language` (or the nearest language available), or
        None when there is none."""
        ...
