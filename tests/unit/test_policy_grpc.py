"""The tenant x role matrix, generated from policy.GRPC_METHODS, against the router's and wfm's
real servicers over gRPC on loopback: every method refuses another tenant's caller and a role
(or API key scope) without its permission, and agents act only on their own agent; and every
method refuses a missing or unknown credential. A method added to a service without a line in
the table fails test_policy.py; one in the table is called here (or by its own service's test).

Callers are real tokens: browser sessions of users of each role, API keys, and the tenancy
config's tenant credentials (support.identity_fakes.MatrixIdentities)."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Sequence

import grpc
import pytest
from support import authz_matrix
from support.authz_matrix import UNAUTHENTICATED
from support.grpc_matrix import call_outcome, sample_request
from support.identity_fakes import MatrixIdentities

from hotline.router.v1 import router_pb2
from hotline_cli.embedded import find_free_port
from hotline_platform import grpc_server, policy, tenancy
from hotline_platform.auth import tenancy_resolver
from hotline_router.adapters import grpc_api as router_api
from hotline_router.adapters.config import routing_config
from hotline_router.application.service import RouterService
from hotline_router.domain.facts import Fact
from hotline_wfm.adapters import grpc_api as wfm_api
from hotline_wfm.application.service import WfmService
from hotline_wfm.domain.forecast import Observation


def _tenant(tid: str) -> dict[str, object]:
    return {
        "id": tid,
        "credential": f"{tid}-secret",
        "queues": [{"id": "sales", "required_skills": ["sales"]}],
        "agents": [
            {"id": a, "skills": ["sales"], "phone": f"sip:{a}@{tid}"} for a in ("a1", "a2")
        ],
        "entry_points": [{"address": f"{tid}-100", "queue": "sales"}],
    }


class _Tenancy(tenancy.TenancyConfig):
    """The config that is also its own live source (`() -> config`): servicers take either
    form while the router moves to the live directory."""

    def __call__(self) -> tenancy.TenancyConfig:
        return self


_PARSED = tenancy.parse({"sites": [{"id": "lisbon"}], "tenants": [_tenant("ta"), _tenant("tb")]})
CONFIG = _Tenancy(**{f.name: getattr(_PARSED, f.name) for f in dataclasses.fields(_PARSED)})
SERVICES = ("/hotline.router.v1.", "/hotline.wfm.v1.")
TABLE = {m: r for m, r in policy.GRPC_METHODS.items() if m.startswith(SERVICES)}


class Publisher:
    def publish(self, fact: Fact) -> None:
        pass

    def flush(self) -> None:
        pass


class Clock:
    def now_ms(self) -> int:
        return 1_000_000


class NoHistory:
    def observations(
        self, tenant_id: str, start_ms: int, end_ms: int, queue_ids: Sequence[str] = ()
    ) -> list[Observation]:
        return []

    def first_slot_ms(self, tenant_id: str) -> int | None:
        return None


async def _run_matrix(port: int) -> list[str]:
    identities = MatrixIdentities(
        "ta", "tb", "a1", "a2", {t: f"{t}-secret" for t in CONFIG.tenants}
    )
    legacy = tenancy_resolver(CONFIG)
    resolver = identities.resolver(legacy.tenant_of, legacy.tenant_credential_cached)
    ids = itertools.count()
    router = RouterService(routing_config(CONFIG), Publisher(), Clock(), lambda: f"e{next(ids)}")
    router.go_live()
    wfm = WfmService(lambda: CONFIG, NoHistory())

    def register(server: grpc.aio.Server) -> None:
        router_api.register(
            server, router, CONFIG, lambda t: True, lambda t: "", resolver=resolver
        )
        wfm_api.register(server, wfm, lambda: CONFIG, 0.3, resolver=resolver)

    server = await grpc_server.start(
        port, register, router_api.SERVICE_NAMES + wfm_api.SERVICE_NAMES
    )
    wrong: list[str] = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            for case in authz_matrix.cases(TABLE):
                request = sample_request(
                    case.route, identities.tenant(case.tenant), identities.agent(case.agent)
                )
                token = identities.token(case.caller)
                outcome = await call_outcome(channel, case.route, request, token)
                if outcome != case.expected:
                    wrong.append(f"{case.id}: got {outcome}")
            for route in TABLE:
                for name, token in authz_matrix.unauthenticated_tokens():
                    request = sample_request(route, "ta", "a1")
                    outcome = await call_outcome(channel, route, request, token)
                    if outcome != UNAUTHENTICATED:
                        wrong.append(f"{route}[{name}]: got {outcome}")
            # The refusal names who and why.
            agent = next(c for c in authz_matrix.callers(policy.GRPC_METHODS[
                "/hotline.router.v1.AgentService/LogIn"]) if c.name == "agent")
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await channel.unary_unary(
                    "/hotline.router.v1.AgentService/LogIn",
                    request_serializer=lambda m: m.SerializeToString(),
                    response_deserializer=router_pb2.AgentView.FromString,
                )(
                    router_pb2.LogInRequest(tenant_id="ta", agent_id="a2"),
                    metadata=(("authorization", f"Bearer {identities.token(agent)}"),),
                )
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert denied.value.details() == (
                "user ta/agent (agent) may use agent.state.write_own only on its own agent "
                "'a1', not on agent 'a2'"
            )
    finally:
        await server.stop(grace=1)
    return wrong


def test_every_router_and_wfm_method_refuses_other_tenants_and_roles_without_permission() -> None:
    assert len(TABLE) == 13  # 8 AgentService + 2 QueueService + 3 StaffingService methods
    wrong = asyncio.run(_run_matrix(find_free_port()))
    assert not wrong, "\n".join(wrong)
