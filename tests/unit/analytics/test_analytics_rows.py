"""Protobuf -> `events` row mapping, its coverage of the contract, and the ingest use case."""

from __future__ import annotations

from typing import Any

import pytest
from analytics_helpers import FakeRecord, record_of

from hotline.agent.v1.events_pb2 import AgentEvent
from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline_analytics.adapters import rows
from hotline_analytics.adapters.schema import INTERACTION_AGGREGATES, schema_statements
from hotline_analytics.adapters.synthetic import Call, CallEnd, call_events
from hotline_analytics.application.ingest import IngestBatch
from hotline_analytics.application.ports import Record, RecordRejected, RowBatch
from hotline_platform.envelope import new_envelope
from hotline_platform.topics import AGENTS, VOICE_INTERACTIONS


def as_dict(row: dict[str, Any]) -> dict[str, Any]:
    assert tuple(row) == rows.COLUMN_NAMES
    return row


@pytest.mark.parametrize("message", [InteractionEvent, AgentEvent])
def test_every_body_field_of_the_contract_is_mapped_or_kept_raw_only(message: Any) -> None:
    oneof = message.DESCRIPTOR.oneofs_by_name["event"]
    for case in oneof.fields:
        mapped = {
            (src if isinstance(src, str) else src[0]).split(".")[0]
            for src in rows._MAPPING[case.name].values()
        }
        raw_only = rows.RAW_ONLY.get(case.name, frozenset())
        fields = {f.name for f in case.message_type.fields}
        assert fields == mapped | raw_only, f"{case.name}: unmapped {fields - mapped - raw_only}"


def test_answered_call_maps_to_typed_rows() -> None:
    events = call_events(
        Call(
            "acme",
            1_700_000_000_000,
            wait_ms=7_000,
            talk_ms=90_000,
            hold_ms=5_000,
            wrap_up_ms=12_000,
            agent_id="a1",
        )
    )
    mapped = [as_dict(rows.record_to_row(record_of(t, e))) for t, e in events]
    kinds = [r["kind"] for r in mapped if r["entity"] == "interaction"]
    assert kinds == [
        "arrived",
        "queued",
        "offered",
        "offer_accepted",
        "completed",
        "wrap_up_started",
        "wrap_up_ended",
    ]
    by_kind = {r["kind"]: r for r in mapped if r["entity"] == "interaction"}
    arrived = by_kind["arrived"]
    assert (arrived["channel"], arrived["direction"]) == ("VOICE", "INBOUND")
    assert arrived["tenant_id"] == "acme" and arrived["topic"] == VOICE_INTERACTIONS.name
    assert arrived["occurred_at_ms"] == 1_700_000_000_000
    assert arrived["kafka_partition"] == 3 and arrived["kafka_offset"] == 42
    assert InteractionEvent.FromString(arrived["raw"]) == events[0][1]
    assert by_kind["queued"]["queue_id"] == "support"
    assert by_kind["queued"]["sl_threshold_s"] == 20
    assert by_kind["offer_accepted"]["agent_id"] == "a1"
    assert by_kind["completed"]["talk_ms"] == 90_000
    assert by_kind["completed"]["hold_ms"] == 5_000
    assert by_kind["completed"]["ended_by"] == "CUSTOMER"
    ended = by_kind["wrap_up_ended"]
    assert (ended["code"], ended["resolved"], ended["wrap_up_ms"]) == ("resolved", True, 12_000)
    # every interaction event keeps the interaction and correlation ids; causation chains them
    assert len({r["interaction_id"] for r in mapped}) == 1
    states = [r for r in mapped if r["entity"] == "agent"]
    assert [s["state"] for s in states] == ["RESERVED", "BUSY", "WRAP_UP", "READY"]
    assert all(s["agent_id"] == "a1" and s["topic"] == AGENTS.name for s in states)


def test_abandon_maps_stage_and_wait() -> None:
    events = call_events(Call("acme", 1_700_000_000_000, end=CallEnd.ABANDONED, wait_ms=3_000))
    row = as_dict(rows.record_to_row(record_of(*events[-1])))
    assert (row["kind"], row["stage"], row["wait_ms"]) == ("abandoned", "IN_QUEUE", 3_040)


def _no_tenant() -> bytes:
    event = InteractionEvent(envelope=new_envelope(tenant_id="", producer="t", interaction_id="i"))
    event.arrived.from_address = "x"
    return event.SerializeToString()


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (FakeRecord(VOICE_INTERACTIONS.name, b"\xff\xfe\x00garbage", b"acme"), "not a hotline"),
        (FakeRecord(VOICE_INTERACTIONS.name, None, b"acme"), "empty record"),
        (FakeRecord(VOICE_INTERACTIONS.name, _no_tenant(), b""), "lacks tenant_id"),
        (FakeRecord("some.other.topic", b"x"), "unknown topic"),
        (FakeRecord("hotline.deadletter.router.v1", b"x"), "carries no events"),
    ],
)
def test_unusable_records_are_rejected_with_a_reason(record: FakeRecord, reason: str) -> None:
    with pytest.raises(RecordRejected, match=reason):
        rows.record_to_row(record)


def test_schema_is_generated_from_the_row_columns() -> None:
    ddl = schema_statements("hotline")
    for name, ch_type, _ in rows.COLUMNS:
        assert f"{name} {ch_type}," in ddl[1]
    for name, state, _ in INTERACTION_AGGREGATES:
        assert f"{name} {state}" in ddl[2] and f"AS {name}" in ddl[3]
    with pytest.raises(ValueError):
        schema_statements("hotline; DROP TABLE x")


class FakeStore:
    def __init__(self) -> None:
        self.batches: list[RowBatch] = []

    def insert(self, batch: RowBatch) -> None:
        self.batches.append(batch)


class FakeDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[Record, str]] = []
        self.flushes = 0

    def send(self, record: Record, reason: str) -> None:
        self.sent.append((record, reason))

    def flush(self) -> None:
        self.flushes += 1


def test_ingest_stores_good_records_and_dead_letters_the_rest() -> None:
    good = [record_of(t, e) for t, e in call_events(Call("acme", 1_700_000_000_000))]
    bad = FakeRecord(VOICE_INTERACTIONS.name, b"\xff", b"acme")
    store, dead = FakeStore(), FakeDeadLetters()
    result = IngestBatch(rows.EventBatch, store, dead)([good[0], bad, *good[1:]])
    assert (result.stored, result.dead_lettered) == (len(good), 1)
    assert len(store.batches) == 1 and len(store.batches[0]) == len(good)
    assert [r["event_id"] for r in store.batches[0].rows()] == [
        rows.record_to_row(r)["event_id"] for r in good
    ]
    assert dead.sent[0][0] is bad and "not a hotline" in dead.sent[0][1]
    assert dead.flushes == 1  # delivered before the caller commits offsets


def test_ingest_dead_letters_a_record_the_mapper_chokes_on() -> None:
    class Broken(rows.EventBatch):
        def add(self, record: Record) -> None:
            raise KeyError("bug")

    store, dead = FakeStore(), FakeDeadLetters()
    result = IngestBatch(Broken, store, dead)([FakeRecord(VOICE_INTERACTIONS.name, b"x")])
    assert (result.stored, result.dead_lettered) == (0, 1)
    assert "cannot map" in dead.sent[0][1] and store.batches == []


def test_batch_columns_leave_out_body_columns_no_row_sets() -> None:
    batch = rows.EventBatch()
    assert batch.columns() == (list(rows.HEAD_COLUMNS), [() for _ in rows.HEAD_COLUMNS])
    events = call_events(Call("acme", 1_700_000_000_000, end=CallEnd.ABANDONED))
    for topic, event in events:
        batch.add(record_of(topic, event))
    with pytest.raises(RecordRejected):
        batch.add(FakeRecord(VOICE_INTERACTIONS.name, b"\xff", b"acme"))  # adds nothing
    names, values = batch.columns()
    assert len(batch) == len(events) and all(len(v) == len(events) for v in values)
    assert "stage" in names and "talk_ms" not in names and "message_id" not in names
    stage = values[names.index("stage")]
    assert stage == [""] * (len(events) - 1) + ["IN_QUEUE"]
