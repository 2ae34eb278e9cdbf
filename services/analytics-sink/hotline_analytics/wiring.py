"""Hand wiring of the analytics sink: the consumer (events -> ClickHouse), the read API
(`hotline.analytics.v1.Reports` over gRPC), and report helpers for tests."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import grpc

from hotline_analytics import SERVICE
from hotline_analytics.adapters import grpc_api
from hotline_analytics.adapters.audit import SinkBatch, SinkStore
from hotline_analytics.adapters.clickhouse import (
    ClickHouseReports,
    ClickHouseSettings,
    create_schema,
)
from hotline_analytics.adapters.interaction_reads import ClickHouseReads, ClientPool
from hotline_analytics.adapters.kafka import BatchConsumer, KafkaDeadLetters
from hotline_analytics.application.ingest import IngestBatch, IngestResult, MappedBatch
from hotline_analytics.application.ports import Record
from hotline_analytics.application.reads import ReportsService
from hotline_analytics.application.report import build_report, format_report
from hotline_analytics.domain.kpi import CountingRules, Split
from hotline_analytics.settings import AnalyticsSettings
from hotline_platform import auth, directory, grpc_server, identity, metrics
from hotline_platform.bus import EventPublisher, ensure_topics
from hotline_platform.tenancy import TenancyConfig
from hotline_platform.topics import AUDIT_TOPICS, EVENT_TOPICS, dead_letter_topic

# Contract events -> `events`; every service's audit topic -> `content_access`.
TOPICS = (*EVENT_TOPICS, *AUDIT_TOPICS)

__all__ = [
    "AnalyticsSink",
    "ReadApi",
    "build_sink",
    "format_report",
    "kpi_report",
    "outcome_counts",
    "start_grpc",
]

# Read API calls answered at once (worker threads, each with its own ClickHouse client).
READ_CONCURRENCY = 8

log = logging.getLogger(__name__)


def _clickhouse(settings: AnalyticsSettings | ClickHouseSettings) -> ClickHouseSettings:
    return settings.clickhouse() if isinstance(settings, AnalyticsSettings) else settings


class AnalyticsSink:
    """The service: every event topic -> ClickHouse, in batches, at-least-once, idempotent.

    `run(stop)` blocks (the Kubernetes entrypoint); `start()` / `stop()` run it in a thread
    (demo, tests and benchmark run it in-process).
    """

    def __init__(self, settings: AnalyticsSettings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stored = 0
        self.dead_lettered = 0
        self.error: BaseException | None = None

    def prepare(self) -> None:
        """Create the topics (declared partition counts) and the ClickHouse schema."""
        ensure_topics(self.settings.kafka_bootstrap, (*TOPICS, dead_letter_topic(SERVICE)))
        ch = self.settings.clickhouse()
        client = ch.client()
        try:
            create_schema(client, ch.database)
        finally:
            client.disconnect()

    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or self._stop
        s = self.settings
        ch = s.clickhouse()
        client = ch.client()
        publisher = EventPublisher(s.kafka_bootstrap, f"{SERVICE}/{s.instance_id}")
        dead_letters = KafkaDeadLetters(publisher, SERVICE)
        ingest = IngestBatch(SinkBatch, SinkStore(client, ch.database), dead_letters)
        consumer = BatchConsumer(
            s.kafka_bootstrap,
            s.consumer_group,
            TOPICS,
            batch_size=s.batch_size,
            max_wait_s=s.batch_max_wait_s,
            client_id=f"{SERVICE}/{s.instance_id}",
        )

        def prepare(records: Sequence[Record]) -> tuple[MappedBatch, Counter[str]]:
            return ingest.map(records), Counter(r.topic() or "" for r in records)

        def store(prepared: tuple[MappedBatch, Counter[str]]) -> IngestResult:
            mapped, per_topic = prepared
            result = ingest.store(mapped)
            self.stored += result.stored
            self.dead_lettered += result.dead_lettered
            for topic, n in per_topic.items():
                metrics.EVENTS_CONSUMED.labels(SERVICE, topic).inc(n)
            metrics.DEAD_LETTERED.labels(SERVICE).inc(result.dead_lettered)
            return result

        log.info("consuming %s as group %s", [t.name for t in TOPICS], s.consumer_group)
        try:
            consumer.run(prepare, store, stop)
        finally:
            publisher.flush(timeout=10)
            client.disconnect()
            log.info("stopped: %d events stored, %d dead-lettered", self.stored, self.dead_lettered)

    def start(self) -> None:
        self.prepare()

        def target() -> None:
            try:
                self.run(self._stop)
            except BaseException as exc:  # surfaced by stop() and is_alive()
                self.error = exc
                log.exception("analytics sink stopped on an error")

        self._thread = threading.Thread(target=target, name=SERVICE, daemon=True)
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 15) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.error is not None:
            raise RuntimeError("analytics sink failed") from self.error


def build_sink(settings: AnalyticsSettings | None = None) -> AnalyticsSink:
    return AnalyticsSink(settings or AnalyticsSettings())


class ReadApi:
    """The read API's parts: the tenancy config (tenant guard, KPI contracts), a pool of
    ClickHouse clients and the worker threads that use them (the gRPC server's event loop
    never blocks on ClickHouse). `register(server)` adds `Reports` to a gRPC server;
    `close()` frees the threads and clients."""

    def __init__(
        self, settings: AnalyticsSettings, tenancy_config: TenancyConfig | None = None
    ) -> None:
        # Tenants and their KPI contracts: the live directory (HOTLINE_DIRECTORY=on; a tenant
        # or contract change applies to the next request), the YAML file (off), or as given.
        self.directory = (
            directory.StaticTenancy(tenancy_config)
            if tenancy_config is not None
            else directory.tenancy_source(
                settings.directory, settings.config_path, settings.kafka_bootstrap, SERVICE,
                settings.instance_id,
            )
        )
        self.directory.start()
        self._delegation = identity.Delegation.from_setting(settings.delegation_key)
        self.pool = ClientPool(settings.clickhouse(), READ_CONCURRENCY)
        self.executor = ThreadPoolExecutor(READ_CONCURRENCY, thread_name_prefix="reports")
        store = ClickHouseReads(self.pool, settings.clickhouse_database)
        self.service = ReportsService(store, self.directory.current)

    @property
    def tenancy(self) -> TenancyConfig:
        return self.directory.current()

    def register(self, server: grpc.aio.Server) -> None:
        grpc_api.register(
            server, self.service, self.directory.current, self.executor,
            resolver=auth.live_resolver(
                self.directory.current,
                delegation=self._delegation,
            ),
        )

    def close(self) -> None:
        self.directory.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.pool.close()


async def start_grpc(settings: AnalyticsSettings, api: ReadApi) -> grpc.aio.Server:
    """Serve `Reports` and the health service on `grpc_port` (TLS per the settings)."""
    return await grpc_server.start(
        settings.grpc_port,
        api.register,
        grpc_api.SERVICE_NAMES,
        credentials=settings.grpc_credentials(),
    )


def kpi_report(
    settings: AnalyticsSettings | ClickHouseSettings,
    tenancy: TenancyConfig,
    tenant_id: str,
    start: datetime,
    end: datetime,
    rules: CountingRules | None = None,
    split: Split | None = None,
) -> dict[str, Any]:
    """The KPI report of `tenant_id` for contacts queued in [start, end) (naive = UTC)."""
    ch = _clickhouse(settings)
    client = ch.client()
    try:
        return build_report(
            ClickHouseReports(client, ch.database), tenancy, tenant_id, start, end, rules, split
        )
    finally:
        client.disconnect()


def outcome_counts(
    settings: AnalyticsSettings | ClickHouseSettings,
    tenant_id: str | None = None,
    short_abandon_s: float = 5.0,
) -> list[dict[str, Any]]:
    """Distinct interactions per tenant, queue and outcome (for the system test against sipp).

    Rows: {"tenant_id", "queue_id" ("" if never queued), "outcome", "interactions"}; outcomes
    are the values of hotline_analytics.domain.kpi.Outcome.
    """
    ch = _clickhouse(settings)
    client = ch.client()
    try:
        return ClickHouseReports(client, ch.database).outcome_counts(
            tenant_id, round(short_abandon_s * 1000)
        )
    finally:
        client.disconnect()
