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
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from google.protobuf.message import DecodeError
from google.protobuf.message import Message as ProtoMessage
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline_platform.codec import decode, encode
from hotline_platform.envelope import ContractViolation
from hotline_platform.metrics import ACK_CHECKS, EVENTS_REPUBLISHED
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


class AckCheckSettings(BaseSettings):
    """How a publisher checks that the broker kept what it acknowledged (HOTLINE_BUS_ACK_*).

    Why: the embedded broker (Tansu 0.6 on its s3 engine), restarted after a SIGKILL,
    acknowledges the first batch it gets on some partitions at offset 0 (or with no offset),
    where other records already are; that batch is then mostly not in the log (bench
    broker_crash: tens of records per restart at 2,000 events/s). So every acknowledged record
    of the last ``window_s`` seconds (at most ``max_records``) is remembered, and when the
    broker may have dropped some (the connection was lost, or an acknowledged offset went
    backwards), they are read back by offset once acknowledgements settled for ``settle_s``;
    each record found nowhere (its offset holds another record, or is beyond the end) is
    published again, after the records that followed it. If the broker cannot be read back
    within ``read_timeout_s``, the records acknowledged at an offset that went backwards (or
    with none) are published again at once, and the check is tried again. Consumers see a late
    record, or a duplicate at worst (they de-duplicate by event id), never a gap.
    """

    model_config = SettingsConfigDict(env_prefix="HOTLINE_BUS_ACK_", extra="ignore")

    check: bool = True
    window_s: float = 10.0
    max_records: int = 50_000
    settle_s: float = 2.0
    # How long a read-back may take; past it, the records acknowledged with a bad offset are
    # published again at once and the check is tried again.
    read_timeout_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Acked:
    """A record the broker acknowledged, as it was sent (enough to publish it again)."""

    topic: str
    partition: int
    offset: int | None  # None: the broker acknowledged it without a valid offset
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, str | bytes | None]] | None
    at: float  # time.monotonic() of the acknowledgement
    # Acknowledged at an offset not above the previous one of its partition, or with none: the
    # pattern of the records Tansu drops (see AckCheckSettings).
    bad_offset: bool = False


# librdkafka's reports of a lost broker connection; a restarted broker may have dropped records
# it had acknowledged, or may drop the first ones it acknowledges after its restart.
_CONNECTION_LOST = frozenset({KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN})
_RUN_GAP = 1000  # remembered offsets further apart than this are read as separate runs


class AckLog:
    """The acknowledged records of the last few seconds, and whether they need checking.
    Thread-safe; bounded by ``window_s`` (unless a check is due) and ``max_records``."""

    def __init__(self, settings: AckCheckSettings) -> None:
        self.settings = settings
        self._records: deque[Acked] = deque()
        self._top: dict[tuple[str, int], int] = {}  # highest acknowledged offset per partition
        self._lock = threading.Lock()
        self._due: float | None = None  # when to check (monotonic), None: nothing suspected
        self._checking = False
        self._reading = False  # a check is reading the records back

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: Acked) -> str:
        """Remember ``record``; returns why the broker is suspect ('' if it is not): an own
        acknowledged offset must grow on every partition."""
        where = (record.topic, record.partition)
        with self._lock:
            top = self._top.get(where, -1)
            if record.offset is not None:
                self._top[where] = record.offset
            where_text = f"{record.topic}[{record.partition}]"
            if record.offset is None:
                reason = f"{where_text} acknowledged without an offset"
            elif record.offset <= top:
                reason = f"{where_text} acknowledged offset {record.offset} after {top}"
            else:
                reason = ""
            self._records.append(replace(record, bad_offset=True) if reason else record)
            self._prune(record.at)
        return reason

    def _prune(self, now: float) -> None:
        while len(self._records) > self.settings.max_records:
            self._records.popleft()
        if self._due is not None or self._reading:
            return  # keep what a pending or running check must read
        horizon = now - self.settings.window_s
        while self._records and self._records[0].at < horizon:
            self._records.popleft()

    def suspect(self) -> bool:
        """Schedule a check ``settle_s`` from now (moved on by each new suspicion). Returns True
        if the caller must start the thread that runs checks (none is running)."""
        with self._lock:
            self._due = time.monotonic() + self.settings.settle_s
            start = not self._checking
            self._checking = True
            return start

    @property
    def checking(self) -> bool:
        with self._lock:
            return self._checking

    def due_in(self) -> float | None:
        """Seconds until the scheduled check (<= 0: now); None: no check pending, and the
        checking thread must end (it is marked as ended)."""
        with self._lock:
            if self._due is None:
                self._checking = False
                return None
            return self._due - time.monotonic()

    def take(self) -> list[Acked]:
        """The records to check now; the check is no longer pending, it runs until
        :meth:`done` (meanwhile nothing is dropped for its age)."""
        with self._lock:
            self._due = None
            self._reading = True
            return list(self._records)

    def done(self) -> None:
        with self._lock:
            self._reading = False

    def forget(self, records: Iterable[Acked]) -> None:
        """Drop records found missing: they are published again and remembered anew."""
        gone = {id(r) for r in records}
        with self._lock:
            self._records = deque(r for r in self._records if id(r) not in gone)


def find_missing(
    bootstrap: str, client_id: str, records: Iterable[Acked], timeout: float
) -> list[tuple[Acked, str]]:
    """Read each record's partition back from its offset on; return the records found nowhere
    in what was read (their offset holds another record or lies beyond the end), each with what
    its offset holds. Raises TimeoutError if the broker did not answer within ``timeout`` s."""
    by_partition: dict[tuple[str, int], list[Acked]] = {}
    for record in records:
        by_partition.setdefault((record.topic, record.partition), []).append(record)
    if not by_partition:
        return []
    deadline = time.monotonic() + timeout
    # An offset past the end must not make the consumer read the partition from its start.
    consumer = new_consumer(
        bootstrap, f"{client_id}-ack-check", log_level=0, **{"auto.offset.reset": "latest"}
    )
    missing: list[tuple[Acked, str]] = []
    try:
        for (topic, partition), acked in by_partition.items():
            offsets = sorted({r.offset for r in acked if r.offset is not None})
            stored = _read_runs(consumer, topic, partition, offsets, deadline)
            values = {(k, v) for k, v in stored.values()}
            end = max(stored, default=-1) + 1
            for record in acked:
                # Found at another offset than acknowledged (seen on Tansu too): it is in the log.
                if (record.key, record.value) in values:
                    continue
                if record.offset is None:
                    missing.append((record, "not found"))
                elif record.offset in stored:
                    missing.append((record, "another record"))
                else:
                    missing.append((record, f"beyond the end ({end})"))
    finally:
        consumer.close()
    return missing


def _read_runs(
    consumer: Consumer, topic: str, partition: int, offsets: list[int], deadline: float
) -> dict[int, tuple[bytes | None, bytes | None]]:
    """(key, value) per offset of one partition: each run of nearby offsets is read from its
    first offset; the last run (or, with no offsets, the partition's start) up to the end."""
    runs: list[tuple[int, int]] = []
    for offset in offsets:
        if runs and offset - runs[-1][1] <= _RUN_GAP:
            runs[-1] = (runs[-1][0], offset)
        else:
            runs.append((offset, offset))
    if not runs:
        runs = [(0, 0)]
    # A fetch past the end never reports the end on Tansu: no run starts after the last record
    # the broker reports (which may be below the true end, see replay_then_follow: it is only
    # read a little earlier than needed).
    low, high = consumer.get_watermark_offsets(
        TopicPartition(topic, partition), timeout=max(0.1, deadline - time.monotonic())
    )
    latest_start = max(low, high - 1)
    stored: dict[int, tuple[bytes | None, bytes | None]] = {}
    for n, (first, last) in enumerate(runs):
        to_end = n == len(runs) - 1
        consumer.assign([TopicPartition(topic, partition, min(first, latest_start))])
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic}[{partition}] back from {first}")
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    break
                continue  # transient (the deadline bounds a broker that stays away)
            offset = msg.offset() or 0
            stored[offset] = (msg.key(), msg.value())
            if offset >= last and not to_end:
                break
    return stored


def _check_acks(publisher: weakref.ref[EventPublisher]) -> None:
    """Run the checks a publisher's AckLog schedules, then end. Holds the publisher weakly."""
    while True:
        found = publisher()
        acks = None if found is None or found._closed.is_set() else found._acks
        if found is None or acks is None:
            return
        wait = acks.due_in()
        if wait is None:
            return
        if wait > 0:
            del found
            time.sleep(min(wait, 0.2))
            continue
        try:
            found._check_now()
        except Exception:  # noqa: BLE001 (a bug here must not end the checks for good)
            log.exception("checking acknowledged records failed; trying again")
            acks.done()
            acks.suspect()
        del found


def _event_id(topic: str, value: bytes | None) -> str:
    declared = BY_NAME.get(topic)
    if declared is None or declared.value_type is None or not value:
        return ""
    event = declared.value_type()
    try:
        event.ParseFromString(value)
    except DecodeError:
        return ""
    return str(event.envelope.event_id)  # type: ignore[attr-defined]


def _error_reporter(
    publisher: weakref.ref[EventPublisher], chained: object
) -> Callable[[KafkaError], None]:
    """The producer's error callback: a lost connection makes the publisher check its last
    acknowledged records. Holds the publisher weakly (the producer must not keep it alive)."""

    def report(err: KafkaError) -> None:
        found = publisher()
        if found is not None and found._acks is not None and err.code() in _CONNECTION_LOST:
            found.check_acknowledged(f"connection lost: {err.str()}")
        if callable(chained):
            chained(err)

    return report


class EventPublisher:
    """Publishes contract events keyed and partitioned by tenant. Thread-safe, non-blocking.

    A failed delivery is never swallowed: it calls ``on_failure`` (default: :func:`crash`) from
    the thread serving delivery reports, and every later ``publish``/``flush`` raises
    :class:`DeliveryFailed`; nothing clears it.

    An acknowledged record is not taken on trust either (``ack_check``, default from the
    environment: :class:`AckCheckSettings`): after a lost connection or an acknowledged offset
    that went backwards, the records of the last seconds are read back and any the broker no
    longer has is published again (``republished`` counts them).
    """

    def __init__(
        self,
        bootstrap: str,
        client_id: str,
        *,
        linger_ms: int = 1,
        on_failure: Callable[[str], None] | None = crash,
        extra: dict[str, object] | None = None,
        ack_check: AckCheckSettings | None = None,
    ) -> None:
        settings = ack_check if ack_check is not None else AckCheckSettings()
        self._acks = AckLog(settings) if settings.check else None
        self._bootstrap = bootstrap
        self._client_id = client_id
        self.republished = 0
        self.ack_checks = 0
        config: dict[str, object] = {
            "bootstrap.servers": bootstrap,
            "client.id": client_id,
            "enable.idempotence": True,
            "linger.ms": linger_ms,
            "compression.type": "none",
            **(extra or {}),
        }
        config["error_cb"] = _error_reporter(weakref.ref(self), config.get("error_cb"))
        self._producer = Producer(config)
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
    def checks_pending(self) -> bool:
        """True while a check of acknowledged records is scheduled or running."""
        return self._acks is not None and self._acks.checking

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
        if err is None and self._acks is not None:
            offset = msg.offset()
            headers: list[tuple[str, Any]] | None = msg.headers()  # type: ignore[assignment]
            reason = self._acks.add(
                Acked(
                    msg.topic() or "",
                    msg.partition() or 0,
                    offset if offset is not None and offset >= 0 else None,
                    msg.key(),
                    msg.value(),
                    headers,
                    time.monotonic(),
                )
            )
            if reason:
                self.check_acknowledged(reason)
        if err is not None:
            reason = f"{msg.topic()}: {err}"
            log.error("delivery failed topic=%s error=%s", msg.topic(), err)
            if not self._failure:
                self._failure = reason
                if self._on_failure is not None:
                    self._on_failure(reason)

    @property
    def acks(self) -> AckLog | None:
        """The acknowledged records remembered for checking (None: checking is off)."""
        return self._acks

    def check_acknowledged(self, reason: str) -> None:
        """The broker may have dropped acknowledged records: check them soon (after
        ``settle_s``, and only once for a burst of calls)."""
        if self._acks is None:
            return
        if not self._acks.suspect():
            log.debug("acknowledged records: check already scheduled (%s)", reason)
            return
        log.info("checking the last acknowledged records soon: %s", reason)
        threading.Thread(
            target=_check_acks,
            args=(weakref.ref(self),),
            name=f"{self._client_id}-ack-check",
            daemon=True,
        ).start()

    def _check_now(self) -> None:
        """Read the remembered records back; publish again those the broker no longer has."""
        assert self._acks is not None
        records = self._acks.take()
        if not records:
            self._acks.done()
            return
        self.ack_checks += 1
        ACK_CHECKS.labels(self._client_id).inc()
        try:
            missing = find_missing(
                self._bootstrap, self._client_id, records, self._acks.settings.read_timeout_s
            )
        except (KafkaException, TimeoutError) as exc:
            # After a restart Tansu can serve no fetch on a busy partition for tens of seconds:
            # the records acknowledged with a bad offset (mostly dropped) do not wait for it.
            found = "unread, acknowledged with a bad offset"
            missing = [(r, found) for r in records if r.bad_offset]
            log.warning(
                "could not check acknowledged records (%s); trying again, publishing again "
                "now the %d acknowledged with a bad offset", exc, len(missing),
            )  # fmt: skip
            self._acks.suspect()  # this thread is running: it runs the next check
        self._acks.forget(record for record, _ in missing)
        self._acks.done()
        for record, found in missing:
            log.warning(
                "republishing a record the broker acknowledged and no longer has: "
                "topic=%s partition=%s offset=%s holds=%s event_id=%s",
                record.topic, record.partition, record.offset, found,
                _event_id(record.topic, record.value),
            )  # fmt: skip
            self.republished += 1
            EVENTS_REPUBLISHED.labels(self._client_id, record.topic).inc()
            self._produce(record.topic, record.key, record.value, record.partition,
                          record.headers, self._on_delivery)  # fmt: skip

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
        self._produce(
            topic.name, key, value, partition, headers,
            self._on_delivery if on_recorded is None else self._reporter(on_recorded),
        )  # fmt: skip

    def _produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int,
        headers: list[tuple[str, str | bytes | None]] | None,
        on_delivery: Callable[[KafkaError | None, Message], None],
    ) -> None:
        while True:
            try:
                self._producer.produce(
                    topic, value=value, key=key, partition=partition, headers=headers,
                    on_delivery=on_delivery,
                )  # fmt: skip
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
    on_idle: Callable[[], None] | None = None,
) -> Iterator[Received | None]:
    """Yield every event of the assigned partitions; yield None once, when replay is done.
    `on_idle` runs whenever a poll found nothing: at that moment the consumer has read all
    that was there (a follower uses it to know how current its view is).

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
            if on_idle is not None:
                on_idle()
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
