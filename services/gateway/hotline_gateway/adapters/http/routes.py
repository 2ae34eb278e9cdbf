"""THE route table: every route of the API, its permission, and what it may answer.

Adding a route means adding a `Route` to `ROUTES`: the app is built from this table
(app.py), so admission (authentication, rate limit, the permission on the tenant), the
Idempotency-Key of POSTs, the documented error responses and OpenAPI all follow from it, and
the tests iterate it (every route refuses another tenant's caller; the committed OpenAPI
matches). Routes call the application (GatewayService) only; errors are raised as
domain errors and rendered as problem+json by app.py.

Extension points: directory resources (tenants, sites, queues, agents, users, roles, API keys,
entry points) and the KPI report (analytics `Reports`) get their routes here, their use cases
in application/service.py and a backend port + gRPC adapter like adapters/router_grpc.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response

from hotline_gateway.adapters.http.deps import (
    DEFAULT_PAGE,
    AgentId,
    IfMatch,
    PageCursor,
    PageLimit,
    UseDep,
)
from hotline_gateway.adapters.http.schemas import (
    AgentOut,
    AgentPage,
    FinishWrapUpIn,
    LogOutIn,
    NotReadyIn,
    QueueStatsOut,
    QueueStatsPage,
    StaffingOut,
)
from hotline_gateway.domain.resources import (
    Agent,
    AgentCommand,
    CommandArgs,
    StaffingQuestion,
)
from hotline_platform.policy import Rule

# Permissions, named as in the platform's policy (hotline_platform.policy.PERMISSIONS), which
# grants them to roles; a tenant credential holds them all on its own tenant. `*_own`: on the
# caller's own agent only (the route's `agent_id`), unless it holds the tenant-wide form.
AGENT_STATE_READ = "agent.state.read"
AGENT_STATE_READ_OWN = "agent.state.read_own"
AGENT_STATE_WRITE_OWN = "agent.state.write_own"
QUEUE_STATS_READ = "queue.stats.read"
STAFFING_READ = "staffing.read"

TENANT = "/v1/tenants/{tenant_id}"

# What any tenant route may answer besides its success (problem+json).
ADMISSION_ERRORS = (401, 403, 422, 429)
BACKEND_ERRORS = (404, 500, 502, 503)


@dataclass(frozen=True)
class Route:
    name: str  # operationId
    method: str
    path: str
    permission: str
    endpoint: Callable[..., Awaitable[Any]]
    summary: str
    response_model: type | None  # None: no body (204)
    errors: tuple[int, ...]  # statuses other than success it may answer
    tag: str
    status_code: int = 200
    etag: bool = False  # the success response carries the resource's ETag
    paginated: bool = False  # the success response may carry a Link rel="next"
    max_body_bytes: int = 64 * 1024  # larger request bodies: 413 (POST and PUT)
    # Merged into the OpenAPI operation (e.g. a request body that is not JSON).
    openapi_extra: dict[str, Any] | None = None
    # For per-agent (`*_own`) permissions, the path parameter that says which agent is acted
    # on: `agent_id` itself, or `interaction_id` (the agent connected to that call now).
    agent_in: str = "agent_id"

    @property
    def agent_field(self) -> str:
        """The path parameter naming the agent acted on (see `agent_in`), for per-agent
        (`*_own`) permissions; "" otherwise."""
        return self.agent_in if self.permission.endswith("_own") else ""

    @property
    def rule(self) -> Rule:
        """The route's rule in the platform's policy (raises on an unknown permission)."""
        return Rule(self.permission, self.agent_field)

    @property
    def idempotent_post(self) -> bool:
        """POSTs accept Idempotency-Key."""
        return self.method == "POST"


def _next_link(request: Request, limit: int, next_cursor: str | None) -> str | None:
    if next_cursor is None:
        return None
    return f"{request.url.path}?{urlencode({'limit': limit, 'cursor': next_cursor})}"


def _link_header(response: Response, link: str | None) -> None:
    if link is not None:
        response.headers["Link"] = f'<{link}>; rel="next"'


def _agent(response: Response, agent: Agent) -> AgentOut:
    response.headers["ETag"] = agent.etag
    return AgentOut.of(agent)


# --- agents --------------------------------------------------------------------------------


async def list_agents(
    request: Request, response: Response, use: UseDep,
    limit: PageLimit = DEFAULT_PAGE, cursor: PageCursor = None,
) -> AgentPage:
    page = await use.gateway.list_agents(use.caller, limit, cursor)
    link = _next_link(request, limit, page.next_cursor)
    _link_header(response, link)
    return AgentPage(items=[AgentOut.of(a) for a in page.items], next=link)


async def get_agent(
    response: Response, use: UseDep, agent_id: AgentId
) -> AgentOut:
    return _agent(response, await use.gateway.get_agent(use.caller, agent_id))


async def log_in(
    response: Response, use: UseDep, agent_id: AgentId,
    if_match: IfMatch = None,
) -> AgentOut:
    agent = await use.gateway.command_agent(
        use.caller, agent_id, AgentCommand.LOG_IN, CommandArgs(), if_match
    )
    return _agent(response, agent)


async def log_out(
    response: Response, use: UseDep, agent_id: AgentId,
    body: LogOutIn | None = None, if_match: IfMatch = None,
) -> AgentOut:
    args = CommandArgs(reason=body.reason if body else "")
    agent = await use.gateway.command_agent(
        use.caller, agent_id, AgentCommand.LOG_OUT, args, if_match
    )
    return _agent(response, agent)


async def set_ready(
    response: Response, use: UseDep, agent_id: AgentId,
    if_match: IfMatch = None,
) -> AgentOut:
    agent = await use.gateway.command_agent(
        use.caller, agent_id, AgentCommand.READY, CommandArgs(), if_match
    )
    return _agent(response, agent)


async def set_not_ready(
    response: Response, use: UseDep, agent_id: AgentId,
    body: NotReadyIn, if_match: IfMatch = None,
) -> AgentOut:
    args = CommandArgs(reason_code=body.reason_code)
    agent = await use.gateway.command_agent(
        use.caller, agent_id, AgentCommand.NOT_READY, args, if_match
    )
    return _agent(response, agent)


async def finish_wrap_up(
    response: Response, use: UseDep, agent_id: AgentId,
    body: FinishWrapUpIn | None = None, if_match: IfMatch = None,
) -> AgentOut:
    body = body or FinishWrapUpIn()
    args = CommandArgs(
        interaction_id=body.interaction_id,
        disposition=body.disposition.to_domain() if body.disposition else None,
    )
    agent = await use.gateway.command_agent(
        use.caller, agent_id, AgentCommand.FINISH_WRAP_UP, args, if_match
    )
    return _agent(response, agent)


# --- queues --------------------------------------------------------------------------------


async def queue_stats(
    request: Request, response: Response, use: UseDep,
    limit: PageLimit = DEFAULT_PAGE, cursor: PageCursor = None,
) -> QueueStatsPage:
    page = await use.gateway.queue_stats(use.caller, limit, cursor)
    link = _next_link(request, limit, page.next_cursor)
    _link_header(response, link)
    return QueueStatsPage(items=[QueueStatsOut.of(q) for q in page.items], next=link)


# --- staffing ------------------------------------------------------------------------------


async def staffing(
    use: UseDep,
    # Bounds: every value the schema accepts is one WFM can compute (1 s to 24 h for times;
    # WFM itself refuses anything outside 1 ms to 366 days with INVALID_ARGUMENT, a 422 here).
    calls: Annotated[float, Query(ge=0, le=1_000_000, description="Contacts in the interval")],
    aht: Annotated[float, Query(ge=1, le=86_400, description="Average handling time, s")],
    interval_s: Annotated[float, Query(ge=60, le=86_400, description="Interval length, s")] = 900,
    service_level: Annotated[
        float, Query(gt=0, lt=1, description="Target fraction answered within threshold_s")
    ] = 0.8,
    threshold_s: Annotated[float, Query(ge=1, le=3_600, description="Service-level T, s")] = 20,
    shrinkage: Annotated[
        float | None, Query(ge=0, lt=1, description="Default: WFM's (0.3)")
    ] = None,
    patience_s: Annotated[
        float | None,
        Query(ge=1, le=86_400, description="Mean caller patience, s: set for Erlang A"),
    ] = None,
    max_occupancy: Annotated[float | None, Query(gt=0, le=1)] = None,
    max_asa_s: Annotated[float | None, Query(ge=1, le=86_400)] = None,
) -> StaffingOut:
    question = StaffingQuestion(
        contacts=calls, aht_s=aht, interval_s=interval_s, service_level=service_level,
        threshold_s=threshold_s, shrinkage=shrinkage, patience_s=patience_s,
        max_occupancy=max_occupancy, max_asa_s=max_asa_s,
    )
    return StaffingOut.of(await use.gateway.staffing(use.caller, question))


# --- the table -----------------------------------------------------------------------------

_READ = ADMISSION_ERRORS + BACKEND_ERRORS
# 400: a body that is not even text (FastAPI cannot parse it).
_COMMAND = (400,) + ADMISSION_ERRORS + BACKEND_ERRORS + (409, 412)
_AGENT = f"{TENANT}/agents/{{agent_id}}"

ROUTES: tuple[Route, ...] = (
    Route("listAgents", "GET", f"{TENANT}/agents", AGENT_STATE_READ, list_agents,
          "The tenant's agents with their live state", AgentPage, _READ, "agents",
          paginated=True),
    Route("getAgent", "GET", _AGENT, AGENT_STATE_READ_OWN, get_agent,
          "One agent with its live state (ETag: its version)", AgentOut, _READ, "agents",
          etag=True),
    Route("logInAgent", "POST", f"{_AGENT}/log-in", AGENT_STATE_WRITE_OWN, log_in,
          "Log the agent in (LOGGED_OUT -> NOT_READY)", AgentOut, _COMMAND, "agents",
          etag=True),
    Route("logOutAgent", "POST", f"{_AGENT}/log-out", AGENT_STATE_WRITE_OWN, log_out,
          "Log the agent out (from READY or NOT_READY)", AgentOut, _COMMAND, "agents",
          etag=True),
    Route("setAgentReady", "POST", f"{_AGENT}/ready", AGENT_STATE_WRITE_OWN, set_ready,
          "Make the agent ready for contacts (from NOT_READY)", AgentOut, _COMMAND, "agents",
          etag=True),
    Route("setAgentNotReady", "POST", f"{_AGENT}/not-ready", AGENT_STATE_WRITE_OWN, set_not_ready,
          "Make the agent not ready, with a reason code", AgentOut, _COMMAND, "agents",
          etag=True),
    Route("finishAgentWrapUp", "POST", f"{_AGENT}/finish-wrap-up", AGENT_STATE_WRITE_OWN,
          finish_wrap_up, "End the agent's wrap-up with a disposition (WRAP_UP -> READY)",
          AgentOut, _COMMAND, "agents", etag=True),
    Route("getQueueStats", "GET", f"{TENANT}/queues/stats", QUEUE_STATS_READ, queue_stats,
          "Real-time statistics of every queue", QueueStatsPage, _READ, "queues",
          paginated=True),
    Route("computeStaffing", "GET", f"{TENANT}/staffing", STAFFING_READ, staffing,
          "Agents needed for one interval (Erlang C, or Erlang A with patience_s)",
          StaffingOut, _READ, "staffing"),
)


def rules() -> dict[str, Rule]:
    """operationId -> the route's policy rule (what tests/support/authz_matrix.py takes)."""
    return {route.name: route.rule for route in ROUTES}
