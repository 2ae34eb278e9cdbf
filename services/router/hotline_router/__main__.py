"""`python -m hotline_router`: replay, reconcile, serve gRPC until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from hotline_platform import logs, metrics
from hotline_router.settings import RouterSettings
from hotline_router.wiring import Router

log = logging.getLogger("hotline_router")


async def run(settings: RouterSettings) -> int:
    router = Router(settings)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    stop_wait = asyncio.ensure_future(stopping.wait())
    start = asyncio.ensure_future(router.start())
    done, _ = await asyncio.wait([start, stop_wait], return_when=asyncio.FIRST_COMPLETED)
    if start not in done:  # asked to stop during replay
        start.cancel()
        await router.stop()
        return 0
    if start.exception() is not None:
        log.error("router failed to start: %r", start.exception())
        stop_wait.cancel()
        await router.stop()
        return 1
    failed = asyncio.ensure_future(router.wait_failed())
    await asyncio.wait([failed, stop_wait], return_when=asyncio.FIRST_COMPLETED)
    failed.cancel()
    stop_wait.cancel()
    await router.stop()
    if router.failure is not None:
        log.error("router stopped after a failure: %r", router.failure)
        return 1
    log.info("router stopped")
    return 0


def main() -> int:
    settings = RouterSettings()
    logs.configure("router", settings.log_level)
    metrics.serve(settings.metrics_port)
    log.info(
        "router %s starting: broker %s, partitions %s, gRPC %d",
        settings.instance_id, settings.kafka_bootstrap, settings.partitions, settings.grpc_port,
    )
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
