"""Contacts the router ended because their ingress was lost count exactly once, by the same
rules as any other (services/analytics-sink/README.md, "Contacts of a lost ingress"):
`abandoned` (reason ingress_lost) on the router's topic is an abandon at its stage (short when
under the short-abandon threshold), `completed` by SYSTEM after an answer is an answered
contact (handled once its wrap-up ends). A late terminal fact of the ingress itself (it was
only stalled) changes nothing. Checked in Python (domain.kpi) and SQL (chdb) alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from analytics_helpers import record_of
from clickhouse_driver.util.escape import escape_params
from google.protobuf.message import Message
from test_analytics_modern_clickhouse import _literal

from hotline.interaction.v1.events_pb2 import (
    InteractionAbandoned,
    InteractionCompleted,
    InteractionEvent,
)
from hotline_analytics.adapters import queries
from hotline_analytics.adapters.clickhouse import _period_params, threshold_params
from hotline_analytics.adapters.rows import COLUMN_NAMES, EventBatch
from hotline_analytics.adapters.schema import schema_statements
from hotline_analytics.adapters.synthetic import Call, CallEnd, call_events
from hotline_analytics.domain.kpi import TALLY_FIELDS, CountingRules, InteractionFacts, tally
from hotline_platform import topics
from hotline_platform.envelope import new_envelope

chdb_session = pytest.importorskip("chdb.session", reason="chdb (current ClickHouse) is missing")

DB = "hotline_lost_ingress"
T0 = int(datetime(2026, 11, 3, 9, tzinfo=UTC).timestamp() * 1000)
Events = list[tuple[topics.Topic, Message]]


def _insert(session: Any, rows: list[list[Any]]) -> None:
    values = ",".join("(" + ",".join(_literal(v) for v in row) + ")" for row in rows)
    session.query(f"INSERT INTO {DB}.events ({', '.join(COLUMN_NAMES)}) VALUES {values}")


def _select(session: Any, sql: str, params: dict[str, Any]) -> list[list[str]]:
    text = str(session.query(sql % escape_params(params, None), "TabSeparated"))
    return [line.split("\t") for line in text.splitlines() if line]


def _router_event(call: Call, at_ms: int, agent_id: str = "") -> InteractionEvent:
    return InteractionEvent(
        envelope=new_envelope(
            tenant_id=call.tenant_id, producer="router/router-0",
            interaction_id=call.interaction_id, agent_id=agent_id, occurred_at_ms=at_ms,
        )
    )


def _lost_while_waiting(call: Call, after_ms: int, late_ingress_abandon: bool = False) -> Events:
    """The caller waits; the ingress dies; the router abandons the contact `after_ms` after
    arrival (and, if the ingress was only stalled, the ingress's own abandon comes later)."""
    events = call_events(call)
    ev = _router_event(call, call.arrived_at_ms + after_ms)
    ev.abandoned.stage = InteractionAbandoned.STAGE_IN_QUEUE
    ev.abandoned.waited_ms = after_ms
    ev.abandoned.reason = "ingress_lost"
    events.append((topics.ROUTING_INTERACTIONS, ev))
    if late_ingress_abandon:
        late = InteractionEvent()
        late.CopyFrom(ev)
        late.envelope.event_id = "late-" + call.interaction_id
        late.envelope.producer = "ingress-sip/sip-0"
        late.envelope.occurred_at.seconds += 20
        late.abandoned.reason = "cancelled"
        events.append((topics.VOICE_INTERACTIONS, late))
    return events


def _lost_while_connected(call: Call) -> Events:
    """Answered; the ingress dies mid-talk: its own `completed` never comes, the router's
    `completed` (SYSTEM) does, then the usual wrap-up."""
    events: Events = [
        (t, e) for t, e in call_events(call) if e.WhichOneof("event") != "completed"  # type: ignore[attr-defined]
    ]
    answered_at = call.arrived_at_ms + call.queue_after_ms + call.wait_ms
    ev = _router_event(call, answered_at + call.talk_ms, call.agent_id)
    ev.completed.ended_by = InteractionCompleted.ENDED_BY_SYSTEM
    ev.completed.agent_id = call.agent_id
    ev.completed.talk_ms = call.talk_ms
    events.append((topics.ROUTING_INTERACTIONS, ev))
    return events


SCENARIO: list[Events] = [
    _lost_while_waiting(Call("acme", T0 + 1_000, end=CallEnd.WAITING).with_id(), 30_000),
    _lost_while_waiting(Call("acme", T0 + 2_000, end=CallEnd.WAITING).with_id(), 2_000),
    _lost_while_waiting(
        Call("acme", T0 + 3_000, end=CallEnd.WAITING).with_id(), 25_000, late_ingress_abandon=True
    ),
    _lost_while_connected(Call("acme", T0 + 4_000, wait_ms=5_000, talk_ms=50_000).with_id()),
    call_events(Call("acme", T0 + 5_000, wait_ms=4_000).with_id()),  # an ordinary call
]


@pytest.fixture(scope="module")
def session() -> Any:
    s = chdb_session.Session()
    for statement in schema_statements(DB):
        s.query(statement)
    batch = EventBatch()
    for topic, event in (pair for events in SCENARIO for pair in events):
        batch.add(record_of(topic, event))
    rows = [[row[c] for c in COLUMN_NAMES] for row in batch.rows()]
    _insert(s, rows)
    yield s
    s.close()


def test_each_lost_contact_counts_once_and_sql_agrees_with_python(session: Any) -> None:
    thresholds = {"support": 20}
    params = _period_params("acme", T0, T0 + 3_600_000)
    params.update(threshold_params(thresholds))
    params["short_abandon_ms"] = 5_000
    got = {
        r[0]: dict(zip(TALLY_FIELDS, map(int, r[1:]), strict=True))
        for r in _select(session, queries.tallies_sql(DB), params)
    }
    facts = []
    for r in _select(session, queries.facts_sql(DB), _period_params("acme", T0, T0 + 3_600_000)):
        values: dict[str, Any] = dict(zip(queries.FACT_COLUMNS, r, strict=False))
        values["service_level_threshold_s"] = values.pop("sl_threshold_s")
        fields = InteractionFacts.__dataclass_fields__
        facts.append(
            InteractionFacts(
                **{k: (int(v) if fields[k].type == "int" else v) for k, v in values.items()}
            )
        )
    assert len(facts) == 5  # one row per contact, whatever the number of terminal facts
    assert got == {"support": tally(facts, 20, CountingRules()).as_dict()}
    support = got["support"]
    assert support["queued"] == 5 and support["waiting"] == 0
    # Lost while waiting: abandons (one under 5 s: a short abandon, counted nowhere else).
    assert (support["abandoned"], support["short_abandoned"]) == (2, 1)
    # Lost while connected: answered and handled like the ordinary call.
    assert (support["answered"], support["handled"]) == (2, 2)
    assert support["answered"] + support["abandoned"] == support["queued"] - support[
        "short_abandoned"
    ]  # = offered
    # The stalled ingress's late abandon does not move the abandon time.
    late = next(f for f in facts if f.interaction_id == SCENARIO[2][0][1].envelope.interaction_id)  # type: ignore[attr-defined]
    assert late.abandoned_at_ms - late.queued_at_ms < 25_000


def test_outcome_counts(session: Any) -> None:
    sql = queries.outcome_counts_sql(DB, tenant=False)
    rows = _select(session, sql, {"short_abandon_ms": 5000})
    assert {(q, o): int(n) for _t, q, o, n in rows} == {
        ("support", "abandoned"): 2,
        ("support", "answered"): 2,
        ("support", "short_abandoned"): 1,
    }
