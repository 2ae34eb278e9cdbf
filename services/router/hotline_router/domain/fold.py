"""The fold: `apply(state, fact)` is the only way router state changes.

Replay reads three topics whose relative order is not preserved, so interaction facts merge
commutatively (sets keyed by offer id, earliest time wins, terminal facts are sticky), while
agent facts come from one in-order topic (the router's own) and are applied in sequence.
"""

from __future__ import annotations

from hotline_router.domain import treatment
from hotline_router.domain.facts import (
    Abandoned,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentStateChanged,
    Arrived,
    CallbackRequested,
    Completed,
    ContactRegistered,
    ContactUnregistered,
    Fact,
    FlowedOut,
    Held,
    IngressFact,
    IngressHeartbeat,
    IngressStarted,
    InteractionFact,
    OfferAccepted,
    Offered,
    OfferRejected,
    OfferTimedOut,
    Queued,
    Resumed,
    RoutingExpanded,
    SelfServiceFinished,
    Transferred,
    WrapUpEnded,
    WrapUpStarted,
)
from hotline_router.domain.model import (
    AgentState,
    IngressLiveness,
    Interaction,
    Offer,
    OfferOutcome,
    Placement,
    Resolution,
    RouterState,
    SelfService,
    TenantState,
    Transfer,
)
from hotline_router.domain.registrations import RegisteredContact


def apply(state: RouterState, fact: Fact) -> None:
    tenant = state.tenant(fact.tenant_id)
    if isinstance(fact, InteractionFact):
        _apply_interaction(tenant, fact)
    elif isinstance(fact, AgentLoggedIn | AgentLoggedOut | AgentStateChanged):
        _apply_agent(tenant, fact)
    elif isinstance(fact, IngressFact):
        _apply_ingress(tenant, fact)
    elif isinstance(fact, ContactRegistered | ContactUnregistered):
        _apply_registration(tenant, fact)


def _apply_registration(
    tenant: TenantState, fact: ContactRegistered | ContactUnregistered
) -> None:
    tenant.registrations.apply(
        fact.agent_id,
        fact.contact_uri,
        RegisteredContact(
            reachable_uri=fact.reachable_uri if isinstance(fact, ContactRegistered) else "",
            expires_at_ms=fact.expires_at_ms if isinstance(fact, ContactRegistered) else 0,
            at_ms=fact.at_ms,
            event_id=fact.event_id,
        ),
    )


def _apply_ingress(tenant: TenantState, fact: IngressFact) -> None:
    """Latest start and latest sign of life per instance: max-merges, order-insensitive."""
    rec = tenant.ingresses.get(fact.producer)
    if rec is None:
        rec = tenant.ingresses[fact.producer] = IngressLiveness(fact.producer)
    rec.last_seen_ms = max(rec.last_seen_ms, fact.at_ms)
    started_at_ms = rec.started_at_ms
    if isinstance(fact, IngressStarted):
        if (fact.at_ms, fact.event_id) > (rec.started_at_ms, rec.started_event_id):
            rec.started_at_ms = fact.at_ms
            rec.started_event_id = fact.event_id
    elif isinstance(fact, IngressHeartbeat) and fact.started_at_ms > rec.started_at_ms:
        # Its `started` is not (or no longer: short retention) in the log.
        rec.started_at_ms = fact.started_at_ms
        rec.started_event_id = ""
    if rec.started_at_ms != started_at_ms:  # its contacts may now be lost (a heartbeat alone
        tenant.index.restarted.add(fact.producer)  # only shortens silence: nothing to do)


_OUTCOMES = {
    OfferAccepted: OfferOutcome.ACCEPTED,
    OfferRejected: OfferOutcome.REJECTED,
    OfferTimedOut: OfferOutcome.TIMED_OUT,
}
_NAMING_AGENT = (Offered, OfferAccepted, OfferRejected, OfferTimedOut)


def _earliest(current: int | None, at_ms: int) -> int:
    return at_ms if current is None else min(current, at_ms)


def _apply_interaction(tenant: TenantState, fact: InteractionFact) -> None:
    iid = fact.interaction_id
    if iid in tenant.finished:
        return
    it = tenant.interactions.get(iid)
    if it is None:
        it = tenant.interactions[iid] = Interaction(iid)
    owner = it.owner
    match fact:
        case Arrived():
            if it.arrived_at_ms is None or fact.at_ms < it.arrived_at_ms:
                it.arrived_at_ms = fact.at_ms
                it.arrived_event_id = fact.event_id
                it.owner = fact.producer
                it.entry_point_id = fact.entry_point_id
                it.language = fact.language
                it.channel = fact.channel
                it.customer = fact.customer
        case SelfServiceFinished():
            it.self_service = SelfService(
                fact.outcome, fact.queue_id, fact.language, fact.required_skills, fact.priority,
                fact.preferred_agent_id,
            )
        case Queued():
            placement = Placement(
                queue_id=fact.queue_id,
                priority=fact.priority,
                required_skills=fact.required_skills,
                language=fact.language,
                queued_at_ms=fact.at_ms,
                service_level_threshold_s=fact.service_level_threshold_s,
                event_id=fact.event_id,
                estimated_wait_ms=fact.estimated_wait_ms,
            )
            # The first placement (a transfer's comes later), and each placement by its cause.
            if it.placement is None or fact.at_ms < it.placement.queued_at_ms:
                it.placement = placement
            by_cause = it.placements.get(fact.causation_id)
            if by_cause is None or fact.at_ms < by_cause.queued_at_ms:
                it.placements[fact.causation_id] = placement
        case Offered():
            it.offers.setdefault(
                fact.offer_id,
                Offer(
                    offer_id=fact.offer_id,
                    event_id=fact.event_id,
                    agent_id=fact.agent_id,
                    queue_id=fact.queue_id,
                    issued_at_ms=fact.at_ms,
                    ring_timeout_ms=fact.ring_timeout_ms,
                    attempt=fact.attempt,
                    endpoint=fact.endpoint,
                    placement_event_id=fact.causation_id,
                    routing_step=fact.routing_step,
                ),
            )
            newest = (fact.at_ms, fact.event_id, fact.agent_id)
            if newest > tenant.last_offered.get(fact.queue_id, (0, "", "")):
                tenant.last_offered[fact.queue_id] = newest
        case RoutingExpanded():
            step = it.routing_steps.get(fact.causation_id, 0)
            it.routing_steps[fact.causation_id] = max(step, fact.step)
        case OfferAccepted() | OfferRejected() | OfferTimedOut():
            new = Resolution(_OUTCOMES[type(fact)], fact.agent_id, fact.at_ms, fact.event_id)
            old = it.resolutions.get(fact.offer_id)
            if old is None or new.rank() > old.rank():
                it.resolutions[fact.offer_id] = new
        case Abandoned():
            if it.abandoned_at_ms is None or fact.at_ms < it.abandoned_at_ms:
                it.abandoned_event_id = fact.event_id
            it.abandoned_at_ms = _earliest(it.abandoned_at_ms, fact.at_ms)
        case Completed():
            if it.completed_at_ms is None or fact.at_ms < it.completed_at_ms:
                it.completed_event_id = fact.event_id
                it.completed_by = fact.agent_id
                it.talk_ms = fact.talk_ms
            it.completed_at_ms = _earliest(it.completed_at_ms, fact.at_ms)
        case Held() | Resumed():
            it.holds.setdefault(fact.event_id, (fact.at_ms, isinstance(fact, Held)))
        case Transferred():
            it.transfers.setdefault(
                fact.event_id,
                Transfer(
                    event_id=fact.event_id, at_ms=fact.at_ms, from_agent_id=fact.from_agent_id,
                    to_queue_id=fact.to_queue_id, to_agent_id=fact.to_agent_id,
                    to_address=fact.to_address,
                ),
            )
        case FlowedOut() | CallbackRequested():
            treatment.fold(it, fact)
        case WrapUpStarted():
            it.wrap_ups_started.setdefault(fact.agent_id, fact.event_id)
        case WrapUpEnded():
            it.wrap_ups_ended.setdefault(fact.agent_id, fact.event_id)
            it.wrap_up_ms.setdefault(fact.agent_id, fact.wrap_up_ms)
        case _:
            pass
    it.changed()
    index = tenant.index
    if it.owner != owner:
        index.owner_changed(iid, owner, it.owner)
    # The agent an offer or its answer names: its state changes matter to this contact.
    named = fact.agent_id if isinstance(fact, _NAMING_AGENT) else ""
    index.interaction_changed(iid, named)
    _record_handled(tenant, it)


#: Customers whose last agent a tenant remembers ("prefer the last agent"): the newest by
#: completion; pruned in batches (10 % over), so memory stays bounded.
LAST_AGENTS_KEPT = 200_000


def _keep_newest(last_agents: dict[str, tuple[int, str]]) -> None:
    newest = sorted(last_agents.items(), key=lambda kv: kv[1], reverse=True)[:LAST_AGENTS_KEPT]
    last_agents.clear()
    last_agents.update(newest)


def _record_handled(tenant: TenantState, it: Interaction) -> None:
    """Once a contact is fully handled (completed, its agent's answer and wrap-up known),
    its talk + wrap-up joins the served queue's handle times (for the estimated wait). Live,
    that is before compaction drops it: the wrap-up ends before the agent leaves it."""
    agent_id = it.completed_by
    if it.customer and agent_id and it.completed_at_ms is not None:
        last = (it.completed_at_ms, agent_id)
        if last > tenant.last_agents.get(it.customer, (0, "")):
            tenant.last_agents[it.customer] = last
            if len(tenant.last_agents) > LAST_AGENTS_KEPT * 11 // 10:
                _keep_newest(tenant.last_agents)
    if it.completed_at_ms is None or agent_id not in it.wrap_up_ms:
        return
    answered = it.answered_offer(agent_id)
    if answered is None:
        return
    tenant.handle_times.record(
        answered.queue_id, it.interaction_id, it.completed_at_ms,
        it.talk_ms + it.wrap_up_ms[agent_id],
    )


def _apply_agent(
    tenant: TenantState, fact: AgentLoggedIn | AgentLoggedOut | AgentStateChanged
) -> None:
    agent = tenant.agent(fact.agent_id)
    held = agent.interaction_id
    was_out = agent.state is AgentState.LOGGED_OUT
    match fact:
        case AgentLoggedIn():
            agent.skills = fact.skills
            agent.endpoint = fact.endpoint
            agent.site_id = fact.site_id
            agent.languages = fact.languages
            agent.logged_in_at_ms = fact.at_ms
            agent.occupied_ms = 0
        case AgentLoggedOut():
            pass  # the state change to LOGGED_OUT travels as its own fact
        case AgentStateChanged():
            if fact.state is AgentState.READY and not (
                # A reservation that ended without work (abandon, lost offer) keeps the agent's
                # place in the longest-idle order.
                agent.state is AgentState.RESERVED and agent.idle_since_ms
            ):
                agent.idle_since_ms = fact.at_ms
            if agent.state in (AgentState.BUSY, AgentState.WRAP_UP):
                agent.occupied_ms += max(0, fact.at_ms - agent.since_ms)
            agent.state = fact.state
            agent.since_ms = fact.at_ms
            agent.reason_code = fact.reason_code
            agent.interaction_id = fact.interaction_id
            agent.offer_event_id = (
                fact.causation_id if fact.state is AgentState.RESERVED else ""
            )
    tenant.index.agent_changed(agent.agent_id, held, agent.interaction_id)
    if was_out != (agent.state is AgentState.LOGGED_OUT):
        tenant.index.roster = True  # treatment's no-agents rule


def compact(tenant: TenantState) -> int:
    """Drop ended interactions no agent refers to any more; remember their ids. Live only:
    during replay a later-read fact may still be about them. Looks only at interactions a
    fact changed or an agent left since the last call (the index's marks)."""
    index = tenant.index
    candidates, index.compact = index.compact, set()
    done = 0
    for iid in candidates:
        it = tenant.interactions.get(iid)
        if it is None or not it.ended or index.holders.get(iid):
            continue  # marked again when it ends or its last agent leaves it
        del tenant.interactions[iid]
        index.forget(
            iid, it.owner,
            {o.agent_id for o in it.offers.values()}
            | {r.agent_id for r in it.resolutions.values()},
        )
        tenant.finished.add(iid)
        done += 1
    return done
