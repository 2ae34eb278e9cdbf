"""Routes of the analytics resources, answered by the analytics sink's Reports API:
interactions (a cursor-paginated list with filters, one with its events in order), a
customer's recent contacts on every channel (the screen-pop) and the KPI report.

`interaction.read` for interactions and contacts, `report.read` for the report (the
platform's one table, hotline_platform.policy). Periods are `from` (inclusive) and `to`
(exclusive), ISO-8601 (a time without offset is UTC); interactions default to the last 24 h,
the report to today (UTC) until now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import Path, Query, Request, Response

from hotline_gateway.adapters.http.deps import DEFAULT_PAGE, PageCursor, PageLimit, UseDep
from hotline_gateway.adapters.http.routes import (
    ADMISSION_ERRORS,
    BACKEND_ERRORS,
    TENANT,
    Route,
    _link_header,
)
from hotline_gateway.adapters.http.schemas_directory import ID_PATTERN
from hotline_gateway.adapters.http.schemas_interactions import (
    CustomerContactsOut,
    InteractionDetailOut,
    InteractionOut,
    InteractionPage,
    KpiReportOut,
)
from hotline_gateway.domain.errors import Invalid
from hotline_gateway.domain.interactions import CustomerIdentity, InteractionQuery

INTERACTION_READ = "interaction.read"
REPORT_READ = "report.read"

DEFAULT_SPAN = timedelta(days=1)
MAX_CONTACTS = 200

From = Annotated[
    datetime | None,
    Query(alias="from", description="Start, inclusive (ISO-8601; no offset: UTC)"),
]
To = Annotated[
    datetime | None, Query(alias="to", description="End, exclusive (ISO-8601; no offset: UTC)")
]
QueueFilter = Annotated[
    str | None, Query(pattern=ID_PATTERN, max_length=64, description="Only this queue")
]
IDENTITY_PATTERN = r"^(phone|email|chat_id|account):[^/]{1,256}$"
InteractionId = Annotated[
    str, Path(min_length=1, max_length=128, description="The interaction's id")
]
Identity = Annotated[
    str,
    Path(pattern=IDENTITY_PATTERN, max_length=270,
         description="<kind>:<value>, kind one of phone, email, chat_id, account "
         "(e.g. phone:+351910000001)"),
]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# Times the platform can have recorded (ClickHouse dates start in 1970).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _period(start: datetime | None, end: datetime | None, default_start: datetime | None
            ) -> tuple[datetime, datetime]:
    end_at = _utc(end) if end is not None else datetime.now(UTC)
    start_at = _utc(start) if start is not None else (default_start or end_at - DEFAULT_SPAN)
    for name, moment in (("from", start_at), ("to", end_at)):
        if not EARLIEST <= moment <= LATEST:
            raise Invalid(f"{name} must be between {EARLIEST.date()} and {LATEST.date()}",
                          ((f"query.{name}", "out of range"),))
    return start_at, end_at


def _identity(text: str, location: str) -> CustomerIdentity:
    try:
        return CustomerIdentity.parse(text)
    except ValueError as exc:
        raise Invalid(str(exc), ((location, str(exc)),)) from None


async def list_interactions(
    request: Request, response: Response, use: UseDep,
    start: From = None, end: To = None, queue: QueueFilter = None,
    channel: Annotated[
        Literal["voice", "chat", "email", "fax"] | None, Query(description="Only this channel")
    ] = None,
    customer: Annotated[
        str | None,
        Query(pattern=IDENTITY_PATTERN, max_length=270,
              description="Only this customer: <kind>:<value> (e.g. phone:+351910000001)"),
    ] = None,
    limit: PageLimit = DEFAULT_PAGE, cursor: PageCursor = None,
) -> InteractionPage:
    start_at, end_at = _period(start, end, None)
    query = InteractionQuery(
        start_at, end_at, queue or "", channel or "",
        _identity(customer, "query.customer") if customer else None,
    )
    page = await use.gateway.reports.list_interactions(use.caller, query, limit, cursor)
    link = None
    if page.next_cursor is not None:
        # The same filters (and the same period, made explicit), the next position.
        params = {k: v for k, v in request.query_params.items() if k not in ("cursor", "limit")}
        params.update({"from": start_at.isoformat(), "to": end_at.isoformat()})
        params.update({"limit": str(limit), "cursor": page.next_cursor})
        link = f"{request.url.path}?{urlencode(params)}"
    _link_header(response, link)
    return InteractionPage(items=[InteractionOut.of(i) for i in page.items], next=link)


async def get_interaction(
    use: UseDep, interaction_id: InteractionId
) -> InteractionDetailOut:
    detail = await use.gateway.reports.get_interaction(use.caller, interaction_id)
    return InteractionDetailOut.of_detail(detail)


async def customer_contacts(
    use: UseDep, identity: Identity,
    limit: Annotated[int, Query(ge=1, le=MAX_CONTACTS, description="At most (default 20)")] = 20,
    exclude_interaction_id: Annotated[
        str, Query(max_length=128, description="Leave this one out (the contact on the line)")
    ] = "",
) -> CustomerContactsOut:
    found = await use.gateway.reports.customer_contacts(
        use.caller, _identity(identity, "path.identity"), limit, exclude_interaction_id
    )
    return CustomerContactsOut(items=[InteractionOut.of(c) for c in found])


async def kpi_report(
    use: UseDep, start: From = None, end: To = None,
    queue: Annotated[
        list[Annotated[str, Query(pattern=ID_PATTERN, max_length=64)]] | None,
        Query(max_length=100, description="Only these queues (repeat the parameter)"),
    ] = None,
    split_by: Annotated[
        Literal["site", "bullseye_step", "priority_band"] | None,
        Query(
            description="Also split each queue and the totals: site (of the agent who"
            " answered; empty key: not answered), bullseye_step (the step it was answered at;"
            " not answered: the last reached), priority_band (the queued priority's band)"
        ),
    ] = None,
    priority_band_edge: Annotated[
        list[int] | None,
        Query(
            max_length=20,
            description="With split_by=priority_band: the bands' lower edges after the first,"
            " increasing (repeat the parameter); default 1, 5, 10 (<=0, 1-4, 5-9, 10+)",
        ),
    ] = None,
) -> KpiReportOut:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start_at, end_at = _period(start, end, today)
    report = await use.gateway.reports.kpi_report(
        use.caller, start_at, end_at, queue or [], split_by or "", priority_band_edge or []
    )
    return KpiReportOut.model_validate(report)


_READ = ADMISSION_ERRORS + BACKEND_ERRORS

ROUTES: tuple[Route, ...] = (
    Route("listInteractions", "GET", f"{TENANT}/interactions", INTERACTION_READ,
          list_interactions,
          "Interactions that arrived in a period, newest first (filters: queue, channel, "
          "customer)", InteractionPage, _READ, "interactions", paginated=True),
    Route("getInteraction", "GET", f"{TENANT}/interactions/{{interaction_id}}",
          INTERACTION_READ, get_interaction, "One interaction with its events, in order",
          InteractionDetailOut, _READ, "interactions"),
    Route("listCustomerContacts", "GET", f"{TENANT}/customers/{{identity}}/contacts",
          INTERACTION_READ, customer_contacts,
          "A customer's most recent contacts on every channel (the screen-pop)",
          CustomerContactsOut, _READ, "interactions"),
    Route("getKpiReport", "GET", f"{TENANT}/reports/kpi", REPORT_READ, kpi_report,
          "KPIs per queue and in total for the contacts queued in a period",
          KpiReportOut, _READ, "reports"),
)
