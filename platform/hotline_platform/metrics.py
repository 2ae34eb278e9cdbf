"""Prometheus metrics shared by services."""

from __future__ import annotations

from prometheus_client import Counter, start_http_server

EVENTS_CONSUMED = Counter("hotline_events_consumed_total", "Events consumed", ["service", "topic"])
EVENTS_PUBLISHED = Counter(
    "hotline_events_published_total", "Events published", ["service", "topic"]
)
DEAD_LETTERED = Counter(
    "hotline_events_dead_lettered_total", "Records moved to a dead-letter topic", ["service"]
)

ACK_CHECKS = Counter(
    "hotline_bus_ack_checks_total",
    "Times a publisher read its last acknowledged records back (after a lost connection)",
    ["client"],
)
EVENTS_REPUBLISHED = Counter(
    "hotline_events_republished_total",
    "Acknowledged records the broker no longer had, published again",
    ["client", "topic"],
)


def serve(port: int) -> None:
    if port:
        start_http_server(port, addr="0.0.0.0")
