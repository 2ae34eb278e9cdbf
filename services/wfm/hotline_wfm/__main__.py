"""`python -m hotline_wfm`: serve the staffing gRPC API until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import sys

from hotline_platform import lifecycle, logs, metrics
from hotline_wfm.settings import WfmSettings
from hotline_wfm.wiring import Wfm

log = logging.getLogger("hotline_wfm")


async def run(settings: WfmSettings) -> int:
    service = Wfm(settings)
    return await lifecycle.serve_until_stopped(service, "wfm")


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
