"""What the application needs from the outside world."""

from __future__ import annotations

from typing import Protocol

from hotline_router.domain.facts import Fact


class FactPublisher(Protocol):
    def publish(self, fact: Fact) -> None:
        """Queue the fact for its topic (non-blocking)."""

    def flush(self) -> None:
        """Block until every published fact is durable; raise if any delivery failed."""


class Clock(Protocol):
    def now_ms(self) -> int: ...


class IdGenerator(Protocol):
    def __call__(self) -> str: ...
