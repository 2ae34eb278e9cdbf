"""The event topics -> the live board (domain/live.py), for the pages' push stream.

One consumer per gateway process reads the router's agent and interaction topics and
ingress-sip's voice interactions from their first offset (partitions assigned, no consumer
group: every replica needs every tenant), on a worker thread: confluent-kafka's poll blocks.
Each event becomes a `live.Fact` through the platform's generic protobuf mapping
(hotline_platform.protodict: the oneof's fields as plain values, no field copied by hand) and
is handed to the event loop in batches (`loop.call_soon_threadsafe`), where the board is
folded; the board is touched only on the loop. Records that cannot be decoded go to the
gateway's dead-letter topic. The end of the replay is taken from end-of-partition reports, not
from the high-water mark (Tansu's is wrong: INFRA.md), as `bus.replay_then_follow` does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Sequence

from google.protobuf.message import Message

from hotline_gateway.domain.live import AgentSetup, Fact, QueueSetup, TenantSetup
from hotline_platform import bus, protodict, tenancy, topics

log = logging.getLogger(__name__)

EXIT_FEED_FAILED = 70  # EX_SOFTWARE
TOPICS = (topics.AGENTS, topics.ROUTING_INTERACTIONS, topics.VOICE_INTERACTIONS)


def to_fact(event: Message) -> Fact | None:
    """An AgentEvent or InteractionEvent as a Fact; None for an event with no body."""
    kind = event.WhichOneof("event")
    if kind is None:
        return None
    env = event.envelope  # type: ignore[attr-defined]
    at = env.occurred_at
    return Fact(
        kind=kind,
        tenant_id=env.tenant_id,
        at_ms=at.seconds * 1000 + at.nanos // 1_000_000,
        interaction_id=env.interaction_id,
        agent_id=env.agent_id,
        site_id=env.site_id,
        body=protodict.to_dict(getattr(event, kind)),
    )


def tenant_setup(config: tenancy.TenancyConfig, tenant_id: str) -> TenantSetup | None:
    """What the board needs of one tenant of the (live) tenancy config."""
    t = config.tenants.get(tenant_id)
    if t is None:
        return None
    return TenantSetup(
        id=t.id,
        name=t.name,
        queues={
            q.id: QueueSetup(
                q.id,
                tuple((s.name, s.level) for s in q.required_skills),
                float(q.service_level_threshold_s),
                q.service_level_target,
                tuple((c.code, c.label) for c in q.wrap_up_codes),
                q.language,
            )
            for q in t.queues.values()
        },
        agents={
            a.id: AgentSetup(a.id, a.name, a.site_id, tuple((s.name, s.level) for s in a.skills))
            for a in t.agents.values()
        },
        not_ready_reasons=tuple((c.code, c.label) for c in t.not_ready_reasons),
        service_level=t.kpi.service_level,
        short_abandon_s=t.kpi.short_abandon_s,
        abandonment_denominator=t.kpi.abandonment_denominator,
    )


class EventsFeed:
    """Read the topics on a thread; deliver batches of facts to `sink` on `loop`, and call
    `replayed` (on the loop) once the history has been read."""

    def __init__(
        self,
        bootstrap: str,
        instance_id: str,
        loop: asyncio.AbstractEventLoop,
        sink: Callable[[Sequence[Fact]], None],
        replayed: Callable[[], None],
        publisher: bus.EventPublisher | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._group = f"hotline-gateway-live-{instance_id}"
        self._loop = loop
        self._sink = sink
        self._replayed = replayed
        self._publisher = publisher
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: list[Fact] = []
        self._lock = threading.Lock()
        self._scheduled = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gateway-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        publisher = self._publisher or bus.EventPublisher(self._bootstrap, "gateway-live")
        dead_letters = bus.DeadLetters(publisher, "gateway")
        consumer = bus.new_consumer(self._bootstrap, self._group)
        try:
            bus.assign_from_start(consumer, TOPICS)
            for received in bus.replay_then_follow(consumer, dead_letters, stop=self._stop):
                if received is None:
                    self._flush_now()
                    self._loop.call_soon_threadsafe(self._replayed)
                    continue
                fact = to_fact(received.event)
                if fact is not None:
                    self._hand_over(fact)
        except Exception:
            # Crash-only, as every service: a wallboard silently frozen is worse than a
            # restart, after which the board is rebuilt from the log (clients resume with a
            # snapshot: another epoch).
            log.critical("the live events feed failed: exiting", exc_info=True)
            for handler in logging.getLogger().handlers:
                handler.flush()
            os._exit(EXIT_FEED_FAILED)
        finally:
            consumer.close()
            if self._publisher is None:
                publisher.close()

    def _hand_over(self, fact: Fact) -> None:
        with self._lock:
            self._pending.append(fact)
            if self._scheduled:
                return
            self._scheduled = True
        self._loop.call_soon_threadsafe(self._deliver)

    def _flush_now(self) -> None:
        with self._lock:
            if self._pending and not self._scheduled:
                self._scheduled = True
                self._loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:  # on the loop
        with self._lock:
            batch, self._pending = self._pending, []
            self._scheduled = False
        if batch:
            self._sink(batch)
