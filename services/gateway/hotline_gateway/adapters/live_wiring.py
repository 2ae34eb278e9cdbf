"""Wires the push stream into a running gateway: the live board over the live tenancy, the
hub the WebSocket routes use (app.state.live_hub), the events feed and a ticker (the day's
roll-over), in three calls from wiring.py: `LiveStream(...)`, `attach(app)`, `stop()`."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable, Collection

from fastapi import FastAPI

from hotline_gateway.adapters.events_feed import EventsFeed, tenant_setup
from hotline_gateway.adapters.http.stream import HUB_STATE
from hotline_gateway.application.live import LiveHub
from hotline_gateway.domain.live import LiveBoard, TenantSetup
from hotline_platform.settings import ServiceSettings
from hotline_platform.tenancy import TenancyConfig

TICK_S = 1.0


def _now_ms() -> int:
    return int(time.time() * 1000)


class LiveStream:
    def __init__(
        self, settings: ServiceSettings, current: Callable[[], TenancyConfig],
        ring_size: int = 2_000,
    ) -> None:
        self._settings = settings
        self._current = current
        self._ring_size = ring_size
        self._setups: dict[str, tuple[TenancyConfig, TenantSetup | None]] = {}
        self._feed: EventsFeed | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.hub: LiveHub | None = None

    def _setup(self, tenant_id: str) -> TenantSetup | None:
        """The tenant's setup, rebuilt only when the directory's view changed."""
        config = self._current()
        cached = self._setups.get(tenant_id)
        if cached is not None and cached[0] is config:
            return cached[1]
        found = tenant_setup(config, tenant_id)
        self._setups[tenant_id] = (config, found)
        return found

    # The ConnectedCalls port of hold, resume and transfer (application/calls.py).

    def connected_agent(self, tenant_id: str, interaction_id: str) -> str | None:
        hub = self.hub
        return hub.board.connected_agent(tenant_id, interaction_id) if hub is not None else None

    def queue_ids(self, tenant_id: str) -> Collection[str]:
        setup = self._setup(tenant_id)
        return setup.queues.keys() if setup is not None else ()

    def attach(self, app: FastAPI) -> LiveHub:
        """Start folding the topics for `app`'s stream routes (call on the running loop)."""
        components = app.state.components
        board = LiveBoard(self._setup, _now_ms, self._ring_size, epoch=secrets.token_hex(6))
        hub = LiveHub(board, components.access.identity,
                      lambda: self._current().tenants.keys(), _now_ms)
        setattr(app.state, HUB_STATE, hub)
        self.hub = hub
        s = self._settings
        self._feed = EventsFeed(s.kafka_bootstrap, s.instance_id, asyncio.get_running_loop(),
                                hub.apply, hub.mark_replayed)
        self._feed.start()
        self._ticker = asyncio.create_task(self._tick(hub), name="gateway-live-tick")
        return hub

    async def _tick(self, hub: LiveHub) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            hub.tick()

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._feed is not None:
            await asyncio.to_thread(self._feed.stop)
