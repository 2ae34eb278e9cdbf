"""`python -m hotline_directory`: replay the directory, serve gRPC until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from hotline_directory.settings import DirectorySettings
from hotline_directory.wiring import Directory
from hotline_platform import logs, metrics

log = logging.getLogger("hotline_directory")


async def run(settings: DirectorySettings) -> int:
    service = Directory(settings)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    stop_wait = asyncio.ensure_future(stopping.wait())
    start = asyncio.ensure_future(service.start())
    done, _ = await asyncio.wait([start, stop_wait], return_when=asyncio.FIRST_COMPLETED)
    if start not in done:  # asked to stop during replay
        start.cancel()
        await service.stop()
        return 0
    if start.exception() is not None:
        log.error("directory failed to start: %r", start.exception())
        stop_wait.cancel()
        await service.stop()
        return 1
    await stop_wait
    await service.stop()
    log.info("directory stopped")
    return 0


def main() -> int:
    settings = DirectorySettings()
    logs.configure("directory", settings.log_level)
    metrics.serve(settings.metrics_port)
    log.info(
        "directory %s starting: broker %s, gRPC %d",
        settings.instance_id, settings.kafka_bootstrap, settings.grpc_port,
    )
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
