"""gRPC StaffingService: per-tenant auth, protobuf <-> domain, maths off the event loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import grpc

from hotline.wfm.v1 import wfm_pb2, wfm_pb2_grpc
from hotline_platform.auth import authorize_call, rule_of
from hotline_platform.grpc_server import ErrorStatus, run_use_case
from hotline_platform.identity import CallerResolver
from hotline_platform.tenancy import TenancyConfig
from hotline_wfm.application.ports import HistoryUnavailable
from hotline_wfm.application.service import UnknownTenant, WfmService
from hotline_wfm.domain.erlang import InvalidInput, Target, Unstable
from hotline_wfm.domain.forecast import ForecastError
from hotline_wfm.domain.plan import (
    Channel,
    IntervalDemand,
    IntervalStaffing,
    Plan,
    StaffingParams,
    Totals,
)

SERVICE_NAMES = ("hotline.wfm.v1.StaffingService",)
T = TypeVar("T")

_CHANNELS = {
    wfm_pb2.CHANNEL_UNSPECIFIED: Channel.VOICE,
    wfm_pb2.CHANNEL_VOICE: Channel.VOICE,
    wfm_pb2.CHANNEL_CHAT: Channel.CHAT,
    wfm_pb2.CHANNEL_EMAIL: Channel.EMAIL,
}


def target_from_proto(t: wfm_pb2.Target, default: Target) -> Target:
    return Target(
        service_level=t.service_level if t.HasField("service_level") else default.service_level,
        threshold_s=t.threshold_seconds or default.threshold_s,
        asa_s=t.max_asa_seconds if t.HasField("max_asa_seconds") else None,
        max_occupancy=t.max_occupancy if t.HasField("max_occupancy") else None,
    )


def params_from_proto(p: wfm_pb2.StaffingParams, default_shrinkage: float) -> StaffingParams:
    defaults = StaffingParams()
    return StaffingParams(
        target=target_from_proto(p.target, defaults.target),
        shrinkage=p.shrinkage if p.HasField("shrinkage") else default_shrinkage,
        patience_s=p.patience_seconds if p.HasField("patience_seconds") else None,
        channel=_CHANNELS.get(p.channel, Channel.VOICE),
        concurrency=p.chat_concurrency or 1,
        response_s=p.email_response_seconds or defaults.response_s,
        email_occupancy=p.email_occupancy or defaults.email_occupancy,
    )


def staffing_to_proto(s: IntervalStaffing) -> wfm_pb2.StaffingResult:
    return wfm_pb2.StaffingResult(
        agents=s.agents,
        scheduled_agents=s.scheduled,
        service_level=s.service_level,
        asa_seconds=s.asa_s,
        occupancy=s.occupancy,
        p_wait=s.p_wait,
        abandon_rate=s.abandon_rate,
        erlangs=s.erlangs,
        model=s.model,
    )


def totals_to_proto(queue_id: str, t: Totals) -> wfm_pb2.PlanTotals:
    return wfm_pb2.PlanTotals(
        queue_id=queue_id,
        contacts=t.contacts,
        workload_hours=t.workload_hours,
        agent_hours=t.agent_hours,
        scheduled_hours=t.scheduled_hours,
        peak_agents=t.peak_agents,
        peak_scheduled=t.peak_scheduled,
        service_level=t.service_level,
        asa_seconds=t.asa_s,
        abandon_rate=t.abandon_rate,
        occupancy=t.occupancy,
    )


def error_to_proto(e: ForecastError) -> wfm_pb2.ForecastError:
    out = wfm_pb2.ForecastError(
        queue_id=e.queue_id, slots=e.slots, actual=e.actual, forecast=e.forecast
    )
    if e.wape is not None:
        out.wape = e.wape
    if e.mape is not None:
        out.mape = e.mape
    return out


def plan_to_proto(plan: Plan, errors: tuple[ForecastError, ...] = ()) -> wfm_pb2.PlanResponse:
    return wfm_pb2.PlanResponse(
        rows=[
            wfm_pb2.PlanRow(
                queue_id=r.queue_id,
                start_ms=r.start_ms,
                contacts=r.staffing.contacts,
                aht_seconds=r.staffing.aht_s,
                staffing=staffing_to_proto(r.staffing),
            )
            for r in plan.rows
        ],
        totals_by_queue=[totals_to_proto(q, t) for q, t in plan.by_queue.items()],
        totals=totals_to_proto("", plan.total),
        forecast_errors=[error_to_proto(e) for e in errors],
    )


# What a staffing use case may raise, as gRPC statuses.
USE_CASE_ERRORS: tuple[ErrorStatus, ...] = (
    (Unstable, grpc.StatusCode.FAILED_PRECONDITION, ""),
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT, ""),
    (UnknownTenant, grpc.StatusCode.NOT_FOUND, ""),
    (HistoryUnavailable, grpc.StatusCode.UNAVAILABLE, "history unavailable: "),
)


class StaffingApi(wfm_pb2_grpc.StaffingServiceServicer):
    def __init__(
        self, service: WfmService, tenancy: Callable[[], TenancyConfig], default_shrinkage: float,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        resolver: CallerResolver | None = None,
    ) -> None:
        self._service = service
        self._tenancy = tenancy
        self._shrinkage = default_shrinkage
        self._now_ms = now_ms
        self._resolver = resolver  # None: the tenancy config's tenant credentials only

    async def _guard(self, context: grpc.aio.ServicerContext, tenant_id: str, method: str) -> None:
        await authorize_call(
            self._tenancy(), context, tenant_id, rule_of(SERVICE_NAMES[0], method),
            resolver=self._resolver,
        )

    async def _run(self, context: grpc.aio.ServicerContext, call: Callable[[], T]) -> T:
        return await run_use_case(context, call, USE_CASE_ERRORS)

    async def ComputeStaffing(  # noqa: N802 - gRPC method name
        self, request: wfm_pb2.StaffingRequest, context: grpc.aio.ServicerContext
    ) -> wfm_pb2.StaffingResult:
        await self._guard(context, request.tenant_id, "ComputeStaffing")

        def compute() -> IntervalStaffing:
            params = params_from_proto(request.params, self._shrinkage)
            return self._service.staffing(
                request.contacts, request.interval_seconds, request.aht_seconds, params
            )

        return staffing_to_proto(await self._run(context, compute))

    async def PlanStaffing(  # noqa: N802
        self, request: wfm_pb2.PlanRequest, context: grpc.aio.ServicerContext
    ) -> wfm_pb2.PlanResponse:
        await self._guard(context, request.tenant_id, "PlanStaffing")

        def compute() -> wfm_pb2.PlanResponse:
            params = params_from_proto(request.params, self._shrinkage)
            if request.demand:
                demand = [
                    IntervalDemand(d.queue_id, d.start_ms, d.contacts, d.aht_seconds)
                    for d in request.demand
                ]
                plan = self._service.plan(demand, params, request.interval_seconds or 900.0)
                return plan_to_proto(plan)
            now = self._now_ms()
            result = self._service.plan_from_history(
                request.tenant_id,
                list(request.queue_ids),
                request.start_ms or now,
                request.days or 7.0,
                now,
                params,
                override_target=request.params.target.HasField("service_level"),
            )
            return plan_to_proto(result.plan, result.forecast.errors)

        return await self._run(context, compute)

    async def Forecast(  # noqa: N802
        self, request: wfm_pb2.ForecastRequest, context: grpc.aio.ServicerContext
    ) -> wfm_pb2.ForecastResponse:
        await self._guard(context, request.tenant_id, "Forecast")
        now = self._now_ms()
        result = await self._run(
            context,
            lambda: self._service.forecast(
                request.tenant_id, list(request.queue_ids), request.start_ms or now,
                request.days or 7.0, now,
            ),
        )
        return wfm_pb2.ForecastResponse(
            intervals=[
                wfm_pb2.IntervalDemand(
                    queue_id=d.queue_id, start_ms=d.start_ms, contacts=d.contacts,
                    aht_seconds=d.aht_s,
                )
                for d in result.intervals
            ],
            errors=[error_to_proto(e) for e in result.errors],
            history_start_ms=result.history_start_ms,
            history_end_ms=result.history_end_ms,
        )


def register(
    server: grpc.aio.Server, service: WfmService, tenancy: Callable[[], TenancyConfig],
    shrinkage: float,
    resolver: CallerResolver | None = None,
) -> None:
    wfm_pb2_grpc.add_StaffingServiceServicer_to_server(
        StaffingApi(service, tenancy, shrinkage, resolver=resolver), server
    )
