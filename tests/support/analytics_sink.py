"""The analytics sink as integration tests run it: in process, on the session's real broker
and ClickHouse, in a database and consumer group of its own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc

from hotline.analytics.v1 import reports_pb2_grpc
from hotline_analytics.settings import AnalyticsSettings
from hotline_analytics.wiring import AnalyticsSink, ReadApi, start_grpc
from hotline_cli.embedded import find_free_port
from hotline_platform import codec
from hotline_platform.bus import EventPublisher


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


@contextmanager
def stored_events(
    settings: AnalyticsSettings, events: Sequence[tuple[Any, Any]], client_id: str
) -> Iterator[None]:
    """A running sink that has stored every one of `events` ((topic, event) pairs, published
    here) in ClickHouse, within 60 s."""
    with running_sink(settings) as sink:
        publisher = EventPublisher(settings.kafka_bootstrap, client_id)
        for topic, event in events:
            publisher.publish(topic, event)
        publisher.flush()
        client = settings.clickhouse().client()
        ids = tuple(e.envelope.event_id for _, e in events)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert sink.is_alive(), "the sink died"
                found = client.execute(
                    f"SELECT uniqExact(event_id) FROM {settings.clickhouse_database}.events"
                    " WHERE event_id IN %(ids)s",
                    {"ids": ids},
                )[0][0]
                if found == len(ids):
                    break
                assert time.monotonic() < deadline, f"{found} of {len(ids)} events stored"
                time.sleep(0.1)
            yield
        finally:
            client.disconnect()


def serve_reports(
    settings: AnalyticsSettings,
    config: Any,
    exercise: Callable[[reports_pb2_grpc.ReportsStub], Awaitable[None]],
) -> None:
    """The Reports gRPC API of `settings` with tenancy `config`, on a fresh port, while
    `exercise` calls it."""
    settings = settings.model_copy(update={"grpc_port": find_free_port()})

    async def run() -> None:
        api = ReadApi(settings, config)
        server = await start_grpc(settings, api)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{settings.grpc_port}") as channel:
                await exercise(reports_pb2_grpc.ReportsStub(channel))
        finally:
            await server.stop(1)
            api.close()

    asyncio.run(run())


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
