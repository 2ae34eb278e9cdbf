"""Hold, resume and transfer of a connected call (the desktop's buttons, the REST API).

Whose call it is comes from the live board (the push stream's fold of the event topics): the
agent it is connected to now. Admission authorises the route's per-agent permission on that
agent (`call.control_own`: an agent on its own call; `call.control`: supervisors and admins on
every call of the tenant); here the call must be connected (else 404: unknown, not answered
yet, over, or another tenant's) and a transfer must name a queue of the tenant (else 422).
The command is recorded on hotline.voice.commands.v1 before the answer (202).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from hotline_gateway.application.ports import Caller
from hotline_gateway.domain.calls import CallAccepted, CallAction, CallRequest
from hotline_gateway.domain.errors import Invalid, NotFound


class ConnectedCalls(Protocol):
    def connected_agent(self, tenant_id: str, interaction_id: str) -> str | None:
        """The agent the interaction is connected to now; None if it is not."""

    def queue_ids(self, tenant_id: str) -> Collection[str]:
        """The tenant's queues (the live directory's)."""


class CallCommands(Protocol):
    async def send(self, request: CallRequest) -> str:
        """Record the command (raises Unavailable when it cannot); its id."""


class CallControl:
    def __init__(self, calls: ConnectedCalls, commands: CallCommands) -> None:
        self._calls = calls
        self._commands = commands

    def agent_on(self, tenant_id: str, interaction_id: str) -> str | None:
        """The agent a command on the call acts for (admission checks the caller on it)."""
        return self._calls.connected_agent(tenant_id, interaction_id)

    async def act(
        self, caller: Caller, interaction_id: str, action: CallAction, to_queue_id: str = ""
    ) -> CallAccepted:
        tenant_id = caller.tenant_id
        agent_id = self._calls.connected_agent(tenant_id, interaction_id)
        if agent_id is None:
            raise NotFound(f"no call {interaction_id!r} connected to an agent in {tenant_id!r}")
        if action is CallAction.TRANSFER and to_queue_id not in self._calls.queue_ids(tenant_id):
            raise Invalid(f"no queue {to_queue_id!r} in {tenant_id!r} to transfer to",
                          (("body.to_queue_id", "not a queue of the tenant"),))
        request = CallRequest(
            tenant_id, interaction_id, agent_id, action,
            to_queue_id if action is CallAction.TRANSFER else "", caller.principal.id,
        )
        return CallAccepted(await self._commands.send(request), request)
