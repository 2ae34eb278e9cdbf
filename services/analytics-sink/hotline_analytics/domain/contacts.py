"""A customer's earlier contacts, as the agent desktop shows them (the screen-pop)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hotline_analytics.domain.kpi import CountingRules, InteractionFacts, Outcome, classify


@dataclass(frozen=True)
class ContactRecord:
    """What the events say about one contact, for the customer's history."""

    facts: InteractionFacts
    channel: str = ""  # protobuf enum name without prefix: VOICE, CHAT, EMAIL, FAX
    entry_point_id: str = ""
    arrived_at_ms: int = 0
    disposition_code: str = ""
    resolved: bool = False


@dataclass(frozen=True)
class ContactSummary:
    interaction_id: str
    channel: str
    entry_point_id: str
    queue_id: str
    arrived_at: datetime | None
    outcome: Outcome
    agent_id: str
    disposition_code: str
    resolved: bool


_CONTRACT_DEFAULTS = CountingRules()


def summarise(
    record: ContactRecord, rules: CountingRules = _CONTRACT_DEFAULTS
) -> ContactSummary:
    f = record.facts
    outcome = classify(f, rules)
    # An interaction whose `arrived` is not stored (yet) is placed at its queueing.
    arrived_ms = record.arrived_at_ms or f.queued_at_ms
    return ContactSummary(
        interaction_id=f.interaction_id,
        channel=record.channel,
        entry_point_id=record.entry_point_id,
        queue_id=f.queue_id,
        arrived_at=datetime.fromtimestamp(arrived_ms / 1000, UTC) if arrived_ms else None,
        outcome=outcome,
        agent_id=f.agent_id if outcome is Outcome.ANSWERED else "",
        disposition_code=record.disposition_code,
        resolved=record.resolved,
    )
