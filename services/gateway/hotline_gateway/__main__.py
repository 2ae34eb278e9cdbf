"""`python -m hotline_gateway`: serve the REST API (HTTP) and gRPC health until SIGTERM.

`python -m hotline_gateway --write-openapi` writes the OpenAPI document to
services/gateway/openapi.json (the committed copy the unit tests compare with the code).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

from hotline_gateway.adapters.http.context import RequestIdFilter
from hotline_gateway.settings import GatewaySettings
from hotline_platform import logs, metrics

log = logging.getLogger("hotline_gateway")

OPENAPI_FILE = Path(__file__).resolve().parents[1] / "openapi.json"


class JsonWithRequestId(logs.JsonFormatter):
    """The platform's JSON lines, plus `request_id` when the line belongs to a request."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", "")
        if not request_id:
            return line
        # The line is one JSON object: add the member before its closing brace.
        return f"{line[:-1]}, \"request_id\": {json.dumps(request_id)}}}"


def configure_logging(level: str) -> None:
    logs.configure("gateway", level)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonWithRequestId("gateway"))
        handler.addFilter(RequestIdFilter())


def write_openapi(path: Path = OPENAPI_FILE) -> Path:
    from hotline_gateway.adapters.http.app import create_app
    from hotline_gateway.adapters.http.openapi import render

    path.write_text(render(create_app()))
    return path


async def run(settings: GatewaySettings) -> int:
    from hotline_gateway.wiring import Gateway

    gateway = Gateway(settings)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await gateway.start()
    except Exception as exc:  # noqa: BLE001
        log.error("gateway failed to start: %r", exc)
        await gateway.stop()
        return 1
    stop_wait = asyncio.ensure_future(stopping.wait())
    failed = asyncio.ensure_future(gateway.wait_failed())
    await asyncio.wait([failed, stop_wait], return_when=asyncio.FIRST_COMPLETED)
    failed.cancel()
    stop_wait.cancel()
    await gateway.stop()
    if not stopping.is_set():
        log.error("gateway stopped by itself")
        return 1
    log.info("gateway stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hotline_gateway")
    parser.add_argument("--write-openapi", action="store_true",
                        help=f"write the OpenAPI document to {OPENAPI_FILE} and exit")
    args = parser.parse_args(argv)
    if args.write_openapi:
        print(f"wrote {write_openapi()}")
        return 0
    settings = GatewaySettings()
    configure_logging(settings.log_level)
    metrics.serve(settings.metrics_port)
    log.info("gateway %s starting: HTTP %d, gRPC health %d",
             settings.instance_id, settings.http_port, settings.grpc_port)
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
