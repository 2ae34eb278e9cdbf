"""`python -m hotline_ingress_sip`: the Kubernetes entrypoint of ingress-sip.

Creates missing topics, serves SIP over UDP and the gRPC health service, and runs until
SIGTERM/SIGINT; then refuses new calls, ends live ones, stops consuming, flushes events.
Exits 1 if the offers consumer dies (so the orchestrator restarts the instance).
"""

from __future__ import annotations

import asyncio
import logging
import signal

from hotline_ingress_sip.adapters.kafka_events import SERVICE
from hotline_ingress_sip.settings import IngressSipSettings
from hotline_ingress_sip.wiring import build
from hotline_platform import grpc_server, logs, metrics
from hotline_platform.bus import ensure_topics

log = logging.getLogger("hotline_ingress_sip")


async def run(settings: IngressSipSettings) -> int:
    service = build(settings)
    await asyncio.to_thread(ensure_topics, settings.kafka_bootstrap)
    metrics.serve(settings.metrics_port)
    await service.start()
    health = await grpc_server.start(
        settings.grpc_port, lambda _server: None, credentials=settings.grpc_credentials()
    )
    log.info("ready (gRPC health on port %s)", settings.grpc_port)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    code = 0
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            if not service.consumer.alive:
                log.error("offers consumer died: %r", service.consumer.failed)
                code = 1
                break
    log.info("shutting down")
    await health.stop(5)
    await service.stop()
    return 1 if service.events_lost else code


def main() -> None:
    settings = IngressSipSettings()
    logs.configure(SERVICE, settings.log_level)
    raise SystemExit(asyncio.run(run(settings)))


if __name__ == "__main__":
    main()
