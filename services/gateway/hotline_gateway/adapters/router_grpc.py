"""The router's gRPC API (hotline.router.v1 AgentService, QueueService) as the gateway's
AgentBackend and QueueBackend."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import grpc

from hotline.agent.v1 import events_pb2 as agent_pb2
from hotline.interaction.v1 import events_pb2 as interaction_pb2
from hotline.router.v1 import router_pb2, router_pb2_grpc
from hotline_gateway.adapters.grpc_backend import map_rpc_error, metadata
from hotline_gateway.application.ports import Caller
from hotline_gateway.domain.resources import (
    Agent,
    AgentCommand,
    AgentState,
    CommandArgs,
    QueueStats,
    Skill,
)

T = TypeVar("T")

STATES = {
    agent_pb2.AGENT_STATE_LOGGED_OUT: AgentState.LOGGED_OUT,
    agent_pb2.AGENT_STATE_READY: AgentState.READY,
    agent_pb2.AGENT_STATE_NOT_READY: AgentState.NOT_READY,
    agent_pb2.AGENT_STATE_RESERVED: AgentState.RESERVED,
    agent_pb2.AGENT_STATE_BUSY: AgentState.BUSY,
    agent_pb2.AGENT_STATE_WRAP_UP: AgentState.WRAP_UP,
}


def agent_from_proto(view: router_pb2.AgentView) -> Agent:
    return Agent(
        tenant_id=view.tenant_id,
        agent_id=view.agent_id,
        display_name=view.display_name,
        site_id=view.site_id,
        state=STATES.get(view.state, AgentState.UNKNOWN),
        reason_code=view.reason_code,
        interaction_id=view.interaction_id,
        skills=tuple(Skill(s.name, s.level) for s in view.skills),
        in_state_ms=max(0, view.in_state_ms),
    )


def queue_from_proto(view: router_pb2.QueueView) -> QueueStats:
    return QueueStats(
        tenant_id=view.tenant_id,
        queue_id=view.queue_id,
        waiting=view.waiting,
        longest_wait_ms=max(0, view.longest_wait_ms),
        agents_ready=view.agents_ready,
        agents_logged_in=view.agents_logged_in,
    )


class RouterClient:
    """One channel to the router, shared by every request (gRPC multiplexes calls)."""

    BACKEND = "the router"

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, retry_after_s: float) -> None:
        self._agents = router_pb2_grpc.AgentServiceStub(channel)
        self._queues = router_pb2_grpc.QueueServiceStub(channel)
        self._timeout = timeout_s
        self._retry_after = retry_after_s

    async def _call(self, caller: Caller, rpc: Callable[..., Awaitable[T]], request: object) -> T:
        try:
            return await rpc(request, metadata=metadata(caller), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise map_rpc_error(exc, self.BACKEND, self._retry_after) from exc

    async def list_agents(self, caller: Caller) -> Sequence[Agent]:
        request = router_pb2.ListAgentsRequest(tenant_id=caller.tenant_id)
        reply = await self._call(caller, self._agents.ListAgents, request)
        return [agent_from_proto(v) for v in reply.agents]

    async def get_agent(self, caller: Caller, agent_id: str) -> Agent:
        request = router_pb2.GetAgentRequest(tenant_id=caller.tenant_id, agent_id=agent_id)
        return agent_from_proto(await self._call(caller, self._agents.GetAgent, request))

    async def command(
        self, caller: Caller, agent_id: str, command: AgentCommand, args: CommandArgs
    ) -> Agent:
        ids = {"tenant_id": caller.tenant_id, "agent_id": agent_id}
        rpc: Callable[..., Awaitable[router_pb2.AgentView]]
        request: object
        if command is AgentCommand.LOG_IN:
            rpc, request = self._agents.LogIn, router_pb2.LogInRequest(**ids)
        elif command is AgentCommand.LOG_OUT:
            rpc, request = self._agents.LogOut, router_pb2.LogOutRequest(**ids, reason=args.reason)
        elif command is AgentCommand.READY:
            rpc, request = self._agents.SetReady, router_pb2.SetReadyRequest(**ids)
        elif command is AgentCommand.NOT_READY:
            rpc = self._agents.SetNotReady
            request = router_pb2.SetNotReadyRequest(**ids, reason_code=args.reason_code)
        elif command is AgentCommand.FINISH_WRAP_UP:
            rpc = self._agents.FinishWrapUp
            wrap_up = router_pb2.FinishWrapUpRequest(**ids, interaction_id=args.interaction_id)
            if args.disposition is not None:
                wrap_up.disposition.CopyFrom(
                    interaction_pb2.Disposition(
                        code=args.disposition.code,
                        resolved=args.disposition.resolved,
                        notes_ref=args.disposition.notes_ref,
                    )
                )
            request = wrap_up
        else:  # pragma: no cover - every command is handled above
            raise AssertionError(command)
        return agent_from_proto(await self._call(caller, rpc, request))

    async def queue_stats(self, caller: Caller) -> Sequence[QueueStats]:
        request = router_pb2.ListQueuesRequest(tenant_id=caller.tenant_id)
        reply = await self._call(caller, self._queues.ListQueues, request)
        return [queue_from_proto(v) for v in reply.queues]
