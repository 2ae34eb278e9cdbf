"""Facts (domain events) the router folds: what ingress saw, what the router decided, and
what happened to agents. Past tense; one class per `oneof` member the router cares about."""

from __future__ import annotations

from dataclasses import dataclass

from hotline_router.domain.model import AgentState, Skill


@dataclass(frozen=True, kw_only=True)
class Fact:
    event_id: str
    tenant_id: str
    at_ms: int
    causation_id: str = ""


# --------------------------------------------------------------------------- interactions


@dataclass(frozen=True, kw_only=True)
class InteractionFact(Fact):
    interaction_id: str


@dataclass(frozen=True, kw_only=True)
class Arrived(InteractionFact):
    producer: str = ""  # the ingress instance that took the contact, "ingress-sip/<id>"
    entry_point_id: str = ""
    language: str = ""
    channel: str = "voice"
    customer: str = ""  # who called (the caller's address), "" when unknown


@dataclass(frozen=True, kw_only=True)
class SelfServiceFinished(InteractionFact):
    outcome: str = ""  # "route_to_queue", "contained", "customer_left"
    queue_id: str = ""
    language: str = ""
    required_skills: tuple[Skill, ...] = ()
    priority: int = 0  # 0: the queue's
    preferred_agent_id: str = ""


@dataclass(frozen=True, kw_only=True)
class Queued(InteractionFact):
    queue_id: str
    priority: int = 0
    required_skills: tuple[Skill, ...] = ()
    language: str = ""
    channel: str = "voice"
    service_level_threshold_s: int = 0
    position: int = 0  # 1 = next to be offered, when queued
    estimated_wait_ms: int = 0
    callback_offered: bool = False  # the caller may ask to be called back (treatment)


@dataclass(frozen=True, kw_only=True)
class Offered(InteractionFact):
    offer_id: str
    agent_id: str
    queue_id: str = ""
    endpoint: str = ""
    ring_timeout_ms: int = 0
    attempt: int = 1
    channel: str = "voice"
    routing_step: int = 0  # the bullseye step the contact had reached
    callback_address: str = ""  # a callback: whom ingress dials once the agent answers


@dataclass(frozen=True, kw_only=True)
class RoutingExpanded(InteractionFact):
    """A waiting contact's queue widened who may take it (one bullseye step, taken once);
    the causation id is the placement (`queued`) it widens."""

    queue_id: str
    step: int  # 1 = the queue's first expansion step
    waited_ms: int = 0
    relaxed_levels_by: int = 0
    added_skills: tuple[Skill, ...] = ()
    added_sites: tuple[str, ...] = ()
    added_queue_id: str = ""


@dataclass(frozen=True, kw_only=True)
class FlowedOut(InteractionFact):
    """The contact left its placement (the causation id) for a target (domain/treatment.py):
    another queue, a callback, or a closed message."""

    from_queue_id: str
    reason: str  # "max_wait", "no_agents", "closed"
    target: str  # "queue", "callback", "closed"
    to_queue_id: str = ""
    waited_ms: int = 0
    prompt: str = ""
    callback_address: str = ""


@dataclass(frozen=True, kw_only=True)
class CallbackRequested(InteractionFact):
    """The caller asked to be called back; the contact keeps its place (the causation id)."""

    queue_id: str
    callback_address: str
    waited_ms: int = 0


@dataclass(frozen=True, kw_only=True)
class OfferAccepted(InteractionFact):
    offer_id: str
    agent_id: str
    queue_id: str = ""
    since_arrival_ms: int = 0


@dataclass(frozen=True, kw_only=True)
class OfferRejected(InteractionFact):
    offer_id: str
    agent_id: str
    queue_id: str = ""
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class OfferTimedOut(InteractionFact):
    offer_id: str
    agent_id: str
    queue_id: str = ""
    rang_ms: int = 0


@dataclass(frozen=True, kw_only=True)
class Abandoned(InteractionFact):
    stage: str = ""  # "before_queue", "in_queue", "while_offered"
    waited_ms: int = 0
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Completed(InteractionFact):
    agent_id: str = ""
    ended_by: str = ""  # "customer", "agent", "system"
    talk_ms: int = 0
    hold_ms: int = 0


@dataclass(frozen=True, kw_only=True)
class Held(InteractionFact):
    """The agent's phone put the caller on hold (ingress hears music to the caller)."""

    agent_id: str = ""


@dataclass(frozen=True, kw_only=True)
class Resumed(InteractionFact):
    agent_id: str = ""
    held_ms: int = 0


@dataclass(frozen=True, kw_only=True)
class Transferred(InteractionFact):
    """The connected agent handed the caller on (blind): to a queue, an agent or an external
    address (exactly one is set). The transferring agent's part of the contact ends here."""

    kind: str = ""  # "blind", "consult"
    from_agent_id: str = ""
    to_queue_id: str = ""
    to_agent_id: str = ""
    to_address: str = ""


@dataclass(frozen=True)
class Disposition:
    code: str = ""
    resolved: bool = False
    notes_ref: str = ""


@dataclass(frozen=True, kw_only=True)
class WrapUpStarted(InteractionFact):
    agent_id: str


@dataclass(frozen=True, kw_only=True)
class WrapUpEnded(InteractionFact):
    agent_id: str
    wrap_up_ms: int = 0
    timed_out: bool = False
    disposition: Disposition | None = None


# --------------------------------------------------------------------------- agents


@dataclass(frozen=True, kw_only=True)
class AgentFact(Fact):
    agent_id: str


@dataclass(frozen=True, kw_only=True)
class AgentLoggedIn(AgentFact):
    site_id: str = ""
    skills: tuple[Skill, ...] = ()
    endpoint: str = ""
    languages: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AgentLoggedOut(AgentFact):
    reason: str = ""
    session_ms: int = 0


@dataclass(frozen=True, kw_only=True)
class AgentStateChanged(AgentFact):
    state: AgentState
    previous_state: AgentState
    reason_code: str = ""
    previous_state_ms: int = 0
    interaction_id: str = ""  # for RESERVED, causation_id is the `offered` event id


# --------------------------------------------------------------------------- ingress liveness


@dataclass(frozen=True, kw_only=True)
class IngressFact(Fact):
    producer: str  # "ingress-sip/<instance>", as in the envelopes of its interaction facts
    incarnation_id: str = ""


@dataclass(frozen=True, kw_only=True)
class IngressStarted(IngressFact):
    """A process of the instance started: whatever an earlier process held is gone."""


@dataclass(frozen=True, kw_only=True)
class IngressHeartbeat(IngressFact):
    started_at_ms: int = 0  # when this process started


# --------------------------------------------------------------------------- registered phones


@dataclass(frozen=True, kw_only=True)
class ContactRegistered(Fact):
    """An agent's phone registered (or refreshed) a contact at an ingress-sip registrar."""

    agent_id: str
    contact_uri: str
    reachable_uri: str
    expires_at_ms: int


@dataclass(frozen=True, kw_only=True)
class ContactUnregistered(Fact):
    agent_id: str
    contact_uri: str
    reason: str = ""  # "unregistered" (the phone asked) or "expired"


# Facts the router writes to its interaction topic (the rest of InteractionFact is ingress's;
# `abandoned` / `completed` only for contacts whose ingress was lost).
ROUTER_INTERACTION_FACTS = (
    Queued, Offered, RoutingExpanded, OfferTimedOut, WrapUpStarted, WrapUpEnded, Abandoned,
    Completed, FlowedOut, CallbackRequested,
)
