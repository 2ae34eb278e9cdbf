"""Hold, resume and blind transfer of a connected call, from the desktop or the REST API:

    POST /v1/tenants/{tenant_id}/interactions/{interaction_id}/hold
    POST /v1/tenants/{tenant_id}/interactions/{interaction_id}/resume
    POST /v1/tenants/{tenant_id}/interactions/{interaction_id}/transfer  {"to_queue_id": "..."}

`call.control_own` on the agent connected to the call now (the live board's): an agent acts on
its own call, supervisors and admins (`call.control`) on any call of the tenant. 202 Accepted:
the command is recorded on hotline.voice.commands.v1; the ingress holding the call does it and
says so (`held`, `resumed`, `transferred`, seen on the push stream). 404: no call of the tenant
connected to an agent by that id; 422: a transfer to no queue of the tenant.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from hotline_gateway.adapters.http.deps import Use, UseDep
from hotline_gateway.adapters.http.routes import ADMISSION_ERRORS, BACKEND_ERRORS, TENANT, Route
from hotline_gateway.adapters.http.schemas_directory import ID_PATTERN
from hotline_gateway.application.calls import CallControl
from hotline_gateway.domain.calls import CallAccepted, CallAction
from hotline_gateway.domain.errors import Unavailable

CALL_CONTROL_OWN = "call.control_own"

InteractionId = Annotated[
    str, Path(min_length=1, max_length=128, description="The call's interaction id")
]


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    to_queue_id: str = Field(pattern=ID_PATTERN, max_length=64,
                             description="A queue of the tenant: the caller waits there again")


class CallCommandOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    command_id: str = Field(description="The command's id (the causation of what it does)")
    interaction_id: str
    agent_id: str = Field(description="The agent connected to the call when it was asked")
    action: str = Field(description="hold | resume | transfer")
    to_queue_id: str = Field(description="transfer: the queue; else empty")
    status: str = Field(description="accepted: recorded, done (or not) by the call's ingress; "
                                    "the push stream shows the outcome")

    @staticmethod
    def of(accepted: CallAccepted) -> CallCommandOut:
        r = accepted.request
        return CallCommandOut(
            command_id=accepted.command_id, interaction_id=r.interaction_id,
            agent_id=r.agent_id, action=r.action.value, to_queue_id=r.to_queue_id,
            status="accepted",
        )


def _calls(use: Use) -> CallControl:
    if use.calls is None:
        raise Unavailable("call control is not wired in this gateway")
    return use.calls


async def hold_call(use: UseDep, interaction_id: InteractionId) -> CallCommandOut:
    return CallCommandOut.of(await _calls(use).act(use.caller, interaction_id, CallAction.HOLD))


async def resume_call(use: UseDep, interaction_id: InteractionId) -> CallCommandOut:
    return CallCommandOut.of(
        await _calls(use).act(use.caller, interaction_id, CallAction.RESUME)
    )


async def transfer_call(
    use: UseDep, interaction_id: InteractionId, body: TransferIn
) -> CallCommandOut:
    accepted = await _calls(use).act(
        use.caller, interaction_id, CallAction.TRANSFER, body.to_queue_id
    )
    return CallCommandOut.of(accepted)


# 400: a body that is not even text (FastAPI cannot parse it).
_ERRORS = (400,) + ADMISSION_ERRORS + BACKEND_ERRORS
_CALL = f"{TENANT}/interactions/{{interaction_id}}"

ROUTES: tuple[Route, ...] = (
    Route("holdCall", "POST", f"{_CALL}/hold", CALL_CONTROL_OWN, hold_call,
          "Put the caller of a connected call on hold (music to the caller)", CallCommandOut,
          _ERRORS, "calls", status_code=202, agent_in="interaction_id"),
    Route("resumeCall", "POST", f"{_CALL}/resume", CALL_CONTROL_OWN, resume_call,
          "Take the caller of a connected call off hold", CallCommandOut, _ERRORS, "calls",
          status_code=202, agent_in="interaction_id"),
    Route("transferCall", "POST", f"{_CALL}/transfer", CALL_CONTROL_OWN, transfer_call,
          "Blind transfer of a connected call to a queue of the tenant", CallCommandOut,
          _ERRORS, "calls", status_code=202, agent_in="interaction_id"),
)
