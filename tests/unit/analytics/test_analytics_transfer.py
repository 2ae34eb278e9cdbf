"""Held, resumed and transferred calls in ClickHouse (issue 9 item 5): the events are stored
once however often they are delivered, a transferred contact counts once, in the queue it first
entered (the transfer's second `queued` changes none of that queue's figures and opens no row
for the target queue), its hold time is the `completed` one, and it is handled only once it
completed and was wrapped up (the transferring agent's earlier wrap-up does not make it
handled). Checked in SQL (chdb) against the Python twin (domain.kpi)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from analytics_helpers import record_of
from clickhouse_driver.util.escape import escape_params
from test_analytics_modern_clickhouse import _literal

from hotline.interaction.v1.events_pb2 import (
    InteractionCompleted,
    InteractionEvent,
    InteractionTransferred,
)
from hotline_analytics.adapters import queries
from hotline_analytics.adapters.clickhouse import _period_params, threshold_params
from hotline_analytics.adapters.rows import COLUMN_NAMES, EventBatch
from hotline_analytics.adapters.schema import schema_statements
from hotline_analytics.domain.kpi import TALLY_FIELDS, CountingRules, InteractionFacts, tally
from hotline_platform import topics
from hotline_platform.envelope import new_envelope

chdb_session = pytest.importorskip("chdb.session", reason="chdb (current ClickHouse) is missing")

DB = "hotline_transfer"
T0 = int(datetime(2026, 11, 4, 9, tzinfo=UTC).timestamp() * 1000)
INGRESS = "ingress-sip/sip-0"
ROUTER = "router/router-0"


def _insert(session: Any, rows: list[list[Any]]) -> None:
    values = ",".join("(" + ",".join(_literal(v) for v in row) + ")" for row in rows)
    session.query(f"INSERT INTO {DB}.events ({', '.join(COLUMN_NAMES)}) VALUES {values}")


def _select(session: Any, sql: str, params: dict[str, Any]) -> list[list[str]]:
    text = str(session.query(sql % escape_params(params, None), "TabSeparated"))
    return [line.split("\t") for line in text.splitlines() if line]


def _transferred_call(iid: str, t: int, completed: bool) -> list[tuple[topics.Topic, Any]]:
    """Answered by a1 in support, held 6 s, blind-transferred to billing, answered there by
    a2; a1 wraps up (30 s) while a2 talks; then (if `completed`) the caller hangs up and a2
    wraps up (20 s)."""
    out: list[tuple[topics.Topic, Any]] = []

    def ev(at: int, producer: str, cause: str = "", **body: Any) -> InteractionEvent:
        topic = topics.VOICE_INTERACTIONS if producer == INGRESS else topics.ROUTING_INTERACTIONS
        e = InteractionEvent(
            envelope=new_envelope(
                tenant_id="acme", producer=producer, interaction_id=iid, occurred_at_ms=t + at,
                causation_id=cause,
            ),
            **body,
        )
        out.append((topic, e))
        return e

    ev(0, INGRESS, arrived={"entry_point_id": "+35121000001"})
    ev(40, ROUTER, queued={"queue_id": "support", "service_level_threshold_s": 20})
    ev(50, ROUTER, offered={"offer_id": f"{iid}-o1", "agent_id": "a1", "queue_id": "support"})
    ev(5_000, INGRESS, offer_accepted={"offer_id": f"{iid}-o1", "agent_id": "a1"})
    ev(20_000, INGRESS, held={"agent_id": "a1"})
    ev(26_000, INGRESS, resumed={"agent_id": "a1", "held_ms": 6_000})
    transfer = ev(
        60_000, INGRESS,
        transferred={
            "kind": InteractionTransferred.KIND_BLIND, "from_agent_id": "a1",
            "to_queue_id": "billing",
        },
    )
    cause = transfer.envelope.event_id
    ev(60_002, ROUTER, cause, wrap_up_started={"agent_id": "a1"})
    ev(60_003, ROUTER, cause, queued={"queue_id": "billing", "service_level_threshold_s": 30})
    ev(60_010, ROUTER, offered={"offer_id": f"{iid}-o2", "agent_id": "a2", "queue_id": "billing"})
    ev(70_000, INGRESS, offer_accepted={"offer_id": f"{iid}-o2", "agent_id": "a2"})
    ev(90_000, ROUTER, wrap_up_ended={"agent_id": "a1", "wrap_up_ms": 30_000})
    if completed:
        ev(
            150_000, INGRESS,
            completed={
                "ended_by": InteractionCompleted.ENDED_BY_CUSTOMER, "agent_id": "a2",
                "talk_ms": 145_000, "hold_ms": 6_000,
            },
        )
        ev(150_002, ROUTER, wrap_up_started={"agent_id": "a2"})
        ev(170_002, ROUTER, wrap_up_ended={"agent_id": "a2", "wrap_up_ms": 20_000})
    return out


EVENTS = [
    *_transferred_call("done", T0, completed=True),
    *_transferred_call("talking", T0 + 1_000, completed=False),  # a2 still on the call
]


@pytest.fixture(scope="module")
def session() -> Any:
    s = chdb_session.Session()
    for statement in schema_statements(DB):
        s.query(statement)
    batch = EventBatch()
    for topic, event in EVENTS:
        batch.add(record_of(topic, event))
    rows = [[row[c] for c in COLUMN_NAMES] for row in batch.rows()]
    _insert(s, rows)
    _insert(s, rows)  # delivered twice (at-least-once): no figure may change
    yield s
    s.close()


def test_hold_and_transfer_events_are_stored_once(session: Any) -> None:
    rows = _select(
        session,
        f"SELECT kind, interaction_id, agent_id, hold_ms, to_queue_id FROM {DB}.events FINAL"
        " WHERE kind IN ('held', 'resumed', 'transferred') ORDER BY interaction_id, kind",
        {},
    )
    assert rows == [
        ["held", "done", "a1", "0", ""],
        ["resumed", "done", "a1", "6000", ""],
        ["transferred", "done", "a1", "0", "billing"],
        ["held", "talking", "a1", "0", ""],
        ["resumed", "talking", "a1", "6000", ""],
        ["transferred", "talking", "a1", "0", "billing"],
    ]


def test_a_transferred_contact_counts_once_in_its_first_queue(session: Any) -> None:
    period = _period_params("acme", T0, T0 + 3_600_000)
    params = {**period, **threshold_params({"support": 20, "billing": 30})}
    params["short_abandon_ms"] = 5_000
    got = {
        r[0]: dict(zip(TALLY_FIELDS, map(int, r[1:]), strict=True))
        for r in _select(session, queries.tallies_sql(DB), params)
    }
    fields = InteractionFacts.__dataclass_fields__
    facts = []
    for r in _select(session, queries.facts_sql(DB), period):
        values: dict[str, Any] = dict(zip(queries.FACT_COLUMNS, r, strict=False))
        values["service_level_threshold_s"] = values.pop("sl_threshold_s")
        typed: dict[str, Any] = {
            k: (int(v) if fields[k].type == "int" else v) for k, v in values.items()
        }
        facts.append(InteractionFacts(**typed))
    assert got == {"support": tally(facts, 20, CountingRules()).as_dict()}  # SQL = Python

    support = got["support"]
    assert list(got) == ["support"]  # no row for billing: one contact, one queue
    assert (support["queued"], support["answered"], support["answered_within_t"]) == (2, 2, 2)
    assert support["answer_wait_ms"] == 2 * (5_000 - 40)  # the first answer
    # Handled: only the completed one (the other's first agent wrapped up, the call goes on).
    assert support["handled"] == 1
    assert (support["handled_talk_ms"], support["handled_hold_ms"]) == (145_000, 6_000)
    by_id = {f.interaction_id: f for f in facts}
    assert by_id["talking"].wrap_up_ended_at_ms > 0 and not by_id["talking"].is_handled
    assert (by_id["done"].queue_id, by_id["done"].agent_id, by_id["done"].offers) == (
        "support", "a1", 2
    )


def test_transferred_in_contacts_per_target_queue_from_events(session: Any) -> None:
    """The query the README gives for transferred-in contacts (not a KPI report figure)."""
    rows = _select(
        session,
        f"SELECT queue_id, uniqExact(interaction_id) FROM {DB}.events FINAL WHERE kind = 'queued'"
        f" AND causation_id IN (SELECT event_id FROM {DB}.events WHERE kind = 'transferred')"
        " GROUP BY queue_id",
        {},
    )
    assert rows == [["billing", "2"]]
