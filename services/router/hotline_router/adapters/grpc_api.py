"""gRPC servicers for AgentService and QueueService: auth per tenant, domain -> AgentView."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import grpc

from hotline.router.v1 import router_pb2, router_pb2_grpc
from hotline_platform.auth import authorize_call, rule_of
from hotline_platform.grpc_server import ErrorStatus, abort, run_use_case
from hotline_platform.identity import CallerResolver
from hotline_platform.tenancy import TenancyConfig
from hotline_router.adapters.mapping import AGENT_STATES, skills_to_proto
from hotline_router.application.service import NotLive, RouterService, UnknownAgent
from hotline_router.domain.commands import CommandRefused
from hotline_router.domain.facts import Disposition
from hotline_router.domain.treatment import CallbackRefused
from hotline_router.domain.views import AgentSnapshot

T = TypeVar("T")


# What a use case may raise, as gRPC statuses (in order: RuntimeError is a failed delivery,
# the command is not durable).
USE_CASE_ERRORS: tuple[ErrorStatus, ...] = (
    (UnknownAgent, grpc.StatusCode.NOT_FOUND, ""),
    (CommandRefused, grpc.StatusCode.FAILED_PRECONDITION, ""),
    (CallbackRefused, grpc.StatusCode.FAILED_PRECONDITION, ""),
    (NotLive, grpc.StatusCode.UNAVAILABLE, ""),
    (RuntimeError, grpc.StatusCode.UNAVAILABLE, "not recorded: "),
)

#: Trailing metadata of the refusal for a tenant this instance does not own.
NOT_OWNER = "hotline-not-owner"


class _Api:
    SERVICE = ""  # full service name: its methods' permissions are in policy.GRPC_METHODS

    def __init__(
        self, service: RouterService, tenancy: Callable[[], TenancyConfig],
        owns_tenant: Callable[[str], bool], describe_ownership: Callable[[str], str],
        resolver: CallerResolver | None = None,
    ) -> None:
        self._service = service
        self._tenancy = tenancy  # the live tenancy (the directory), read per call
        self._owns = owns_tenant
        self._describe = describe_ownership
        self._resolver = resolver  # None: the tenancy config's tenant credentials only

    async def _guard(
        self, context: grpc.aio.ServicerContext, tenant_id: str, method: str,
        agent_id: str | None = None,
    ) -> None:
        """Authenticate, authorise `method` on the tenant (and agent), and check this instance
        owns the tenant."""
        await authorize_call(
            self._tenancy(), context, tenant_id, rule_of(self.SERVICE, method),
            agent_id=agent_id, resolver=self._resolver,
        )
        if not self._owns(tenant_id):
            # Marked, so the gateway tells "ask another instance" from a refused command.
            context.set_trailing_metadata(((NOT_OWNER, "1"),))
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, self._describe(tenant_id))

    async def _run(self, context: grpc.aio.ServicerContext, call: Callable[[], T]) -> T:
        """Run a use case off the event loop (it takes the state lock and may flush)."""
        return await run_use_case(context, call, USE_CASE_ERRORS)

    def _view(self, tenant_id: str, snap: AgentSnapshot) -> router_pb2.AgentView:
        tenant = self._tenancy().tenants.get(tenant_id)
        agent = tenant.agents.get(snap.agent_id) if tenant else None
        return router_pb2.AgentView(
            tenant_id=tenant_id,
            agent_id=snap.agent_id,
            display_name=agent.name if agent else "",
            site_id=agent.site_id if agent else "",
            state=AGENT_STATES[snap.state],
            reason_code=snap.reason_code,
            interaction_id=snap.interaction_id,
            skills=skills_to_proto(snap.skills),
            in_state_ms=snap.in_state_ms,
        )


class AgentApi(_Api, router_pb2_grpc.AgentServiceServicer):
    SERVICE = router_pb2.DESCRIPTOR.services_by_name["AgentService"].full_name

    async def _agent_call(
        self, method: str, request: object, context: grpc.aio.ServicerContext,
        call: Callable[[str, str], AgentSnapshot],
    ) -> router_pb2.AgentView:
        tenant_id: str = request.tenant_id  # type: ignore[attr-defined]
        agent_id: str = request.agent_id  # type: ignore[attr-defined]
        await self._guard(context, tenant_id, method, agent_id)
        if not agent_id:
            await abort(context, grpc.StatusCode.INVALID_ARGUMENT, "agent_id is required")
        snap = await self._run(context, lambda: call(tenant_id, agent_id))
        return self._view(tenant_id, snap)

    async def LogIn(  # noqa: N802 (gRPC method names)
        self, request: router_pb2.LogInRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.AgentView:
        return await self._agent_call("LogIn", request, context, self._service.log_in)

    async def LogOut(  # noqa: N802
        self, request: router_pb2.LogOutRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.AgentView:
        return await self._agent_call(
            "LogOut", request, context, lambda t, a: self._service.log_out(t, a, request.reason)
        )

    async def SetReady(  # noqa: N802
        self, request: router_pb2.SetReadyRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.AgentView:
        return await self._agent_call("SetReady", request, context, self._service.set_ready)

    async def SetNotReady(  # noqa: N802
        self, request: router_pb2.SetNotReadyRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.AgentView:
        return await self._agent_call(
            "SetNotReady", request, context,
            lambda t, a: self._service.set_not_ready(t, a, request.reason_code or "not_ready"),
        )

    async def FinishWrapUp(  # noqa: N802
        self, request: router_pb2.FinishWrapUpRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.AgentView:
        disposition = (
            Disposition(
                request.disposition.code, request.disposition.resolved,
                request.disposition.notes_ref,
            )
            if request.HasField("disposition")
            else None
        )
        return await self._agent_call(
            "FinishWrapUp", request, context,
            lambda t, a: self._service.finish_wrap_up(t, a, request.interaction_id, disposition),
        )

    async def GetAgent(  # noqa: N802
        self, request: router_pb2.GetAgentRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.AgentView:
        return await self._agent_call("GetAgent", request, context, self._service.agent)

    async def ListAgents(  # noqa: N802
        self, request: router_pb2.ListAgentsRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.ListAgentsResponse:
        await self._guard(context, request.tenant_id, "ListAgents")
        snaps = await self._run(context, lambda: self._service.agents(request.tenant_id))
        return router_pb2.ListAgentsResponse(
            agents=[self._view(request.tenant_id, s) for s in snaps]
        )

    async def WatchAgent(  # noqa: N802
        self, request: router_pb2.GetAgentRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[router_pb2.AgentView]:
        tenant_id, agent_id = request.tenant_id, request.agent_id
        await self._guard(context, tenant_id, "WatchAgent", agent_id)
        loop = asyncio.get_running_loop()
        changes: asyncio.Queue[AgentSnapshot] = asyncio.Queue()

        def notify(snap: AgentSnapshot) -> None:  # under the service lock, from any thread
            with contextlib.suppress(RuntimeError):  # the loop closed (server stopping)
                loop.call_soon_threadsafe(changes.put_nowait, snap)

        # The first view and the subscription are taken atomically: no change falls between.
        snap, unsubscribe = await self._run(
            context, lambda: self._service.watch(tenant_id, agent_id, notify)
        )
        try:
            last: tuple[object, ...] | None = None
            while True:
                key = (snap.state, snap.reason_code, snap.interaction_id, snap.since_ms)
                if key != last:  # e.g. logged_in, then its state change: one view
                    last = key
                    yield self._view(tenant_id, snap)
                snap = await changes.get()
        finally:
            unsubscribe()


class QueueApi(_Api, router_pb2_grpc.QueueServiceServicer):
    SERVICE = router_pb2.DESCRIPTOR.services_by_name["QueueService"].full_name

    async def ListQueues(  # noqa: N802
        self, request: router_pb2.ListQueuesRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.ListQueuesResponse:
        tenant_id = request.tenant_id
        await self._guard(context, tenant_id, "ListQueues")
        snaps = await self._run(context, lambda: self._service.queues(tenant_id))
        return router_pb2.ListQueuesResponse(
            queues=[
                router_pb2.QueueView(
                    tenant_id=tenant_id,
                    queue_id=q.queue_id,
                    waiting=q.waiting,
                    longest_wait_ms=q.longest_wait_ms,
                    agents_ready=q.agents_ready,
                    agents_logged_in=q.agents_logged_in,
                )
                for q in snaps
            ]
        )

    async def RequestCallback(  # noqa: N802
        self, request: router_pb2.RequestCallbackRequest, context: grpc.aio.ServicerContext
    ) -> router_pb2.RequestCallbackResponse:
        tenant_id = request.tenant_id
        await self._guard(context, tenant_id, "RequestCallback")
        queue_id, address = await self._run(
            context,
            lambda: self._service.request_callback(
                tenant_id, request.interaction_id, request.callback_address
            ),
        )
        return router_pb2.RequestCallbackResponse(queue_id=queue_id, callback_address=address)


SERVICE_NAMES = (
    router_pb2.DESCRIPTOR.services_by_name["AgentService"].full_name,
    router_pb2.DESCRIPTOR.services_by_name["QueueService"].full_name,
)


def register(
    server: grpc.aio.Server, service: RouterService, tenancy: Callable[[], TenancyConfig],
    owns_tenant: Callable[[str], bool], describe_ownership: Callable[[str], str],
    resolver: CallerResolver | None = None,
) -> None:
    router_pb2_grpc.add_AgentServiceServicer_to_server(
        AgentApi(service, tenancy, owns_tenant, describe_ownership, resolver), server
    )
    router_pb2_grpc.add_QueueServiceServicer_to_server(
        QueueApi(service, tenancy, owns_tenant, describe_ownership, resolver), server
    )
