"""The analytics sink as integration tests run it: in process, on the session's real broker
and ClickHouse, in a database and consumer group of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hotline_analytics.settings import AnalyticsSettings
from hotline_analytics.wiring import AnalyticsSink
from hotline_platform import codec


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


@dataclass
class FakeRecord:
    _topic: str
    _value: bytes | None
    _key: bytes | None = None
    _partition: int = 3
    _offset: int = 42

    def topic(self) -> str | None:
        return self._topic

    def partition(self) -> int | None:
        return self._partition

    def offset(self) -> int | None:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value


def record_of(topic: Any, event: Any) -> FakeRecord:
    """The Kafka record a publisher would produce for `event` on `topic`."""
    return FakeRecord(topic.name, codec.encode(event), event.envelope.tenant_id.encode())
