"""In-memory backends for the gateway's unit tests (the real ones are the router's and WFM's
gRPC APIs, exercised in tests/integration/test_gateway*.py)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from analytics_directory_fakes import FakeDirectory, FakeReports

from hotline_gateway.adapters.http.app import create_app
from hotline_gateway.adapters.http.deps import Components
from hotline_gateway.adapters.inprocess import InProcessIdempotencyStore, InProcessRateLimiter
from hotline_gateway.adapters.policy_identity import PolicyIdentity, tenancy_resolver
from hotline_gateway.application.access import AccessControl, Limits
from hotline_gateway.application.calls import CallControl
from hotline_gateway.application.ports import Caller
from hotline_gateway.application.service import GatewayService
from hotline_gateway.domain.calls import CallRequest
from hotline_gateway.domain.errors import Conflict, GatewayError, NotFound
from hotline_gateway.domain.ratelimit import Limit
from hotline_gateway.domain.resources import (
    Agent,
    AgentCommand,
    AgentState,
    CommandArgs,
    QueueStats,
    Skill,
    StaffingAnswer,
    StaffingQuestion,
)
from hotline_platform import tenancy
from hotline_platform.identity import CallerResolver

TENANTS = ("acme", "globex")
CREDENTIALS = {t: f"{t}-test-credential" for t in TENANTS}


@functools.cache
def tenancy_config() -> tenancy.TenancyConfig:
    """One for the session: hashing the credentials at load costs a scrypt each."""
    return tenancy.parse(
        {
            "sites": [{"id": "lisbon"}],
            "tenants": [
                {
                    "id": t,
                    "credential": CREDENTIALS[t],
                    "queues": [{"id": "q1"}],
                    "agents": [{"id": f"{t}-a1", "phone": "sip:a@127.0.0.1"}],
                }
                for t in TENANTS
            ],
        }
    )


def agent(tenant_id: str, agent_id: str, state: AgentState = AgentState.LOGGED_OUT) -> Agent:
    return Agent(tenant_id, agent_id, agent_id.upper(), "lisbon", state, "", "",
                 (Skill("support", 3),), 1234)


# What each command allows from which state (the router's rules, simplified).
_ALLOWED = {
    AgentCommand.LOG_IN: ({AgentState.LOGGED_OUT, AgentState.NOT_READY, AgentState.READY},
                          AgentState.NOT_READY),
    AgentCommand.READY: ({AgentState.NOT_READY, AgentState.READY}, AgentState.READY),
    AgentCommand.NOT_READY: ({AgentState.NOT_READY, AgentState.READY}, AgentState.NOT_READY),
    AgentCommand.LOG_OUT: ({AgentState.NOT_READY, AgentState.READY, AgentState.LOGGED_OUT},
                           AgentState.LOGGED_OUT),
    AgentCommand.FINISH_WRAP_UP: ({AgentState.WRAP_UP, AgentState.READY}, AgentState.READY),
}


@dataclass
class FakeRouter:
    agents: dict[tuple[str, str], Agent] = field(default_factory=dict)
    queues: dict[str, list[QueueStats]] = field(default_factory=dict)
    commands: list[tuple[str, str, AgentCommand, CommandArgs]] = field(default_factory=list)
    callers: list[Caller] = field(default_factory=list)
    fail_with: GatewayError | None = None

    def add(self, a: Agent) -> None:
        self.agents[(a.tenant_id, a.agent_id)] = a

    def _check(self, caller: Caller) -> None:
        self.callers.append(caller)
        if self.fail_with is not None:
            raise self.fail_with

    async def list_agents(self, caller: Caller) -> Sequence[Agent]:
        self._check(caller)
        return [a for (t, _), a in self.agents.items() if t == caller.tenant_id]

    async def get_agent(self, caller: Caller, agent_id: str) -> Agent:
        self._check(caller)
        found = self.agents.get((caller.tenant_id, agent_id))
        if found is None:
            raise NotFound(f"no agent {agent_id!r}")
        return found

    async def command(
        self, caller: Caller, agent_id: str, command: AgentCommand, args: CommandArgs
    ) -> Agent:
        current = await self.get_agent(caller, agent_id)
        allowed, target = _ALLOWED[command]
        if current.state not in allowed:
            raise Conflict(f"{command.value} refused in {current.state.value}")
        self.commands.append((caller.tenant_id, agent_id, command, args))
        reason = args.reason_code if command is AgentCommand.NOT_READY else ""
        updated = replace(current, state=target, reason_code=reason, in_state_ms=0)
        self.add(updated)
        return updated

    async def queue_stats(self, caller: Caller) -> Sequence[QueueStats]:
        self._check(caller)
        return self.queues.get(caller.tenant_id, [])


@dataclass
class FakeWfm:
    questions: list[StaffingQuestion] = field(default_factory=list)

    async def staffing(self, caller: Caller, question: StaffingQuestion) -> StaffingAnswer:
        self.questions.append(question)
        return StaffingAnswer(14, 20, 0.82, 11.5, 0.79, 0.3, 0.0, question.erlangs, "erlang-c")


@dataclass
class FakeCalls:
    """The live board's connected calls and the tenants' queues (ConnectedCalls), and the
    commands recorded (CallCommands)."""

    connected: dict[tuple[str, str], str] = field(default_factory=dict)
    queues: dict[str, set[str]] = field(default_factory=lambda: {t: {"q1"} for t in TENANTS})
    sent: list[CallRequest] = field(default_factory=list)

    def connect(self, tenant_id: str, interaction_id: str, agent_id: str) -> None:
        self.connected[(tenant_id, interaction_id)] = agent_id

    def connected_agent(self, tenant_id: str, interaction_id: str) -> str | None:
        return self.connected.get((tenant_id, interaction_id))

    def queue_ids(self, tenant_id: str) -> set[str]:
        return self.queues.get(tenant_id, set())

    async def send(self, request: CallRequest) -> str:
        self.sent.append(request)
        return f"cmd-{len(self.sent)}"


class Client:
    """A synchronous client of the app in this process (httpx over ASGI, one event loop)."""

    def __init__(self, app: Any) -> None:
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@dataclass
class World:
    router: FakeRouter
    wfm: FakeWfm
    client: Client
    clock: list[float]
    directory: FakeDirectory = field(default_factory=FakeDirectory)
    reports: FakeReports = field(default_factory=FakeReports)
    calls: FakeCalls = field(default_factory=FakeCalls)

    def headers(self, tenant: str = "acme", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {CREDENTIALS[tenant]}", **extra}

    def get(self, path: str, tenant: str = "acme", **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers(tenant, **kwargs.pop("headers", {})),
                               **kwargs)

    def post(self, path: str, tenant: str = "acme", **kwargs: Any) -> Any:
        return self.client.post(path, headers=self.headers(tenant, **kwargs.pop("headers", {})),
                                **kwargs)


def make_world(
    rate: float = 0.0, burst: int = 10, resolver: CallerResolver | None = None,
    access_log: str = "off",
) -> World:
    router, wfm = FakeRouter(), FakeWfm()
    calls = FakeCalls()
    directory, reports = FakeDirectory(), FakeReports()
    for tenant in TENANTS:
        directory.seed(tenant)
    clock = [1000.0]
    limiter = InProcessRateLimiter(clock=lambda: clock[0])
    components = Components(
        gateway=GatewayService(
            agents=router, queues=router, staffing=wfm, directory=directory, reports=reports,
        ),
        access=AccessControl(
            PolicyIdentity(resolver or tenancy_resolver(tenancy_config())), limiter,
            Limits(Limit(rate, burst), Limit(0, 1)),
        ),
        idempotency=InProcessIdempotencyStore(ttl_s=60, clock=lambda: clock[0]),
        calls=CallControl(calls, calls),
    )
    client = Client(create_app(components, access_log=access_log))
    return World(router, wfm, client, clock, directory, reports, calls)
