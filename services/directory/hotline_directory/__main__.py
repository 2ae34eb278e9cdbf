"""`python -m hotline_directory`: replay the directory, serve gRPC until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import sys

from hotline_directory.settings import DirectorySettings
from hotline_directory.wiring import Directory
from hotline_platform import lifecycle, logs, metrics

log = logging.getLogger("hotline_directory")


async def run(settings: DirectorySettings) -> int:
    service = Directory(settings)
    return await lifecycle.serve_until_stopped(service, "directory")


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
