"""Kafka adapters: the batched group consumer and the dead-letter sink (platform helpers)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from hotline_analytics.application.ports import Record
from hotline_platform.bus import DeadLetters, EventPublisher, new_consumer
from hotline_platform.topics import Topic

log = logging.getLogger(__name__)


class KafkaDeadLetters:
    """DeadLetterSink over hotline_platform.bus.DeadLetters (reason and source in headers)."""

    def __init__(self, publisher: EventPublisher, service: str) -> None:
        self._publisher = publisher
        self._dead_letters = DeadLetters(publisher, service)

    @property
    def topic(self) -> Topic:
        return self._dead_letters.topic

    @property
    def count(self) -> int:
        return int(self._dead_letters.count)

    def send(self, record: Record, reason: str) -> None:
        self._dead_letters.send(record, reason)  # type: ignore[arg-type,unused-ignore]

    def flush(self) -> None:
        self._publisher.flush(timeout=30)


def _next_offsets(batch: Sequence[Message]) -> list[TopicPartition]:
    """The offsets to commit after `batch`: last offset + 1 per partition."""
    last: dict[tuple[str, int], int] = {}
    for msg in batch:
        last[(msg.topic() or "", msg.partition() or 0)] = msg.offset() or 0
    return [TopicPartition(t, p, o + 1) for (t, p), o in last.items()]


@dataclass
class _InFlight:
    future: Future[bool]
    offsets: list[TopicPartition]
    records: int


class BatchConsumer:
    """Consumes batches of up to `batch_size` records (or what arrived within `max_wait_s`) and
    commits a batch's offsets only once it is stored: at-least-once, never a skipped record.

    Two stages overlap: while a writer thread completes batch k (`complete`, e.g. the INSERT and
    the server's work), the consumer thread fetches and prepares batch k+1 (`prepare`, e.g.
    decoding). At most two batches are in memory. If `complete` raises (ClickHouse down) it is
    retried with back-off and nothing is committed until it succeeds. On a rebalance, everything
    consumed is completed and committed before the partitions are given up.
    """

    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        topics: Iterable[Topic],
        *,
        batch_size: int,
        max_wait_s: float,
        client_id: str = "analytics-sink",
        **extra: Any,
    ) -> None:
        self.batch_size = batch_size
        self.max_wait_s = max_wait_s
        config: dict[str, Any] = {
            "client.id": client_id,
            # Few, full fetches: at 50k events/s this took a third of the broker's CPU away
            # (bench/event_throughput.py), for at most 0.2 s more latency.
            "fetch.max.bytes": 64 * 1024 * 1024,
            "max.partition.fetch.bytes": 16 * 1024 * 1024,
            "queued.max.messages.kbytes": 256 * 1024,
            "fetch.min.bytes": 1_000_000,
            "fetch.wait.max.ms": 200,
        }
        config.update(extra)
        self._consumer: Consumer = new_consumer(bootstrap, group_id, **config)
        self._topics = [t.name for t in topics]
        self._pending: list[Message] = []
        self._in_flight: _InFlight | None = None
        self._stages: tuple[Callable[[Sequence[Message]], Any], Callable[[Any], object]] | None
        self._stages = None
        self._writer: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self.batches = 0
        self.records = 0

    # -- stages

    def _complete(
        self, complete: Callable[[Any], object], prepared: Any, stop: threading.Event
    ) -> bool:
        delay = 0.5
        while True:
            try:
                complete(prepared)
                return True
            except Exception:
                log.exception("batch not stored; retrying in %.1fs", delay)
                if stop.wait(delay):
                    return False  # stopping: not committed, redelivered to the next owner
                delay = min(delay * 2, 30)

    def _commit(self, offsets: list[TopicPartition]) -> None:
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:  # e.g. a rebalance: the records come again (idempotent)
            log.warning("offset commit failed: %s", exc)

    def _finish(self) -> bool:
        """Wait for the batch being written, commit it; False if it was not stored."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is None:
            return True
        if not in_flight.future.result():
            return False
        self._commit(in_flight.offsets)
        self.batches += 1
        self.records += in_flight.records
        return True

    def _dispatch(self, stop: threading.Event) -> bool:
        assert self._stages is not None and self._writer is not None
        prepare, complete = self._stages
        batch, self._pending = self._pending, []
        prepared = prepare(batch)  # overlaps with the write of the previous batch
        if not self._finish():
            return False
        self._in_flight = _InFlight(
            self._writer.submit(self._complete, complete, prepared, stop),
            _next_offsets(batch),
            len(batch),
        )
        return True

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self._stages is None:
            return
        if self._pending:
            log.info("rebalance: storing %d pending records first", len(self._pending))
            if not self._dispatch(self._stop):
                return
        self._finish()

    # -- loop

    def run(
        self,
        prepare: Callable[[Sequence[Message]], Any],
        complete: Callable[[Any], object],
        stop: threading.Event,
    ) -> None:
        """Consume until `stop` is set; then store what is in flight and leave the group."""
        self._stages = (prepare, complete)
        self._stop = stop
        self._consumer.subscribe(self._topics, on_revoke=self._on_revoke)
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="analytics-writer") as writer:
                self._writer = writer
                self._loop(stop)
        finally:
            self._stages = None
            self._writer = None
            self._consumer.close()

    def _loop(self, stop: threading.Event) -> None:
        deadline: float | None = None
        while not stop.is_set():
            room = self.batch_size - len(self._pending)
            timeout = 0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic()))
            for msg in self._consumer.consume(num_messages=room, timeout=timeout):
                error = msg.error()
                if error is None:
                    self._pending.append(msg)
                elif error.code() != KafkaError._PARTITION_EOF:
                    log.error("consume error: %s", error)
            if self._pending and deadline is None:
                deadline = time.monotonic() + self.max_wait_s
            full = len(self._pending) >= self.batch_size
            if self._pending and (full or time.monotonic() >= (deadline or 0)):
                if not self._dispatch(stop):
                    return
                deadline = None
            elif (
                self._in_flight is not None
                and self._in_flight.future.done()
                and not self._finish()  # idle: commit without waiting for the next batch
            ):
                return
        self._finish()
