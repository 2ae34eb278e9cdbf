"""Reads what is asked of ingress-sip about its calls, in a thread, and hands it to the asyncio
loop: the router's `offered`, `offer_timed_out`, `abandoned`/`completed` events
(hotline.routing.interactions.v1) and the hold, resume and transfer commands of the desktop and
the REST API (hotline.voice.commands.v1).

Every ingress instance reads *all* partitions of both topics, by explicit assignment (no group
rebalancing), starting at the end of each partition as found at start-up: call state lives in
the memory of the instance that took the call, so what was written before it started can only
concern calls it does not hold. Instructions for interactions an instance does not hold are
ignored by the call handling. A router fact with an older owner epoch than one read before it in
its partition is a fenced router's and is dropped (`hotline_platform.fencing.ReaderFence`).
Nothing is committed. (Tansu under-reports the end offset when a
batch held several records, shared/INFRA.md; that only makes an instance re-read, and ignore, a
few old records; a command read twice is dropped here by its id.) A command older than
`command_max_age_ms` is stale (recorded late, after the gateway gave up on it, or re-read): a
hold done a minute after it was asked would surprise everyone, so it is dropped.

Records that cannot be decoded, or break the contract, go to hotline.deadletter.ingress-sip.v1.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline.voice.v1.commands_pb2 import CallCommand
from hotline_ingress_sip.adapters.kafka_events import (
    SERVICE,
    command_from_message,
    instruction_from_event,
)
from hotline_ingress_sip.domain.events import RoutingInstruction
from hotline_platform.bus import DeadLetters, decode_or_dead_letter, new_consumer
from hotline_platform.envelope import ContractViolation, now_ms, occurred_at_ms
from hotline_platform.fencing import ReaderFence
from hotline_platform.metrics import DEAD_LETTERED, EVENTS_CONSUMED
from hotline_platform.topics import ROUTING_INTERACTIONS, VOICE_COMMANDS, Topic

log = logging.getLogger(__name__)

BATCH = 500
POLL_S = 0.1
SEEN_COMMANDS = 10_000  # command ids remembered to drop one read twice
COMMAND_MAX_AGE_MS = 30_000


class OffersConsumer:
    def __init__(
        self,
        bootstrap: str,
        instance_id: str,
        dead_letters: DeadLetters,
        deliver: Callable[[list[RoutingInstruction]], None],
        topics: Sequence[Topic] = (ROUTING_INTERACTIONS, VOICE_COMMANDS),
        command_max_age_ms: int = COMMAND_MAX_AGE_MS,
    ) -> None:
        self._bootstrap = bootstrap
        self._group_id = f"{SERVICE}.{instance_id}"
        self._dead_letters = dead_letters
        self._deliver = deliver
        self._topics = tuple(topics)
        self._seen: OrderedDict[str, None] = OrderedDict()
        # A router instance that lost its partitions may still write a few facts: drop them.
        self._fence = ReaderFence()
        self._command_max_age_ms = command_max_age_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None
        self._consumed = {t.name: EVENTS_CONSUMED.labels(SERVICE, t.name) for t in topics}
        self._dead_lettered = DEAD_LETTERED.labels(SERVICE)
        self.offers = 0  # instructions handed over (offers, withdrawals, endings, commands)
        self.failed: BaseException | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Blocking: assign every partition of every topic at its current end, then consume
        in a thread.
        Call it (e.g. through asyncio.to_thread) before accepting SIP traffic, so no offer
        for a call taken afterwards can be missed."""
        consumer = new_consumer(
            self._bootstrap,
            self._group_id,
            **{"auto.offset.reset": "latest", "enable.partition.eof": False},
        )
        assignment = []
        for topic in self._topics:
            for partition in range(topic.partitions):
                _low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic.name, partition), timeout=10, cached=False
                )
                assignment.append(TopicPartition(topic.name, partition, max(high, 0)))
        consumer.assign(assignment)
        self._consumer = consumer
        self._thread = threading.Thread(
            target=self._run, args=(loop,), name="ingress-sip-instructions", daemon=True
        )
        self._thread.start()

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        try:
            while not self._stop.is_set():
                messages = consumer.consume(BATCH, POLL_S)
                offers: list[RoutingInstruction] = []
                for msg in messages:
                    error = msg.error()
                    if error is not None:
                        if error.code() != KafkaError._PARTITION_EOF:
                            log.error("consume error: %s", error)
                        continue
                    self._consumed[msg.topic() or ""].inc()
                    instruction = self._instruction(msg)
                    if instruction is not None:
                        offers.append(instruction)
                if offers:
                    self.offers += len(offers)
                    try:
                        loop.call_soon_threadsafe(self._deliver, offers)
                    except RuntimeError:  # the loop is closed: we are shutting down
                        return
        except BaseException as exc:  # a dead consumer thread must be visible
            self.failed = exc
            log.exception("offers consumer stopped")

    def _instruction(self, msg: Message) -> RoutingInstruction | None:
        """What one record asks (None: nothing for ingress-sip, a command already read, or a
        bad record, dead-lettered)."""
        before = self._dead_letters.count
        received = decode_or_dead_letter(msg, self._dead_letters)
        if received is None:
            self._dead_lettered.inc(self._dead_letters.count - before)
            return None
        if isinstance(received.event, InteractionEvent):
            if not self._fence.admit(msg.topic() or "", msg.partition() or 0, received.event):
                if received.event.WhichOneof("event") != "owner_claimed":
                    log.warning("a fenced router's %s of %s dropped",
                                received.event.WhichOneof("event"),
                                received.event.envelope.interaction_id)
                return None
            return instruction_from_event(received.event)
        if not isinstance(received.event, CallCommand):
            return None
        try:
            command = command_from_message(received.event)
        except ContractViolation as exc:
            self._dead_letters.send(msg, str(exc))
            self._dead_lettered.inc(self._dead_letters.count - before)
            return None
        if command.command_id in self._seen:
            return None
        age_ms = now_ms() - occurred_at_ms(received.event.envelope)
        if age_ms > self._command_max_age_ms:
            log.warning("stale %s of %s dropped (asked %d ms ago)", command.action.value,
                        command.interaction_id, age_ms)
            return None
        self._seen[command.command_id] = None
        if len(self._seen) > SEEN_COMMANDS:
            self._seen.popitem(last=False)
        return command

    def stop(self, timeout: float = 5.0) -> None:
        """Blocking: stop the thread and close the consumer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
