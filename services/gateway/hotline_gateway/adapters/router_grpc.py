"""The router's gRPC API (hotline.router.v1 AgentService, QueueService) as the gateway's
AgentBackend and QueueBackend."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence
from typing import Any

import grpc

from hotline.agent.v1 import events_pb2 as agent_pb2
from hotline.interaction.v1 import events_pb2 as interaction_pb2
from hotline.router.v1 import router_pb2, router_pb2_grpc
from hotline_gateway.adapters.grpc_backend import map_rpc_error, metadata
from hotline_gateway.application.ports import Caller
from hotline_gateway.domain.errors import Unavailable
from hotline_gateway.domain.resources import (
    Agent,
    AgentCommand,
    AgentState,
    CommandArgs,
    QueueStats,
    Skill,
)

AGENTS, QUEUES = 0, 1  # which stub of an instance a call uses

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


#: Trailing metadata of a router instance's refusal for a tenant it does not own (the router's
#: grpc_api sets it): the gateway then asks the other instances.
NOT_OWNER = "hotline-not-owner"


def _not_owner(exc: grpc.aio.AioRpcError) -> bool:
    trailing = exc.trailing_metadata() or ()
    return exc.code() == grpc.StatusCode.FAILED_PRECONDITION and any(
        key == NOT_OWNER for key, _ in trailing
    )


def resolve_targets(spec: str) -> list[str]:
    """``host:port[,host:port...]`` -> every address, a name resolving to several (a headless
    Kubernetes Service over the router's pods) expanded to each of them, in a stable order."""
    out: list[str] = []
    for target in (t.strip() for t in spec.split(",")):
        if not target:
            continue
        host, _, port = target.rpartition(":")
        try:
            infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
        except (OSError, ValueError):
            infos = []
        found = sorted({f"{info[4][0]}:{port}" for info in infos}) or [target]
        out += [a for a in found if a not in out]
    return out


class RouterClient:
    """The router's API over every router instance. Each instance owns some tenants (its
    partitions); a tenant's calls go to the instance that last served it, and when that one
    refuses (not the owner any more, after a rebalance) or cannot be reached, to the others in
    turn. One channel per instance, shared by every request (gRPC multiplexes calls)."""

    BACKEND = "the router"

    def __init__(
        self,
        targets: str,
        open_channel: Callable[[str], grpc.aio.Channel],
        timeout_s: float,
        retry_after_s: float,
        resolve: Callable[[str], list[str]] = resolve_targets,
    ) -> None:
        self._targets = targets
        self._open_channel = open_channel
        self._resolve = resolve
        self._stubs: dict[
            str, tuple[router_pb2_grpc.AgentServiceStub, router_pb2_grpc.QueueServiceStub]
        ] = {}
        self._owner: dict[str, str] = {}  # tenant id -> address of the instance that served it
        self._addresses: list[str] | None = None
        self._timeout = timeout_s
        self._retry_after = retry_after_s

    def _instance(
        self, address: str
    ) -> tuple[router_pb2_grpc.AgentServiceStub, router_pb2_grpc.QueueServiceStub]:
        stubs = self._stubs.get(address)
        if stubs is None:
            channel = self._open_channel(address)
            stubs = self._stubs[address] = (
                router_pb2_grpc.AgentServiceStub(channel),
                router_pb2_grpc.QueueServiceStub(channel),
            )
        return stubs

    async def _call(self, caller: Caller, service: int, method: str, request: object) -> Any:
        """``service``: AGENTS or QUEUES. Asks the tenant's last owner first, then every other
        instance (resolved again when none answered: pods come and go); the first answer that
        is not "not the owner" or "unreachable" counts."""
        tenant = caller.tenant_id
        last: grpc.aio.AioRpcError | None = None
        tried: set[str] = set()
        for fresh in (False, True):
            if fresh or self._addresses is None:
                self._addresses = await asyncio.to_thread(self._resolve, self._targets)
            known = self._owner.get(tenant)
            order = sorted(self._addresses, key=lambda address: address != known)
            for address in (a for a in order if a not in tried):
                tried.add(address)
                rpc = getattr(self._instance(address)[service], method)
                try:
                    reply = await rpc(request, metadata=metadata(caller), timeout=self._timeout)
                except grpc.aio.AioRpcError as exc:
                    if _not_owner(exc) or exc.code() == grpc.StatusCode.UNAVAILABLE:
                        last = exc  # another instance may own the tenant, or take it over
                        continue
                    self._owner[tenant] = address
                    raise map_rpc_error(exc, self.BACKEND, self._retry_after) from exc
                self._owner[tenant] = address
                return reply
        if last is None or _not_owner(last):
            raise Unavailable(
                f"{self.BACKEND}: no instance serves tenant {tenant!r} now (its partition is "
                "being reassigned)",
                self._retry_after,
            )
        raise map_rpc_error(last, self.BACKEND, self._retry_after) from last

    async def list_agents(self, caller: Caller) -> Sequence[Agent]:
        request = router_pb2.ListAgentsRequest(tenant_id=caller.tenant_id)
        reply = await self._call(caller, AGENTS, "ListAgents", request)
        return [agent_from_proto(v) for v in reply.agents]

    async def get_agent(self, caller: Caller, agent_id: str) -> Agent:
        request = router_pb2.GetAgentRequest(tenant_id=caller.tenant_id, agent_id=agent_id)
        return agent_from_proto(await self._call(caller, AGENTS, "GetAgent", request))

    async def command(
        self, caller: Caller, agent_id: str, command: AgentCommand, args: CommandArgs
    ) -> Agent:
        ids = {"tenant_id": caller.tenant_id, "agent_id": agent_id}
        rpc: str
        request: object
        if command is AgentCommand.LOG_IN:
            rpc, request = "LogIn", router_pb2.LogInRequest(**ids)
        elif command is AgentCommand.LOG_OUT:
            rpc, request = "LogOut", router_pb2.LogOutRequest(**ids, reason=args.reason)
        elif command is AgentCommand.READY:
            rpc, request = "SetReady", router_pb2.SetReadyRequest(**ids)
        elif command is AgentCommand.NOT_READY:
            rpc = "SetNotReady"
            request = router_pb2.SetNotReadyRequest(**ids, reason_code=args.reason_code)
        elif command is AgentCommand.FINISH_WRAP_UP:
            rpc = "FinishWrapUp"
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
        return agent_from_proto(await self._call(caller, AGENTS, rpc, request))

    async def queue_stats(self, caller: Caller) -> Sequence[QueueStats]:
        request = router_pb2.ListQueuesRequest(tenant_id=caller.tenant_id)
        reply = await self._call(caller, QUEUES, "ListQueues", request)
        return [queue_from_proto(v) for v in reply.queues]
