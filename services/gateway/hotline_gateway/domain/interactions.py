"""Interactions, a customer's contacts and the KPI report as the gateway serves them (pure:
standard library only). The analytics sink's Reports API answers them from ClickHouse."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

IDENTITY_KINDS = ("phone", "email", "chat_id", "account")
CHANNELS = ("voice", "chat", "email", "fax")


@dataclass(frozen=True)
class CustomerIdentity:
    kind: str  # phone | email | chat_id | account
    value: str

    @classmethod
    def parse(cls, text: str) -> CustomerIdentity:
        """`phone:+351910000001` -> (phone, +351910000001); ValueError otherwise."""
        kind, sep, value = text.partition(":")
        if not sep or kind not in IDENTITY_KINDS or not value.strip():
            raise ValueError(
                f"an identity is <kind>:<value> with kind one of {', '.join(IDENTITY_KINDS)}"
            )
        return cls(kind, value)


@dataclass(frozen=True)
class InteractionSummary:
    interaction_id: str
    channel: str  # voice, chat, email, fax ("unspecified" when not recorded)
    entry_point_id: str
    queue_id: str  # "": never queued
    arrived_at: str | None  # ISO-8601 UTC
    outcome: str  # answered, abandoned, waiting, ... (the KPI classification)
    agent_id: str  # who answered; "" none
    disposition_code: str
    resolved: bool


@dataclass(frozen=True)
class InteractionEvent:
    """One recorded event of an interaction: its envelope and its body as plain values."""

    event_id: str
    kind: str  # the event's case: arrived, queued, offered, ...
    occurred_at: str  # ISO-8601 UTC
    producer: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InteractionDetail:
    summary: InteractionSummary
    events: tuple[InteractionEvent, ...]


@dataclass(frozen=True)
class InteractionQuery:
    """Interactions that arrived in [start, end), of one queue / channel / customer if set."""

    start: datetime
    end: datetime
    queue_id: str = ""
    channel: str = ""
    identity: CustomerIdentity | None = None


@dataclass(frozen=True)
class InteractionPage:
    items: tuple[InteractionSummary, ...]
    next_token: str  # the backend's token of the next page; "" on the last
