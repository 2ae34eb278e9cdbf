"""Audit events (hotline.audit.<service>.v1) -> rows of the ClickHouse `content_access` table.

One row per event: who stored or read which content reference, why, and the outcome. The
events carry references, never content, and so does the table. `SinkBatch` routes a consumed
batch to `events` (contract events) and `content_access` (audit events); `SinkStore` inserts
both (idempotent: ReplacingMergeTree on event id, like `events`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clickhouse_driver import Client

from hotline.audit.v1.events_pb2 import AuditEvent, ContentAccessed
from hotline_analytics.adapters.rows import EventBatch, enum_names
from hotline_analytics.application.ports import Record, RecordRejected, RowBatch
from hotline_platform.codec import decode
from hotline_platform.envelope import ContractViolation
from hotline_platform.topics import AUDIT_TOPICS, BY_NAME

AUDIT_TOPIC_NAMES = frozenset(t.name for t in AUDIT_TOPICS)
_OUTCOME = enum_names(ContentAccessed.Outcome.DESCRIPTOR)

# (name, ClickHouse type). `action`: "read" (ContentAccessed) or "stored" (ContentStored, whose
# outcome is STORED). `actor` is the reader or the writer as the service named it.
ACCESS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("tenant_id", "String"),
    ("event_id", "String"),
    ("occurred_at_ms", "Int64"),
    ("action", "String"),
    ("content_ref", "String"),
    ("actor", "String"),
    ("purpose", "String"),
    ("outcome", "String"),
    ("caller_tenant_id", "String"),
    ("detail", "String"),
    ("size_bytes", "Int64"),
    ("content_type", "String"),
    ("key_id", "String"),
    ("kek_version", "Int32"),
    ("interaction_id", "String"),
    ("producer", "String"),
    ("topic", "String"),
    ("kafka_partition", "UInt32"),
    ("kafka_offset", "UInt64"),
)
ACCESS_COLUMN_NAMES = tuple(name for name, _ in ACCESS_COLUMNS)


def content_access_ddl(db: str) -> str:
    columns = ",\n    ".join(f"{name} {ch_type}" for name, ch_type in ACCESS_COLUMNS)
    return f"""
CREATE TABLE IF NOT EXISTS {db}.content_access
(
    {columns},
    occurred_at DateTime('UTC') DEFAULT toDateTime(intDiv(occurred_at_ms, 1000), 'UTC'),
    ingested_at DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant_id, event_id)
"""


class AccessBatch:
    """Rows of `content_access`; `add` adds the whole row or raises RecordRejected."""

    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, record: Record) -> None:
        topic = record.topic() or ""
        try:
            event = decode(BY_NAME[topic], record.value(), record.key())
        except ContractViolation as exc:
            raise RecordRejected(str(exc)) from None
        if not isinstance(event, AuditEvent):
            raise RecordRejected(f"topic {topic} carries {type(event).__name__}, not audit")
        env = event.envelope
        at = env.occurred_at.seconds * 1000 + env.occurred_at.nanos // 1_000_000
        if event.HasField("content_accessed"):
            a = event.content_accessed
            body: tuple[Any, ...] = (
                "read",
                a.content_ref,
                a.reader,
                a.purpose,
                _OUTCOME.get(a.outcome, str(a.outcome)),
                a.caller_tenant_id,
                a.detail,
                a.size_bytes,
                a.content_type,
                "",
                0,
            )
        else:
            s = event.content_stored
            body = (
                "stored",
                s.content_ref,
                s.writer,
                s.purpose,
                "STORED",
                env.tenant_id,
                "",
                s.size_bytes,
                s.content_type,
                s.key_id,
                s.kek_version,
            )
        self._rows.append(
            (
                env.tenant_id,
                env.event_id,
                at,
                *body,
                env.interaction_id,
                env.producer,
                topic,
                record.partition() or 0,
                record.offset() or 0,
            )
        )

    def columns(self) -> tuple[list[str], list[Sequence[Any]]]:
        values: list[Sequence[Any]] = (
            list(zip(*self._rows, strict=True)) if self._rows else [() for _ in ACCESS_COLUMNS]
        )
        return list(ACCESS_COLUMN_NAMES), values

    def rows(self) -> list[dict[str, Any]]:
        return [dict(zip(ACCESS_COLUMN_NAMES, row, strict=True)) for row in self._rows]


class SinkBatch:
    """A consumed batch split by table: contract events -> `events`, audit -> `content_access`.

    `columns()` (the RowBatch protocol) is the `events` part; `SinkStore` inserts both parts."""

    def __init__(self) -> None:
        self.events = EventBatch()
        self.access = AccessBatch()

    def __len__(self) -> int:
        return len(self.events) + len(self.access)

    def add(self, record: Record) -> None:
        if (record.topic() or "") in AUDIT_TOPIC_NAMES:
            self.access.add(record)
        else:
            self.events.add(record)

    def columns(self) -> tuple[list[str], list[Sequence[Any]]]:
        return self.events.columns()


class SinkStore:
    """EventStore for SinkBatch: one columnar INSERT per non-empty table (idempotent both)."""

    def __init__(self, client: Client, database: str) -> None:
        from hotline_analytics.adapters.schema import check_identifier  # schema imports us

        self._client = client
        self._db = check_identifier(database)

    def _insert(self, table: str, part: RowBatch | AccessBatch) -> None:
        names, columns = part.columns()
        self._client.execute(
            f"INSERT INTO {self._db}.{table} ({', '.join(names)}) VALUES",
            columns,
            columnar=True,
            types_check=False,
        )

    def insert(self, batch: RowBatch) -> None:
        if not isinstance(batch, SinkBatch):
            self._insert("events", batch)
            return
        if len(batch.events):
            self._insert("events", batch.events)
        if len(batch.access):
            self._insert("content_access", batch.access)
