"""ClickHouse schema of the analytics sink. Runs unchanged on ClickHouse 18.16 and current.

Idempotence: storing the same event twice changes no figure.
* `events`: one row per event, ReplacingMergeTree on (tenant_id, event_id); a redelivered event
  collapses into one row at merge time, and queries that count events use FINAL.
* `interactions`: one row per interaction (per month of its events), AggregatingMergeTree fed by
  the `interactions_mv` materialized view. It uses only aggregates that a duplicate input cannot
  change (min, max, argMin, uniqExact), so a duplicate that reaches the view before `events`
  deduplicates it leaves every figure as it was. Read it with the -Merge combinators.

18.16 lacks DateTime64, TTL, SimpleAggregateFunction and CTEs, so none are used: times are Int64
milliseconds, plus a DateTime('UTC') column for partitioning and people.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from hotline_analytics.adapters.audit import content_access_ddl
from hotline_analytics.adapters.rows import COLUMNS

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain ClickHouse identifier: {name!r}")
    return name


def _events_ddl(db: str) -> str:
    columns = ",\n    ".join(f"{name} {ch_type}" for name, ch_type, _ in COLUMNS)
    return f"""
CREATE TABLE IF NOT EXISTS {db}.events
(
    {columns},
    occurred_at DateTime('UTC') DEFAULT toDateTime(intDiv(occurred_at_ms, 1000), 'UTC'),
    ingested_at DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant_id, event_id)
"""


# (column, aggregate state type, expression over `events`). Conditions pick the event kind.
INTERACTION_AGGREGATES: tuple[tuple[str, str, str], ...] = (
    ("channel", "AggregateFunction(max, String)", "maxState(channel)"),
    ("entry_point_id", "AggregateFunction(max, String)", "maxState(entry_point_id)"),
    (
        "arrived_at_ms",
        "AggregateFunction(minIf, Int64, UInt8)",
        "minIfState(occurred_at_ms, kind = 'arrived')",
    ),
    (
        "self_service_outcome",
        "AggregateFunction(argMinIf, String, Int64, UInt8)",
        "argMinIfState(outcome, occurred_at_ms, kind = 'self_service_finished')",
    ),
    (
        "queue_id",
        "AggregateFunction(argMinIf, String, Int64, UInt8)",
        "argMinIfState(queue_id, occurred_at_ms, kind = 'queued')",
    ),
    (
        "queued_at_ms",
        "AggregateFunction(minIf, Int64, UInt8)",
        "minIfState(occurred_at_ms, kind = 'queued')",
    ),
    (
        "sl_threshold_s",
        "AggregateFunction(argMinIf, UInt32, Int64, UInt8)",
        "argMinIfState(sl_threshold_s, occurred_at_ms, kind = 'queued')",
    ),
    (
        "offers",
        "AggregateFunction(uniqExactIf, String, UInt8)",
        "uniqExactIfState(offer_id, kind = 'offered')",
    ),
    (
        "answered_at_ms",
        "AggregateFunction(minIf, Int64, UInt8)",
        "minIfState(occurred_at_ms, kind = 'offer_accepted')",
    ),
    (
        "agent_id",
        "AggregateFunction(argMinIf, String, Int64, UInt8)",
        "argMinIfState(agent_id, occurred_at_ms, kind = 'offer_accepted')",
    ),
    (
        "abandoned_at_ms",
        "AggregateFunction(minIf, Int64, UInt8)",
        "minIfState(occurred_at_ms, kind = 'abandoned')",
    ),
    (
        "abandon_stage",
        "AggregateFunction(argMinIf, String, Int64, UInt8)",
        "argMinIfState(stage, occurred_at_ms, kind = 'abandoned')",
    ),
    (
        "callback_at_ms",
        "AggregateFunction(minIf, Int64, UInt8)",
        "minIfState(occurred_at_ms, kind = 'callback_requested')",
    ),
    (
        "flowed_out_at_ms",
        "AggregateFunction(minIf, Int64, UInt8)",
        "minIfState(occurred_at_ms, kind = 'flowed_out')",
    ),
    (
        "completed_at_ms",
        "AggregateFunction(minIf, Int64, UInt8)",
        "minIfState(occurred_at_ms, kind = 'completed')",
    ),
    (
        "talk_ms",
        "AggregateFunction(maxIf, Int64, UInt8)",
        "maxIfState(talk_ms, kind = 'completed')",
    ),
    (
        "hold_ms",
        "AggregateFunction(maxIf, Int64, UInt8)",
        "maxIfState(hold_ms, kind = 'completed')",
    ),
    (
        "wrap_up_ended_at_ms",
        "AggregateFunction(minIf, Int64, UInt8)",
        "minIfState(occurred_at_ms, kind = 'wrap_up_ended')",
    ),
    (
        "wrap_up_ms",
        "AggregateFunction(maxIf, Int64, UInt8)",
        "maxIfState(wrap_up_ms, kind = 'wrap_up_ended')",
    ),
    (
        "disposition_code",
        "AggregateFunction(argMinIf, String, Int64, UInt8)",
        "argMinIfState(code, occurred_at_ms, kind = 'wrap_up_ended')",
    ),
    (
        "resolved",
        "AggregateFunction(maxIf, UInt8, UInt8)",
        "maxIfState(resolved, kind = 'wrap_up_ended')",
    ),
    # Added for the report's splits (issue 16); `migration_statements` adds them to a table
    # created before.
    (
        "priority",
        "AggregateFunction(argMinIf, Int32, Int64, UInt8)",
        "argMinIfState(priority, occurred_at_ms, kind = 'queued')",
    ),
    (
        "answer_offer_id",
        "AggregateFunction(argMinIf, String, Int64, UInt8)",
        "argMinIfState(offer_id, occurred_at_ms, kind = 'offer_accepted')",
    ),
    # Each offer as "offer id<TAB>site<TAB>bullseye step" (the envelope's site_id of an
    # `offered` is the offered agent's): a set, so a duplicate changes nothing; the report
    # picks the answering offer's.
    (
        "offers_made",
        "AggregateFunction(groupUniqArrayIf, String, UInt8)",
        "groupUniqArrayIfState(concat(offer_id, '\\t', site_id, '\\t', toString(routing_step)),"
        " kind = 'offered')",
    ),
    (
        "last_step",
        "AggregateFunction(maxIf, UInt32, UInt8)",
        "maxIfState(routing_step, kind IN ('offered', 'routing_expanded'))",
    ),
)


def _interactions_ddl(db: str) -> str:
    columns = ",\n    ".join(f"{name} {state}" for name, state, _ in INTERACTION_AGGREGATES)
    return f"""
CREATE TABLE IF NOT EXISTS {db}.interactions
(
    tenant_id String,
    interaction_id String,
    month Date,
    {columns}
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(month)
ORDER BY (tenant_id, interaction_id)
"""


def _interactions_mv_ddl(db: str) -> str:
    states = ",\n    ".join(f"{expr} AS {name}" for name, _, expr in INTERACTION_AGGREGATES)
    return f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.interactions_mv TO {db}.interactions AS
SELECT
    tenant_id,
    interaction_id,
    toStartOfMonth(occurred_at) AS month,
    {states}
FROM {db}.events
WHERE entity = 'interaction' AND interaction_id != ''
GROUP BY tenant_id, interaction_id, month
"""


def schema_statements(database: str) -> list[str]:
    """The DDL, in order; every statement is idempotent (IF NOT EXISTS)."""
    db = check_identifier(database)
    return [
        f"CREATE DATABASE IF NOT EXISTS {db}",
        _events_ddl(db),
        _interactions_ddl(db),
        _interactions_mv_ddl(db),
        content_access_ddl(db),
    ]


# What the migration needs to know of the tables as they are (system.columns), per table.
EXISTING_COLUMNS_SQL = (
    "SELECT table, name FROM system.columns WHERE database = %(database)s"
    " AND table IN ('events', 'interactions', 'interactions_mv')"
)


def migration_statements(database: str, existing: Mapping[str, set[str]]) -> list[str]:
    """What to run before `schema_statements` so that tables an older DDL created become
    today's, given the columns each existing table has (`EXISTING_COLUMNS_SQL`); none once
    they are current, or for tables that do not exist yet (the CREATE makes them whole).

    `CREATE ... IF NOT EXISTS` leaves an existing table as it was: missing columns are added
    (old rows read their type's default: 0, "" or an empty aggregate state) and a view lacking
    a column is dropped for `schema_statements` to re-create (18.16 checks a view's SELECT
    even when it exists, so this runs first). Events that arrive between the drop and the
    re-creation would miss `interactions`: the sink migrates before it consumes. 18.16 has
    no ADD COLUMN IF NOT EXISTS, hence the column lists."""
    db = check_identifier(database)
    out: list[str] = []
    for table, wanted in (
        ("events", [(name, ch_type) for name, ch_type, _ in COLUMNS]),
        ("interactions", [(name, state) for name, state, _ in INTERACTION_AGGREGATES]),
    ):
        if table in existing:
            out += [
                f"ALTER TABLE {db}.{table} ADD COLUMN {name} {ch_type}"
                for name, ch_type in wanted
                if name not in existing[table]
            ]
    view = existing.get("interactions_mv")
    if view is not None and any(name not in view for name, _, _ in INTERACTION_AGGREGATES):
        out.append(f"DROP TABLE IF EXISTS {db}.interactions_mv")
    return out
