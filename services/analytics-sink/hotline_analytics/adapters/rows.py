"""Protobuf record -> one row of the ClickHouse `events` table (the sink's hot path).

Fields are read straight off the decoded message through precompiled getters (no JSON, no
reflection per event). Every field of every event body is either mapped to a typed column here
or listed in RAW_ONLY (kept only in the `raw` protobuf bytes); a unit test checks this against
the contract so a new field cannot be forgotten silently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from google.protobuf.descriptor import EnumDescriptor

from hotline.agent.v1.events_pb2 import AgentEvent, AgentState
from hotline.common.v1.envelope_pb2 import Channel, Direction
from hotline.interaction.v1.events_pb2 import (
    InteractionAbandoned,
    InteractionCompleted,
    InteractionEvent,
    InteractionFlowedOut,
    InteractionTransferred,
    SelfServiceFinished,
)
from hotline_analytics.application.ports import Record, RecordRejected
from hotline_platform.codec import decode
from hotline_platform.envelope import ContractViolation
from hotline_platform.topics import BY_NAME

# (name, ClickHouse type, default). The order is the insert order; schema.py builds the DDL
# from it, so the table and the rows cannot disagree.
COLUMNS: tuple[tuple[str, str, Any], ...] = (
    # envelope and provenance
    ("tenant_id", "String", ""),
    ("event_id", "String", ""),
    ("topic", "String", ""),
    ("entity", "String", ""),  # "interaction" | "agent"
    ("kind", "String", ""),  # name of the event's oneof case: arrived, queued, ...
    ("occurred_at_ms", "Int64", 0),
    ("interaction_id", "String", ""),
    ("agent_id", "String", ""),  # the body's agent if it names one, else the envelope's
    ("producer", "String", ""),
    ("correlation_id", "String", ""),
    ("causation_id", "String", ""),
    ("site_id", "String", ""),
    # body fields (protobuf enums as their value name without the type prefix, e.g. VOICE)
    ("channel", "String", ""),
    ("direction", "String", ""),
    ("entry_point_id", "String", ""),
    ("from_address", "String", ""),
    ("to_address", "String", ""),
    ("session_ref", "String", ""),
    ("language", "String", ""),
    ("intent", "String", ""),
    ("queue_id", "String", ""),
    ("to_queue_id", "String", ""),
    ("to_agent_id", "String", ""),
    ("priority", "Int32", 0),
    ("sl_threshold_s", "UInt32", 0),
    ("offer_id", "String", ""),
    ("attempt", "UInt32", 0),
    ("routing_step", "UInt32", 0),  # offered: the bullseye step; routing_expanded: the step
    ("agent_endpoint", "String", ""),
    ("ring_timeout_ms", "UInt32", 0),
    ("reason", "String", ""),
    ("stage", "String", ""),
    ("outcome", "String", ""),
    ("ended_by", "String", ""),
    ("transfer_kind", "String", ""),
    ("code", "String", ""),
    ("resolved", "UInt8", 0),
    ("timed_out", "UInt8", 0),
    ("state", "String", ""),
    ("previous_state", "String", ""),
    ("message_id", "String", ""),
    ("size_bytes", "Int64", 0),
    ("first_response", "UInt8", 0),
    ("wait_ms", "Int64", 0),
    ("talk_ms", "Int64", 0),
    ("hold_ms", "Int64", 0),
    ("wrap_up_ms", "Int64", 0),
    ("duration_ms", "Int64", 0),
    # the event exactly as received, and where it was read
    ("raw", "String", b""),
    ("kafka_partition", "UInt32", 0),
    ("kafka_offset", "UInt64", 0),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c[0] for c in COLUMNS)
DEFAULTS: dict[str, Any] = {c[0]: c[2] for c in COLUMNS}

# Every row sets the envelope and provenance ("head") columns; an event body sets only a few of
# the other ("body") columns, so those are built sparsely and left out of an INSERT when no row
# of the batch sets them (the server fills in the default).
_ENVELOPE = COLUMN_NAMES[: COLUMN_NAMES.index("site_id") + 1]
HEAD_COLUMNS: tuple[str, ...] = (*_ENVELOPE, "raw", "kafka_partition", "kafka_offset")
BODY_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMN_NAMES if c not in HEAD_COLUMNS)
_HEAD_INDEX = {name: i for i, name in enumerate(HEAD_COLUMNS)}
_BODY_INDEX = {name: i for i, name in enumerate(BODY_COLUMNS)}


def enum_names(descriptor: EnumDescriptor) -> dict[int, str]:
    """Value -> name without the common prefix (CHANNEL_VOICE -> VOICE)."""
    unspecified = next(v.name for v in descriptor.values if v.number == 0)
    prefix = unspecified.removesuffix("UNSPECIFIED")
    return {v.number: v.name.removeprefix(prefix) for v in descriptor.values}


def _enum(descriptor: EnumDescriptor) -> Callable[[int], str]:
    names = enum_names(descriptor)
    return lambda value: names.get(value, str(value))  # a value newer than this build


CHANNEL = _enum(Channel.DESCRIPTOR)
DIRECTION = _enum(Direction.DESCRIPTOR)
AGENT_STATE = _enum(AgentState.DESCRIPTOR)

# oneof case -> {column: field path or (field path, converter)}.
_MAPPING: dict[str, dict[str, str | tuple[str, Callable[[Any], Any]]]] = {
    # hotline.interaction.v1.InteractionEvent
    "arrived": {
        "channel": ("channel", CHANNEL),
        "direction": ("direction", DIRECTION),
        "from_address": "from_address",
        "to_address": "to_address",
        "entry_point_id": "entry_point_id",
        "language": "language",
        "session_ref": "session_ref",
        "reason": "outbound_reason",
    },
    "self_service_finished": {
        "outcome": ("outcome", _enum(SelfServiceFinished.Outcome.DESCRIPTOR)),
        "duration_ms": "duration_ms",
        "queue_id": "queue_id",
        "language": "language",
        "intent": "intent",
        "priority": "priority",
    },
    "queued": {
        "queue_id": "queue_id",
        "priority": "priority",
        "language": "language",
        "channel": ("channel", CHANNEL),
        "sl_threshold_s": "service_level_threshold_s",
    },
    "offered": {
        "offer_id": "offer_id",
        "agent_id": "agent_id",
        "queue_id": "queue_id",
        "agent_endpoint": "agent_endpoint",
        "ring_timeout_ms": "ring_timeout_ms",
        "attempt": "attempt",
        "channel": ("channel", CHANNEL),
        "routing_step": "routing_step",
        "to_address": "callback_address",  # a callback contact: whom the agent calls
    },
    "offer_accepted": {
        "offer_id": "offer_id",
        "agent_id": "agent_id",
        "queue_id": "queue_id",
        "wait_ms": "since_arrival_ms",
    },
    "offer_rejected": {
        "offer_id": "offer_id",
        "agent_id": "agent_id",
        "queue_id": "queue_id",
        "reason": "reason",
    },
    "offer_timed_out": {
        "offer_id": "offer_id",
        "agent_id": "agent_id",
        "queue_id": "queue_id",
        "duration_ms": "rang_ms",
    },
    "held": {"agent_id": "agent_id"},
    "resumed": {"agent_id": "agent_id", "hold_ms": "held_ms"},
    "transferred": {
        "transfer_kind": ("kind", _enum(InteractionTransferred.Kind.DESCRIPTOR)),
        "agent_id": "from_agent_id",
        "to_queue_id": "to_queue_id",
        "to_agent_id": "to_agent_id",
        "to_address": "to_address",
    },
    "message_received": {
        "message_id": "message_id",
        "from_address": "from_address",
        "size_bytes": "size_bytes",
    },
    "message_sent": {
        "message_id": "message_id",
        "agent_id": "agent_id",
        "to_address": "to_address",
        "size_bytes": "size_bytes",
        "first_response": "first_response",
    },
    "wrap_up_started": {"agent_id": "agent_id"},
    "wrap_up_ended": {
        "agent_id": "agent_id",
        "code": "disposition.code",
        "resolved": "disposition.resolved",
        "wrap_up_ms": "wrap_up_ms",
        "timed_out": "timed_out",
    },
    "completed": {
        "ended_by": ("ended_by", _enum(InteractionCompleted.EndedBy.DESCRIPTOR)),
        "agent_id": "agent_id",
        "talk_ms": "talk_ms",
        "hold_ms": "hold_ms",
        "reason": "reason",
    },
    "abandoned": {
        "stage": ("stage", _enum(InteractionAbandoned.Stage.DESCRIPTOR)),
        "wait_ms": "waited_ms",
        "reason": "reason",
    },
    "callback_requested": {
        "queue_id": "queue_id",
        "to_address": "callback_address",
        "wait_ms": "waited_ms",
    },
    "routing_expanded": {"queue_id": "queue_id", "wait_ms": "waited_ms", "routing_step": "step"},
    "flowed_out": {
        "queue_id": "from_queue_id",
        "to_queue_id": "to_queue_id",
        "wait_ms": "waited_ms",
        "reason": "reason",
        "outcome": ("target", _enum(InteractionFlowedOut.Target.DESCRIPTOR)),  # QUEUE, ...
        "to_address": "callback_address",
    },
    # hotline.agent.v1.AgentEvent
    "logged_in": {"site_id": "site_id", "agent_endpoint": "voice_endpoint"},
    "logged_out": {"reason": "reason", "duration_ms": "session_ms"},
    "state_changed": {
        "state": ("state", AGENT_STATE),
        "previous_state": ("previous_state", AGENT_STATE),
        "reason": "reason_code",
        "duration_ms": "previous_state_ms",
        "interaction_id": "interaction_id",
    },
    "capacity_changed": {},
    "skills_changed": {},
    # A router instance's claim of a partition (tenant "~router"): kept raw, not a business fact.
    "owner_claimed": {},
}

# Body fields deliberately kept only in `raw` (repeated or free-form; query them from there).
RAW_ONLY: dict[str, frozenset[str]] = {
    "arrived": frozenset({"identity_hints", "subject"}),
    "self_service_finished": frozenset(
        {"required_skills", "identity_hints", "preferred_agent_id"}
    ),
    # position / estimated_wait_ms: the router's estimate when it queued the contact.
    # callback_offered: whether the caller's announcement offers a callback (issue 16).
    "queued": frozenset({"required_skills", "position", "estimated_wait_ms", "callback_offered"}),
    # What each bullseye step widened (issue 16); the step itself is in `routing_step`.
    "routing_expanded": frozenset(
        {"relaxed_levels_by", "added_skills", "added_sites", "added_queue_id"}
    ),
    "flowed_out": frozenset({"prompt"}),  # the closed prompt played
    "message_received": frozenset({"content_type", "body_ref"}),
    "message_sent": frozenset({"content_type", "body_ref"}),
    "wrap_up_ended": frozenset({"disposition"}),  # mapped field by field above
    "logged_in": frozenset({"skills", "capacities", "languages"}),
    "capacity_changed": frozenset({"capacities"}),
    "skills_changed": frozenset({"skills"}),
    "owner_claimed": frozenset({"epoch", "partition", "owner", "claim_id"}),
}

Getter = tuple[int, Callable[[Any], Any], Callable[[Any], Any] | None]


def _compile(
    mapping: dict[str, str | tuple[str, Callable[[Any], Any]]],
) -> tuple[tuple[Getter, ...], tuple[Getter, ...]]:
    head, body = [], []
    for column, source in mapping.items():
        path, convert = (source, None) if isinstance(source, str) else source
        if column in _HEAD_INDEX:  # e.g. the body's agent_id overrides the envelope's
            head.append((_HEAD_INDEX[column], attrgetter(path), convert))
        else:
            body.append((_BODY_INDEX[column], attrgetter(path), convert))
    return tuple(head), tuple(body)


_ENTITY = {InteractionEvent: "interaction", AgentEvent: "agent"}
_PLANS = {kind: _compile(m) for kind, m in _MAPPING.items()}


def _decode(topic: str, record: Record) -> Any:
    """Decode and contract-check with hotline_platform.codec; RecordRejected says why not."""
    declared = BY_NAME.get(topic)
    try:
        if declared is None:
            raise ContractViolation(f"unknown topic {topic!r}")
        event = decode(declared, record.value(), record.key())
    except ContractViolation as exc:
        raise RecordRejected(str(exc)) from None
    if type(event) not in _ENTITY:
        raise RecordRejected(f"topic {topic} carries {type(event).__name__}, not an event")
    return event


class EventBatch:
    """Rows of the `events` table built column by column: what one columnar INSERT sends.

    `add` either adds the whole row or raises and adds nothing.
    """

    __slots__ = ("_heads", "_sparse")

    def __init__(self) -> None:
        self._heads: list[list[Any]] = []
        self._sparse: list[list[tuple[int, Any]]] = [[] for _ in BODY_COLUMNS]

    def __len__(self) -> int:
        return len(self._heads)

    def add(self, record: Record) -> None:
        topic = record.topic() or ""
        event = _decode(topic, record)
        env = event.envelope
        kind = event.WhichOneof("event")
        at = env.occurred_at
        head = [
            env.tenant_id,
            env.event_id,
            topic,
            _ENTITY[type(event)],
            kind,
            at.seconds * 1000 + at.nanos // 1_000_000,
            env.interaction_id,
            env.agent_id,
            env.producer,
            env.correlation_id,
            env.causation_id,
            env.site_id,
            record.value(),
            record.partition(),
            record.offset(),
        ]
        body = getattr(event, kind)
        head_plan, body_plan = _PLANS[kind]
        for index, get, convert in head_plan:
            value = get(body)
            if value:  # proto3 default (0, "", False, UNSPECIFIED): keep the envelope's
                head[index] = convert(value) if convert is not None else value
        sets = []
        for index, get, convert in body_plan:
            value = get(body)
            if value:  # proto3 default: the column's default
                sets.append((index, convert(value) if convert is not None else value))
        row = len(self._heads)
        self._heads.append(head)
        sparse = self._sparse
        for index, value in sets:
            sparse[index].append((row, value))

    def columns(self) -> tuple[list[str], list[Sequence[Any]]]:
        """Column names and values; body columns no row sets are left out."""
        n = len(self._heads)
        names: list[str] = list(HEAD_COLUMNS)
        values: list[Sequence[Any]] = (
            list(zip(*self._heads, strict=True)) if n else [() for _ in HEAD_COLUMNS]
        )
        for name, pairs in zip(BODY_COLUMNS, self._sparse, strict=True):
            if not pairs:
                continue
            column = [DEFAULTS[name]] * n
            for row, value in pairs:
                column[row] = value
            names.append(name)
            values.append(column)
        return names, values

    def rows(self) -> list[dict[str, Any]]:
        """The rows as dicts of every column (for tests and debugging; slow)."""
        names, values = self.columns()
        out = [dict(DEFAULTS) for _ in range(len(self))]
        for name, column in zip(names, values, strict=True):
            for row, value in zip(out, column, strict=True):
                row[name] = value
        return out


def record_to_row(record: Record) -> dict[str, Any]:
    """One record as an `events` row dict (RecordRejected if unusable)."""
    batch = EventBatch()
    batch.add(record)
    return batch.rows()[0]
