"""`python -m hotline_router`: replay, reconcile, serve gRPC until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import sys

from hotline_platform import lifecycle, logs, metrics
from hotline_router.settings import RouterSettings
from hotline_router.wiring import Router

log = logging.getLogger("hotline_router")


async def run(settings: RouterSettings) -> int:
    service = Router(settings)
    return await lifecycle.serve_until_stopped(service, "router", service.wait_failed)


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
