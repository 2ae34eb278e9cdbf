"""Kafka side of the router: publish facts as contract events; replay then follow its topics."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from hotline.agent.v1.events_pb2 import AgentEvent
from hotline.common.v1.envelope_pb2 import OwnerClaimed
from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline_platform import metrics, topics
from hotline_platform.bus import (
    DeadLetters,
    EventPublisher,
    Received,
    decode_or_dead_letter,
    new_consumer,
)
from hotline_platform.codec import encode
from hotline_platform.envelope import new_envelope, new_event_id
from hotline_platform.fencing import CLAIM_TENANT, OwnerFence, claim_of
from hotline_router.adapters.mapping import to_event, to_fact
from hotline_router.adapters.snapshots import Captured, SnapshotStore, encode_tenants
from hotline_router.application.service import RouterService
from hotline_router.domain.facts import Fact
from hotline_router.domain.model import RoutingConfig

log = logging.getLogger(__name__)

SERVICE = "router"
# Every topic the router's state is folded from: its inputs and its own two outputs.
STATE_TOPICS: tuple[topics.Topic, ...] = (
    topics.VOICE_INTERACTIONS,
    topics.ROUTING_INTERACTIONS,
    topics.AGENTS,
    topics.INGRESS_LIVENESS,
    topics.VOICE_REGISTRATIONS,
)
# The topics the router writes: each gets the owner's claim of a partition.
OWN_TOPICS: tuple[topics.Topic, ...] = (topics.ROUTING_INTERACTIONS, topics.AGENTS)
# A partition's phases here: read to its end (no decisions), claimed (waiting to read the
# claims back), live (deciding), claim lost to another claimant (claim again soon).
REPLAYING, CLAIMING, LIVE, LOST = "replaying", "claiming", "live", "lost"


class KafkaFactPublisher:
    """FactPublisher port over the platform's EventPublisher."""

    def __init__(
        self,
        publisher: EventPublisher,
        producer: str,
        config: RoutingConfig,
        epoch_of: Callable[[int], int] = lambda _partition: 0,
    ) -> None:
        self._publisher = publisher
        self._producer = producer
        self._config = config
        # The epoch of this instance's claim of a partition (EventPump.epoch): every fact
        # carries its owner's epoch, so readers can ignore a fenced owner's.
        self.epoch_of = epoch_of

    def reconfigure(self, config: RoutingConfig) -> None:
        """The directory changed: agents' sites may have."""
        self._config = config

    def _site_of(self, fact: Fact) -> str:
        tenant = self._config.tenants.get(fact.tenant_id)
        profile = tenant.agents.get(getattr(fact, "agent_id", "")) if tenant else None
        return profile.site_id if profile else ""

    def publish(self, fact: Fact) -> None:
        topic, event = to_event(fact, self._producer, self._site_of(fact))
        event.envelope.owner_epoch = self.epoch_of(  # type: ignore[attr-defined]
            topics.partition_for(fact.tenant_id, topic.partitions)
        )
        self._publisher.publish(topic, event)
        metrics.EVENTS_PUBLISHED.labels(SERVICE, topic.name).inc()

    def flush(self) -> None:
        self._publisher.flush()


@dataclass
class _Partition:
    """One partition (of every state topic) this instance holds."""

    number: int
    offsets: dict[str, int]  # next offset to read, per state topic
    phase: str = REPLAYING
    pending: set[str] = field(default_factory=set)  # topics not yet read to their end
    claim_id: str = ""
    epoch: int = 0
    claims_read: set[str] = field(default_factory=set)  # own topics where our claim was read
    reclaim_at: float = 0.0  # monotonic; a lost claim is tried again then
    adopted_at: float = field(default_factory=time.monotonic)
    folded: int = 0  # facts folded since the last snapshot
    snapshot_at: float = field(default_factory=time.monotonic)


class EventPump:
    """One thread reads every state topic of the partitions this instance holds: it folds them
    (replay, no decisions), claims each partition once it has read it to its end, and lets the
    service decide for it once its claims are read back; then keeps following.

    Partitions come either from a fixed list (HOTLINE_PARTITIONS) or from the consumer group
    (HOTLINE_PARTITIONS=group: the range assignor gives every member the same partition
    numbers of the five topics). A partition is started from its newest snapshot when there is
    one, else from the start of the log. The end of a partition is taken from end-of-partition
    reports (Tansu's ListOffsets high-water mark is under-reported and is not used).

    Fencing (hotline_platform.fencing): facts of an older owner's epoch read after a newer claim
    are ignored; an instance that reads a newer claim of a partition it decides for stops
    deciding for it at once, forgets its state and takes it again from its snapshot."""

    def __init__(
        self,
        service: RouterService,
        consumer_factory: Callable[[], Consumer],
        dead_letters: DeadLetters,
        publisher: EventPublisher,
        owner: str,
        stop: threading.Event,
        *,
        partitions: Iterable[int] | None = None,
        snapshots: SnapshotStore | None = None,
        snapshot_every_events: int = 10_000,
        snapshot_every_s: float = 60.0,
    ) -> None:
        self._service = service
        self._consumer_factory = consumer_factory
        self._dead_letters = dead_letters
        self._publisher = publisher
        self._owner = owner
        self._static = tuple(partitions) if partitions is not None else None
        self._stop = stop
        self._snapshots = snapshots
        self._snapshot_every_events = snapshot_every_events
        self._snapshot_every_s = snapshot_every_s
        self._snapshot_job: threading.Thread | None = None
        self.fence = OwnerFence()
        self._parts: dict[int, _Partition] = {}
        # Partitions revoked by a rebalance, kept until the next assignment (they may return).
        self._retained: dict[int, _Partition] = {}
        self._consumer: Consumer | None = None
        self._assigned_once = False
        # Live for the first time (every partition of the first assignment): serve gRPC.
        self.live = threading.Event()
        self.failed: BaseException | None = None
        self.stats = PumpStats()
        self._thread = threading.Thread(target=self._run, name="router-events", daemon=True)

    # ------------------------------------------------------------------ queries (any thread)

    def owns(self, partition: int) -> bool:
        """Held here (live or not); a partition revoked by a rebalance in progress counts too,
        so its tenants get UNAVAILABLE (retry) rather than FAILED_PRECONDITION meanwhile."""
        return partition in self._parts or partition in self._retained

    def owned(self) -> tuple[int, ...]:
        return tuple(sorted(self._parts))

    def epoch(self, partition: int) -> int:
        """The epoch of this instance's claim of `partition` (0: not live here)."""
        part = self._parts.get(partition)
        return part.epoch if part is not None and part.phase == LIVE else 0

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
        if self._snapshot_job is not None:
            self._snapshot_job.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        try:
            consumer = self._consumer = self._consumer_factory()
        except BaseException as exc:  # noqa: BLE001 - reported to the owner of the pump
            self.failed = exc
            log.exception("cannot create the consumer")
            return
        try:
            if self._static is None:
                consumer.subscribe(
                    [t.name for t in STATE_TOPICS],
                    on_assign=self._on_assign,
                    on_revoke=self._on_revoke,
                    on_lost=self._on_revoke,
                )
            else:
                self._on_assign(
                    consumer,
                    [TopicPartition(t.name, p) for t in STATE_TOPICS for p in self._static],
                )
            while not self._stop.is_set():
                msg = consumer.poll(0.05)
                if msg is None:
                    self._service.caught_up()
                    self._idle()
                    continue
                error = msg.error()
                if error is None:
                    self._record(msg)
                elif error.code() == KafkaError._PARTITION_EOF:
                    self._end_reached(msg.topic() or "", msg.partition() or 0)
                else:
                    log.error("consume error: %s", error)
        except BaseException as exc:  # noqa: BLE001
            self.failed = exc
            log.exception("event pump failed")
        finally:
            consumer.close()

    def _on_assign(self, consumer: Consumer, assigned: list[TopicPartition]) -> None:
        by_number: dict[int, set[str]] = {}
        for tp in assigned:
            by_number.setdefault(tp.partition, set()).add(tp.topic)
        wanted = {t.name for t in STATE_TOPICS}
        numbers = sorted(n for n, names in by_number.items() if names == wanted)
        if len(numbers) != len(by_number):
            log.error(
                "assignment %s does not give whole partitions of the state topics (the group "
                "must use the range assignor): taking only %s", sorted(by_number), numbers,
            )  # fmt: skip
        for number in [n for n in self._retained if n not in numbers]:
            self._forget(number)
        for number in numbers:
            self._parts[number] = self._retained_or_new(number)
        self._retained.clear()
        consumer.assign(
            [
                TopicPartition(topic, n, self._parts[n].offsets.get(topic, OFFSET_BEGINNING))
                for n in numbers
                for topic in sorted(wanted)
            ]
        )
        log.info("assigned partitions %s", numbers)
        self._assigned_once = True
        self._check_first_live()

    def _on_revoke(self, consumer: Consumer, revoked: list[TopicPartition]) -> None:
        numbers = sorted({tp.partition for tp in revoked} & set(self._parts))
        for number in numbers:
            self._service.pause(number)
            self._retained[number] = self._parts.pop(number)
        # What this instance decided is in the log before the next owner reads it to claim.
        self._publisher.flush(30)
        log.info("revoked partitions %s", numbers)

    def _retained_or_new(self, number: int) -> _Partition:
        kept = self._retained.get(number)
        if kept is not None:
            # Its state is a fold up to kept.offsets: read on from there, claim anew.
            kept.phase, kept.pending, kept.claims_read = REPLAYING, _topic_names(), set()
            kept.adopted_at = time.monotonic()
            return kept
        return self._adopt(number)

    def _adopt(self, number: int) -> _Partition:
        """Start holding partition `number`: from its snapshot, else from the start."""
        self.fence.forget(number)
        loaded = self._snapshots.load(number) if self._snapshots is not None else None
        if loaded is None:
            self._service.adopt(number)
            part = _Partition(number, {}, pending=_topic_names())
        else:
            self._service.adopt(number, loaded.tenants, loaded.in_flight)
            self.fence.claims.update({(t, number): c for t, c in loaded.claims.items()})
            part = _Partition(number, dict(loaded.offsets), pending=_topic_names())
            self.stats.snapshots_loaded += 1
            log.info(
                "partition %d: snapshot of %d tenants loaded, offsets %s",
                number, len(loaded.tenants), loaded.offsets,
            )  # fmt: skip
        return part

    def _forget(self, number: int) -> None:
        self._service.release(number)
        self.fence.forget(number)
        self._parts.pop(number, None)

    def _record(self, msg: Message) -> None:
        number = msg.partition() or 0
        part = self._parts.get(number)
        name = msg.topic() or ""
        if part is None:
            return  # a partition let go of: a record fetched before that
        part.offsets[name] = (msg.offset() or 0) + 1
        received = decode_or_dead_letter(msg, self._dead_letters)
        if received is None:
            return
        metrics.EVENTS_CONSUMED.labels(SERVICE, received.topic.name).inc()
        own = received.topic.writer == SERVICE
        if not self.fence.admit(name, number, received.event, fenced_writer=own):
            if claim_of(received.event) is not None:
                self._claim_read(part, name, claim_of(received.event))
            else:
                self._fenced_fact(part, received)
            return
        self._handle(received, own)
        part.folded += 1
        if part.phase == LIVE:
            self._maybe_snapshot(part)

    def _fenced_fact(self, part: _Partition, received: Received) -> None:
        envelope = received.event.envelope  # type: ignore[attr-defined]
        self.stats.fenced += 1
        log.warning(
            "ignored %s[%d]@%d: written by a fenced owner (epoch %d < %d)",
            received.topic.name, part.number, received.offset, envelope.owner_epoch,
            self.fence.epoch(received.topic.name, part.number),
        )  # fmt: skip
        if envelope.event_id in self._service.in_flight(part.number):
            # Ours, applied when we published it (we were stalled, and fenced meanwhile): our
            # state holds a fact the log voids, so take the partition again from the log.
            log.error("partition %d: own facts were fenced: taking it again", part.number)
            self._retake(part)

    def _handle(self, received: Received, own: bool) -> None:
        fact = to_fact(received.event)
        if fact is None:
            return
        try:
            self._service.on_fact(fact, own_topic=own)
        except Exception:
            # A bug on one event must not stop routing for every tenant; it is logged with
            # its coordinates so it can be replayed by hand.
            log.exception(
                "failed to handle %s[%d]@%d (event %s)",
                received.topic.name, received.partition, received.offset, fact.event_id,
            )

    def _end_reached(self, topic: str, number: int) -> None:
        part = self._parts.get(number)
        if part is None or part.phase != REPLAYING:
            return
        part.pending.discard(topic)
        if not part.pending:
            self._claim(part)

    def _claim(self, part: _Partition) -> None:
        """Read to the end: claim the partition with an epoch above every one read so far."""
        number = part.number
        part.epoch = 1 + max(self.fence.epoch(t.name, number) for t in OWN_TOPICS)
        part.claim_id = new_event_id()
        part.claims_read = set()
        part.phase = CLAIMING
        claim = OwnerClaimed(
            epoch=part.epoch, partition=number, owner=self._owner, claim_id=part.claim_id
        )
        for topic in OWN_TOPICS:
            event: AgentEvent | InteractionEvent
            if topic is topics.AGENTS:
                envelope = new_envelope(
                    tenant_id=CLAIM_TENANT, producer=self._owner, agent_id=part.claim_id
                )
                event = AgentEvent(envelope=envelope, owner_claimed=claim)
            else:
                envelope = new_envelope(
                    tenant_id=CLAIM_TENANT, producer=self._owner, interaction_id=part.claim_id
                )
                event = InteractionEvent(envelope=envelope, owner_claimed=claim)
            self._publisher.publish_raw(topic, CLAIM_TENANT.encode(), encode(event), number)
        log.info("partition %d read to its end: claiming epoch %d", number, part.epoch)

    def _claim_read(self, part: _Partition, topic: str, claim: OwnerClaimed) -> None:
        number = part.number
        if claim.claim_id == part.claim_id and part.phase == CLAIMING:
            part.claims_read.add(topic)
            if len(part.claims_read) < len(OWN_TOPICS):
                return
            if all(self.fence.holder(t.name, number) == part.claim_id for t in OWN_TOPICS):
                self._go_live(part)
            else:
                # Another claimant's claim came first somewhere: we decided nothing, our state
                # is still the log's fold; claim again a little later (a stale claimant is
                # revoked meanwhile).
                part.phase = LOST
                part.reclaim_at = time.monotonic() + random.uniform(0.5, 2.0)
                log.warning("partition %d: claim %d lost to another; retrying", number, part.epoch)
            return
        if part.phase == LIVE and self.fence.holder(topic, number) != part.claim_id:
            # Another instance claimed it: stop deciding now; what we decided after its
            # claim is void, so our state may hold facts the log does not: take it again.
            self.stats.fenced_out += 1
            log.error(
                "partition %d: fenced by %s (epoch %d > %d): taking it again from its snapshot",
                number, claim.owner, claim.epoch, part.epoch,
            )  # fmt: skip
            self._retake(part)

    def _retake(self, part: _Partition) -> None:
        number = part.number
        if self._static is not None:
            # Static ownership: whoever claimed after us was given the same partition and
            # started later (a restart overlapping its predecessor, or a misconfiguration). It
            # wins: claiming back would have the two fence each other for ever.
            log.error(
                "partition %d: yielded to the newer owner (static partitions); this instance "
                "no longer serves its tenants", number,
            )  # fmt: skip
            self.stats.yielded += 1
            self._forget(number)
            return
        self._service.release(number)
        fresh = self._adopt(number)
        self._parts[number] = fresh
        assert self._consumer is not None
        for topic in STATE_TOPICS:
            self._consumer.seek(
                TopicPartition(topic.name, number, fresh.offsets.get(topic.name, OFFSET_BEGINNING))
            )

    def _go_live(self, part: _Partition) -> None:
        part.phase = LIVE
        self._service.go_live([part.number])
        took = time.monotonic() - part.adopted_at
        self.stats.took_over[part.number] = took
        log.info(
            "partition %d live (epoch %d) %.2fs after it was assigned", part.number, part.epoch,
            took,
        )  # fmt: skip
        part.snapshot_at = time.monotonic()
        self._check_first_live()

    def _check_first_live(self) -> None:
        if self._assigned_once and all(p.phase == LIVE for p in self._parts.values()):
            self.live.set()

    def _idle(self) -> None:
        now = time.monotonic()
        for part in list(self._parts.values()):
            if part.phase == LOST and now >= part.reclaim_at:
                self._claim(part)
            elif part.phase == LIVE:
                self._maybe_snapshot(part)

    # ------------------------------------------------------------------ snapshots

    def _maybe_snapshot(self, part: _Partition) -> None:
        if self._snapshots is None or not part.folded:
            return
        if self._snapshot_job is not None and self._snapshot_job.is_alive():
            return
        due = part.folded >= self._snapshot_every_events or (
            time.monotonic() - part.snapshot_at >= self._snapshot_every_s
        )
        if due:
            self.snapshot(part.number)

    def snapshot(self, number: int) -> threading.Thread | None:
        """Capture partition `number` now (pump thread) and save it in the background."""
        part = self._parts.get(number)
        if self._snapshots is None or part is None or part.phase != LIVE:
            return None
        blobs, in_flight = self._service.capture(number, encode_tenants)
        captured = Captured(
            number,
            blobs,
            in_flight,
            dict(part.offsets),
            {t: c for (t, _), c in self.fence.of_partition(number).items()},
            part.epoch,
        )
        part.folded, part.snapshot_at = 0, time.monotonic()
        job = threading.Thread(
            target=self._save, args=(captured,), name="router-snapshot", daemon=True
        )
        self._snapshot_job = job
        job.start()
        return job

    def _save(self, captured: Captured) -> None:
        """A snapshot is saved only once the facts it holds that the log did not yet (published,
        not read back) are in the log and were read back unfenced: else it would hold facts a
        replay does not."""
        assert self._snapshots is not None
        started = time.monotonic()
        try:
            self._publisher.flush(30)
            waiting = set(captured.in_flight)
            deadline = time.monotonic() + 30
            while waiting & self._service.in_flight(captured.partition):
                if time.monotonic() > deadline or self.epoch(captured.partition) != captured.epoch:
                    log.warning("snapshot of partition %d abandoned", captured.partition)
                    return
                time.sleep(0.02)
            if self.epoch(captured.partition) != captured.epoch:
                return
            self._snapshots.save(captured)
            self.stats.snapshots_saved += 1
            log.info(
                "partition %d: snapshot of %d tenants saved in %.2fs",
                captured.partition, len(captured.tenants), time.monotonic() - started,
            )  # fmt: skip
        except Exception:  # noqa: BLE001 - a snapshot missed costs a longer replay only
            log.exception("snapshot of partition %d failed", captured.partition)


@dataclass
class PumpStats:
    fenced: int = 0  # facts of a fenced owner ignored
    fenced_out: int = 0  # times this instance was fenced out of a partition it decided for
    yielded: int = 0  # static partitions given up to a newer owner
    snapshots_saved: int = 0
    snapshots_loaded: int = 0
    # Seconds from assignment to live, per partition (the newest).
    took_over: dict[int, float] = field(default_factory=dict)


def _topic_names() -> set[str]:
    return {t.name for t in STATE_TOPICS}


class CountingDeadLetters(DeadLetters):
    """DeadLetters that also counts in the shared Prometheus metric."""

    def send(self, msg: Message, reason: str) -> None:
        super().send(msg, reason)
        metrics.DEAD_LETTERED.labels(SERVICE).inc()


def router_consumer(bootstrap: str, instance_id: str, group: str | None) -> Consumer:
    """`group` None: partitions are assigned explicitly (static ownership), no membership.
    Else the group whose members share the partitions (range assignor: the same partition
    numbers of every state topic go to one member). Offsets are never committed: a partition is
    started from its snapshot, or from the start."""
    if group is None:
        return new_consumer(bootstrap, f"hotline-router-{instance_id}")
    return new_consumer(
        bootstrap,
        group,
        **{
            "partition.assignment.strategy": "range",
            "client.id": instance_id,
            # Also the rebalance time-out: how long a join waits for a member that does not
            # rejoin (the pump polls every 50 ms; a snapshot load in on_assign is seconds).
            "max.poll.interval.ms": 20_000,
        },
    )
