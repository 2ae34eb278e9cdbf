"""WFM's gRPC API (hotline.wfm.v1 StaffingService) as the gateway's StaffingBackend."""

from __future__ import annotations

import grpc

from hotline.wfm.v1 import wfm_pb2, wfm_pb2_grpc
from hotline_gateway.adapters.grpc_backend import map_rpc_error, metadata
from hotline_gateway.application.ports import Caller
from hotline_gateway.domain.resources import StaffingAnswer, StaffingQuestion


def request_to_proto(tenant_id: str, q: StaffingQuestion) -> wfm_pb2.StaffingRequest:
    target = wfm_pb2.Target(service_level=q.service_level, threshold_seconds=q.threshold_s)
    if q.max_occupancy is not None:
        target.max_occupancy = q.max_occupancy
    if q.max_asa_s is not None:
        target.max_asa_seconds = q.max_asa_s
    params = wfm_pb2.StaffingParams(target=target, channel=wfm_pb2.CHANNEL_VOICE)
    if q.shrinkage is not None:
        params.shrinkage = q.shrinkage
    if q.patience_s is not None:
        params.patience_seconds = q.patience_s
    return wfm_pb2.StaffingRequest(
        tenant_id=tenant_id,
        contacts=q.contacts,
        interval_seconds=q.interval_s,
        aht_seconds=q.aht_s,
        params=params,
    )


def answer_from_proto(r: wfm_pb2.StaffingResult) -> StaffingAnswer:
    return StaffingAnswer(
        agents=r.agents,
        scheduled_agents=r.scheduled_agents,
        service_level=r.service_level,
        asa_s=r.asa_seconds,
        occupancy=r.occupancy,
        p_wait=r.p_wait,
        abandon_rate=r.abandon_rate,
        erlangs=r.erlangs,
        model=r.model,
    )


class WfmClient:
    BACKEND = "WFM"

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, retry_after_s: float) -> None:
        self._stub = wfm_pb2_grpc.StaffingServiceStub(channel)
        self._timeout = timeout_s
        self._retry_after = retry_after_s

    async def staffing(self, caller: Caller, question: StaffingQuestion) -> StaffingAnswer:
        try:
            reply = await self._stub.ComputeStaffing(
                request_to_proto(caller.tenant_id, question),
                metadata=metadata(caller),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            raise map_rpc_error(exc, self.BACKEND, self._retry_after) from exc
        return answer_from_proto(reply)
