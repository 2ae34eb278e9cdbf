"""The analytics sink as integration tests run it: in process, on the session's real broker
and ClickHouse, in a database and consumer group of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hotline_analytics.settings import AnalyticsSettings
from hotline_analytics.wiring import AnalyticsSink


def sink_settings(broker: str, clickhouse: Any, name: str) -> AnalyticsSettings:
    """Settings for a sink writing to database `name` as consumer group `hotline-<name>`."""
    return AnalyticsSettings(
        kafka_bootstrap=broker,
        clickhouse_host=clickhouse.host,
        clickhouse_port=clickhouse.tcp_port,
        clickhouse_database=name,
        consumer_group=f"hotline-{name}",
        batch_max_wait_s=0.1,
        instance_id=name,
    )


@contextmanager
def running_sink(settings: AnalyticsSettings) -> Iterator[AnalyticsSink]:
    sink = AnalyticsSink(settings)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
