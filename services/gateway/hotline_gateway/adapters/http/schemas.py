"""The JSON shapes of the API (pydantic models: validation in, schema in OpenAPI)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline_gateway.domain import resources as r

# Codes (reason codes, disposition codes) are short identifiers.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors --------------------------------------------------------------------------------


class ValidationIssue(_Out):
    location: str = Field(description="Where: `query.limit`, `body.disposition.code`, ...")
    message: str


class Problem(_Out):
    """RFC 9457 problem details (media type application/problem+json)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str = Field(description="URI reference of the problem type: /v1/problems/<slug>")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str = Field(description="The request path")
    request_id: str = Field(description="Also in the X-Request-Id header")
    errors: list[ValidationIssue] | None = Field(
        default=None, description="invalid-request only: one entry per problem found"
    )


# --- agents --------------------------------------------------------------------------------


class SkillOut(_Out):
    name: str
    level: int = Field(ge=0)


class AgentOut(_Out):
    tenant_id: str
    agent_id: str
    display_name: str
    site_id: str
    state: r.AgentState
    reason_code: str = Field(description="Why NOT_READY / LOGGED_OUT; empty otherwise")
    interaction_id: str = Field(
        description="The interaction the agent is reserved for, talking on or wrapping up"
    )
    skills: list[SkillOut]
    in_state_ms: int = Field(ge=0, description="Time in the current state (not in the ETag)")

    @classmethod
    def of(cls, agent: r.Agent) -> AgentOut:
        return cls(
            tenant_id=agent.tenant_id,
            agent_id=agent.agent_id,
            display_name=agent.display_name,
            site_id=agent.site_id,
            state=agent.state,
            reason_code=agent.reason_code,
            interaction_id=agent.interaction_id,
            skills=[SkillOut(name=s.name, level=s.level) for s in agent.skills],
            in_state_ms=agent.in_state_ms,
        )


class AgentPage(_Out):
    items: list[AgentOut]
    next: str | None = Field(description="URL of the next page; null on the last one")


class LogOutIn(_In):
    reason: str = Field(default="", max_length=64, pattern=r"^$|" + CODE_PATTERN)


class NotReadyIn(_In):
    reason_code: str = Field(
        max_length=64, pattern=CODE_PATTERN, description="e.g. break, lunch, training"
    )


class DispositionIn(_In):
    code: str = Field(max_length=64, pattern=CODE_PATTERN, description="The wrap-up code")
    resolved: bool = Field(default=False, description="The customer's issue was resolved")
    notes_ref: str = Field(default="", max_length=256, description="Reference to notes")

    def to_domain(self) -> r.Disposition:
        return r.Disposition(self.code, self.resolved, self.notes_ref)


class FinishWrapUpIn(_In):
    interaction_id: str = Field(
        default="", max_length=128,
        description="The interaction being wrapped up (empty: whichever it is)",
    )
    disposition: DispositionIn | None = None


# --- queues --------------------------------------------------------------------------------


class QueueStatsOut(_Out):
    tenant_id: str
    queue_id: str
    waiting: int = Field(ge=0, description="Contacts queued, not yet connected (incl. ringing)")
    longest_wait_ms: int = Field(ge=0)
    agents_ready: int = Field(ge=0, description="READY agents having the queue's skills")
    agents_logged_in: int = Field(ge=0)

    @classmethod
    def of(cls, q: r.QueueStats) -> QueueStatsOut:
        return cls(
            tenant_id=q.tenant_id,
            queue_id=q.queue_id,
            waiting=q.waiting,
            longest_wait_ms=q.longest_wait_ms,
            agents_ready=q.agents_ready,
            agents_logged_in=q.agents_logged_in,
        )


class QueueStatsPage(_Out):
    items: list[QueueStatsOut]
    next: str | None = Field(description="URL of the next page; null on the last one")


# --- staffing ------------------------------------------------------------------------------


class StaffingOut(_Out):
    agents: int = Field(ge=0, description="Agents on contacts (before shrinkage)")
    scheduled_agents: int = Field(ge=0, description="Agents to schedule (after shrinkage)")
    service_level: float
    asa_s: float = Field(description="Average speed of answer, seconds")
    occupancy: float
    p_wait: float = Field(description="Probability a contact waits")
    abandon_rate: float
    erlangs: float = Field(description="Offered load")
    model: str = Field(description="erlang-c | erlang-a")

    @classmethod
    def of(cls, a: r.StaffingAnswer) -> StaffingOut:
        return cls(
            agents=a.agents,
            scheduled_agents=a.scheduled_agents,
            service_level=a.service_level,
            asa_s=a.asa_s,
            occupancy=a.occupancy,
            p_wait=a.p_wait,
            abandon_rate=a.abandon_rate,
            erlangs=a.erlangs,
            model=a.model,
        )


# --- health --------------------------------------------------------------------------------


class Health(_Out):
    status: Literal["ok"]
