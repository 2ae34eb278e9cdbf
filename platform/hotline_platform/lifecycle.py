"""A service process's life: start (which may be long: a replay of the log), serve until SIGTERM
or SIGINT, or until the service reports a failure, then stop. The `__main__` of each service."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)


class Service(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def serve_until_stopped(
    service: Service,
    name: str,
    wait_failed: Callable[[], Awaitable[BaseException]] | None = None,
) -> int:
    """Exit status: 0 when asked to stop (also during start-up), 1 when start-up failed or
    `wait_failed` returned (the service's own failure: the supervisor restarts it)."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    stop_wait = asyncio.ensure_future(stopping.wait())
    start = asyncio.ensure_future(service.start())
    done, _ = await asyncio.wait([start, stop_wait], return_when=asyncio.FIRST_COMPLETED)
    if start not in done:  # asked to stop during start-up
        start.cancel()
        await service.stop()
        return 0
    if start.exception() is not None:
        log.error("%s failed to start: %r", name, start.exception())
        stop_wait.cancel()
        await service.stop()
        return 1
    failed = asyncio.ensure_future(wait_failed()) if wait_failed is not None else None
    await asyncio.wait(
        [stop_wait] + ([failed] if failed is not None else []),
        return_when=asyncio.FIRST_COMPLETED,
    )
    stop_wait.cancel()
    failure = None
    if failed is not None:
        if failed.done() and not failed.cancelled():
            failure = failed.result()
        failed.cancel()
    await service.stop()
    if failure is not None:
        log.error("%s stopped after a failure: %r", name, failure)
        return 1
    log.info("%s stopped", name)
    return 0
