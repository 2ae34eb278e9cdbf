"""The analytics sink's Reports gRPC API (hotline.analytics.v1.Reports: ListInteractions,
GetInteraction, ListCustomerContacts (also an agent's screen-pop: for_agent_id and
for_interaction_id), GetKpiReport) as the gateway's ReportsBackend; messages
to and from plain values through hotline_platform.protodict, an interaction's events in their
protobuf-JSON form (field names as in the contract)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format

from hotline.analytics.v1 import reports_pb2, reports_pb2_grpc
from hotline.interaction.v1.events_pb2 import InteractionEvent as InteractionEventPb
from hotline_gateway.adapters.grpc_backend import map_rpc_error, metadata
from hotline_gateway.application.ports import Caller
from hotline_gateway.domain.interactions import (
    CustomerIdentity,
    InteractionDetail,
    InteractionEvent,
    InteractionPage,
    InteractionQuery,
    InteractionSummary,
)
from hotline_platform import protodict

T = TypeVar("T")


def summary_from_proto(
    message: reports_pb2.InteractionSummary | reports_pb2.CustomerContact,
) -> InteractionSummary:
    return InteractionSummary(**protodict.to_dict(message))


def event_from_proto(event: InteractionEventPb) -> InteractionEvent:
    case = event.WhichOneof("event") or ""
    body = getattr(event, case) if case else None
    return InteractionEvent(
        event_id=event.envelope.event_id,
        kind=case,
        occurred_at=protodict.iso_utc(protodict.to_datetime(event.envelope.occurred_at)),
        producer=event.envelope.producer,
        data=json_format.MessageToDict(body, preserving_proto_field_name=True) if body else {},
    )


def _period(start: datetime, end: datetime) -> reports_pb2.Period:
    return protodict.to_message({"from": start, "to": end}, reports_pb2.Period)


def _identity(identity: CustomerIdentity) -> reports_pb2.CustomerIdentity:
    return protodict.to_message(
        {"kind": identity.kind, "value": identity.value}, reports_pb2.CustomerIdentity
    )


class ReportsClient:
    BACKEND = "the analytics sink"

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, retry_after_s: float) -> None:
        self._stub = reports_pb2_grpc.ReportsStub(channel)
        self._timeout = timeout_s
        self._retry_after = retry_after_s

    async def _call(self, caller: Caller, rpc: Callable[..., Awaitable[T]], request: object) -> T:
        try:
            return await rpc(request, metadata=metadata(caller), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise map_rpc_error(exc, self.BACKEND, self._retry_after) from exc

    async def list_interactions(
        self, caller: Caller, query: InteractionQuery, limit: int, page_token: str
    ) -> InteractionPage:
        request = reports_pb2.ListInteractionsRequest(
            tenant_id=caller.tenant_id, period=_period(query.start, query.end),
            queue_id=query.queue_id, page_size=limit, page_token=page_token,
        )
        if query.channel:
            request.channel = protodict.to_message(
                {"channel": query.channel}, reports_pb2.InteractionSummary
            ).channel
        if query.identity is not None:
            request.identity.CopyFrom(_identity(query.identity))
        reply = await self._call(caller, self._stub.ListInteractions, request)
        return InteractionPage(
            tuple(summary_from_proto(i) for i in reply.interactions), reply.next_page_token
        )

    async def get_interaction(self, caller: Caller, interaction_id: str) -> InteractionDetail:
        request = reports_pb2.GetInteractionRequest(
            tenant_id=caller.tenant_id, interaction_id=interaction_id
        )
        reply = await self._call(caller, self._stub.GetInteraction, request)
        return InteractionDetail(
            summary_from_proto(reply.interaction),
            tuple(event_from_proto(e) for e in reply.events),
        )

    async def customer_contacts(
        self, caller: Caller, identity: CustomerIdentity, limit: int, exclude_interaction_id: str
    ) -> Sequence[InteractionSummary]:
        request = reports_pb2.ListCustomerContactsRequest(
            tenant_id=caller.tenant_id, identity=_identity(identity), limit=limit,
            exclude_interaction_id=exclude_interaction_id,
        )
        reply = await self._call(caller, self._stub.ListCustomerContacts, request)
        return [summary_from_proto(c) for c in reply.contacts]

    async def offered_customer_contacts(
        self, caller: Caller, agent_id: str, interaction_id: str, limit: int
    ) -> tuple[CustomerIdentity, Sequence[InteractionSummary]]:
        request = reports_pb2.ListCustomerContactsRequest(
            tenant_id=caller.tenant_id, limit=limit, exclude_interaction_id=interaction_id,
            for_agent_id=agent_id, for_interaction_id=interaction_id,
        )
        reply = await self._call(caller, self._stub.ListCustomerContacts, request)
        found = protodict.to_dict(reply.identity)
        return (
            CustomerIdentity(str(found["kind"]), reply.identity.value),
            [summary_from_proto(c) for c in reply.contacts],
        )

    async def kpi_report(
        self,
        caller: Caller,
        start: datetime,
        end: datetime,
        queue_ids: Sequence[str],
        split_by: str = "",
        priority_band_edges: Sequence[int] = (),
    ) -> dict[str, Any]:
        request = reports_pb2.GetKpiReportRequest(
            tenant_id=caller.tenant_id,
            period=_period(start, end),
            queue_ids=list(queue_ids),
            split_by=split_by,
            priority_band_edges=list(priority_band_edges),
        )
        return protodict.to_dict(await self._call(caller, self._stub.GetKpiReport, request))
