"""The gateway's use cases: what each route asks for, over the backends' ports. Routes never
talk to a backend directly; backends never see HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

from hotline_gateway.application.coalesce import SingleFlight
from hotline_gateway.application.directory import DirectoryBackend, DirectoryUseCases
from hotline_gateway.application.identity_admin import IdentityAdmin
from hotline_gateway.application.ports import (
    AgentBackend,
    Caller,
    QueueBackend,
    StaffingBackend,
)
from hotline_gateway.application.prompts import PromptContent, PromptUseCases
from hotline_gateway.application.reports import ReportsBackend, ReportsUseCases
from hotline_gateway.domain.errors import Invalid, PreconditionFailed, Unavailable
from hotline_gateway.domain.etag import if_match_passes
from hotline_gateway.domain.pagination import BadCursor, Page, decode_cursor, paginate
from hotline_gateway.domain.resources import (
    MAX_ERLANGS,
    Agent,
    AgentCommand,
    CommandArgs,
    QueueStats,
    StaffingAnswer,
    StaffingQuestion,
)

AGENTS = "agents"
QUEUE_STATS = "queue-stats"


def _check_cursor(collection: str, cursor: str | None) -> None:
    if cursor:
        try:
            decode_cursor(collection, cursor)
        except BadCursor as exc:
            raise Invalid("invalid cursor", (("query.cursor", str(exc)),)) from exc


class _NotWired:
    """A backend this gateway was built without: every call answers 503."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, method: str) -> Any:
        async def unavailable(*args: object, **kwargs: object) -> NoReturn:
            raise Unavailable(f"no {self._name} backend is configured")

        return unavailable


class GatewayService:
    def __init__(
        self, agents: AgentBackend, queues: QueueBackend, staffing: StaffingBackend,
        directory: DirectoryBackend | None = None, reports: ReportsBackend | None = None,
        content: PromptContent | None = None,
    ) -> None:
        self._agents = agents
        self._queues = queues
        self._staffing = staffing
        # The directory and analytics resources' use cases (routes_directory.py,
        # routes_interactions.py).
        self.directory = DirectoryUseCases(directory or _NotWired("directory"))
        self.reports = ReportsUseCases(reports or _NotWired("analytics"))
        self.identity = IdentityAdmin(self.directory)  # users and API keys (routes_identity)
        # Tenants' own IVR prompts (routes_prompts): audio in the content store.
        self.prompts = PromptUseCases(self.directory, content or _NotWired("content store"))
        # Concurrent readers of the same tenant's statistics with the same credential share
        # one router call (the credential is part of the key: the router checks it).
        self._stats_flights: SingleFlight[Sequence[QueueStats]] = SingleFlight()

    # --- agents ------------------------------------------------------------------------

    async def list_agents(self, caller: Caller, limit: int, cursor: str | None) -> Page[Agent]:
        _check_cursor(AGENTS, cursor)
        agents = await self._agents.list_agents(caller)
        return paginate(agents, lambda a: a.agent_id, AGENTS, limit, cursor)

    async def get_agent(self, caller: Caller, agent_id: str) -> Agent:
        return await self._agents.get_agent(caller, agent_id)

    async def command_agent(
        self,
        caller: Caller,
        agent_id: str,
        command: AgentCommand,
        args: CommandArgs,
        if_match: str | None = None,
    ) -> Agent:
        """Run a state command. With `if_match`, only when the agent is still the version the
        client saw (checked just before the command: the router's own state rules still
        refuse a command its state no longer allows, with 409)."""
        if if_match is not None:
            current = await self._agents.get_agent(caller, agent_id)
            if not if_match_passes(if_match, current.etag):
                raise PreconditionFailed(
                    f"agent {agent_id!r} changed: its entity tag is now {current.etag}",
                    current.etag,
                )
        return await self._agents.command(caller, agent_id, command, args)

    # --- queues ------------------------------------------------------------------------

    async def queue_stats(
        self, caller: Caller, limit: int, cursor: str | None
    ) -> Page[QueueStats]:
        _check_cursor(QUEUE_STATS, cursor)
        stats = await self._stats_flights.run(
            (caller.tenant_id, caller.credential), lambda: self._queues.queue_stats(caller)
        )
        return paginate(stats, lambda q: q.queue_id, QUEUE_STATS, limit, cursor)

    # --- staffing ----------------------------------------------------------------------

    async def staffing(self, caller: Caller, question: StaffingQuestion) -> StaffingAnswer:
        if question.erlangs > MAX_ERLANGS:
            raise Invalid(
                f"offered load {question.erlangs:.0f} Erlangs (calls × aht / interval_s) is "
                f"above {MAX_ERLANGS:.0f}: check the units (aht and interval_s are seconds)",
                (("query.calls", "too many for the interval"),),
            )
        return await self._staffing.staffing(caller, question)
