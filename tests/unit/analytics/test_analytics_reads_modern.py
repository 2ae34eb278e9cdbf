"""The read API's SQL (adapters/interaction_reads.py) on a current ClickHouse engine (chdb,
in-process); the 18.16 side is tests/integration/test_analytics_reads.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from analytics_helpers import record_of
from clickhouse_driver.util.escape import escape_param, escape_params

from hotline_analytics.adapters.interaction_reads import ClickHouseReads
from hotline_analytics.adapters.rows import COLUMN_NAMES, EventBatch
from hotline_analytics.adapters.schema import schema_statements
from hotline_analytics.adapters.synthetic import Call, CallEnd, call_events
from hotline_analytics.domain.lifecycle import EndedTwice

chdb_session = pytest.importorskip("chdb.session", reason="chdb (current ClickHouse) is missing")

DB = "hotline_modern_reads"
T0 = int(datetime(2026, 11, 2, 10, tzinfo=UTC).timestamp() * 1000)
CALLER = "+351910000001"
CALLS = [
    Call("acme", T0 + 1_000, interaction_id="a1", caller=CALLER, wait_ms=5_000),
    Call("acme", T0 + 2_000, interaction_id="a2", caller=CALLER, queue_id="sales",
         end=CallEnd.ABANDONED, wait_ms=30_000),
    Call("acme", T0 + 3_000, interaction_id="a3", caller="+34600000000", end=CallEnd.WAITING),
    Call("other", T0 + 1_000, interaction_id="o1", caller=CALLER),
]


def _literal(value: Any) -> str:
    if isinstance(value, bytes):
        return f"unhex('{value.hex()}')"
    if isinstance(value, bool | int):
        return str(int(value))
    return str(escape_param(value, None))


def _insert(session: Any, rows: list[list[Any]]) -> None:
    values = ",".join("(" + ",".join(_literal(v) for v in row) + ")" for row in rows)
    session.query(f"INSERT INTO {DB}.events ({', '.join(COLUMN_NAMES)}) VALUES {values}")


class ChdbClient:
    """The part of clickhouse_driver.Client the adapter uses, over a chdb session."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def execute(self, sql: str, params: dict[str, Any]) -> list[list[Any]]:
        text = str(
            self._session.query(
                sql % escape_params(params, None)
                + " SETTINGS output_format_json_quote_64bit_integers = 0",
                "JSONCompact",
            )
        )
        return json.loads(text)["data"] if text.strip() else []


class ChdbPool:
    def __init__(self, session: Any) -> None:
        self._client = ChdbClient(session)

    @contextmanager
    def client(self) -> Iterator[ChdbClient]:
        yield self._client


@pytest.fixture(scope="module")
def reads() -> Iterator[ClickHouseReads]:
    s = chdb_session.Session()
    s.query(f"DROP DATABASE IF EXISTS {DB}")
    for statement in schema_statements(DB):
        s.query(statement)
    batch = EventBatch()
    for call in CALLS:
        for topic, event in call_events(call):
            batch.add(record_of(topic, event))
    rows = [[row[c] for c in COLUMN_NAMES] for row in batch.rows()]
    _insert(s, rows)
    _insert(s, rows)  # every event delivered twice
    yield ClickHouseReads(ChdbPool(s), DB)  # type: ignore[arg-type]
    s.query(f"DROP DATABASE IF EXISTS {DB}")
    s.close()


def test_contacts_by_identity(reads: ClickHouseReads) -> None:
    found = reads.contacts_by_identity("acme", "phone", CALLER, 10, "")
    assert [r.facts.interaction_id for r in found] == ["a2", "a1"]
    a2, a1 = found
    assert (a1.facts.queue_id, a1.channel, a1.disposition_code, a1.resolved) == (
        "support", "VOICE", "resolved", True
    )
    assert a1.arrived_at_ms == T0 + 1_000 and a1.facts.answered_at_ms > 0
    assert (a2.facts.queue_id, a2.facts.abandoned_at_ms > 0) == ("sales", True)
    assert [r.facts.interaction_id for r in reads.contacts_by_identity(
        "acme", "phone", CALLER, 1, "a2"
    )] == ["a1"]
    assert reads.contacts_by_identity("acme", "email", CALLER, 10, "") == []


def test_lifecycle_queries(reads: ClickHouseReads) -> None:
    assert reads.unfinished("acme", T0, T0 + 3_600_000) == ["a3"]
    assert reads.ended_twice("acme", T0, T0 + 3_600_000) == []
    assert reads.ended_twice("nobody", T0, T0 + 3_600_000) == list[EndedTwice]()
    steps = reads.offer_steps("acme", T0)
    assert {s.kind for s in steps} == {"offered", "offer_accepted", "completed", "abandoned"}
    assert all(isinstance(s.at_ms, int) for s in steps)
