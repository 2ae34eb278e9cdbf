"""The embedded stack's port settings that system tests set to fresh ports (HOTLINE_<name>)."""

from __future__ import annotations

from hotline_cli.embedded import find_free_port

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


def fresh_ports() -> dict[str, str]:
    """HOTLINE_<port setting> -> a distinct port, free right now (TCP and UDP) and outside the
    ephemeral range, for every setting in PORTS."""
    chosen: list[int] = []
    for _ in PORTS:
        chosen.append(find_free_port(avoid=chosen))
    return {f"HOTLINE_{name}": str(port) for name, port in zip(PORTS, chosen, strict=True)}
