"""ClickHouse adapters: schema creation, the columnar `events` writer, the report queries."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from clickhouse_driver import Client

from hotline_analytics.adapters import queries
from hotline_analytics.adapters.schema import (
    EXISTING_COLUMNS_SQL,
    check_identifier,
    migration_statements,
    schema_statements,
)
from hotline_analytics.application.ports import RowBatch
from hotline_analytics.domain.kpi import TALLY_FIELDS, InteractionFacts, QueueTally, Split

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClickHouseSettings:
    host: str = "127.0.0.1"
    port: int = 19000
    database: str = "hotline"
    user: str = "default"
    password: str = ""

    def client(self) -> Client:
        return Client(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            connect_timeout=5,
            send_receive_timeout=300,
            settings={"insert_block_size": 1_048_576},
        )


def create_schema(client: Client, database: str) -> None:
    """Migrate tables an older version created, then create what is missing (idempotent)."""
    existing: dict[str, set[str]] = {}
    for table, column in client.execute(EXISTING_COLUMNS_SQL, {"database": database}):
        existing.setdefault(table, set()).add(column)
    for statement in migration_statements(database, existing):
        log.info("schema migration: %s", statement)
        client.execute(statement)
    for statement in schema_statements(database):
        client.execute(statement)


class ClickHouseEventStore:
    """EventStore: one native columnar INSERT per batch."""

    def __init__(self, client: Client, database: str) -> None:
        self._client = client
        self._table = f"{check_identifier(database)}.events"

    def insert(self, batch: RowBatch) -> None:
        names, columns = batch.columns()
        self._client.execute(
            f"INSERT INTO {self._table} ({', '.join(names)}) VALUES",
            columns,
            columnar=True,
            types_check=False,
        )


def _month_start(ms: int) -> date:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return date(moment.year, moment.month, 1)


def _period_params(tenant_id: str, start_ms: int, end_ms: int) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "start_ms": start_ms,
        "end_ms": end_ms,
        "start_month": _month_start(start_ms),
    }


def threshold_params(thresholds_s: Mapping[str, int]) -> dict[str, Any]:
    # 18.16 cannot type an empty array literal: the first pair is a sentinel no queue id equals.
    queues = ["\x00", *thresholds_s]
    return {"queues": queues, "thresholds": [0, *(int(thresholds_s[q]) for q in queues[1:])]}


class ClickHouseReports:
    """TallySource and the other read models, over the `interactions` table."""

    def __init__(self, client: Client, database: str) -> None:
        self._client = client
        self._db = check_identifier(database)

    def queue_tallies(
        self,
        tenant_id: str,
        start_ms: int,
        end_ms: int,
        thresholds_s: Mapping[str, int],
        short_abandon_ms: int,
    ) -> dict[str, QueueTally]:
        rows = self._tallies(tenant_id, start_ms, end_ms, thresholds_s, short_abandon_ms, None)
        return {row[0]: QueueTally(*(int(v) for v in row[1:])) for row in rows}

    def split_tallies(
        self,
        tenant_id: str,
        start_ms: int,
        end_ms: int,
        thresholds_s: Mapping[str, int],
        short_abandon_ms: int,
        split: Split,
    ) -> dict[tuple[str, str], QueueTally]:
        rows = self._tallies(tenant_id, start_ms, end_ms, thresholds_s, short_abandon_ms, split)
        return {(row[0], row[1]): QueueTally(*(int(v) for v in row[2:])) for row in rows}

    def _tallies(
        self,
        tenant_id: str,
        start_ms: int,
        end_ms: int,
        thresholds_s: Mapping[str, int],
        short_abandon_ms: int,
        split: Split | None,
    ) -> list[Any]:
        params = _period_params(tenant_id, start_ms, end_ms)
        params.update(threshold_params(thresholds_s))
        params["short_abandon_ms"] = short_abandon_ms
        if split is not None:
            params.update(queries.split_params(split))
        rows, columns = self._client.execute(
            queries.tallies_sql(self._db, split),
            params,
            with_column_types=True,
        )
        names = tuple(name for name, _ in columns[1 if split is None else 2 :])
        if names != TALLY_FIELDS:
            raise RuntimeError(f"tally columns {names} are not QueueTally's {TALLY_FIELDS}")
        return list(rows)

    def interaction_facts(
        self, tenant_id: str, start_ms: int, end_ms: int
    ) -> list[InteractionFacts]:
        """Facts of the contacts of `tenant_id` queued in [start_ms, end_ms)."""
        rows, columns = self._client.execute(
            queries.facts_sql(self._db),
            _period_params(tenant_id, start_ms, end_ms),
            with_column_types=True,
        )
        names = [name for name, _ in columns]
        out = []
        for row in rows:
            values = dict(zip(names, row, strict=True))
            values["service_level_threshold_s"] = values.pop("sl_threshold_s")
            out.append(InteractionFacts(**{k: values[k] for k in _FACT_FIELDS}))
        return out

    def outcome_counts(
        self, tenant_id: str | None = None, short_abandon_ms: int = 5000
    ) -> list[dict[str, Any]]:
        """Distinct interactions per tenant, queue and outcome (queued or not; all time)."""
        params: dict[str, Any] = {"short_abandon_ms": short_abandon_ms}
        if tenant_id is not None:
            params["tenant_id"] = tenant_id
        rows = self._client.execute(
            queries.outcome_counts_sql(self._db, tenant=tenant_id is not None), params
        )
        return [
            {"tenant_id": t, "queue_id": q, "outcome": o, "interactions": int(n)}
            for t, q, o, n in rows
        ]

    def event_count(self) -> int:
        """Distinct events stored (duplicates collapsed)."""
        return int(self._client.execute(queries.EVENT_COUNT_SQL.format(db=self._db))[0][0])


_FACT_FIELDS = tuple(
    "service_level_threshold_s" if c == "sl_threshold_s" else c for c in queries.FACT_COLUMNS
) + queries.SPLIT_FACT_COLUMNS
