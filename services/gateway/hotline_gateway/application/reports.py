"""Use cases of the analytics resources: interactions (list, one with its events), a customer's
contacts (the screen-pop) and the KPI report, over the analytics sink's Reports API (the
ReportsBackend port; adapters/reports_grpc.py). Nothing here, nor anywhere in the gateway,
queries ClickHouse."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from hotline_gateway.application.ports import Caller
from hotline_gateway.domain.errors import Forbidden, Invalid
from hotline_gateway.domain.interactions import (
    CustomerIdentity,
    InteractionDetail,
    InteractionPage,
    InteractionQuery,
    InteractionSummary,
)
from hotline_gateway.domain.pagination import BadCursor, Page, decode_cursor, encode_cursor

INTERACTIONS = "interactions"
OFFER_WAIT_S = 3.0  # how long a screen-pop waits for its offer to reach the analytics store
OFFER_POLL_S = 0.25


class ReportsBackend(Protocol):
    async def list_interactions(
        self, caller: Caller, query: InteractionQuery, limit: int, page_token: str
    ) -> InteractionPage: ...

    async def get_interaction(self, caller: Caller, interaction_id: str) -> InteractionDetail: ...

    async def customer_contacts(
        self, caller: Caller, identity: CustomerIdentity, limit: int, exclude_interaction_id: str
    ) -> Sequence[InteractionSummary]: ...

    async def offered_customer_contacts(
        self, caller: Caller, agent_id: str, interaction_id: str, limit: int
    ) -> tuple[CustomerIdentity, Sequence[InteractionSummary]]:
        """The screen-pop: the customer of `interaction_id`, which must have been offered to
        `agent_id` (the backend checks it: Forbidden for an agent, NotFound for holders of
        interaction.read, when it was not), and that customer's other contacts."""

    async def kpi_report(
        self,
        caller: Caller,
        start: datetime,
        end: datetime,
        queue_ids: Sequence[str],
        split_by: str = "",
        priority_band_edges: Sequence[int] = (),
    ) -> dict[str, Any]:
        """The report as the Reports API's dict (hotline_platform.protodict.to_dict); split
        by `split_by` when given (GetKpiReportRequest.split_by)."""


def _check_period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise Invalid(
            f"the period is empty: to ({end.isoformat()}) must be after from "
            f"({start.isoformat()})",
            (("query.to", "must be after from"),),
        )


class ReportsUseCases:
    def __init__(self, backend: ReportsBackend, offer_wait_s: float = OFFER_WAIT_S) -> None:
        self._backend = backend
        self._offer_wait_s = offer_wait_s

    async def list_interactions(
        self, caller: Caller, query: InteractionQuery, limit: int, cursor: str | None
    ) -> Page[InteractionSummary]:
        """One page, newest first. The cursor carries the backend's own page token (the
        filters are the request's: the `next` link repeats them)."""
        _check_period(query.start, query.end)
        token = ""
        if cursor:
            try:
                token = decode_cursor(INTERACTIONS, cursor)
            except BadCursor as exc:
                raise Invalid("invalid cursor", (("query.cursor", str(exc)),)) from exc
        page = await self._backend.list_interactions(caller, query, limit, token)
        next_cursor = encode_cursor(INTERACTIONS, page.next_token) if page.next_token else None
        return Page(page.items, next_cursor)

    async def get_interaction(self, caller: Caller, interaction_id: str) -> InteractionDetail:
        return await self._backend.get_interaction(caller, interaction_id)

    async def customer_contacts(
        self, caller: Caller, identity: CustomerIdentity, limit: int, exclude_interaction_id: str
    ) -> Sequence[InteractionSummary]:
        return await self._backend.customer_contacts(
            caller, identity, limit, exclude_interaction_id
        )

    async def offered_customer_contacts(
        self, caller: Caller, agent_id: str, interaction_id: str, limit: int
    ) -> tuple[CustomerIdentity, Sequence[InteractionSummary]]:
        """The screen-pop, asked as soon as the offer shows on the desktop: the offer may not
        be in the analytics store yet (it stores the event log in batches, well under a
        second), so an agent's refusal (Forbidden) is asked again for up to `offer_wait_s`
        before it is answered. NotFound (a tenant-wide reader's) is answered at once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._offer_wait_s
        while True:
            try:
                return await self._backend.offered_customer_contacts(
                    caller, agent_id, interaction_id, limit
                )
            except Forbidden:
                if loop.time() + OFFER_POLL_S > deadline:
                    raise
            await asyncio.sleep(OFFER_POLL_S)

    async def kpi_report(
        self,
        caller: Caller,
        start: datetime,
        end: datetime,
        queue_ids: Sequence[str],
        split_by: str = "",
        priority_band_edges: Sequence[int] = (),
    ) -> dict[str, Any]:
        _check_period(start, end)
        return await self._backend.kpi_report(
            caller, start, end, queue_ids, split_by, priority_band_edges
        )
