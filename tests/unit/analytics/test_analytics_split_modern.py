"""The split report's SQL and the schema migration on a current ClickHouse engine (chdb,
in-process); tests/integration/test_analytics_split_report.py runs them on 18.16.

Every split's SQL tallies equal the domain's (`domain.kpi.split_tallies`) over the facts the
facts query returns; the migration brings tables of the DDL of before the split to today's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from analytics_helpers import record_of
from clickhouse_driver.util.escape import escape_params
from test_analytics_modern_clickhouse import _literal

from hotline_analytics.adapters import queries, schema
from hotline_analytics.adapters.clickhouse import _period_params, threshold_params
from hotline_analytics.adapters.rows import COLUMN_NAMES, EventBatch
from hotline_analytics.adapters.synthetic import Call, CallEnd, call_events
from hotline_analytics.domain.kpi import (
    TALLY_FIELDS,
    CountingRules,
    InteractionFacts,
    QueueTally,
    Split,
    SplitBy,
    split_tallies,
)

chdb_session = pytest.importorskip("chdb.session", reason="chdb (current ClickHouse) is missing")

DB = "hotline_split_modern"
OLD_DB = "hotline_split_migrated"
T0 = int(datetime(2026, 11, 5, 10, tzinfo=UTC).timestamp() * 1000)
THRESHOLDS = {"support": 20}
CALLS = [
    Call("acme", T0 + 1_000, wait_ms=5_000, priority=2),
    Call("acme", T0 + 2_000, wait_ms=25_000, agent_site_id="porto", routing_steps=1),
    Call("acme", T0 + 3_000, wait_ms=9_000, agent_site_id="porto", routing_steps=2,
         rejected_offers=1, priority=11),
    Call("acme", T0 + 4_000, end=CallEnd.ABANDONED, wait_ms=30_000, routing_steps=2,
         priority=6),
    Call("acme", T0 + 5_000, end=CallEnd.ABANDONED_WHILE_OFFERED, wait_ms=12_000,
         agent_site_id="porto", routing_steps=1),
    Call("acme", T0 + 6_000, end=CallEnd.WAITING, priority=-1),
    Call("acme", T0 + 7_000, queue_id="legacy", wait_ms=25_000, sl_threshold_s=30),
]
SPLITS = (
    Split(SplitBy.SITE),
    Split(SplitBy.BULLSEYE_STEP),
    Split(SplitBy.PRIORITY_BAND),
    Split(SplitBy.PRIORITY_BAND, (0, 3, 7)),
)


def _rows(calls: Sequence[Call]) -> tuple[list[str], list[list[Any]]]:
    batch = EventBatch()
    for call in calls:
        for topic, event in call_events(call):
            batch.add(record_of(topic, event))
    return list(COLUMN_NAMES), [[row[c] for c in COLUMN_NAMES] for row in batch.rows()]


def _insert(session: Any, db: str, names: list[str], rows: list[list[Any]]) -> None:
    values = ",".join("(" + ",".join(_literal(v) for v in row) + ")" for row in rows)
    session.query(f"INSERT INTO {db}.events ({', '.join(names)}) VALUES {values}")


def _select(session: Any, sql: str, params: dict[str, Any]) -> list[dict[str, str]]:
    text = str(session.query(sql % escape_params(params, None), "TabSeparatedWithNames"))
    header, *lines = [line.split("\t") for line in text.splitlines() if line]
    return [dict(zip(header, line, strict=True)) for line in lines]


def _facts(session: Any, db: str) -> list[InteractionFacts]:
    types = {name: f.type for name, f in InteractionFacts.__dataclass_fields__.items()}
    out = []
    for row in _select(session, queries.facts_sql(db), _period_params("acme", T0, T0 + 3_600_000)):
        row["service_level_threshold_s"] = row.pop("sl_threshold_s")
        out.append(
            InteractionFacts(
                **{k: int(v) if types[k] == "int" else v for k, v in row.items() if k in types}
            )
        )
    return out


def _tallies(session: Any, db: str, split: Split) -> dict[tuple[str, str], QueueTally]:
    params = _period_params("acme", T0, T0 + 3_600_000)
    params.update(threshold_params(THRESHOLDS))
    params["short_abandon_ms"] = 5_000
    params.update(queries.split_params(split))
    return {
        (r["queue_id"], r["split_key"]): QueueTally(*(int(r[f]) for f in TALLY_FIELDS))
        for r in _select(session, queries.tallies_sql(db, split), params)
    }


@pytest.fixture(scope="module")
def session() -> Any:
    s = chdb_session.Session()
    for statement in schema.schema_statements(DB):
        s.query(statement)
    names, rows = _rows(CALLS)
    _insert(s, DB, names, rows)
    _insert(s, DB, names, rows)  # every event twice: no figure changes
    yield s
    s.close()


@pytest.mark.parametrize("split", SPLITS, ids=lambda s: f"{s.by}{s.priority_edges}")
def test_sql_split_tallies_equal_the_domains(session: Any, split: Split) -> None:
    facts = _facts(session, DB)
    assert len(facts) == 7
    assert _tallies(session, DB, split) == split_tallies(facts, THRESHOLDS, split, CountingRules())


def test_the_facts_of_the_answering_offer(session: Any) -> None:
    by_queued = sorted(_facts(session, DB), key=lambda f: f.queued_at_ms)
    got = [(f.answer_site_id, f.answer_step, f.last_step, f.priority) for f in by_queued]
    assert got == [
        ("lisbon", 0, 0, 2),
        ("porto", 1, 1, 0),
        ("porto", 2, 2, 11),  # its missed offer was at porto, step 2 as well
        ("", -1, 2, 6),  # abandoned after step 2, never offered
        ("", -1, 1, 0),  # abandoned while offered at porto: not answered
        ("", -1, 0, -1),
        ("lisbon", 0, 0, 0),
    ]


def test_the_migration_on_a_current_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    s = chdb_session.Session()
    try:
        added = {"priority", "answer_offer_id", "offers_made", "last_step"}
        with monkeypatch.context() as m:  # the DDL of before the split
            old_columns = tuple(c for c in schema.COLUMNS if c[0] != "routing_step")
            m.setattr(schema, "COLUMNS", old_columns)
            m.setattr(
                schema,
                "INTERACTION_AGGREGATES",
                tuple(a for a in schema.INTERACTION_AGGREGATES if a[0] not in added),
            )
            for statement in schema.schema_statements(OLD_DB):
                s.query(statement)
        names, rows = _rows(CALLS[:1])
        keep = [i for i, n in enumerate(names) if n != "routing_step"]
        _insert(s, OLD_DB, [names[i] for i in keep], [[r[i] for i in keep] for r in rows])

        def existing() -> dict[str, set[str]]:
            out: dict[str, set[str]] = {}
            for row in _select(s, schema.EXISTING_COLUMNS_SQL, {"database": OLD_DB}):
                out.setdefault(row["table"], set()).add(row["name"])
            return out

        statements = schema.migration_statements(OLD_DB, existing())
        assert len(statements) == 1 + len(added) + 1  # routing_step, the states, the view
        for statement in [*statements, *schema.schema_statements(OLD_DB)]:
            s.query(statement)
        assert schema.migration_statements(OLD_DB, existing()) == []

        names, rows = _rows(CALLS[1:2])
        _insert(s, OLD_DB, names, rows)
        got = {k: t.queued for k, t in _tallies(s, OLD_DB, Split(SplitBy.SITE)).items()}
        assert got == {("support", ""): 1, ("support", "porto"): 1}  # the old one: no site
    finally:
        s.close()
