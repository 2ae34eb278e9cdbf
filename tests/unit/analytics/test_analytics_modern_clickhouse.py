"""The sink's DDL and report SQL on a current ClickHouse engine (chdb, in-process).

Production runs a current ClickHouse while these machines run 18.16: the same statements must
work on both. The 18.16 side is covered by tests/integration/test_analytics_sink.py; this runs
the DDL, a columnar-equivalent insert of mapped rows (twice: duplicates) and the report queries
on chdb, and checks them against the pure domain rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from analytics_helpers import record_of
from clickhouse_driver.util.escape import escape_param, escape_params

from hotline_analytics.adapters import queries
from hotline_analytics.adapters.clickhouse import _period_params, threshold_params
from hotline_analytics.adapters.rows import COLUMN_NAMES, EventBatch
from hotline_analytics.adapters.schema import schema_statements
from hotline_analytics.adapters.synthetic import Call, CallEnd, call_events
from hotline_analytics.domain.kpi import TALLY_FIELDS, CountingRules, InteractionFacts, tally

chdb_session = pytest.importorskip("chdb.session", reason="chdb (current ClickHouse) is missing")

DB = "hotline_modern"
T0 = int(datetime(2026, 11, 2, 10, tzinfo=UTC).timestamp() * 1000)
CALLS = [
    Call("acme", T0 + 1_000, wait_ms=5_000, talk_ms=60_000, wrap_up_ms=10_000),
    Call("acme", T0 + 2_000, wait_ms=20_000, talk_ms=120_000, hold_ms=10_000, wrap_up_ms=20_000),
    Call("acme", T0 + 3_000, wait_ms=40_000, rejected_offers=1, wrap_up_ended=False),
    Call("acme", T0 + 4_000, end=CallEnd.ABANDONED, wait_ms=30_000),
    Call("acme", T0 + 5_000, end=CallEnd.ABANDONED, wait_ms=2_000),
    Call("acme", T0 + 6_000, end=CallEnd.ABANDONED_WHILE_OFFERED, wait_ms=12_000),
    Call("acme", T0 + 7_000, end=CallEnd.WAITING),
    Call("acme", T0 + 8_000, end=CallEnd.CONTAINED),
    Call("acme", T0 + 9_000, queue_id="sales", wait_ms=16_000),
    Call("other", T0 + 1_000, wait_ms=1_000),
]


def _literal(value: Any) -> str:
    if isinstance(value, bytes):
        return f"unhex('{value.hex()}')"
    if isinstance(value, bool | int):
        return str(int(value))
    return str(escape_param(value, None))


def _insert(session: Any, rows: Sequence[Sequence[Any]]) -> None:
    values = ",".join("(" + ",".join(_literal(v) for v in row) + ")" for row in rows)
    session.query(f"INSERT INTO {DB}.events ({', '.join(COLUMN_NAMES)}) VALUES {values}")


def _select(session: Any, sql: str, params: dict[str, Any]) -> list[list[str]]:
    text = str(session.query(sql % escape_params(params, None), "TabSeparated"))
    return [line.split("\t") for line in text.splitlines() if line]


@pytest.fixture(scope="module")
def session() -> Any:
    s = chdb_session.Session()
    for statement in schema_statements(DB):
        s.query(statement)
    events = [pair for call in CALLS for pair in call_events(call)]
    batch = EventBatch()
    for topic, event in events:
        batch.add(record_of(topic, event))
    rows = [[row[c] for c in COLUMN_NAMES] for row in batch.rows()]
    _insert(s, rows)
    _insert(s, rows)  # every event delivered twice
    yield s
    s.close()


def test_version_is_current(session: Any) -> None:
    major = int(str(session.query("SELECT version()", "TabSeparated")).strip().split(".")[0])
    assert major >= 24


def test_tallies_match_the_domain_rules_on_a_current_engine(session: Any) -> None:
    thresholds = {"support": 20, "sales": 15}
    params = _period_params("acme", T0, T0 + 3_600_000)
    params.update(threshold_params(thresholds))
    params["short_abandon_ms"] = 5_000
    got = {
        r[0]: dict(zip(TALLY_FIELDS, map(int, r[1:]), strict=True))
        for r in _select(session, queries.tallies_sql(DB), params)
    }

    facts_rows = _select(session, queries.facts_sql(DB), _period_params("acme", T0, T0 + 3_600_000))
    facts = []
    for r in facts_rows:
        values: dict[str, Any] = dict(zip(queries.FACT_COLUMNS, r, strict=False))
        values["service_level_threshold_s"] = values.pop("sl_threshold_s")
        fields = InteractionFacts.__dataclass_fields__
        facts.append(
            InteractionFacts(
                **{k: (int(v) if fields[k].type == "int" else v) for k, v in values.items()}
            )
        )
    assert len(facts) == 8  # acme's queued calls (not the contained one, not other tenants)
    expected = {
        q: tally([f for f in facts if f.queue_id == q], thresholds[q], CountingRules()).as_dict()
        for q in thresholds
    }
    assert got == expected
    support = got["support"]
    assert (support["queued"], support["answered"], support["answered_within_t"]) == (7, 3, 2)
    assert (support["abandoned"], support["short_abandoned"], support["waiting"]) == (2, 1, 1)
    assert support["handled"] == 2
    assert got["sales"]["answered_within_t"] == 0


def test_outcome_counts_on_a_current_engine(session: Any) -> None:
    sql = queries.outcome_counts_sql(DB, tenant=False)
    rows = _select(session, sql, {"short_abandon_ms": 5000})
    counts = {(t, q, o): int(n) for t, q, o, n in rows}
    assert counts == {
        ("acme", "", "contained"): 1,
        ("acme", "sales", "answered"): 1,
        ("acme", "support", "abandoned"): 2,
        ("acme", "support", "answered"): 3,
        ("acme", "support", "short_abandoned"): 1,
        ("acme", "support", "waiting"): 1,
        ("other", "support", "answered"): 1,
    }
