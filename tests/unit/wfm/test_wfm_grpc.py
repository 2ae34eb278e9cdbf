"""The StaffingService over real gRPC on loopback: auth per tenant, health, errors, a plan
and a forecast over an in-memory history (ClickHouse is covered by the integration test)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hotline.wfm.v1 import wfm_pb2, wfm_pb2_grpc
from hotline_cli.embedded import find_free_port
from hotline_platform import grpc_server, tenancy
from hotline_wfm.adapters import grpc_api
from hotline_wfm.application.service import WfmService
from hotline_wfm.domain.forecast import DAY_MS, SLOT_MS, Observation

NOW = 1_762_732_800_000 + 14 * DAY_MS  # a Monday, 00:00 UTC

CONFIG = tenancy.parse(
    {
        "sites": [{"id": "lisbon"}],
        "tenants": [
            {
                "id": "acme",
                "credential": "acme-secret",
                "queues": [{"id": "support", "service_level": {"threshold_s": 20, "target": 0.8}}],
            },
            {"id": "beta", "credential": "beta-secret", "queues": [{"id": "sales"}]},
        ],
    }
)


class FakeHistory:
    def observations(
        self, tenant_id: str, start_ms: int, end_ms: int, queue_ids: Sequence[str] = ()
    ) -> list[Observation]:
        return [
            Observation("support", s, 25, 25, 25 * 180_000)
            for s in range(start_ms, end_ms, SLOT_MS)
            if tenant_id == "acme" and 36 <= (s % DAY_MS) // SLOT_MS < 68
        ]

    def first_slot_ms(self, tenant_id: str) -> int | None:
        return NOW - 14 * DAY_MS


async def _exercise(port: int) -> None:
    service = WfmService(lambda: CONFIG, FakeHistory())
    server = await grpc_server.start(
        port,
        lambda s: wfm_pb2_grpc.add_StaffingServiceServicer_to_server(
            grpc_api.StaffingApi(service, lambda: CONFIG, 0.3, now_ms=lambda: NOW), s
        ),
        grpc_api.SERVICE_NAMES,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=grpc_api.SERVICE_NAMES[0])
            )
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            stub = wfm_pb2_grpc.StaffingServiceStub(channel)
            acme = (("authorization", "Bearer acme-secret"),)
            request = wfm_pb2.StaffingRequest(
                tenant_id="acme", contacts=100, interval_seconds=1800, aht_seconds=180,
                params=wfm_pb2.StaffingParams(
                    target=wfm_pb2.Target(service_level=0.8, threshold_seconds=20)
                ),
            )
            result = await stub.ComputeStaffing(request, metadata=acme)
            assert result.agents == 14 and result.scheduled_agents == 20
            assert result.model == "erlang-c" and 0.88 < result.service_level < 0.89

            for metadata, code in (
                ((), grpc.StatusCode.UNAUTHENTICATED),
                ((("authorization", "Bearer nope"),), grpc.StatusCode.UNAUTHENTICATED),
                ((("authorization", "Bearer beta-secret"),), grpc.StatusCode.PERMISSION_DENIED),
            ):
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await stub.ComputeStaffing(request, metadata=metadata)
                assert err.value.code() == code

            bad = wfm_pb2.StaffingRequest(
                tenant_id="acme", contacts=-5, interval_seconds=900, aht_seconds=180
            )
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.ComputeStaffing(bad, metadata=acme)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "negative" in (err.value.details() or "")
            # The schemathesis case: an AHT of the smallest double once failed inside `math`
            # ("math domain error", a 502 at the gateway); now it is a precise refusal.
            for tiny in (
                wfm_pb2.StaffingRequest(
                    tenant_id="acme", contacts=1e-10, interval_seconds=900, aht_seconds=5e-324,
                    params=wfm_pb2.StaffingParams(patience_seconds=60),
                ),
                wfm_pb2.StaffingRequest(
                    tenant_id="acme", contacts=3, interval_seconds=900, aht_seconds=180,
                    params=wfm_pb2.StaffingParams(
                        target=wfm_pb2.Target(service_level=0.8, threshold_seconds=5e-324),
                        patience_seconds=60,
                    ),
                ),
            ):
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await stub.ComputeStaffing(tiny, metadata=acme)
                assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                assert "must be between 0.001 s and" in (err.value.details() or "")

            plan = await stub.PlanStaffing(
                wfm_pb2.PlanRequest(tenant_id="acme", days=1, start_ms=NOW), metadata=acme
            )
            assert len(plan.rows) == 96
            busy = [r for r in plan.rows if r.contacts > 0]
            assert len(busy) == 32 and all(r.staffing.agents == 8 for r in busy)
            assert plan.totals.agent_hours == pytest.approx(32 * 8 / 4)
            assert plan.forecast_errors[0].wape == pytest.approx(0.0)

            given = await stub.PlanStaffing(
                wfm_pb2.PlanRequest(
                    tenant_id="acme",
                    demand=[wfm_pb2.IntervalDemand(queue_id="x", start_ms=NOW, contacts=50,
                                                   aht_seconds=180)],
                ),
                metadata=acme,
            )
            assert given.rows[0].staffing.agents == 14

            fc = await stub.Forecast(
                wfm_pb2.ForecastRequest(tenant_id="acme", days=1), metadata=acme
            )
            assert len(fc.intervals) == 96
            assert max(i.contacts for i in fc.intervals) == pytest.approx(25)
            assert fc.errors[0].HasField("wape")
    finally:
        await server.stop(grace=1)


def test_staffing_service_over_grpc() -> None:
    asyncio.run(_exercise(find_free_port()))
