"""Liveness of this ingress-sip process on hotline.ingress.liveness.v1: `started` once per
tenant served, before any call is taken, then a `heartbeat` per tenant every interval.

The router ends the interactions an instance owned (envelope producer of their `arrived`)
once that instance started again after they arrived, or fell silent for longer than the
router's HOTLINE_INGRESS_LOST_AFTER_MS (services/router/README.md, "Lost ingress"). Topics
are partitioned by tenant, so one record per tenant reaches every router instance that owns
one of them. Heartbeats run on the SIP event loop on purpose: a loop too blocked to beat is
too blocked to serve calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Protocol

from google.protobuf.message import Message

from hotline.common.v1.envelope_pb2 import CHANNEL_VOICE
from hotline.ingress.v1.events_pb2 import IngressEvent
from hotline_ingress_sip.adapters.kafka_events import SERVICE
from hotline_ingress_sip.application.ports import Clock
from hotline_platform.envelope import new_envelope
from hotline_platform.metrics import EVENTS_PUBLISHED
from hotline_platform.topics import INGRESS_LIVENESS, Topic

log = logging.getLogger(__name__)


class Publisher(Protocol):
    def publish(self, topic: Topic, event: Message) -> None: ...

    def flush(self, timeout: float = 10) -> None: ...


class Liveness:
    """Publishes this process's start and heartbeats for every tenant it serves."""

    def __init__(
        self,
        publisher: Publisher,
        instance_id: str,
        tenants: Iterable[str],
        clock: Clock,
        *,
        interval_ms: int = 2000,
        active_calls: Callable[[], int] = lambda: 0,
        incarnation_id: str | None = None,
    ) -> None:
        self._publisher = publisher
        self.instance_id = instance_id
        self.producer = f"{SERVICE}/{instance_id}"
        self.tenants = tuple(sorted(set(tenants)))
        self._clock = clock
        self.interval_ms = interval_ms
        self._active_calls = active_calls
        self.incarnation_id = incarnation_id or str(uuid.uuid4())
        self.started_at_ms = 0
        self.heartbeats = 0
        self._task: asyncio.Task[None] | None = None
        self._published = EVENTS_PUBLISHED.labels(SERVICE, INGRESS_LIVENESS.name)

    def _event(self, tenant_id: str, at_ms: int) -> IngressEvent:
        return IngressEvent(
            envelope=new_envelope(
                tenant_id=tenant_id,
                producer=self.producer,
                occurred_at_ms=at_ms,
                correlation_id=self.incarnation_id,
            )
        )

    def _started(self, tenant_id: str) -> IngressEvent:
        event = self._event(tenant_id, self.started_at_ms)
        event.started.instance_id = self.instance_id
        event.started.incarnation_id = self.incarnation_id
        event.started.heartbeat_interval_ms = self.interval_ms
        event.started.channel = CHANNEL_VOICE
        return event

    def serve(self, tenants: Iterable[str], flush_timeout_s: float = 10) -> None:
        """Also serve these tenants (the live directory gained entry points of theirs). Once
        this process has announced its start, its `started` is published for each new tenant
        and made durable before this returns, so every call for them arrives after it.
        Blocking; tenants are never dropped (a heartbeat for a removed tenant is ignored)."""
        new = sorted(set(tenants) - set(self.tenants))
        if not new:
            return
        if self.started_at_ms:
            for tenant_id in new:
                self._publisher.publish(INGRESS_LIVENESS, self._started(tenant_id))
                self._published.inc()
            self._publisher.flush(flush_timeout_s)
            log.info("instance %s now serves tenants %s", self.instance_id, ", ".join(new))
        self.tenants = tuple(sorted(set(self.tenants) | set(new)))

    def announce_start(self, flush_timeout_s: float = 10) -> None:
        """Blocking: publish `started` for every tenant and wait until it is durable. Call it
        before serving SIP, so every call of this process arrives after its `started`."""
        self.started_at_ms = self._clock.now_ms()
        for tenant_id in self.tenants:
            self._publisher.publish(INGRESS_LIVENESS, self._started(tenant_id))
            self._published.inc()
        self._publisher.flush(flush_timeout_s)
        log.info(
            "started instance %s incarnation %s for %d tenants (heartbeat every %d ms)",
            self.instance_id, self.incarnation_id, len(self.tenants), self.interval_ms,
        )

    def beat(self) -> None:
        """Publish one heartbeat per tenant (non-blocking)."""
        now = self._clock.now_ms()
        calls = self._active_calls()
        for tenant_id in self.tenants:
            event = self._event(tenant_id, now)
            hb = event.heartbeat
            hb.instance_id = self.instance_id
            hb.incarnation_id = self.incarnation_id
            hb.heartbeat_interval_ms = self.interval_ms
            hb.started_at_ms = self.started_at_ms
            hb.active_calls = calls
            self._publisher.publish(INGRESS_LIVENESS, event)
            self._published.inc()
        self.heartbeats += 1

    def start(self) -> None:
        """Beat every interval on the running loop until `stop`."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="liveness")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_ms / 1000)
            try:
                self.beat()
            except Exception:  # a failed beat must not end the beating
                log.exception("heartbeat failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
