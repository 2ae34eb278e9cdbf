"""`python -m hotline_wfm`: serve the staffing gRPC API until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from hotline_platform import logs, metrics
from hotline_wfm.settings import WfmSettings
from hotline_wfm.wiring import Wfm

log = logging.getLogger("hotline_wfm")


async def run(settings: WfmSettings) -> int:
    wfm = Wfm(settings)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await wfm.start()
    log.info("serving gRPC on %d", settings.grpc_port)
    await stopping.wait()
    await wfm.stop()
    log.info("wfm stopped")
    return 0


def main() -> int:
    settings = WfmSettings()
    logs.configure("wfm", settings.log_level)
    metrics.serve(settings.metrics_port)
    log.info(
        "wfm %s starting: ClickHouse %s:%d, gRPC %d",
        settings.instance_id, settings.clickhouse_host, settings.clickhouse_port,
        settings.grpc_port,
    )
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
