"""Kafka adapter shared by every service: topic creation, publishing, consuming with
dead-lettering, and replay from the beginning of a topic.

confluent-kafka (librdkafka) is used rather than kafka-python/aiokafka: it does idempotent
production against the local Tansu broker and is several times faster (shared/INFRA.md).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from google.protobuf.message import Message as ProtoMessage

from hotline_platform.codec import decode, encode
from hotline_platform.envelope import ContractViolation
from hotline_platform.topics import ALL_TOPICS, BY_NAME, Topic, dead_letter_topic, partition_for

log = logging.getLogger(__name__)

# JoinGroup waits session_timeout/2 on Tansu; 6 s keeps group joins at ~3 s (INFRA.md).
SESSION_TIMEOUT_MS = 6000


def ensure_topics(
    bootstrap: str, topics: Iterable[Topic] = ALL_TOPICS, timeout: float = 15
) -> None:
    """Create missing topics with their declared partition counts (never rely on auto-create)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = admin.list_topics(timeout=timeout).topics
    wanted = [t for t in topics if t.name not in existing]
    for topic in topics:
        found = existing.get(topic.name)
        if found is not None and len(found.partitions) != topic.partitions:
            raise RuntimeError(
                f"topic {topic.name} has {len(found.partitions)} partitions, "
                f"the contract declares {topic.partitions}"
            )
    if not wanted:
        return
    futures = admin.create_topics(
        [
            NewTopic(
                t.name,
                num_partitions=t.partitions,
                replication_factor=1,
                config={"retention.ms": str(t.retention_ms), "cleanup.policy": t.cleanup_policy},
            )
            for t in wanted
        ],
        operation_timeout=timeout,
    )
    for name, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
        log.info("created topic %s", name)


#: Exit status of a process that stopped because an event it acted on could not be recorded.
EXIT_EVENT_NOT_RECORDED = 75


class DeliveryFailed(RuntimeError):
    """An event was not recorded by the broker: the service's state may no longer match its
    log. Sticky: every later publish and flush of that publisher raises it too."""


def crash(reason: str) -> None:
    """The default reaction to a lost event: stop the process at once (crash-only), so that its
    supervisor restarts it and it rebuilds from what the log really holds."""
    log.critical("event delivery failed, exiting so the service rebuilds from its log: %s", reason)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(EXIT_EVENT_NOT_RECORDED)


def _serve_reports(publisher: weakref.ref[EventPublisher]) -> None:
    """Serve a publisher's delivery reports until it is closed or dropped. The thread holds it
    weakly: a publisher nobody uses any more is freed, and its producer stops reconnecting."""
    while True:
        found = publisher()
        if found is None or found._closed.is_set():
            return
        found._producer.poll(0.05)
        del found


class EventPublisher:
    """Publishes contract events keyed and partitioned by tenant. Thread-safe, non-blocking.

    A failed delivery is never swallowed: it calls ``on_failure`` (default: :func:`crash`) from
    the thread serving delivery reports, and every later ``publish``/``flush`` raises
    :class:`DeliveryFailed`; nothing clears it.
    """

    def __init__(
        self,
        bootstrap: str,
        client_id: str,
        *,
        linger_ms: int = 1,
        on_failure: Callable[[str], None] | None = crash,
        extra: dict[str, object] | None = None,
    ) -> None:
        config: dict[str, object] = {
            "bootstrap.servers": bootstrap,
            "client.id": client_id,
            "enable.idempotence": True,
            "linger.ms": linger_ms,
            "compression.type": "none",
        }
        self._producer = Producer({**config, **(extra or {})})
        self._failure = ""
        self._on_failure = on_failure
        # Delivery reports are served continuously, not only when the next event is published:
        # a caller waiting for `on_recorded` must not wait for unrelated traffic.
        self._closed = threading.Event()
        threading.Thread(
            target=_serve_reports, args=(weakref.ref(self),), name=f"{client_id}-reports",
            daemon=True,
        ).start()

    def close(self) -> None:
        """Stop serving delivery reports (after the last flush)."""
        self._closed.set()

    @property
    def failure(self) -> str:
        """Why the first failed delivery failed ('' while every event was delivered)."""
        return self._failure

    def _reporter(
        self, on_recorded: Callable[[], object]
    ) -> Callable[[KafkaError | None, Message], None]:
        def report(err: KafkaError | None, msg: Message) -> None:
            self._on_delivery(err, msg)
            if err is None:
                on_recorded()

        return report

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            reason = f"{msg.topic()}: {err}"
            log.error("delivery failed topic=%s error=%s", msg.topic(), err)
            if not self._failure:
                self._failure = reason
                if self._on_failure is not None:
                    self._on_failure(reason)

    def publish(
        self,
        topic: Topic,
        event: ProtoMessage,
        on_recorded: Callable[[], object] | None = None,
    ) -> None:
        """Publish without waiting. ``on_recorded`` is called (from the delivery-report thread)
        once the broker has the event; never if it is lost (then ``on_failure`` is)."""
        tenant = event.envelope.tenant_id  # type: ignore[attr-defined]
        self.publish_raw(
            topic,
            tenant.encode(),
            encode(event),
            partition_for(tenant, topic.partitions),
            on_recorded=on_recorded,
        )

    def publish_raw(
        self,
        topic: Topic,
        key: bytes | None,
        value: bytes | None,  # None: a tombstone (compacted topics)
        partition: int,
        headers: list[tuple[str, str | bytes | None]] | None = None,
        on_recorded: Callable[[], object] | None = None,
    ) -> None:
        if self._failure:
            raise DeliveryFailed(f"an earlier event was not recorded: {self._failure}")
        while True:
            try:
                self._producer.produce(
                    topic.name,
                    value=value,
                    key=key,
                    partition=partition,
                    headers=headers,
                    on_delivery=self._on_delivery
                    if on_recorded is None
                    else self._reporter(on_recorded),
                )
                break
            except BufferError:  # local queue full: serve delivery reports, then retry
                self._producer.poll(0.05)
        self._producer.poll(0)

    def flush(self, timeout: float = 10) -> None:
        remaining = self._producer.flush(timeout)
        if self._failure:
            raise DeliveryFailed(f"event delivery failed: {self._failure}")
        if remaining:
            raise RuntimeError(f"{remaining} events not delivered within {timeout}s")


@dataclass(frozen=True)
class Received:
    topic: Topic
    partition: int
    offset: int
    event: ProtoMessage


class DeadLetters:
    """Moves records a service cannot use to its dead-letter topic, with the reason."""

    def __init__(self, publisher: EventPublisher, service: str) -> None:
        self._publisher = publisher
        self.topic = dead_letter_topic(service)
        self.count = 0
        self._sent: set[tuple[str, str, str]] = set()

    def remember_sent(self, bootstrap: str, timeout: float = 30) -> int:
        """Read the dead-letter topic so that records met again (a service that replays its
        input from the start) are not dead-lettered twice. Returns how many were found."""
        consumer = new_consumer(bootstrap, f"{self.topic.name}-reader")
        consumer.assign(
            [TopicPartition(self.topic.name, p, 0) for p in range(self.topic.partitions)]
        )
        pending = set(range(self.topic.partitions))
        deadline = time.monotonic() + timeout
        try:
            while pending and time.monotonic() < deadline:
                msg = consumer.poll(0.1)
                if msg is None:
                    continue
                error = msg.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        pending.discard(msg.partition() or 0)
                    continue
                pairs: list[tuple[str, Any]] = list(msg.headers() or [])  # type: ignore[arg-type]
                headers = {k: v for k, v in pairs if isinstance(v, bytes)}
                self._sent.add(_source(headers))
        finally:
            consumer.close()
        if pending:
            raise RuntimeError(f"could not read {self.topic.name} to its end in {timeout}s")
        return len(self._sent)

    def send(self, msg: Message, reason: str) -> None:
        source = (msg.topic() or "", str(msg.partition()), str(msg.offset()))
        if source in self._sent:
            return
        self._sent.add(source)
        self.count += 1
        log.warning(
            "dead-lettered topic=%s partition=%s offset=%s reason=%s",
            msg.topic(),
            msg.partition(),
            msg.offset(),
            reason,
        )
        headers: list[tuple[str, str | bytes | None]] = [
            ("hotline-reason", reason.encode()),
            ("hotline-source-topic", (msg.topic() or "").encode()),
            ("hotline-source-partition", str(msg.partition()).encode()),
            ("hotline-source-offset", str(msg.offset()).encode()),
        ]
        self._publisher.publish_raw(self.topic, msg.key(), msg.value() or b"", 0, headers)


def _source(headers: dict[str, bytes]) -> tuple[str, str, str]:
    return (
        headers.get("hotline-source-topic", b"").decode(),
        headers.get("hotline-source-partition", b"").decode(),
        headers.get("hotline-source-offset", b"").decode(),
    )


def decode_or_dead_letter(msg: Message, dead_letters: DeadLetters) -> Received | None:
    topic = BY_NAME.get(msg.topic() or "")
    try:
        if topic is None:
            raise ContractViolation(f"unknown topic {msg.topic()!r}")
        event = decode(topic, msg.value(), msg.key())
    except ContractViolation as exc:
        dead_letters.send(msg, str(exc))
        return None
    return Received(topic, msg.partition() or 0, msg.offset() or 0, event)


def new_consumer(bootstrap: str, group_id: str, **extra: object) -> Consumer:
    config: dict[str, object] = {
        "bootstrap.servers": bootstrap,
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": SESSION_TIMEOUT_MS,
        "heartbeat.interval.ms": 1000,
        "fetch.wait.max.ms": 50,
        # End-of-partition reports mark the end of a replay (see replay_then_follow).
        "enable.partition.eof": True,
    }
    config.update(extra)
    return Consumer(config)


def assign_from_start(
    consumer: Consumer, topics: Iterable[Topic], partitions: Iterable[int] | None = None
) -> None:
    """Assign partitions explicitly (no group rebalancing) starting at the first offset."""
    wanted = list(partitions) if partitions is not None else None
    consumer.assign(
        [
            TopicPartition(t.name, p, 0)
            for t in topics
            for p in range(t.partitions)
            if wanted is None or p in wanted
        ]
    )


def replay_then_follow(
    consumer: Consumer,
    dead_letters: DeadLetters,
    *,
    stop: threading.Event,
) -> Iterator[Received | None]:
    """Yield every event of the assigned partitions; yield None once, when replay is done.

    "Done" means every assigned partition reported end-of-partition (the consumer is made by
    `new_consumer`, which enables those reports). The end is taken from fetch responses, not
    from ListOffsets: Tansu's ListOffsets under-reports the high-water mark when a batch held
    several records (shared/INFRA.md), while its fetch responses are right.
    """
    pending = {(tp.topic, tp.partition) for tp in consumer.assignment()}
    if not pending:
        yield None
    while not stop.is_set():
        msg = consumer.poll(0.05)
        if msg is None:
            continue
        error = msg.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                if pending:
                    pending.discard((msg.topic(), msg.partition()))
                    if not pending:
                        yield None
            else:
                log.error("consume error: %s", error)
            continue
        received = decode_or_dead_letter(msg, dead_letters)
        if received is not None:
            yield received
