"""What the application needs from the outside world."""

from __future__ import annotations

from typing import Protocol

from hotline.directory.v1.events_pb2 import DirectoryEvent


class FactPublisher(Protocol):
    def publish(self, event: DirectoryEvent) -> None:
        """Queue the fact for hotline.directory.v1 (non-blocking)."""

    def flush(self) -> None:
        """Block until every published fact is durable; raise if any delivery failed."""
