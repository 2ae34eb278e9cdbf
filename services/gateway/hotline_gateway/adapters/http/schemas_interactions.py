"""JSON shapes of interactions, a customer's contacts and the KPI report (field names as the
Reports API's contract, proto/hotline/analytics/v1/reports.proto)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hotline_gateway.domain import interactions as d


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class InteractionOut(_Out):
    interaction_id: str
    channel: str = Field(description="voice | chat | email | fax")
    entry_point_id: str
    queue_id: str = Field(description="The first queue it entered; empty: never queued")
    arrived_at: str | None = Field(description="ISO-8601 UTC")
    outcome: str = Field(
        description="answered | short_abandoned | abandoned | callback | flowed_out | waiting"
        " | contained | left_in_self_service | abandoned_before_queue | not_queued"
    )
    agent_id: str = Field(description="The agent who answered; empty: none")
    disposition_code: str = Field(description="From the wrap-up; empty: none (yet)")
    resolved: bool

    @classmethod
    def of(cls, s: d.InteractionSummary) -> InteractionOut:
        return cls(
            interaction_id=s.interaction_id, channel=s.channel, entry_point_id=s.entry_point_id,
            queue_id=s.queue_id, arrived_at=s.arrived_at, outcome=s.outcome,
            agent_id=s.agent_id, disposition_code=s.disposition_code, resolved=s.resolved,
        )


class InteractionPage(_Out):
    items: list[InteractionOut]
    next: str | None = Field(description="URL of the next page; null on the last one")


class InteractionEventOut(_Out):
    event_id: str
    kind: str = Field(description="arrived, queued, offered, offer_accepted, completed, ...")
    occurred_at: str = Field(description="ISO-8601 UTC")
    producer: str
    data: dict[str, Any] = Field(
        description="The event's fields (protobuf-JSON, the contract's field names)"
    )


class InteractionDetailOut(InteractionOut):
    events: list[InteractionEventOut] = Field(description="In the order they occurred")

    @classmethod
    def of_detail(cls, detail: d.InteractionDetail) -> InteractionDetailOut:
        return cls(
            **InteractionOut.of(detail.summary).model_dump(),
            events=[
                InteractionEventOut(event_id=e.event_id, kind=e.kind, occurred_at=e.occurred_at,
                                    producer=e.producer, data=dict(e.data))
                for e in detail.events
            ],
        )


class CustomerContactsOut(_Out):
    items: list[InteractionOut] = Field(description="Newest first")


# --- the KPI report -------------------------------------------------------------------------


class PeriodOut(_Out):
    from_: str = Field(alias="from", description="ISO-8601 UTC, inclusive")
    to: str = Field(description="ISO-8601 UTC, exclusive")


class KpiFiguresOut(_Out):
    queued: int
    short_abandoned: int
    offered: int
    answered: int
    answered_within_threshold: int
    abandoned: int
    waiting: int
    callbacks: int
    flowed_out: int
    handled: int
    service_level: float | None = Field(description="0..1; null when undefined")
    abandonment_rate: float | None
    asa_s: float | None
    aht_s: float | None
    tally: dict[str, int] = Field(description="The counts and sums the figures are ratios of")


class KpiSplitOut(_Out):
    key: str = Field(
        description="A site id (empty: not answered), a bullseye step or a priority band"
    )
    figures: KpiFiguresOut


class KpiSplittingOut(_Out):
    by: str = Field(description="site | bullseye_step | priority_band")
    rule: str = Field(description="Which split key a contact falls in, in words")
    priority_band_edges: list[int] = Field(description="The bands' edges (priority_band)")


class QueueReportOut(KpiFiguresOut):
    queue_id: str
    service_level_threshold_s: int | None
    threshold_source: str
    service_level_target: float | None
    service_level_met: bool | None = Field(description="null: no figure or no target")
    splits: list[KpiSplitOut] = Field(
        default_factory=list, description="With split_by: the queue's figures per split key"
    )


class KpiReportOut(_Out):
    tenant_id: str
    tenant_name: str | None
    period: PeriodOut
    generated_at: str
    definitions: dict[str, str | float] = Field(
        description="The definitions the figures follow, in words"
    )
    queues: list[QueueReportOut]
    total: KpiFiguresOut
    split: KpiSplittingOut | None = Field(default=None, description="null: not split")
    total_splits: list[KpiSplitOut] = Field(
        default_factory=list, description="With split_by: the totals per split key"
    )
