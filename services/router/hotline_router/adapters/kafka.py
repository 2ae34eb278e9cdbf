"""Kafka side of the router: publish facts as contract events; replay then follow its topics."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from confluent_kafka import Consumer, Message

from hotline_platform import metrics, topics
from hotline_platform.bus import (
    DeadLetters,
    EventPublisher,
    Received,
    assign_from_start,
    new_consumer,
    replay_then_follow,
)
from hotline_router.adapters.mapping import to_event, to_fact
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


class KafkaFactPublisher:
    """FactPublisher port over the platform's EventPublisher."""

    def __init__(self, publisher: EventPublisher, producer: str, config: RoutingConfig) -> None:
        self._publisher = publisher
        self._producer = producer
        self._config = config

    def reconfigure(self, config: RoutingConfig) -> None:
        """The directory changed: agents' sites may have."""
        self._config = config

    def _site_of(self, fact: Fact) -> str:
        tenant = self._config.tenants.get(fact.tenant_id)
        profile = tenant.agents.get(getattr(fact, "agent_id", "")) if tenant else None
        return profile.site_id if profile else ""

    def publish(self, fact: Fact) -> None:
        topic, event = to_event(fact, self._producer, self._site_of(fact))
        self._publisher.publish(topic, event)
        metrics.EVENTS_PUBLISHED.labels(SERVICE, topic.name).inc()

    def flush(self) -> None:
        self._publisher.flush()


class EventPump:
    """One thread: assign the owned partitions of the state topics from offset 0, fold
    every event (replay, no decisions), go live when replay is done, then keep following.

    Replay ends when the platform's `replay_then_follow` has seen an end-of-partition report
    for every assigned partition (taken from fetch responses: Tansu's ListOffsets high-water
    mark is under-reported and is not used)."""

    def __init__(
        self,
        service: RouterService,
        consumer_factory: Callable[[], Consumer],
        dead_letters: DeadLetters,
        partitions: Iterable[int],
        stop: threading.Event,
    ) -> None:
        self._service = service
        self._consumer_factory = consumer_factory
        self._dead_letters = dead_letters
        self._partitions = tuple(partitions)
        self._stop = stop
        self.live = threading.Event()
        self.failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="router-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            consumer = self._consumer_factory()
        except BaseException as exc:  # noqa: BLE001 - reported to the owner of the pump
            self.failed = exc
            log.exception("cannot create the consumer")
            return
        try:
            assign_from_start(consumer, STATE_TOPICS, self._partitions)
            started = time.monotonic()
            for received in replay_then_follow(
                consumer, self._dead_letters, stop=self._stop, on_idle=self._service.caught_up
            ):
                if received is None:
                    self._service.go_live()
                    log.info("replay done in %.2fs", time.monotonic() - started)
                    self.live.set()
                    continue
                self._handle(received)
        except BaseException as exc:  # noqa: BLE001
            self.failed = exc
            log.exception("event pump failed")
        finally:
            consumer.close()

    def _handle(self, received: Received) -> None:
        metrics.EVENTS_CONSUMED.labels(SERVICE, received.topic.name).inc()
        fact = to_fact(received.event)
        if fact is None:
            return
        try:
            self._service.on_fact(fact, own_topic=received.topic.writer == SERVICE)
        except Exception:
            # A bug on one event must not stop routing for every tenant; it is logged with
            # its coordinates so it can be replayed by hand.
            log.exception(
                "failed to handle %s[%d]@%d (event %s)",
                received.topic.name, received.partition, received.offset, fact.event_id,
            )


class CountingDeadLetters(DeadLetters):
    """DeadLetters that also counts in the shared Prometheus metric."""

    def send(self, msg: Message, reason: str) -> None:
        super().send(msg, reason)
        metrics.DEAD_LETTERED.labels(SERVICE).inc()


def router_consumer(bootstrap: str, instance_id: str) -> Consumer:
    # Partitions are assigned explicitly (static ownership): no group membership, no commits.
    return new_consumer(bootstrap, f"hotline-router-{instance_id}")
