"""Reads the router's `offered` and `offer_timed_out` events (hotline.routing.interactions.v1)
in a thread and hands them to the asyncio loop.

Every ingress instance reads *all* partitions, by explicit assignment (no group rebalancing),
starting at the end of each partition as found at start-up: call state lives in the memory of
the instance that took the call, so offers written before it started can only concern calls it
does not hold. Offers for interactions an instance does not hold are ignored by the call
handling. Nothing is committed. (Tansu under-reports the end offset when a batch held several
records, shared/INFRA.md; that only makes an instance re-read, and ignore, a few old records.)

Records that cannot be decoded, or break the contract, go to hotline.deadletter.ingress-sip.v1.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError, TopicPartition

from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline_ingress_sip.adapters.kafka_events import SERVICE, instruction_from_event
from hotline_ingress_sip.domain.events import RoutingInstruction
from hotline_platform.bus import DeadLetters, decode_or_dead_letter, new_consumer
from hotline_platform.metrics import DEAD_LETTERED, EVENTS_CONSUMED
from hotline_platform.topics import ROUTING_INTERACTIONS, Topic

log = logging.getLogger(__name__)

BATCH = 500
POLL_S = 0.1


class OffersConsumer:
    def __init__(
        self,
        bootstrap: str,
        instance_id: str,
        dead_letters: DeadLetters,
        deliver: Callable[[list[RoutingInstruction]], None],
        topic: Topic = ROUTING_INTERACTIONS,
    ) -> None:
        self._bootstrap = bootstrap
        self._group_id = f"{SERVICE}.{instance_id}"
        self._dead_letters = dead_letters
        self._deliver = deliver
        self._topic = topic
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None
        self._consumed = EVENTS_CONSUMED.labels(SERVICE, topic.name)
        self._dead_lettered = DEAD_LETTERED.labels(SERVICE)
        self.offers = 0
        self.failed: BaseException | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Blocking: assign every partition at its current end, then consume in a thread.
        Call it (e.g. through asyncio.to_thread) before accepting SIP traffic, so no offer
        for a call taken afterwards can be missed."""
        consumer = new_consumer(
            self._bootstrap,
            self._group_id,
            **{"auto.offset.reset": "latest", "enable.partition.eof": False},
        )
        assignment = []
        for partition in range(self._topic.partitions):
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(self._topic.name, partition), timeout=10, cached=False
            )
            assignment.append(TopicPartition(self._topic.name, partition, max(high, 0)))
        consumer.assign(assignment)
        self._consumer = consumer
        self._thread = threading.Thread(
            target=self._run, args=(loop,), name="ingress-sip-offers", daemon=True
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
                    self._consumed.inc()
                    before = self._dead_letters.count
                    received = decode_or_dead_letter(msg, self._dead_letters)
                    if received is None:
                        self._dead_lettered.inc(self._dead_letters.count - before)
                        continue
                    if isinstance(received.event, InteractionEvent):
                        instruction = instruction_from_event(received.event)
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
