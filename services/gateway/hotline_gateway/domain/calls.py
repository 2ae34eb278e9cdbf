"""Hold, resume and blind transfer of a connected call, asked for from the desktop or the API
(pure). The gateway only asks: the ingress holding the call does it, and says so with its own
facts (`held`, `resumed`, `transferred`), which reach the pages through the push stream."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class CallAction(enum.Enum):
    HOLD = "hold"
    RESUME = "resume"
    TRANSFER = "transfer"


@dataclass(frozen=True)
class CallRequest:
    """One command for the ingress: `agent_id` is the agent connected to the call when it was
    asked (the ingress does nothing if another one is by then)."""

    tenant_id: str
    interaction_id: str
    agent_id: str
    action: CallAction
    to_queue_id: str = ""  # TRANSFER: a queue of the tenant
    requested_by: str = ""  # the principal's id, for the logs


@dataclass(frozen=True)
class CallAccepted:
    """What the API answers (202): the command is recorded, not yet done."""

    command_id: str
    request: CallRequest
