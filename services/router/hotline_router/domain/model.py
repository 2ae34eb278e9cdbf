"""Routing configuration, and the state the router folds from facts: agents and interactions."""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import TYPE_CHECKING, Any

from hotline_router.domain.index import TenantIndex
from hotline_router.domain.pool import RoutingPool
from hotline_router.domain.registrations import Registrations

if TYPE_CHECKING:
    from hotline_router.domain.treatment import Treatment


class AgentState(Enum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"
    RESERVED = "reserved"  # an offer is ringing at the agent
    BUSY = "busy"
    WRAP_UP = "wrap_up"


LOGGED_IN_STATES = frozenset(s for s in AgentState if s is not AgentState.LOGGED_OUT)


class OfferOutcome(IntEnum):
    """How an offer was resolved. When two sources disagree the higher value wins: ingress
    saying "accepted" beats the router's own time-out (the caller is connected, whatever the
    router thought)."""

    TIMED_OUT = 1
    REJECTED = 2
    ACCEPTED = 3


# Reason codes the router itself sets.
MISSED_OFFER = "missed_offer"
LOGGED_IN = "logged_in"
OFFER_WITHDRAWN = "offer_withdrawn"
# `abandoned.reason` of a contact whose ingress was lost (restarted or silent).
INGRESS_LOST = "ingress_lost"


@dataclass(frozen=True)
class Skill:
    name: str
    level: int = 0  # 0 = any level


def satisfies(agent_skills: Sequence[Skill], required: Iterable[Skill]) -> bool:
    """True when the agent has every required skill at the required level or above (a
    skill listed twice: its last level). Loops, no dict: called per agent and contact."""
    for r in required:
        level = None
        for s in agent_skills:
            if s.name == r.name:
                level = s.level
        if level is None or level < r.level:
            return False
    return True


# --------------------------------------------------------------------------- configuration


class Strategy(Enum):
    """How a queue picks among the agents able to take a contact (domain/matching.py)."""

    LONGEST_IDLE = "longest_idle"
    MOST_SKILLED = "most_skilled"
    LEAST_OCCUPIED = "least_occupied"
    ROUND_ROBIN = "round_robin"


# ExpansionStep.add_sites: every site.
ANY_SITE = "*"


@dataclass(frozen=True)
class ExpansionStep:
    """One ring of a queue's bullseye, taken once a contact has waited `after_ms`; steps are
    cumulative (step 2 keeps what step 1 widened)."""

    after_ms: int
    relax_levels_by: int = 0  # lower every required level by this (not below 0)
    add_skills: tuple[Skill, ...] = ()  # agents with all of these skills may take it too
    add_sites: tuple[str, ...] = ()  # these sites too (ANY_SITE: all)
    add_queue: str = ""  # agents able to take that queue's contacts may take it too


@dataclass(frozen=True)
class QueueConfig:
    queue_id: str
    required_skills: tuple[Skill, ...] = ()
    language: str = ""
    priority: int = 0  # higher is routed first
    service_level_threshold_s: int = 20
    ring_timeout_ms: int = 15_000
    wrap_up_timeout_ms: int = 120_000
    strategy: Strategy = Strategy.LONGEST_IDLE
    any_language: bool = False  # True: the contact's language does not restrict agents
    # A waiting contact's priority rises by 1 every this many ms of wait (0: never).
    priority_aging_ms: int = 0
    # Agents of the home site (else of the entry point's site) only, until the contact has
    # waited site_overflow_ms (0: any site at once) or no agent is logged in there.
    home_site: str = ""
    site_overflow_ms: int = 0
    expansions: tuple[ExpansionStep, ...] = ()
    # A contact naming an agent (self-service, or the last agent who served the customer)
    # waits this long for that agent alone (0: that agent first if free, else anyone).
    preferred_agent_timeout_ms: int = 0
    prefer_last_agent: bool = False  # the agent who last served the caller is preferred
    treatment: Treatment | None = None  # flow-out, hours, callbacks (domain/treatment.py)


@dataclass(frozen=True)
class EntryPointConfig:
    entry_point_id: str
    queue_id: str = ""  # empty: not routed by the router (announcement)
    site_id: str = ""
    priority: int = 0  # of its contacts in the queue; 0: the queue's


@dataclass(frozen=True)
class AgentProfile:
    agent_id: str
    display_name: str = ""
    site_id: str = ""
    skills: tuple[Skill, ...] = ()
    languages: tuple[str, ...] = ()
    endpoint: str = ""  # voice: SIP URI of the agent's phone


@dataclass(frozen=True)
class TenantConfig:
    tenant_id: str
    queues: Mapping[str, QueueConfig] = field(default_factory=dict)
    entry_points: Mapping[str, EntryPointConfig] = field(default_factory=dict)
    agents: Mapping[str, AgentProfile] = field(default_factory=dict)


@dataclass(frozen=True)
class RoutingConfig:
    tenants: Mapping[str, TenantConfig] = field(default_factory=dict)
    # The router times an offer out itself ring_timeout + grace after issuing it, in case the
    # ingress never reports an answer, rejection or time-out.
    offer_grace_ms: int = 5_000
    default_ring_timeout_ms: int = 15_000
    default_wrap_up_timeout_ms: int = 120_000
    # An ingress instance silent (no start, heartbeat or arrival) for longer than this is
    # lost, and so are the interactions it owned.
    ingress_lost_after_ms: int = 25_000
    # Services (first part of an `arrived` producer, "ingress-sip/<instance>") that publish
    # liveness: only their interactions are ended when their instance is lost.
    liveness_services: tuple[str, ...] = ("ingress-sip",)
    # Sites marked down: their agents get no new offers (what already rings or talks goes on).
    drained_sites: frozenset[str] = frozenset()


# --------------------------------------------------------------------------- state


@dataclass
class Agent:
    agent_id: str
    state: AgentState = AgentState.LOGGED_OUT
    since_ms: int = 0  # when the current state was entered
    reason_code: str = ""
    interaction_id: str = ""  # reserved for, talking on, or wrapping up
    # RESERVED only: event id of the `offered` fact that reserved the agent (its causation id).
    offer_event_id: str = ""
    # When the agent last became READY after doing something (longest-idle routing key).
    idle_since_ms: int = 0
    skills: tuple[Skill, ...] = ()
    languages: tuple[str, ...] = ()
    endpoint: str = ""
    site_id: str = ""
    logged_in_at_ms: int = 0
    # Time spent BUSY or in WRAP_UP since the last log-in (least-occupied routing).
    occupied_ms: int = 0


@dataclass(frozen=True)
class Offer:
    offer_id: str
    event_id: str
    agent_id: str
    queue_id: str
    issued_at_ms: int
    ring_timeout_ms: int
    attempt: int
    endpoint: str = ""
    # The `queued` fact this offer was made from (the Offered causation id): which leg of a
    # transferred contact it belongs to.
    placement_event_id: str = ""
    routing_step: int = 0  # the bullseye step the contact was at when offered


@dataclass(frozen=True)
class Resolution:
    outcome: OfferOutcome
    agent_id: str
    at_ms: int
    event_id: str

    def rank(self) -> tuple[int, int, str]:
        # Order-insensitive merge: best outcome, then earliest, then a stable tie-break.
        return (int(self.outcome), -self.at_ms, self.event_id)


@dataclass(frozen=True)
class Placement:
    """The contact's place in a queue (from `queued`)."""

    queue_id: str
    priority: int
    required_skills: tuple[Skill, ...]
    language: str
    queued_at_ms: int
    service_level_threshold_s: int
    event_id: str = ""
    estimated_wait_ms: int = 0  # as stated in `queued` (callbacks)


@dataclass(frozen=True)
class Transfer:
    """A blind transfer (`transferred`): it ends the current leg of the contact and starts
    the next, to a queue, an agent (routed within a queue, that agent preferred) or an
    external address (out of routing)."""

    event_id: str
    at_ms: int
    from_agent_id: str
    to_queue_id: str = ""
    to_agent_id: str = ""
    to_address: str = ""

    def order(self) -> tuple[int, str]:
        # One writer (ingress-sip) with one clock publishes an interaction's transfers.
        return (self.at_ms, self.event_id)


@dataclass(frozen=True)
class SelfService:
    outcome: str  # "route_to_queue", "contained", "customer_left", ""
    queue_id: str = ""
    language: str = ""
    required_skills: tuple[Skill, ...] = ()
    priority: int = 0  # 0: the queue's
    preferred_agent_id: str = ""


@dataclass
class Interaction:
    """What the router knows of one contact. Every field is set by one kind of fact, and
    merging is commutative, so the result does not depend on the order facts were read in."""

    interaction_id: str
    arrived_at_ms: int | None = None
    arrived_event_id: str = ""
    # The ingress instance holding the contact: the producer of its `arrived`.
    owner: str = ""
    entry_point_id: str = ""
    language: str = ""
    channel: str = ""
    self_service: SelfService | None = None
    placement: Placement | None = None
    offers: dict[str, Offer] = field(default_factory=dict)
    resolutions: dict[str, Resolution] = field(default_factory=dict)
    abandoned_at_ms: int | None = None
    abandoned_event_id: str = ""
    completed_at_ms: int | None = None
    completed_event_id: str = ""
    completed_by: str = ""
    talk_ms: int = 0  # of the earliest `completed`
    wrap_ups_started: dict[str, str] = field(default_factory=dict)  # agent id -> event id
    wrap_ups_ended: dict[str, str] = field(default_factory=dict)
    wrap_up_ms: dict[str, int] = field(default_factory=dict)  # agent id -> its wrap-up length
    # Blind transfers by event id; each starts a new leg.
    transfers: dict[str, Transfer] = field(default_factory=dict)
    # Every `queued` by its causation id (earliest per cause): the arrival's is the first
    # leg's (also `placement`), a transfer's is the placement of the leg that transfer starts.
    placements: dict[str, Placement] = field(default_factory=dict)
    # held / resumed by event id -> (at_ms, on hold after it); ingress writes them in order.
    holds: dict[str, tuple[int, bool]] = field(default_factory=dict)
    # Bullseye steps taken (`routing_expanded`): placement event id -> highest step.
    routing_steps: dict[str, int] = field(default_factory=dict)
    # Who the customer is (the caller's address), to find the agent who served them last.
    customer: str = ""
    # Treatment (domain/treatment.py): placement event id -> its flow-out's target kind;
    # (requested at, address) once the contact is a callback.
    flow_outs: dict[str, str] = field(default_factory=dict)
    callback: tuple[int, str] | None = None
    # Derived properties computed since the last fact about it (the fold clears it): every
    # decision step asks them of many contacts.
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def changed(self) -> None:
        """A fact about it was folded: derive its properties again."""
        self._memo.clear()

    def _memoized(self, key: str, compute: Callable[[], Any]) -> Any:
        memo = self._memo
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def routing_step(self, placement: Placement) -> int:
        return self.routing_steps.get(placement.event_id, 0)

    @property
    def ended(self) -> bool:
        """A terminal fact was seen: the customer left, or the handled contact completed."""
        return (
            # A callback's caller hangs up on purpose: that ends nothing.
            (self.abandoned_at_ms is not None
             and (self.callback is None or self.abandoned_at_ms < self.callback[0]))
            or self.completed_at_ms is not None
            or "closed" in self.flow_outs.values()
            or (
                self.self_service is not None
                and self.self_service.outcome in ("contained", "customer_left")
            )
        )

    @property
    def last_transfer(self) -> Transfer | None:
        if not self.transfers:
            return None
        found: Transfer = self._memoized(
            "last_transfer", lambda: max(self.transfers.values(), key=Transfer.order)
        )
        return found

    @property
    def current_placement(self) -> Placement | None:
        """Where the contact waits in its current leg: the first placement, or after a
        transfer the one made for it (None to an external address, to an unknown target,
        or until the router has placed it)."""
        if not self.transfers:
            return self.placement
        last = self.last_transfer
        return self.placement if last is None else self.placements.get(last.event_id)

    def _leg_offers(self) -> list[Offer]:
        """The offers of the current leg (every offer when the contact was never transferred,
        so a contact without transfers is routed exactly as before transfers existed)."""
        found: list[Offer] = self._memoized("leg_offers", self._compute_leg_offers)
        return found

    def _compute_leg_offers(self) -> list[Offer]:
        if not self.transfers:
            return list(self.offers.values())
        current = self.current_placement
        if current is None:
            return []
        return [o for o in self.offers.values() if o.placement_event_id == current.event_id]

    def in_current_leg(self, offer: Offer) -> bool:
        return offer in self._leg_offers()

    @property
    def connected_agent(self) -> str:
        """The agent whose offer was accepted in the current leg, or ''."""
        if not self.resolutions:
            return ""
        found: str = self._memoized("connected_agent", self._compute_connected_agent)
        return found

    def _compute_connected_agent(self) -> str:
        leg = {o.offer_id for o in self._leg_offers()}
        accepted = [
            r for oid, r in self.resolutions.items()
            if r.outcome is OfferOutcome.ACCEPTED and (oid in leg or not self.transfers)
        ]
        return max(accepted, key=Resolution.rank).agent_id if accepted else ""

    @property
    def first_answered_at_ms(self) -> int:
        """When an agent first answered (any leg), or 0."""
        return min(
            (r.at_ms for r in self.resolutions.values() if r.outcome is OfferOutcome.ACCEPTED),
            default=0,
        )

    def answered_offer(self, agent_id: str) -> Offer | None:
        """The latest offer `agent_id` answered (a transferred contact may have several)."""
        answered = [
            self.offers[oid]
            for oid, r in self.resolutions.items()
            if r.outcome is OfferOutcome.ACCEPTED and r.agent_id == agent_id and oid in self.offers
        ]
        return max(answered, key=lambda o: (o.issued_at_ms, o.offer_id)) if answered else None

    def served_queue(self, agent_id: str) -> str:
        """The queue whose offer `agent_id` answered, else the contact's first queue."""
        answered = self.answered_offer(agent_id)
        if answered is not None:
            return answered.queue_id
        return self.placement.queue_id if self.placement is not None else ""

    def transferred_away(self, agent_id: str) -> bool:
        """The agent transferred the contact and is not the one connected now."""
        return agent_id != self.connected_agent and any(
            t.from_agent_id == agent_id for t in self.transfers.values()
        )

    @property
    def transferred_out(self) -> bool:
        """The current leg went to an external address: nothing for the router to route."""
        last = self.last_transfer
        return last is not None and bool(last.to_address)

    @property
    def on_hold(self) -> bool:
        if not self.holds:
            return False
        return max(self.holds.items(), key=lambda kv: (kv[1][0], kv[0]))[1][1]

    def open_offer(self) -> Offer | None:
        """The offer still ringing: issued, not resolved, for a contact still waiting."""
        if not self.offers:
            return None
        found: Offer | None = self._memoized("open_offer", self._compute_open_offer)
        return found

    def _compute_open_offer(self) -> Offer | None:
        if self.ended or self.connected_agent:
            return None
        open_offers = [o for o in self._leg_offers() if o.offer_id not in self.resolutions]
        return max(open_offers, key=lambda o: (o.attempt, o.offer_id)) if open_offers else None

    @property
    def waiting(self) -> bool:
        """Queued (in its current leg) and not yet connected or gone (being offered counts
        as waiting)."""
        found: bool = self._memoized(
            "waiting",
            lambda: self.current_placement is not None
            and not self.ended
            and not self.connected_agent,
        )
        return found

    def offer_for(self, agent: Agent) -> Offer | None:
        """The offer that reserved `agent` (by the reserving fact's causation id)."""
        for offer in self.offers.values():
            if offer.event_id == agent.offer_event_id:
                return offer
        return None


@dataclass
class IngressLiveness:
    """What the router knows of one ingress instance (a producer) in one tenant: an
    order-insensitive merge of its `started` and `heartbeat` facts (latest wins)."""

    producer: str
    # When its current process started (newest `started`, or a heartbeat's started_at).
    started_at_ms: int = 0
    started_event_id: str = ""  # the newest `started` seen (causation of what it ends)
    # Its last sign of life (newest start or heartbeat).
    last_seen_ms: int = 0


# Handle times kept per queue for the estimated wait, and the figure used before any.
HANDLE_WINDOW = 50
DEFAULT_HANDLE_MS = 180_000


@dataclass
class HandleTimes:
    """Talk + wrap-up of each queue's last HANDLE_WINDOW handled contacts, newest by
    completion time. Keyed by interaction and bounded by key, not by arrival, so any reading
    order of the topics (a replay) rebuilds the same window."""

    # queue id -> interaction id -> (completed_at_ms, handle_ms)
    by_queue: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    # interaction id -> the queue whose window holds it (each is in one window at most)
    window_of: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # queue id -> (completed_at_ms, interaction id) of its window, oldest first (a heap; an
    # entry no longer in the window is skipped when it comes up)
    _oldest: dict[str, list[tuple[int, str]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def record(
        self, queue_id: str, interaction_id: str, completed_at_ms: int, handle_ms: int
    ) -> None:
        other = self.window_of.get(interaction_id)
        if other is not None and other != queue_id:  # a later fact may name another queue
            self.by_queue[other].pop(interaction_id, None)
        window = self.by_queue.setdefault(queue_id, {})
        window[interaction_id] = (completed_at_ms, handle_ms)
        self.window_of[interaction_id] = queue_id
        oldest = self._oldest.setdefault(queue_id, [])
        heapq.heappush(oldest, (completed_at_ms, interaction_id))
        while len(window) > HANDLE_WINDOW:
            at_ms, iid = heapq.heappop(oldest)
            held = window.get(iid)
            if held is not None and held[0] == at_ms:
                del window[iid]
                del self.window_of[iid]

    def mean_ms(self, queue_id: str) -> int:
        """The mean handle time of the queue's window (DEFAULT_HANDLE_MS while empty)."""
        window = self.by_queue.get(queue_id)
        if not window:
            return DEFAULT_HANDLE_MS
        return sum(h for _, h in window.values()) // len(window)


# Ids of finished interactions remembered per tenant. Facts about a finished contact come
# late only by seconds (an ingress's duplicate, a retried publish); a contact forgotten and
# named again by a stray fact is folded anew, and compacted again once ended.
FINISHED_KEPT = 100_000


class FinishedIds(OrderedDict[str, None]):
    """The ids of the newest `capacity` finished interactions (oldest forgotten first), so
    that memory stays bounded however long the router runs. (An ordered dict: `in` is the
    fold's first test of every interaction fact.)"""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def add(self, iid: str) -> None:
        self[iid] = None
        if len(self) > self.capacity:
            self.popitem(last=False)

    def __reduce__(self) -> tuple[Any, ...]:  # pickled with its capacity (snapshots)
        return (FinishedIds, (self.capacity,), None, None, iter(self.items()))


@dataclass
class TenantState:
    agents: dict[str, Agent] = field(default_factory=dict)
    interactions: dict[str, Interaction] = field(default_factory=dict)
    ingresses: dict[str, IngressLiveness] = field(default_factory=dict)
    # Interactions that ended and were dropped from memory (live compaction), the newest
    # FINISHED_KEPT of them; facts about them are ignored.
    finished: FinishedIds = field(default_factory=lambda: FinishedIds(FINISHED_KEPT))
    # Agents' registered phones (domain/registrations.py).
    registrations: Registrations = field(default_factory=Registrations)
    handle_times: HandleTimes = field(default_factory=HandleTimes)
    # Round robin: queue id -> (at_ms, event id, agent id) of its newest offer.
    last_offered: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    # customer -> (completed_at_ms, agent id) of the newest contact an agent completed.
    last_agents: dict[str, tuple[int, str]] = field(default_factory=dict)
    # What decide() must look at again (domain/index.py), kept by the fold.
    index: TenantIndex = field(default_factory=TenantIndex, repr=False, compare=False)
    # Who waits where and who is free (domain/pool.py), kept from the index's marks.
    pool: RoutingPool = field(default_factory=RoutingPool, repr=False, compare=False)

    def agent(self, agent_id: str) -> Agent:
        found = self.agents.get(agent_id)
        if found is None:
            found = self.agents[agent_id] = Agent(agent_id)
        return found


@dataclass
class RouterState:
    tenants: dict[str, TenantState] = field(default_factory=dict)
    # When this process went live (not folded from facts): an ingress with no liveness
    # record at all is taken as silent since then, not since the epoch.
    live_since_ms: int = 0
    # Up to when this process has read its topics (not folded): the last time its consumer
    # found nothing more to read, or the time of the newest fact it read since. An ingress is
    # judged silent against this, not against the clock, so a router that lags behind its
    # topics (a stall, a loaded machine) does not take heartbeats it has yet to read for
    # silence. None: up to now (tests of decisions alone).
    read_up_to_ms: int | None = None

    def tenant(self, tenant_id: str) -> TenantState:
        found = self.tenants.get(tenant_id)
        if found is None:
            found = self.tenants[tenant_id] = TenantState()
        return found
