"""What the application needs from the outside world (adapters implement these)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hotline_gateway.domain.idempotency import Outcome, StoredResponse
from hotline_gateway.domain.ratelimit import Decision, Limit
from hotline_gateway.domain.resources import (
    Agent,
    AgentCommand,
    CommandArgs,
    QueueStats,
    StaffingAnswer,
    StaffingQuestion,
)


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the identity adapter resolved the bearer token.

    `id` scopes rate limits and idempotency keys; `subject` is the identity adapter's own
    object, handed back to it by `authorize` (the application never looks inside)."""

    id: str
    kind: str  # e.g. "tenant_credential"
    subject: object = field(compare=False, repr=False, default=None)


@dataclass(frozen=True)
class Caller:
    """An admitted request: the principal, and the credential presented to backends (the
    caller's own bearer token, or for a browser session the gateway's signed delegation:
    every backend checks it again)."""

    principal: Principal
    tenant_id: str
    credential: str = field(repr=False)
    request_id: str = ""


class Identity(Protocol):
    def verification_is_cheap(self, token: str) -> bool:
        """True when authenticate(token) needs no expensive hashing (a token seen before)."""

    async def authenticate(self, token: str) -> Principal:
        """The principal of `token`; raises Unauthenticated."""

    def backend_credential(self, principal: Principal, token: str) -> str:
        """The credential to present to backends for this caller (usually `token` itself)."""

    async def authorize(
        self, principal: Principal, tenant_id: str, permission: str, agent_id: str | None
    ) -> None:
        """Return if `principal` may use `permission` on `tenant_id` (and, for a per-agent
        permission, on agent `agent_id`); raise Forbidden (another tenant, a role without the
        permission, another agent) or NotFound (no such tenant, for a principal who may
        know)."""


class RateLimiter(Protocol):
    async def take(self, key: str, limit: Limit, cost: float = 1.0) -> Decision:
        """Spend `cost` tokens of `key`'s bucket (created full, with `limit`)."""


class IdempotencyStore(Protocol):
    """Keys are scoped by the caller: `scope` is principal + tenant."""

    async def begin(
        self, scope: str, key: str, fingerprint: str
    ) -> tuple[Outcome, StoredResponse | None]:
        """Hold the key for this request (EXECUTE), or say why not; REPLAY comes with the
        stored response."""

    async def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        """Keep the response of the request that holds the key."""

    async def release(self, scope: str, key: str) -> None:
        """Forget the key (the request produced nothing worth replaying)."""


class AgentBackend(Protocol):
    async def list_agents(self, caller: Caller) -> Sequence[Agent]: ...

    async def get_agent(self, caller: Caller, agent_id: str) -> Agent: ...

    async def command(
        self, caller: Caller, agent_id: str, command: AgentCommand, args: CommandArgs
    ) -> Agent: ...


class QueueBackend(Protocol):
    async def queue_stats(self, caller: Caller) -> Sequence[QueueStats]: ...


class StaffingBackend(Protocol):
    async def staffing(self, caller: Caller, question: StaffingQuestion) -> StaffingAnswer: ...
