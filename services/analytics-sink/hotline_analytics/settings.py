"""Settings of the analytics sink, from HOTLINE_* environment variables."""

from __future__ import annotations

from hotline_analytics import CONSUMER_GROUP
from hotline_analytics.adapters.clickhouse import ClickHouseSettings
from hotline_platform.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    clickhouse_host: str = "127.0.0.1"
    clickhouse_port: int = 19000  # native protocol
    clickhouse_database: str = "hotline"
    clickhouse_user: str = "default"
    clickhouse_password: str = ""
    # Kafka consumer group (one group = one copy of the data; tests use their own).
    consumer_group: str = CONSUMER_GROUP
    # gRPC port: the Reports API and the standard health service (Kubernetes probes it).
    grpc_port: int = 50053
    # One ClickHouse INSERT per batch: up to this many records, or what arrived in max wait.
    batch_size: int = 50_000
    batch_max_wait_s: float = 0.5

    def clickhouse(self) -> ClickHouseSettings:
        return ClickHouseSettings(
            host=self.clickhouse_host,
            port=self.clickhouse_port,
            database=self.clickhouse_database,
            user=self.clickhouse_user,
            password=self.clickhouse_password,
        )
