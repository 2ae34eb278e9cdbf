"""hotline.directory.v1 on Kafka: the start-up replay and the publisher of new facts."""

from __future__ import annotations

import threading
import time

from hotline.directory.v1.events_pb2 import DirectoryEvent
from hotline_platform.bus import (
    DeadLetters,
    EventPublisher,
    assign_from_start,
    new_consumer,
    replay_then_follow,
)
from hotline_platform.topics import DIRECTORY

SERVICE = "directory"


class KafkaFacts:
    """FactPublisher over the platform's EventPublisher (idempotent, keyed by tenant)."""

    def __init__(self, events: EventPublisher, flush_timeout: float = 10) -> None:
        self._events = events
        self._timeout = flush_timeout

    def publish(self, event: DirectoryEvent) -> None:
        self._events.publish(DIRECTORY, event)

    def flush(self) -> None:
        self._events.flush(self._timeout)


def replay(
    bootstrap: str, dead_letters: DeadLetters, instance_id: str, timeout: float = 120
) -> list[DirectoryEvent]:
    """Every fact of the topic, read to its end (end-of-partition reports, not the
    high-water mark); undecodable records are dead-lettered."""
    consumer = new_consumer(bootstrap, f"{SERVICE}-replay-{instance_id}")
    stop = threading.Event()
    events: list[DirectoryEvent] = []
    deadline = time.monotonic() + timeout
    try:
        assign_from_start(consumer, [DIRECTORY])
        for item in replay_then_follow(consumer, dead_letters, stop=stop):
            if item is None:
                return events
            events.append(item.event)  # type: ignore[arg-type]
            if time.monotonic() > deadline:
                break
    finally:
        consumer.close()
    raise RuntimeError(f"could not read {DIRECTORY.name} to its end within {timeout}s")
