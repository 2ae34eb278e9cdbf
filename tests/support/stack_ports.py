"""The embedded stack's port settings that system tests set to fresh ports (HOTLINE_<name>)."""

from __future__ import annotations

import random
import socket

PORTS = (
    "OBJECT_STORE_PORT",
    "BROKER_PORT",
    "CLICKHOUSE_TCP_PORT",
    "CLICKHOUSE_HTTP_PORT",
    "SIP_PORT",
    "INGRESS_SIP_GRPC_PORT",
    "ROUTER_GRPC_PORT",
    "ANALYTICS_GRPC_PORT",
    "INGRESS_SIP_METRICS_PORT",
    "ROUTER_METRICS_PORT",
    "ANALYTICS_METRICS_PORT",
    "GATEWAY_HTTP_PORT",
    "GATEWAY_GRPC_PORT",
    "GATEWAY_METRICS_PORT",
    "WFM_GRPC_PORT",
    "WFM_METRICS_PORT",
    "DIRECTORY_GRPC_PORT",
    "DIRECTORY_METRICS_PORT",
    "MEDIA_RELAY_NG_PORT",
    "MEDIA_RELAY_CLI_PORT",
    "MEDIA_DTMF_PORT",
)
# Below Linux's ephemeral range (32768-60999): a port the kernel hands out (bind to 0) can be
# taken by any outgoing connection between the moment it is picked and the moment the stack's
# process binds it (seen: the analytics sink's gRPC port "already in use" at start-up).
LOW, HIGH = 20_000, 32_000


def _free(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def fresh_ports() -> dict[str, str]:
    """HOTLINE_<port setting> -> a distinct port, free right now (TCP and UDP) and outside the
    ephemeral range, for every setting in PORTS."""
    chosen: set[int] = set()
    while len(chosen) < len(PORTS):
        port = random.randrange(LOW, HIGH)
        if port not in chosen and _free(port):
            chosen.add(port)
    return {f"HOTLINE_{name}": str(port) for name, port in zip(PORTS, sorted(chosen), strict=True)}
