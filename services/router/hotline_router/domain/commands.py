"""Agent commands (from the desktop API): validate against the agent's state, return facts.

Policy (documented in services/router/README.md):
- LogIn: LOGGED_OUT -> NOT_READY (reason "logged_in"); the desktop then calls SetReady.
  Logging in again is a no-op.
- SetReady: NOT_READY -> READY. Refused while RESERVED, BUSY or WRAP_UP (FinishWrapUp ends
  wrap-up) and while logged out.
- SetNotReady: READY or NOT_READY -> NOT_READY(reason). Refused (not deferred) while RESERVED,
  BUSY or WRAP_UP: a deferred request would be state that lives outside the event log.
- LogOut: READY or NOT_READY -> LOGGED_OUT. Refused while RESERVED, BUSY or WRAP_UP.
- FinishWrapUp: WRAP_UP -> READY, with wrap_up_ended (disposition, wrap_up_ms).
Repeating a command whose effect already holds returns no facts (idempotent retries).
"""

from __future__ import annotations

from hotline_router.domain.decisions import EndWrapUp, IdFactory, realize, state_change
from hotline_router.domain.facts import (
    AgentLoggedIn,
    AgentLoggedOut,
    Disposition,
    Fact,
)
from hotline_router.domain.model import (
    LOGGED_IN,
    AgentProfile,
    AgentState,
    RouterState,
)

_ENGAGED = (AgentState.RESERVED, AgentState.BUSY, AgentState.WRAP_UP)


class CommandRefused(Exception):
    """The command is not valid in the agent's current state (FAILED_PRECONDITION)."""


def _refuse_engaged(state: AgentState, what: str) -> None:
    if state in _ENGAGED:
        raise CommandRefused(f"cannot {what} while {state.name}")
    if state is AgentState.LOGGED_OUT:
        raise CommandRefused(f"cannot {what} while LOGGED_OUT: log in first")


def log_in(
    state: RouterState, tenant_id: str, profile: AgentProfile, now_ms: int, new_id: IdFactory
) -> list[Fact]:
    agent = state.tenant(tenant_id).agent(profile.agent_id)
    if agent.state is not AgentState.LOGGED_OUT:
        return []
    logged_in = AgentLoggedIn(
        event_id=new_id(), tenant_id=tenant_id, at_ms=now_ms, agent_id=profile.agent_id,
        site_id=profile.site_id, skills=profile.skills, endpoint=profile.endpoint,
        languages=profile.languages,
    )
    return [
        logged_in,
        state_change(
            tenant_id, agent, AgentState.NOT_READY, now_ms, new_id,
            reason_code=LOGGED_IN, causation_id=logged_in.event_id,
        ),
    ]


def log_out(
    state: RouterState, tenant_id: str, agent_id: str, reason: str, now_ms: int,
    new_id: IdFactory,
) -> list[Fact]:
    agent = state.tenant(tenant_id).agent(agent_id)
    if agent.state is AgentState.LOGGED_OUT:
        return []
    _refuse_engaged(agent.state, "log out")
    changed = state_change(
        tenant_id, agent, AgentState.LOGGED_OUT, now_ms, new_id, reason_code=reason
    )
    return [
        changed,
        AgentLoggedOut(
            event_id=new_id(), tenant_id=tenant_id, at_ms=now_ms, agent_id=agent_id,
            causation_id=changed.event_id, reason=reason,
            session_ms=max(0, now_ms - agent.logged_in_at_ms) if agent.logged_in_at_ms else 0,
        ),
    ]


def set_ready(
    state: RouterState, tenant_id: str, agent_id: str, now_ms: int, new_id: IdFactory
) -> list[Fact]:
    agent = state.tenant(tenant_id).agent(agent_id)
    if agent.state is AgentState.READY:
        return []
    _refuse_engaged(agent.state, "set ready")
    return [state_change(tenant_id, agent, AgentState.READY, now_ms, new_id)]


def set_not_ready(
    state: RouterState, tenant_id: str, agent_id: str, reason_code: str, now_ms: int,
    new_id: IdFactory,
) -> list[Fact]:
    agent = state.tenant(tenant_id).agent(agent_id)
    if agent.state is AgentState.NOT_READY and agent.reason_code == reason_code:
        return []
    _refuse_engaged(agent.state, "set not-ready")
    return [
        state_change(
            tenant_id, agent, AgentState.NOT_READY, now_ms, new_id, reason_code=reason_code
        )
    ]


def finish_wrap_up(
    state: RouterState, tenant_id: str, agent_id: str, interaction_id: str,
    disposition: Disposition | None, now_ms: int, new_id: IdFactory,
) -> list[Fact]:
    agent = state.tenant(tenant_id).agent(agent_id)
    if agent.state is not AgentState.WRAP_UP:
        raise CommandRefused(f"cannot finish wrap-up while {agent.state.name}")
    if interaction_id and interaction_id != agent.interaction_id:
        raise CommandRefused(
            f"agent is wrapping up {agent.interaction_id!r}, not {interaction_id!r}"
        )
    decision = EndWrapUp(
        tenant_id, agent_id, agent.interaction_id, timed_out=False, disposition=disposition
    )
    return realize(decision, state, now_ms, new_id)
