"""The resources the gateway serves, as plain values (what the HTTP schemas render)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hotline_gateway.domain.etag import strong_etag


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"
    RESERVED = "reserved"  # an offer rings at the agent
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    UNKNOWN = "unknown"  # a state this gateway does not know yet (a newer router)


@dataclass(frozen=True)
class Skill:
    name: str
    level: int


@dataclass(frozen=True)
class Agent:
    tenant_id: str
    agent_id: str
    display_name: str
    site_id: str
    state: AgentState
    reason_code: str
    interaction_id: str
    skills: tuple[Skill, ...]
    in_state_ms: int  # a live counter: not part of the version

    @property
    def etag(self) -> str:
        """Strong tag of the agent's version: identity and state, not the time in state
        (which changes every millisecond while the state stays the same)."""
        return strong_etag(
            [
                self.tenant_id, self.agent_id, self.display_name, self.site_id,
                self.state.value, self.reason_code, self.interaction_id,
                [[s.name, s.level] for s in self.skills],
            ]
        )


class AgentCommand(StrEnum):
    LOG_IN = "log_in"
    LOG_OUT = "log_out"
    READY = "ready"
    NOT_READY = "not_ready"
    FINISH_WRAP_UP = "finish_wrap_up"


@dataclass(frozen=True)
class Disposition:
    code: str
    resolved: bool = False
    notes_ref: str = ""


@dataclass(frozen=True)
class CommandArgs:
    """What a command carries besides tenant and agent (each command reads its own)."""

    reason: str = ""  # log out
    reason_code: str = ""  # not ready
    interaction_id: str = ""  # finish wrap-up ("" = whatever is being wrapped up)
    disposition: Disposition | None = None  # finish wrap-up


@dataclass(frozen=True)
class QueueStats:
    """Real-time figures of one queue, as the router holds them."""

    tenant_id: str
    queue_id: str
    waiting: int
    longest_wait_ms: int
    agents_ready: int
    agents_logged_in: int


# Offered load above which a staffing question is refused as a unit mistake rather than sent
# to WFM (its search for N grows with the load; 10,000 Erlangs is ~10,000 agents on calls).
MAX_ERLANGS = 10_000.0


@dataclass(frozen=True)
class StaffingQuestion:
    contacts: float  # arriving in the interval
    aht_s: float
    interval_s: float = 900.0
    service_level: float = 0.8
    threshold_s: float = 20.0
    shrinkage: float | None = None  # None: WFM's default
    patience_s: float | None = None  # set: Erlang A (callers abandon)
    max_occupancy: float | None = None
    max_asa_s: float | None = None

    @property
    def erlangs(self) -> float:
        return self.contacts * self.aht_s / self.interval_s


@dataclass(frozen=True)
class StaffingAnswer:
    agents: int
    scheduled_agents: int
    service_level: float
    asa_s: float
    occupancy: float
    p_wait: float
    abandon_rate: float
    erlangs: float
    model: str
