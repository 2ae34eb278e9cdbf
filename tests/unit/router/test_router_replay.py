"""Event sourcing: the fold does not depend on the order topics are read in, a rebuilt
router reconciles instead of re-deciding, and no contact is ever offered twice at once."""

from __future__ import annotations

import random

import pytest
from router_world import T, World, interleave, rebuild

from hotline_router.domain.decisions import ReserveAgent, decide
from hotline_router.domain.facts import (
    AgentFact,
    AgentStateChanged,
    Fact,
    Offered,
    Queued,
)
from hotline_router.domain.fold import apply
from hotline_router.domain.model import AgentState, RouterState


def _busy_history() -> World:
    """A history touching every fold rule: offers, time-outs, rejections, router time-out,
    accept, complete, wrap-up (finished and timed out), abandon in queue and while offered."""
    w = World()
    w.ready("a1", "a2", "a3", "a4")
    w.arrive("c1")
    w.arrive("c2")
    w.arrive("c3", entry="300")
    w.now += 1_000
    w.time_out("c1")
    w.reject("c2")
    w.accept("c3")
    w.arrive("c4", entry="200")
    w.command("set_ready", "a1")
    w.arrive("c5")
    w.arrive("c6")
    w.tick(12_500)  # router-side time-outs of whatever still rings
    w.abandon("c6")
    for iid in ("c1", "c2", "c4", "c5"):
        if w.interaction(iid).open_offer() is not None:
            w.accept(iid)
            break
    agent = w.interaction("c3").connected_agent
    w.complete("c3")
    w.now += 2_000
    w.command("finish_wrap_up", agent, "c3", None)
    w.arrive("c7")
    w.arrive("c8")
    w.tick(40_000)
    return w


def _fold(facts: list[Fact]) -> RouterState:
    state = RouterState()
    for fact in facts:
        apply(state, fact)
    return state


def test_history_is_rich_enough() -> None:
    w = _busy_history()
    kinds = {type(f).__name__ for f in w.voice + w.routing + w.agents}
    assert {
        "Offered",
        "OfferTimedOut",
        "OfferRejected",
        "OfferAccepted",
        "Abandoned",
        "Completed",
        "WrapUpStarted",
        "WrapUpEnded",
        "AgentStateChanged",
    } <= kinds


@pytest.mark.parametrize("seed", range(25))
def test_fold_is_insensitive_to_the_order_across_topics(seed: int) -> None:
    w = _busy_history()
    in_order = _fold(w.voice + w.routing + w.agents)
    # the router's live state (facts applied in the order they happened) is the same too
    assert in_order == w.state
    shuffled = _fold(interleave([w.voice, w.routing, w.agents], random.Random(seed)))
    assert shuffled == in_order
    assert decide(shuffled, w.config, T, w.now) == decide(in_order, w.config, T, w.now)


@pytest.mark.parametrize("seed", range(10))
def test_interaction_facts_merge_in_any_order_at_all(seed: int) -> None:
    w = _busy_history()
    interaction_facts = [f for f in w.voice + w.routing]
    random.Random(seed).shuffle(interaction_facts)
    state = _fold(interaction_facts + w.agents)
    assert state == w.state


def test_rebuilt_router_does_not_re_decide() -> None:
    w = _busy_history()
    fresh = rebuild(w, interleave([w.voice, w.routing, w.agents], random.Random(7)))
    assert fresh.settle() == []  # nothing to repair, nothing new to decide


def test_restart_keeps_waiting_contacts_and_the_ringing_offer() -> None:
    w = World()
    w.ready("a1")
    w.command("log_in", "a2")
    w.arrive("c1")
    w.arrive("c2")
    w.arrive("c3")
    assert w.offered_to("c1") == ["a1"]
    fresh = rebuild(w, interleave([w.voice, w.routing, w.agents], random.Random(1)))
    assert fresh.settle() == []
    waiting = [iid for iid, it in fresh.state.tenants[T].interactions.items() if it.waiting]
    assert sorted(waiting) == ["c1", "c2", "c3"]
    fresh.command("set_ready", "a2")
    assert fresh.offered_to("c1") == ["a1"]  # not offered to a second agent
    assert fresh.offered_to("c2") == ["a2"]


def test_crash_between_offer_and_reservation_repairs_the_reservation() -> None:
    w = World()
    w.ready("a1", "a2")
    w.arrive("c1")
    reservation = w.agents[-1]
    assert isinstance(reservation, AgentStateChanged)
    assert reservation.state is AgentState.RESERVED
    survivors = [f for f in w.voice + w.routing + w.agents if f is not reservation]
    fresh = rebuild(w, survivors)
    assert fresh.agent_state("a1") is AgentState.READY
    decisions = decide(fresh.state, fresh.config, T, fresh.now)
    assert [type(d) for d in decisions] == [ReserveAgent]
    fresh.settle()
    assert fresh.agent_state("a1") is AgentState.RESERVED
    assert fresh.agent_state("a2") is AgentState.READY
    assert fresh.offered_to("c1") == ["a1"]


def test_crash_after_reservation_but_before_offer_releases_the_agent() -> None:
    w = World()
    w.ready("a1", "a2")
    w.arrive("c1")
    offered = next(f for f in w.routing if isinstance(f, Offered))
    fresh = rebuild(w, [f for f in w.voice + w.routing + w.agents if f is not offered])
    assert fresh.agent_state("a1") is AgentState.RESERVED
    fresh.settle()
    # a1 released (keeping its idle place) and the contact offered once, to a1 again
    assert fresh.offered_to("c1") == ["a1"]
    assert [o.attempt for o in fresh.offers()] == [1]
    assert fresh.agent_state("a1") is AgentState.RESERVED
    assert fresh.agent_state("a2") is AgentState.READY


def test_crash_before_queued_is_written_queues_on_reconcile() -> None:
    w = World()
    w.arrive("c1")
    queued = [f for f in w.routing if isinstance(f, Queued)]
    fresh = rebuild(w, [f for f in w.voice + w.routing + w.agents if f not in queued])
    out = fresh.settle()
    assert [type(f) for f in out] == [Queued]


def _open_offer_counts(w: World) -> tuple[dict[str, int], dict[str, int]]:
    per_contact: dict[str, int] = {}
    per_agent: dict[str, int] = {}
    for iid, it in w.state.tenants[T].interactions.items():
        if it.ended or it.connected_agent:
            continue
        for offer in it.offers.values():
            if offer.offer_id not in it.resolutions:
                per_contact[iid] = per_contact.get(iid, 0) + 1
                per_agent[offer.agent_id] = per_agent.get(offer.agent_id, 0) + 1
    return per_contact, per_agent


def _check_invariants(w: World, arrived: set[str]) -> None:
    per_contact, per_agent = _open_offer_counts(w)
    assert all(n == 1 for n in per_contact.values()), per_contact  # never offered twice
    assert all(n == 1 for n in per_agent.values()), per_agent  # one ringing offer per agent
    tenant = w.state.tenants[T]
    for agent_id in per_agent:
        agent = tenant.agents[agent_id]
        assert agent.state is AgentState.RESERVED, (agent_id, agent)
    for agent in tenant.agents.values():
        if agent.state is AgentState.RESERVED:
            assert per_agent.get(agent.agent_id) == 1, agent
    # no waiting contact is lost: every arrived, unfinished contact is queued
    for iid in arrived:
        if iid in tenant.finished:
            continue
        it = tenant.interactions[iid]
        if not it.ended and not it.connected_agent:
            assert it.placement is not None, iid


@pytest.mark.parametrize("seed", range(40))
def test_random_traffic_with_crashes_keeps_the_invariants(seed: int) -> None:
    rng = random.Random(seed)
    w = World()
    w.ready("a1", "a2", "a3", "a4")
    arrived: set[str] = set()
    for step in range(150):
        w.now += rng.randint(0, 3_000)
        tenant = w.state.tenants[T]
        ringing = [iid for iid, it in tenant.interactions.items() if it.open_offer()]
        talking = [
            iid for iid, it in tenant.interactions.items() if it.connected_agent and not it.ended
        ]
        wrapping = [a for a in tenant.agents.values() if a.state is AgentState.WRAP_UP]
        missed = [a for a in tenant.agents.values() if a.state is AgentState.NOT_READY]
        waiting = [iid for iid, it in tenant.interactions.items() if it.waiting]
        action = rng.random()
        if action < 0.25:
            iid = f"c{step}"
            arrived.add(iid)
            w.arrive(iid, entry=rng.choice(["100", "100", "200", "300"]))
        elif action < 0.5 and ringing:
            rng.choice([w.accept, w.accept, w.reject, w.time_out])(rng.choice(ringing))
        elif action < 0.6 and waiting:
            w.abandon(rng.choice(waiting))
        elif action < 0.7 and talking:
            w.complete(rng.choice(talking))
        elif action < 0.8 and wrapping:
            agent = rng.choice(wrapping)
            w.command("finish_wrap_up", agent.agent_id, agent.interaction_id, None)
        elif action < 0.9 and missed:
            w.command("set_ready", rng.choice(missed).agent_id)
        elif action < 0.95:
            # SIGKILL: the router's last writes may be lost, a suffix of each of its topics
            lost = set(rng.sample(w.last_output, rng.randint(0, len(w.last_output))))
            routing = [f for f in w.routing if f not in lost or f is not w.routing[-1]]
            agents = [f for f in w.agents if f not in lost or f is not w.agents[-1]]
            order = interleave([w.voice, routing, agents], rng)
            w = rebuild(w, order)
            w.settle()  # go live: reconcile
        else:
            w.tick(rng.randint(0, 15_000))
        _check_invariants(w, arrived)
    # every agent fact the router wrote followed the previous state it recorded
    prev: dict[str, AgentState] = {}
    for fact in w.agents:
        if isinstance(fact, AgentStateChanged):
            assert fact.previous_state is prev.get(fact.agent_id, AgentState.LOGGED_OUT)
            prev[fact.agent_id] = fact.state
        assert isinstance(fact, AgentFact)
