"""Read models: what the API shows of an agent and of a queue."""

from __future__ import annotations

from dataclasses import dataclass

from hotline_router.domain.matching import speaks
from hotline_router.domain.model import (
    LOGGED_IN_STATES,
    AgentState,
    QueueConfig,
    Skill,
    TenantState,
    satisfies,
)


@dataclass(frozen=True)
class AgentSnapshot:
    agent_id: str
    state: AgentState
    reason_code: str
    interaction_id: str
    skills: tuple[Skill, ...]
    since_ms: int
    in_state_ms: int


@dataclass(frozen=True)
class QueueSnapshot:
    queue_id: str
    waiting: int
    longest_wait_ms: int
    agents_ready: int
    agents_logged_in: int


def agent_snapshot(
    tenant: TenantState | None, agent_id: str, now_ms: int, configured_skills: tuple[Skill, ...]
) -> AgentSnapshot:
    agent = tenant.agents.get(agent_id) if tenant is not None else None
    if agent is None:
        return AgentSnapshot(agent_id, AgentState.LOGGED_OUT, "", "", configured_skills, 0, 0)
    return AgentSnapshot(
        agent_id=agent_id,
        state=agent.state,
        reason_code=agent.reason_code,
        interaction_id=agent.interaction_id,
        skills=agent.skills if agent.state in LOGGED_IN_STATES else configured_skills,
        since_ms=agent.since_ms,
        in_state_ms=max(0, now_ms - agent.since_ms) if agent.since_ms else 0,
    )


def queue_snapshot(tenant: TenantState | None, queue: QueueConfig, now_ms: int) -> QueueSnapshot:
    """Waiting = queued and not yet connected or gone (a contact being offered still waits).
    Agents count when they have the queue's required skills and speak its language (unless
    it takes any language, or they list none)."""
    if tenant is None:
        return QueueSnapshot(queue.queue_id, 0, 0, 0, 0)
    queued_at = [
        placement.queued_at_ms
        for it in tenant.interactions.values()
        if (placement := it.current_placement) is not None
        and placement.queue_id == queue.queue_id
        and it.waiting
    ]
    language = "" if queue.any_language else queue.language
    able = [
        a for a in tenant.agents.values()
        if satisfies(a.skills, queue.required_skills)
        and (not language or not a.languages or speaks(a.languages, language))
    ]
    return QueueSnapshot(
        queue_id=queue.queue_id,
        waiting=len(queued_at),
        longest_wait_ms=max(0, now_ms - min(queued_at)) if queued_at else 0,
        agents_ready=sum(1 for a in able if a.state is AgentState.READY),
        agents_logged_in=sum(1 for a in able if a.state in LOGGED_IN_STATES),
    )
