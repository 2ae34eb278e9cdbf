"""Decisions: what the router must do, given its state and the time. Level-triggered: every
decision is derived from state alone (never from "the event that just arrived"), so the same
code serves live traffic and the reconcile after a replay, and re-running it is harmless.

`decide` returns one consistent batch; the application realises it into facts (`realize`),
applies and publishes them, and calls `decide` again until it returns nothing.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from hotline_router.domain import matching, treatment
from hotline_router.domain.facts import (
    Abandoned,
    AgentStateChanged,
    Completed,
    Disposition,
    Fact,
    Offered,
    OfferTimedOut,
    Queued,
    RoutingExpanded,
    WrapUpEnded,
    WrapUpStarted,
)
from hotline_router.domain.index import scan_marked
from hotline_router.domain.model import (
    INGRESS_LOST,
    MISSED_OFFER,
    OFFER_WITHDRAWN,
    Agent,
    AgentState,
    Interaction,
    OfferOutcome,
    Placement,
    QueueConfig,
    RouterState,
    RoutingConfig,
    Skill,
    TenantConfig,
    TenantState,
    satisfies,
)
from hotline_router.domain.pool import Group, Keyed, RoutingPool

IdFactory = Callable[[], str]


@dataclass(frozen=True)
class QueueContact:
    tenant_id: str
    interaction_id: str
    queue: QueueConfig
    language: str
    required_skills: tuple[Skill, ...]
    channel: str
    causation_id: str
    # When the contact entered the queue, if earlier than the decision (see queue_arrivals).
    entered_at_ms: int | None = None
    priority: int = 0  # set by self-service; 0: the queue's
    # Stated in `queued` for the caller's announcements (estimate_waits).
    position: int = 0
    estimated_wait_ms: int = 0

    @property
    def queue_priority(self) -> int:
        return self.priority or self.queue.priority

    def queued_at_ms(self, now_ms: int) -> int:
        return now_ms if self.entered_at_ms is None else self.entered_at_ms


@dataclass(frozen=True)
class OfferContact:
    tenant_id: str
    interaction_id: str
    agent_id: str
    queue_id: str
    endpoint: str
    ring_timeout_ms: int
    attempt: int
    channel: str
    causation_id: str
    routing_step: int = 0


@dataclass(frozen=True)
class ExpandTarget:
    """A waiting contact reached bullseye step(s) of its queue: from `from_step` (taken) to
    `to_step`, one `routing_expanded` per step."""

    tenant_id: str
    interaction_id: str
    queue: QueueConfig
    from_step: int
    to_step: int
    waited_ms: int
    placement_event_id: str


@dataclass(frozen=True)
class ReserveAgent:
    """Repair: an offer is ringing but the agent's RESERVED state was never recorded."""

    tenant_id: str
    agent_id: str
    interaction_id: str
    offer_event_id: str


@dataclass(frozen=True)
class ExpireOffer:
    """The router's own offer time-out (ring time-out + grace passed without an answer)."""

    tenant_id: str
    interaction_id: str
    offer_id: str
    agent_id: str
    queue_id: str
    rang_ms: int


@dataclass(frozen=True)
class ChangeAgentState:
    tenant_id: str
    agent_id: str
    state: AgentState
    reason_code: str = ""
    interaction_id: str = ""
    causation_id: str = ""


@dataclass(frozen=True)
class StartWrapUp:
    tenant_id: str
    agent_id: str
    interaction_id: str
    record_fact: bool  # publish wrap_up_started (False when it is already recorded)
    change_state: bool  # move the agent to WRAP_UP (False when it already is)
    causation_id: str = ""


@dataclass(frozen=True)
class EndWrapUp:
    tenant_id: str
    agent_id: str
    interaction_id: str
    timed_out: bool
    disposition: Disposition | None = None
    record_fact: bool = True  # publish wrap_up_ended (False when it is already recorded)
    causation_id: str = ""


@dataclass(frozen=True)
class EndLostContact:
    """The ingress instance holding the contact was lost (restarted after the contact
    arrived, or silent too long): the contact is over. Connected: `completed` ended by
    SYSTEM; otherwise `abandoned` at its stage with reason `ingress_lost`."""

    tenant_id: str
    interaction_id: str
    owner: str
    why: str  # "restarted" | "silent" (logs, tests)
    lost_at_ms: int  # its owner's last sign of life (silent), or its new start (restarted)
    connected_agent: str = ""
    answered_at_ms: int = 0
    stage: str = ""  # "in_queue" | "while_offered" | "before_queue" (not connected)
    arrived_at_ms: int = 0
    causation_id: str = ""  # the owner's newer `started`, if known


@dataclass(frozen=True)
class PlaceTransferred:
    """A blind transfer to a queue or an agent: the contact waits again, in `queue` (the
    target queue, or for an agent the queue the transferring agent served), as `queued`
    caused by the transfer. No earlier than the transfer itself."""

    tenant_id: str
    interaction_id: str
    queue: QueueConfig
    language: str
    channel: str
    transfer_event_id: str
    transferred_at_ms: int
    position: int = 0
    estimated_wait_ms: int = 0

    @property
    def queue_priority(self) -> int:
        return self.queue.priority

    @property
    def required_skills(self) -> tuple[Skill, ...]:
        return self.queue.required_skills

    def queued_at_ms(self, now_ms: int) -> int:
        # Not before the transfer (another host's clock may be ahead of ours).
        return max(now_ms, self.transferred_at_ms)


Decision = (
    QueueContact
    | PlaceTransferred
    | OfferContact
    | ExpandTarget
    | ReserveAgent
    | ExpireOffer
    | ChangeAgentState
    | StartWrapUp
    | EndWrapUp
    | EndLostContact
    | treatment.FlowOut
)


# --------------------------------------------------------------------------- deciding


def decide(
    state: RouterState, config: RoutingConfig, tenant_id: str, now_ms: int
) -> list[Decision]:
    tenant = state.tenants.get(tenant_id)
    tenant_config = config.tenants.get(tenant_id)
    if tenant is None or tenant_config is None:
        return []
    index = tenant.index
    if index.config is not config or index.live_since_ms != state.live_since_ms:
        # Every per-item rule depends on both: look at everything once.
        index.live_since_ms = state.live_since_ms
        index.mark_all(config, tenant.agents, tenant.interactions)
    # Agent repairs first, alone: routing must see the agents' settled states.
    repairs = reconcile_agents(tenant_id, tenant, tenant_config, config, now_ms)
    if repairs:
        return repairs
    # Then contacts whose ingress was lost, alone: nothing else may offer them meanwhile.
    read_up_to = now_ms if state.read_up_to_ms is None else min(now_ms, state.read_up_to_ms)
    lost = end_lost_contacts(
        tenant_id, tenant, tenant_config, config, read_up_to, state.live_since_ms
    )
    if lost:
        return lost
    # Then flow-outs, alone: a contact leaving its queue is not offered meanwhile.
    flowing: list[Decision] = [*treatment.decide(tenant_id, tenant, tenant_config, now_ms)]
    if flowing:
        return flowing
    placing: list[QueueContact | PlaceTransferred] = [
        *queue_arrivals(tenant_id, tenant, tenant_config),
        *place_transfers(tenant_id, tenant, tenant_config),
    ]
    return [
        *expire_offers(tenant_id, tenant, config, now_ms),
        *estimate_waits(tenant, tenant_config, placing, now_ms),
        *expand_targets(tenant_id, tenant, tenant_config, now_ms),
        *next_offers(tenant_id, tenant, tenant_config, config, now_ms),
    ]


def _wrap_up_timeout_ms(
    it: Interaction | None, agent_id: str, tc: TenantConfig, config: RoutingConfig
) -> int:
    if it is not None:
        queue = tc.queues.get(it.served_queue(agent_id))
        if queue is not None:
            return queue.wrap_up_timeout_ms
    return config.default_wrap_up_timeout_ms


def reconcile_agents(
    tenant_id: str, tenant: TenantState, tc: TenantConfig, config: RoutingConfig, now_ms: int
) -> list[Decision]:
    """Bring each agent's state in line with what happened to its contact (the agents and
    contacts a fact changed, and the wrap-ups whose time-out came due: see index.scan_marked)."""
    index = tenant.index
    touched: set[str] = set()

    def agent_rule(agent_id: str) -> Decision | None:
        agent = tenant.agents.get(agent_id)
        if agent is None:
            return None
        it = tenant.interactions.get(agent.interaction_id) if agent.interaction_id else None
        decision = _reconcile_agent(tenant_id, agent, it, tc, config, now_ms)
        if decision is not None:
            touched.add(agent_id)
        elif agent.state is AgentState.WRAP_UP:
            due = agent.since_ms + _wrap_up_timeout_ms(it, agent_id, tc, config)
            index.wrap_ups.arm(agent_id, due)
        return decision

    def contact_rule(iid: str) -> Decision | None:
        it = tenant.interactions.get(iid)
        if it is None or it.ended:  # neither ringing nor to be connected
            return None
        # A ringing offer whose reservation was never recorded (crash between the two writes).
        offer = it.open_offer()
        if offer is not None and offer.agent_id not in touched:
            offered_to = tenant.agents.get(offer.agent_id)
            if offered_to is not None and offered_to.state is AgentState.READY:
                touched.add(offered_to.agent_id)
                return ReserveAgent(tenant_id, offered_to.agent_id, iid, offer.event_id)
        # Accepted (possibly after the router timed the offer out) but the agent is not BUSY.
        # (Never both: a contact with a ringing offer is not connected.)
        connected = it.connected_agent
        if connected and not it.ended and connected not in touched:
            talking = tenant.agents.get(connected)
            if talking is not None and talking.state in (AgentState.READY, AgentState.NOT_READY):
                res = max(
                    (r for r in it.resolutions.values() if r.outcome is OfferOutcome.ACCEPTED),
                    key=lambda r: r.rank(),
                )
                touched.add(connected)
                return ChangeAgentState(
                    tenant_id, connected, AgentState.BUSY, "", iid, res.event_id
                )
        return None

    out: list[Decision] = scan_marked(
        index.agents, index.wrap_ups.due(now_ms), agent_rule, in_order=True
    )
    out.extend(scan_marked(index.contacts, set(), contact_rule, in_order=True))
    return out


def _reconcile_agent(
    tenant_id: str,
    agent: Agent,
    it: Interaction | None,
    tc: TenantConfig,
    config: RoutingConfig,
    now_ms: int,
) -> Decision | None:
    aid = agent.agent_id
    if agent.state is AgentState.RESERVED:
        offer = it.offer_for(agent) if it is not None else None
        if it is None or offer is None:  # the offer itself was never recorded
            return ChangeAgentState(tenant_id, aid, AgentState.READY, OFFER_WITHDRAWN)
        res = it.resolutions.get(offer.offer_id)
        if res is not None and res.outcome is OfferOutcome.ACCEPTED:
            return ChangeAgentState(
                tenant_id, aid, AgentState.BUSY, "", it.interaction_id, res.event_id
            )
        if res is not None:  # rejected or timed out: Amazon Connect's "missed" state
            return ChangeAgentState(
                tenant_id, aid, AgentState.NOT_READY, MISSED_OFFER, "", res.event_id
            )
        # Caller left, someone else answered, or a later transfer superseded the offer's leg.
        if it.ended or it.connected_agent or not it.in_current_leg(offer):
            cause = it.abandoned_event_id or it.completed_event_id
            return ChangeAgentState(tenant_id, aid, AgentState.READY, OFFER_WITHDRAWN, "", cause)
        return None
    if agent.state is AgentState.BUSY and it is not None and it.ended:
        return StartWrapUp(
            tenant_id,
            aid,
            it.interaction_id,
            record_fact=aid not in it.wrap_ups_started,
            change_state=True,
            causation_id=it.completed_event_id or it.abandoned_event_id,
        )
    if agent.state is AgentState.BUSY and it is not None and it.transferred_away(aid):
        # Its part ended with its transfer (the contact goes on without it): wrap up now,
        # once; the contact's later `completed` concerns whoever holds it then.
        transfer = max(
            (t for t in it.transfers.values() if t.from_agent_id == aid),
            key=lambda t: t.order(),
        )
        return StartWrapUp(
            tenant_id, aid, it.interaction_id, record_fact=aid not in it.wrap_ups_started,
            change_state=True, causation_id=transfer.event_id,
        )
    if agent.state is AgentState.WRAP_UP:
        iid = agent.interaction_id
        if it is not None and aid in it.wrap_ups_ended:  # ended, READY never recorded
            return EndWrapUp(tenant_id, aid, iid, timed_out=False, record_fact=False)
        if it is not None and aid not in it.wrap_ups_started:  # WRAP_UP recorded, fact not
            return StartWrapUp(tenant_id, aid, iid, record_fact=True, change_state=False)
        if now_ms >= agent.since_ms + _wrap_up_timeout_ms(it, aid, tc, config):
            return EndWrapUp(tenant_id, aid, iid, timed_out=True)
    return None


def expire_offers(
    tenant_id: str, tenant: TenantState, config: RoutingConfig, now_ms: int
) -> list[Decision]:
    """Ringing offers past the queue's ring time-out + grace (those a fact changed, and
    those whose time-out came due: see index.scan_marked)."""
    index = tenant.index

    def rule(iid: str) -> Decision | None:
        it = tenant.interactions.get(iid)
        offer = it.open_offer() if it is not None else None
        if offer is None:
            return None
        due = offer.issued_at_ms + offer.ring_timeout_ms + config.offer_grace_ms
        if now_ms < due:
            index.offer_expiry.arm(iid, due)
            return None
        return ExpireOffer(
            tenant_id, iid, offer.offer_id, offer.agent_id, offer.queue_id,
            now_ms - offer.issued_at_ms,
        )

    return scan_marked(index.offers, index.offer_expiry.due(now_ms), rule)


def ingress_lost(
    it: Interaction, tenant: TenantState, config: RoutingConfig, now_ms: int, live_since_ms: int
) -> tuple[str, int, str] | None:
    """(why, lost_at_ms, causation id) when the instance holding `it` is lost, else None.

    Restarted: a `started` of the owner (or a heartbeat naming its start) later than the
    arrival; a process starts (and says so, durably) before it serves calls, so every call
    of a process arrives after its start. Silent: no start, heartbeat or arrival of the owner
    for longer than `ingress_lost_after_ms`, counted from when this router went live at the
    earliest (it did not watch before; an owner with no liveness record at all, an older
    ingress or records past their retention, is the same). Only services that publish
    liveness (`liveness_services`) are judged. `now_ms` is the time up to which the router
    has read its topics (RouterState.read_up_to_ms)."""
    if it.arrived_at_ms is None or it.owner.partition("/")[0] not in config.liveness_services:
        return None
    if it.callback is not None:  # its caller was released: no ingress holds it
        return None
    rec = tenant.ingresses.get(it.owner)
    if rec is not None and rec.started_at_ms > it.arrived_at_ms:
        return "restarted", rec.started_at_ms, rec.started_event_id
    # Silence counts from this process going live at the earliest: a router that was away
    # (restarting) did not watch, and gives every ingress the full limit to be heard again.
    last_seen = max(rec.last_seen_ms if rec is not None else 0, live_since_ms, it.arrived_at_ms)
    if now_ms - last_seen > config.ingress_lost_after_ms:
        return "silent", last_seen, ""
    return None


def _may_be_silent(
    owner: str, tenant: TenantState, config: RoutingConfig, now_ms: int, live_since_ms: int
) -> bool:
    """Some contact of `owner` may be silent-lost (ingress_lost's test without the contact's
    own arrival, which only makes it later)."""
    if owner.partition("/")[0] not in config.liveness_services:
        return False
    rec = tenant.ingresses.get(owner)
    last_seen = max(rec.last_seen_ms if rec is not None else 0, live_since_ms)
    return now_ms - last_seen > config.ingress_lost_after_ms


def end_lost_contacts(
    tenant_id: str,
    tenant: TenantState,
    tc: TenantConfig,
    config: RoutingConfig,
    now_ms: int,
    live_since_ms: int,
) -> list[Decision]:
    """End every open contact whose ingress instance was lost. A contact still to be queued
    is queued first (queue_arrivals: it entered the queue at arrival) and ended next pass,
    so it counts in its queue like any caller who left. Looks at the contacts a fact
    changed, those of an instance that restarted, and those of an instance silent too long
    (see index.scan_marked)."""
    index = tenant.index
    due: set[str] = set()
    for owner in index.restarted:
        due.update(index.by_owner.get(owner, ()))
    index.restarted.clear()
    for owner, iids in index.by_owner.items():
        if _may_be_silent(owner, tenant, config, now_ms, live_since_ms):
            due.update(iids)

    def rule(iid: str) -> Decision | None:
        it = tenant.interactions.get(iid)
        if it is None or it.ended or _queue_arrival(tenant_id, it, tc) is not None:
            return None
        lost = ingress_lost(it, tenant, config, now_ms, live_since_ms)
        if lost is None:
            return None
        why, lost_at, cause = lost
        last = it.last_transfer
        # Transferred out, the caller talks to an external party: still a connected call.
        connected = last.from_agent_id if it.transferred_out and last else it.connected_agent
        if connected:
            return EndLostContact(
                tenant_id, iid, it.owner, why, lost_at, connected_agent=connected,
                answered_at_ms=it.first_answered_at_ms, causation_id=cause,
            )
        if it.open_offer() is not None:
            stage = "while_offered"
        elif it.placement is not None:
            stage = "in_queue"
        else:
            stage = "before_queue"  # an announcement, or a contact no queue takes
        return EndLostContact(
            tenant_id, iid, it.owner, why, lost_at, stage=stage,
            arrived_at_ms=it.arrived_at_ms or 0, causation_id=cause,
        )

    return scan_marked(index.lost, due, rule)


def queue_arrivals(
    tenant_id: str, tenant: TenantState, tc: TenantConfig
) -> list[QueueContact]:
    """Arrived (or routed on by self-service) but not yet queued: queue it (those a fact
    changed: see index.scan_marked)."""
    interactions = tenant.interactions

    def rule(iid: str) -> QueueContact | None:
        it = interactions.get(iid)
        return _queue_arrival(tenant_id, it, tc) if it is not None else None

    return scan_marked(tenant.index.to_queue, set(), rule)


def _queue_arrival(tenant_id: str, it: Interaction, tc: TenantConfig) -> QueueContact | None:
    if it.placement is not None or it.arrived_at_ms is None:
        return None
    ss = it.self_service
    # A caller of a queue's entry point is in that queue from the moment of arrival, even
    # when the router was away then; one who gave up meanwhile is still queued (and then
    # counted as an abandon), so KPIs do not depend on the router's availability.
    if it.ended and (ss is not None or it.abandoned_at_ms is None):
        return None
    entered_at_ms: int | None = None
    priority = 0
    if ss is not None:
        if ss.outcome != "route_to_queue" or ss.queue_id not in tc.queues:
            return None
        queue = tc.queues[ss.queue_id]
        skills = ss.required_skills or queue.required_skills
        language = ss.language or it.language or queue.language
        priority = ss.priority
    else:
        entry = tc.entry_points.get(it.entry_point_id)
        if entry is None or entry.queue_id not in tc.queues:
            return None  # announcement or unknown entry point: not the router's business
        queue = tc.queues[entry.queue_id]
        skills = queue.required_skills
        language = it.language or queue.language
        entered_at_ms = it.arrived_at_ms
        priority = entry.priority
    return QueueContact(
        tenant_id, it.interaction_id, queue, language, skills, it.channel or "voice",
        it.arrived_event_id, entered_at_ms, priority,
    )


def transfer_queue(it: Interaction, tc: TenantConfig) -> QueueConfig | None:
    """Where the contact's last transfer puts it: the target queue; for a target agent, the
    queue the transferring agent served (that agent preferred there, see next_offers);
    None to an external address or an unknown target (ingress refuses those; a stray one
    is routed nowhere)."""
    last = it.last_transfer
    if last is None or last.to_address:
        return None
    if last.to_queue_id:
        return tc.queues.get(last.to_queue_id)
    if last.to_agent_id and last.to_agent_id in tc.agents:
        return tc.queues.get(it.served_queue(last.from_agent_id))
    return None


def place_transfers(
    tenant_id: str, tenant: TenantState, tc: TenantConfig
) -> list[PlaceTransferred]:
    """Transferred to a queue or an agent, not yet placed for it: place it (those a fact
    changed: see index.scan_marked)."""

    def rule(iid: str) -> PlaceTransferred | None:
        it = tenant.interactions.get(iid)
        last = it.last_transfer if it is not None else None
        if it is None or last is None or it.ended or last.event_id in it.placements:
            return None
        queue = transfer_queue(it, tc)
        if queue is None:
            return None
        return PlaceTransferred(
            tenant_id, iid, queue, it.language or queue.language, it.channel or "voice",
            last.event_id, last.at_ms,
        )

    return scan_marked(tenant.index.to_place, set(), rule)


def expand_targets(
    tenant_id: str, tenant: TenantState, tc: TenantConfig, now_ms: int
) -> list[Decision]:
    """Waiting contacts whose wait reached their queue's next bullseye step(s): take them
    (each step once, recorded as `routing_expanded`; matching uses the recorded step)."""
    pool = tenant.pool
    pool.configure(tc)
    if not pool.expanding:
        return []
    pool.refresh(tenant)
    out: list[Decision] = []
    for qid in sorted(pool.expanding):
        queue = tc.queues[qid]
        for iid, placement in sorted(pool.in_queue(qid)):
            it = tenant.interactions[iid]
            waited = now_ms - placement.queued_at_ms
            due = matching.steps_due(queue, waited)
            taken = it.routing_step(placement)
            if due > taken:
                out.append(
                    ExpandTarget(tenant_id, iid, queue, taken, due, waited, placement.event_id)
                )
    return out


def _target_of(
    it: Interaction,
    placement: Placement,
    queue: QueueConfig,
    tc: TenantConfig,
    now_ms: int,
    staffed: Callable[[str], bool],
) -> matching.Target:
    """The contact's target now: its recorded bullseye step, and its home site (the queue's,
    else its entry point's) until the queue's site overflow time, or at once when nobody is
    logged in there (`staffed`)."""
    home = ""
    if queue.site_overflow_ms > 0:
        entry = tc.entry_points.get(it.entry_point_id)
        home = queue.home_site or (entry.site_id if entry is not None else "")
    site_open = (
        not home
        or now_ms - placement.queued_at_ms >= queue.site_overflow_ms
        or not staffed(home)
    )
    return matching.target(
        queue, tc, placement.required_skills, placement.language, it.routing_step(placement),
        home, site_open,
    )


def estimate_waits(
    tenant: TenantState,
    tc: TenantConfig,
    placing: list[QueueContact | PlaceTransferred],
    now_ms: int,
) -> list[QueueContact | PlaceTransferred]:
    """The contacts being queued, each with its position (1 + the contacts of its queue
    waiting ahead of it in routing order, a ringing one included, and those queued in the
    same batch) and its estimated wait: 0 when as many able agents are READY as there are
    contacts up to it not ringing an agent already (one is offered it at once); else the
    rest x the queue's mean handle time / n, n = able agents logged in (at least 1): n busy
    agents free up one every mean/n on average. Able: skills and language, any site."""
    if not placing:
        return []
    pool = tenant.pool
    pool.refresh(tenant)
    pool.configure(tc)  # the groups' orders were keyed under the configuration
    new_keys = [
        matching.routing_key(
            matching.aged_priority(
                d.queue_priority, d.queued_at_ms(now_ms), now_ms, d.queue.priority_aging_ms
            ),
            d.queued_at_ms(now_ms), d.interaction_id,
        )
        for d in placing
    ]
    out: list[QueueContact | PlaceTransferred] = []
    for d, key in zip(placing, new_keys, strict=True):
        qid = d.queue.queue_id
        ahead, ringing = _ahead(pool, tc, qid, key, now_ms)
        batch = sum(
            1 for other, k in zip(placing, new_keys, strict=True)
            if k < key and other.queue.queue_id == qid
        )
        position = 1 + ahead + batch
        contact = tenant.interactions.get(d.interaction_id)
        wrapped = contact.wrap_ups_started if contact is not None else {}
        base = matching.target(d.queue, tc, d.required_skills, d.language, 0, "", True)

        def able_with(
            profile: tuple[tuple[Skill, ...], tuple[str, ...]], t: matching.Target = base
        ) -> bool:
            return matching.fits(profile[0], profile[1], "", t, any_site=True)

        # Agents without the first required skill cannot fit: only those with it are judged.
        first = d.required_skills[0].name if d.required_skills else ""
        able = pool.count_logged_in(base, able_with, first) - sum(
            1 for aid in wrapped if aid in pool.logged_in and able_with(pool.logged_in[aid][1])
        )
        # Contacts up to this one still needing an agent (a ringing one has its own), less
        # the able agents READY for them: those wait for a busy agent to free up.
        needing = position - ringing
        behind = needing - pool.count_ready(able_with, needing, skip=wrapped, skill=first)
        mean = tenant.handle_times.mean_ms(d.queue.queue_id)
        out.append(
            replace(
                d, position=position,
                estimated_wait_ms=0 if behind <= 0 else behind * mean // max(1, able),
            )
        )
    return out


def _ahead(
    pool: RoutingPool, tc: TenantConfig, queue_id: str, key: matching.RoutingKey, now_ms: int
) -> tuple[int, int]:
    """The contacts waiting in the queue before `key` in routing order, and how many of
    them ring an agent: found in each group's order kept by the pool (bisect), the ringing
    ones by looking at the fewer of those contacts or of all ringing contacts."""
    runs: list[tuple[list[Keyed], int]] = []
    for gid in pool.queue_groups.get(queue_id, ()):
        if gid in pool.waiting:
            run = _group_order(pool, tc, gid, now_ms)
            runs.append((run, bisect.bisect_left(run, (key,))))
    ahead = sum(n for _, n in runs)
    ringing = pool.ringing
    if len(ringing) < ahead:
        listed, groups, waiting = pool.listed, pool.groups, pool.waiting
        return ahead, sum(
            1 for iid in ringing
            if groups[listed[iid]][0] == queue_id
            and _routing_key(tc, iid, waiting[listed[iid]][iid], now_ms) < key
        )
    return ahead, sum(1 for run, n in runs for _, iid, _ in run[:n] if iid in ringing)


def _group_order(pool: RoutingPool, tc: TenantConfig, gid: int, now_ms: int) -> list[Keyed]:
    """The group's waiting contacts in routing order (pool.in_order)."""
    queue = tc.queues.get(pool.groups[gid][0])
    aging_ms = queue.priority_aging_ms if queue is not None else 0
    return pool.in_order(
        gid, now_ms, aging_ms, lambda iid, p: _routing_key(tc, iid, p, now_ms)
    )


def _routing_key(
    tc: TenantConfig, interaction_id: str, placement: Placement, now_ms: int
) -> matching.RoutingKey:
    queue = tc.queues.get(placement.queue_id)
    aging_ms = queue.priority_aging_ms if queue is not None else 0
    priority = matching.aged_priority(
        placement.priority, placement.queued_at_ms, now_ms, aging_ms
    )
    return matching.routing_key(priority, placement.queued_at_ms, interaction_id)


def routing_order(
    tenant: TenantState, tc: TenantConfig, now_ms: int, *, takeable: bool = False
) -> list[tuple[Interaction, Placement]]:
    """Contacts to offer now (waiting, no offer ringing), best first: higher priority aged by
    the wait (each queue's rate), then earliest queued (in the current leg: a transferred
    contact waits in its new placement). `takeable`: only those a READY agent could take at
    the widest step of their queue, and those a transfer named an agent for
    (domain/pool.py)."""
    return list(_in_routing_order(tenant, tc, now_ms, *_offerable(tenant, tc, takeable)))


def _offerable(
    tenant: TenantState, tc: TenantConfig, takeable: bool
) -> tuple[list[int], list[str]]:
    pool = tenant.pool
    pool.refresh(tenant)
    pool.configure(tc)  # the groups' orders were keyed under the configuration
    if takeable:
        pool.sift(
            lambda skills, group: any(
                satisfies(skills, req) for req in _widest(tc, group)
            ),
            lambda group: _names(_widest(tc, group)),
            tc,
        )
    return pool.offerable(takeable)


def _in_routing_order(
    tenant: TenantState, tc: TenantConfig, now_ms: int, gids: list[int], named: list[str]
) -> Iterator[tuple[Interaction, Placement]]:
    """routing_order, lazily, of the contacts in `gids` and `named` (pool.offerable): each
    group's contacts are kept in order by the pool, merged here (the keys are unique: they
    end on the contact's id)."""
    pool = tenant.pool
    runs = [_group_order(pool, tc, gid, now_ms) for gid in gids]
    if named:
        placements = ((iid, pool.waiting[pool.listed[iid]][iid]) for iid in named)
        runs.append(sorted((_routing_key(tc, iid, p, now_ms), iid, p) for iid, p in placements))
    ringing, interactions = pool.ringing, tenant.interactions
    for _, iid, placement in heapq.merge(*runs):
        if iid not in ringing:
            yield interactions[iid], placement


def _widest(tc: TenantConfig, group: Group) -> tuple[tuple[Skill, ...], ...]:
    return matching.widest(tc.queues.get(group[0]), tc, group[1])


def _names(requirements: tuple[tuple[Skill, ...], ...]) -> frozenset[str] | None:
    """Skill names one of which an agent must hold to meet one of `requirements` (None: an
    empty requirement, which anyone meets)."""
    if any(not req for req in requirements):
        return None
    return frozenset(req[0].name for req in requirements)


def idle_order(tenant: TenantState, config: RoutingConfig) -> dict[str, Agent]:
    """READY agents not on a drained site, by id, longest idle first (idle since they last
    became READY)."""
    pool = tenant.pool
    pool.refresh(tenant)
    drained = config.drained_sites
    agents = tenant.agents
    if not drained:
        return {aid: agents[aid] for _, aid in pool.ready}
    return {
        aid: agent for _, aid in pool.ready if (agent := agents[aid]).site_id not in drained
    }


def next_offers(
    tenant_id: str, tenant: TenantState, tc: TenantConfig, config: RoutingConfig, now_ms: int
) -> list[Decision]:
    """Offer each waiting contact, in routing order, to the free agent its queue's strategy
    picks among those fitting its target (domain/matching.py), its preferred agent first.
    One agent per contact; one open offer per contact. Only the contacts some free agent
    could take are ordered (the pool's sieve by skills), and a target no free agent fits is
    not tried again in the same pass (agents only leave `free` during it): a pass costs
    about (free agents + their candidate contacts x free agents), not the tenant's size."""
    pool = tenant.pool
    pool.refresh(tenant)
    if not pool.ready:
        return []
    gids, named = _offerable(tenant, tc, True)
    if not gids and not named:
        return []
    free = idle_order(tenant, config)
    if not free:
        return []
    unmatched: set[matching.Target] = set()

    def staffed(site: str) -> bool:
        return pool.sites[site] > 0 and site not in config.drained_sites

    out: list[Decision] = []

    def able(it: Interaction) -> list[Agent]:
        # The free agents the sieve says could take the contact's group, longest idle first
        # (the order of pool.ready, so of `free`).
        ids = sorted(
            (a for a in pool.takers(pool.listed[it.interaction_id]) if a in free),
            key=lambda a: (free[a].idle_since_ms, a),
        )
        return [free[a] for a in ids]

    # Group id -> has a free taker (the sieve's), until the next offer takes an agent.
    has_taker: dict[int, bool] = {}

    def taken(gid: int) -> bool:
        found = has_taker.get(gid)
        if found is None:
            found = has_taker[gid] = any(a in free for a in pool.takers(gid))
        return found

    for it, placement in _in_routing_order(tenant, tc, now_ms, gids, named):
        iid = it.interaction_id
        # a transfer's named agent need not be a taker
        if iid not in pool.named and not taken(pool.listed[iid]):
            continue
        queue = tc.queues.get(placement.queue_id) or QueueConfig(
            placement.queue_id, ring_timeout_ms=config.default_ring_timeout_ms
        )
        t = _target_of(it, placement, queue, tc, now_ms, staffed)
        agent = _pick_agent(it, placement, queue, t, free, able, unmatched, tenant, now_ms)
        if agent is None:
            continue
        del free[agent.agent_id]
        has_taker.clear()
        out.append(
            OfferContact(
                tenant_id=tenant_id,
                interaction_id=it.interaction_id,
                agent_id=agent.agent_id,
                queue_id=placement.queue_id,
                # its newest registered phone, else its static endpoint
                endpoint=tenant.registrations.endpoint(agent.agent_id, agent.endpoint, now_ms),
                ring_timeout_ms=queue.ring_timeout_ms,
                attempt=len(it.offers) + 1,
                channel=it.channel or "voice",
                causation_id=placement.event_id,
                routing_step=t.step,
            )
        )
        if not free or not pool.named and not any(taken(gid) for gid in gids):
            break  # nobody left for the rest
    return out


def _pick_agent(
    it: Interaction,
    placement: Placement,
    queue: QueueConfig,
    t: matching.Target,
    free: dict[str, Agent],
    able: Callable[[Interaction], list[Agent]],
    unmatched: set[matching.Target],
    tenant: TenantState,
    now_ms: int,
) -> Agent | None:
    """The agent for the contact. Its preferred agent (a transfer's target, skills aside;
    one named by self-service, or the customer's last agent, able and anywhere) only, until
    the preference's time-out; then that agent if free, else the strategy's pick among the
    free agents fitting the target. Never an agent who already wrapped up its part of this
    contact (one wrap-up per agent per contact)."""
    pref = matching.preference(
        it, placement, queue, queue.ring_timeout_ms, tenant.last_agents
    )
    if pref is not None:
        named = free.get(pref.agent_id)
        if named is not None and (pref.by_name or matching.eligible(named, t, any_site=True)):
            return named
        if now_ms < pref.until_ms:
            return None
    if t in unmatched:
        return None
    last = tenant.last_offered.get(queue.queue_id, (0, "", ""))[2]
    agent = matching.best_agent(
        able(it), t, now_ms, excluded=it.wrap_ups_started, last_offered=last
    )
    if agent is None and not it.wrap_ups_started:  # a fit for any other contact, if any
        unmatched.add(t)
    return agent


# --------------------------------------------------------------------------- realising


def state_change(
    tenant_id: str,
    agent: Agent,
    new_state: AgentState,
    now_ms: int,
    new_id: IdFactory,
    *,
    reason_code: str = "",
    interaction_id: str = "",
    causation_id: str = "",
) -> AgentStateChanged:
    return AgentStateChanged(
        event_id=new_id(),
        tenant_id=tenant_id,
        at_ms=now_ms,
        causation_id=causation_id,
        agent_id=agent.agent_id,
        state=new_state,
        previous_state=agent.state,
        reason_code=reason_code,
        previous_state_ms=max(0, now_ms - agent.since_ms) if agent.since_ms else 0,
        interaction_id=interaction_id,
    )


def realize(decision: Decision, state: RouterState, now_ms: int, new_id: IdFactory) -> list[Fact]:
    """The facts that carry out a decision, in publication order."""
    tenant = state.tenant(decision.tenant_id)
    tid = decision.tenant_id
    match decision:
        case QueueContact():
            q = decision.queue
            return [
                Queued(
                    event_id=new_id(), tenant_id=tid, at_ms=decision.queued_at_ms(now_ms),
                    causation_id=decision.causation_id,
                    interaction_id=decision.interaction_id,
                    queue_id=q.queue_id, priority=decision.queue_priority,
                    required_skills=decision.required_skills, language=decision.language,
                    channel=decision.channel,
                    service_level_threshold_s=q.service_level_threshold_s,
                    position=decision.position, estimated_wait_ms=decision.estimated_wait_ms,
                    callback_offered=treatment.offers_callback(
                        q, decision.channel, decision.estimated_wait_ms
                    ),
                )
            ]
        case PlaceTransferred():
            q = decision.queue
            return [
                Queued(
                    event_id=new_id(), tenant_id=tid, at_ms=decision.queued_at_ms(now_ms),
                    causation_id=decision.transfer_event_id,
                    interaction_id=decision.interaction_id,
                    queue_id=q.queue_id, priority=decision.queue_priority,
                    required_skills=decision.required_skills, language=decision.language,
                    channel=decision.channel,
                    service_level_threshold_s=q.service_level_threshold_s,
                    position=decision.position, estimated_wait_ms=decision.estimated_wait_ms,
                    callback_offered=treatment.offers_callback(
                        q, decision.channel, decision.estimated_wait_ms
                    ),
                )
            ]
        case OfferContact():
            offered = Offered(
                event_id=new_id(), tenant_id=tid, at_ms=now_ms,
                causation_id=decision.causation_id,
                interaction_id=decision.interaction_id,
                offer_id=new_id(), agent_id=decision.agent_id, queue_id=decision.queue_id,
                endpoint=decision.endpoint, ring_timeout_ms=decision.ring_timeout_ms,
                attempt=decision.attempt, channel=decision.channel,
                routing_step=decision.routing_step,
                callback_address=treatment.callback_address(tenant, decision.interaction_id),
            )
            reserved = state_change(
                tid, tenant.agent(decision.agent_id), AgentState.RESERVED, now_ms, new_id,
                interaction_id=decision.interaction_id, causation_id=offered.event_id,
            )
            return [offered, reserved]
        case ExpandTarget():
            return [
                RoutingExpanded(
                    event_id=new_id(), tenant_id=tid, at_ms=now_ms,
                    causation_id=decision.placement_event_id,
                    interaction_id=decision.interaction_id, queue_id=decision.queue.queue_id,
                    step=n, waited_ms=decision.waited_ms,
                    relaxed_levels_by=step.relax_levels_by, added_skills=step.add_skills,
                    added_sites=step.add_sites, added_queue_id=step.add_queue,
                )
                for n, step in enumerate(
                    decision.queue.expansions[decision.from_step:decision.to_step],
                    start=decision.from_step + 1,
                )
            ]
        case ReserveAgent():
            return [
                state_change(
                    tid, tenant.agent(decision.agent_id), AgentState.RESERVED, now_ms, new_id,
                    interaction_id=decision.interaction_id, causation_id=decision.offer_event_id,
                )
            ]
        case ExpireOffer():
            return [
                OfferTimedOut(
                    event_id=new_id(), tenant_id=tid, at_ms=now_ms,
                    interaction_id=decision.interaction_id, offer_id=decision.offer_id,
                    agent_id=decision.agent_id, queue_id=decision.queue_id,
                    rang_ms=decision.rang_ms,
                )
            ]
        case ChangeAgentState():
            return [
                state_change(
                    tid, tenant.agent(decision.agent_id), decision.state, now_ms, new_id,
                    reason_code=decision.reason_code, interaction_id=decision.interaction_id,
                    causation_id=decision.causation_id,
                )
            ]
        case StartWrapUp():
            facts: list[Fact] = []
            cause = decision.causation_id
            if decision.record_fact:
                started = WrapUpStarted(
                    event_id=new_id(), tenant_id=tid, at_ms=now_ms, causation_id=cause,
                    interaction_id=decision.interaction_id, agent_id=decision.agent_id,
                )
                facts.append(started)
                cause = started.event_id
            if decision.change_state:
                facts.append(
                    state_change(
                        tid, tenant.agent(decision.agent_id), AgentState.WRAP_UP, now_ms, new_id,
                        interaction_id=decision.interaction_id, causation_id=cause,
                    )
                )
            return facts
        case EndWrapUp():
            agent = tenant.agent(decision.agent_id)
            facts = []
            cause = decision.causation_id
            if decision.record_fact:
                ended = WrapUpEnded(
                    event_id=new_id(), tenant_id=tid, at_ms=now_ms, causation_id=cause,
                    interaction_id=decision.interaction_id, agent_id=decision.agent_id,
                    wrap_up_ms=max(0, now_ms - agent.since_ms), timed_out=decision.timed_out,
                    disposition=decision.disposition,
                )
                facts.append(ended)
                cause = ended.event_id
            facts.append(
                state_change(tid, agent, AgentState.READY, now_ms, new_id, causation_id=cause)
            )
            return facts
        case EndLostContact():
            if decision.connected_agent:
                return [
                    Completed(
                        event_id=new_id(), tenant_id=tid, at_ms=now_ms,
                        causation_id=decision.causation_id,
                        interaction_id=decision.interaction_id,
                        agent_id=decision.connected_agent, ended_by="system",
                        # Talk is counted to the ingress's last sign of life (or new start).
                        talk_ms=max(0, decision.lost_at_ms - decision.answered_at_ms),
                    )
                ]
            return [
                Abandoned(
                    event_id=new_id(), tenant_id=tid, at_ms=now_ms,
                    causation_id=decision.causation_id,
                    interaction_id=decision.interaction_id, stage=decision.stage,
                    waited_ms=max(0, now_ms - decision.arrived_at_ms), reason=INGRESS_LOST,
                )
            ]
        case treatment.FlowOut():
            return [*treatment.realize(decision, now_ms, new_id)]
    raise TypeError(f"unknown decision {decision!r}")  # pragma: no cover
