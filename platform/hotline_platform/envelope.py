"""Building envelopes, and the contract checks every consumer applies before using an event."""

from __future__ import annotations

import time
import uuid
from typing import Protocol

from hotline.common.v1.envelope_pb2 import Envelope


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_event_id() -> str:
    return str(uuid.uuid4())


def new_envelope(
    *,
    tenant_id: str,
    producer: str,
    interaction_id: str = "",
    agent_id: str = "",
    occurred_at_ms: int | None = None,
    correlation_id: str = "",
    causation_id: str = "",
    site_id: str = "",
) -> Envelope:
    at = now_ms() if occurred_at_ms is None else occurred_at_ms
    env = Envelope(
        event_id=new_event_id(),
        tenant_id=tenant_id,
        interaction_id=interaction_id,
        agent_id=agent_id,
        producer=producer,
        correlation_id=correlation_id or interaction_id or agent_id,
        causation_id=causation_id,
        site_id=site_id,
    )
    env.occurred_at.seconds, millis = divmod(at, 1000)
    env.occurred_at.nanos = millis * 1_000_000
    return env


def occurred_at_ms(env: Envelope) -> int:
    return env.occurred_at.seconds * 1000 + env.occurred_at.nanos // 1_000_000


class HasEnvelope(Protocol):
    envelope: Envelope

    def WhichOneof(self, name: str) -> str | None: ...  # noqa: N802 (protobuf API)

    def HasField(self, name: str) -> bool: ...  # noqa: N802


class ContractViolation(ValueError):
    """An event that cannot be used: undecodable, or breaking the contract."""


def event_kind(event: HasEnvelope) -> str:
    kind = event.WhichOneof("event")
    if kind is None:
        raise ContractViolation("event has no body (the 'event' oneof is unset)")
    return kind


def check_envelope(event: HasEnvelope, *, requires_subject: bool = True) -> None:
    """Raise ContractViolation unless the event carries a usable envelope and a body.

    `requires_subject` (the topic's): the envelope must name an interaction or an agent.
    Only liveness topics, whose subject is the producing instance, set it False."""
    if not event.HasField("envelope"):
        raise ContractViolation("event has no envelope")
    env = event.envelope
    missing = [
        name
        for name, ok in (
            ("event_id", env.event_id),
            ("tenant_id", env.tenant_id),
            ("producer", env.producer),
            ("occurred_at", env.HasField("occurred_at")),
        )
        if not ok
    ]
    if missing:
        raise ContractViolation(f"envelope lacks {', '.join(missing)}")
    if requires_subject and not (env.interaction_id or env.agent_id):
        raise ContractViolation("envelope names neither an interaction nor an agent")
    event_kind(event)
