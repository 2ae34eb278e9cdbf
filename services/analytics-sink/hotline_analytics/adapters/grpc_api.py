"""gRPC `hotline.analytics.v1.Reports`: the read API over application/reads.py.

Each call: caller, tenant and permission first (hotline_platform.auth.authorize_call with the
method's rule from policy.GRPC_METHODS: `report.read`, `interaction.read` for the contacts;
ListCustomerContacts also `interaction.read_own` for the customer of a contact offered to the
caller's agent, checked in the store: PERMISSION_DENIED when it was not), then
the use case on a
worker thread of the API's own executor (ClickHouse clients block), then one generic mapping
to protobuf (hotline_platform.protodict: field names of the report dict and the dataclasses
agree with the messages; an interaction's events are the recorded protobuf bytes, parsed).
Errors: UnknownTenant and UnknownInteraction NOT_FOUND, InvalidRequest INVALID_ARGUMENT,
StoreUnavailable UNAVAILABLE.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime
from typing import TypeVar

import grpc

from hotline.analytics.v1 import reports_pb2, reports_pb2_grpc
from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline_analytics.application.reads import (
    InvalidRequest,
    NotOffered,
    ReportsService,
    StoreUnavailable,
    UnknownInteraction,
    UnknownTenant,
)
from hotline_analytics.domain.contacts import ContactSummary
from hotline_platform.auth import authorize_call, rule_of
from hotline_platform.grpc_server import ErrorStatus, run_use_case
from hotline_platform.identity import CallerResolver
from hotline_platform.policy import permissions_of
from hotline_platform.protodict import to_datetime, to_dict, to_message
from hotline_platform.tenancy import TenancyConfig

T = TypeVar("T")

SERVICE_NAMES = (reports_pb2.DESCRIPTOR.services_by_name["Reports"].full_name,)
TENANT_WIDE = "interaction.read"  # every customer's contacts; else offered contacts only


def _period(
    request: reports_pb2.GetKpiReportRequest
    | reports_pb2.CheckLifecycleRequest
    | reports_pb2.ListInteractionsRequest,
) -> tuple[datetime | None, datetime | None]:
    """The request's period; None for a bound that is not given."""
    if not request.HasField("period"):
        return None, None
    period = request.period
    start = to_datetime(getattr(period, "from")) if period.HasField("from") else None
    end = to_datetime(period.to) if period.HasField("to") else None
    return start, end


def _identity_kind(identity: reports_pb2.CustomerIdentity) -> str:
    """`phone` for IDENTITY_KIND_PHONE; "" when unset (the use case refuses it)."""
    kind = to_dict(identity)["kind"]
    return "" if kind == "unspecified" else str(kind)


# What a read may raise, as gRPC statuses.
USE_CASE_ERRORS: tuple[ErrorStatus, ...] = (
    (UnknownTenant, grpc.StatusCode.NOT_FOUND, ""),
    (UnknownInteraction, grpc.StatusCode.NOT_FOUND, ""),
    (NotOffered, grpc.StatusCode.PERMISSION_DENIED, ""),
    (InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT, ""),
    (StoreUnavailable, grpc.StatusCode.UNAVAILABLE, "reports unavailable: "),
)


class ReportsApi(reports_pb2_grpc.ReportsServicer):
    def __init__(
        self,
        service: ReportsService,
        tenancy: Callable[[], TenancyConfig],
        executor: Executor | None = None,
        resolver: CallerResolver | None = None,
    ) -> None:
        self._service = service
        self._tenancy = tenancy
        self._executor = executor
        self._resolver = resolver  # None: the tenancy config's tenant credentials only

    async def _guard(self, context: grpc.aio.ServicerContext, tenant_id: str, method: str) -> None:
        await authorize_call(
            self._tenancy(), context, tenant_id, rule_of(SERVICE_NAMES[0], method),
            resolver=self._resolver,
        )

    async def _run(self, context: grpc.aio.ServicerContext, call: Callable[[], T]) -> T:
        return await run_use_case(context, call, USE_CASE_ERRORS, self._executor)

    async def GetKpiReport(  # noqa: N802 - gRPC method name
        self, request: reports_pb2.GetKpiReportRequest, context: grpc.aio.ServicerContext
    ) -> reports_pb2.KpiReport:
        await self._guard(context, request.tenant_id, "GetKpiReport")
        start, end = _period(request)
        report = await self._run(
            context,
            lambda: self._service.kpi_report(
                request.tenant_id,
                start,
                end,
                list(request.queue_ids),
                request.split_by,
                list(request.priority_band_edges),
            ),
        )
        return to_message(report, reports_pb2.KpiReport)

    async def ListCustomerContacts(  # noqa: N802
        self,
        request: reports_pb2.ListCustomerContactsRequest,
        context: grpc.aio.ServicerContext,
    ) -> reports_pb2.ListCustomerContactsResponse:
        principal = await authorize_call(
            self._tenancy(), context, request.tenant_id,
            rule_of(SERVICE_NAMES[0], "ListCustomerContacts"),
            agent_id=request.for_agent_id, resolver=self._resolver,
        )
        # `interaction.read_own` alone (an agent): only the customer of a contact offered to
        # its agent (the policy checked that for_agent_id is its own agent).
        wide = TENANT_WIDE in permissions_of(principal)
        tenant_id = request.tenant_id
        kind = _identity_kind(request.identity) if request.HasField("identity") else ""
        value = request.identity.value

        def contacts() -> tuple[tuple[str, str], list[ContactSummary]]:
            customer = (kind, value)
            if request.for_interaction_id:
                try:
                    customer = self._service.offered_customer(
                        tenant_id, request.for_agent_id, request.for_interaction_id, kind, value
                    )
                except NotOffered as exc:
                    if wide:
                        raise UnknownInteraction(str(exc)) from None
                    raise
            elif not wide:
                raise InvalidRequest(
                    "for_interaction_id is required: a caller holding interaction.read_own "
                    "only reads the customer of a contact offered to its own agent"
                )
            found = self._service.customer_contacts(
                tenant_id, customer[0], customer[1], request.limit,
                request.exclude_interaction_id,
            )
            return customer, found

        (kind, value), found = await self._run(context, contacts)
        return to_message(
            {"contacts": found, "identity": {"kind": kind, "value": value}},
            reports_pb2.ListCustomerContactsResponse,
        )

    async def CheckLifecycle(  # noqa: N802
        self, request: reports_pb2.CheckLifecycleRequest, context: grpc.aio.ServicerContext
    ) -> reports_pb2.LifecycleCheck:
        await self._guard(context, request.tenant_id, "CheckLifecycle")
        start, end = _period(request)
        check = await self._run(
            context, lambda: self._service.check_lifecycle(request.tenant_id, start, end)
        )
        return to_message(check, reports_pb2.LifecycleCheck)

    async def ListInteractions(  # noqa: N802
        self, request: reports_pb2.ListInteractionsRequest, context: grpc.aio.ServicerContext
    ) -> reports_pb2.ListInteractionsResponse:
        await self._guard(context, request.tenant_id, "ListInteractions")
        start, end = _period(request)
        channel = to_dict(request)["channel"]
        identity = (
            (_identity_kind(request.identity), request.identity.value)
            if request.HasField("identity") else None
        )
        page, next_token = await self._run(
            context,
            lambda: self._service.list_interactions(
                request.tenant_id, start, end,
                queue_id=request.queue_id,
                channel="" if channel == "unspecified" else str(channel),
                identity=identity,
                page_size=request.page_size,
                page_token=request.page_token,
            ),
        )
        return to_message(
            {"interactions": page, "next_page_token": next_token},
            reports_pb2.ListInteractionsResponse,
        )

    async def GetInteraction(  # noqa: N802
        self, request: reports_pb2.GetInteractionRequest, context: grpc.aio.ServicerContext
    ) -> reports_pb2.GetInteractionResponse:
        await self._guard(context, request.tenant_id, "GetInteraction")
        summary, raw_events = await self._run(
            context,
            lambda: self._service.get_interaction(request.tenant_id, request.interaction_id),
        )
        reply = to_message({"interaction": summary}, reports_pb2.GetInteractionResponse)
        for raw in raw_events:
            reply.events.append(InteractionEvent.FromString(raw))
        return reply


def register(
    server: grpc.aio.Server,
    service: ReportsService,
    tenancy: Callable[[], TenancyConfig],
    executor: Executor | None = None,
    resolver: CallerResolver | None = None,
) -> None:
    """Serve `Reports` on `server`; `resolver` (the directory's users and API keys) makes it
    accept those callers too."""
    reports_pb2_grpc.add_ReportsServicer_to_server(
        ReportsApi(service, tenancy, executor, resolver), server
    )
