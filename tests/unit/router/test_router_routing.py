"""Routing decisions of the pure domain: skills, longest idle, queue order, re-offers,
abandon, wrap-up, agent commands."""

from __future__ import annotations

import pytest
from router_world import T, World

from hotline_router.domain.commands import CommandRefused
from hotline_router.domain.facts import (
    AgentStateChanged,
    Offered,
    OfferTimedOut,
    Queued,
    WrapUpEnded,
    WrapUpStarted,
)
from hotline_router.domain.model import MISSED_OFFER, AgentState, Skill, satisfies


@pytest.mark.parametrize(
    ("agent", "required", "ok"),
    [
        ((Skill("sales", 3),), (Skill("sales", 3),), True),
        ((Skill("sales", 4),), (Skill("sales", 3),), True),
        ((Skill("sales", 2),), (Skill("sales", 3),), False),
        ((Skill("sales", 5),), (Skill("sales", 1), Skill("german", 1)), False),
        ((Skill("sales", 1), Skill("german", 1)), (Skill("sales", 1), Skill("german", 1)), True),
        ((Skill("german", 0),), (Skill("german", 0),), True),  # level 0 = any level
        ((), (Skill("german", 0),), False),
        ((), (), True),
    ],
)
def test_skills_match_needs_every_skill_at_level(
    agent: tuple[Skill, ...], required: tuple[Skill, ...], ok: bool
) -> None:
    assert satisfies(agent, required) is ok


def test_arrival_is_queued_then_offered_to_a_matching_agent() -> None:
    w = World()
    w.ready("a4")  # support only: cannot take sales
    out = w.arrive("c1", entry="100")
    assert [type(f) for f in out] == [Queued]
    queued = out[0]
    assert isinstance(queued, Queued)
    assert (queued.queue_id, queued.required_skills) == ("sales", (Skill("sales", 1),))
    assert w.offers() == []

    w.ready("a2")
    offered = w.offers()
    assert [(o.interaction_id, o.agent_id, o.attempt, o.ring_timeout_ms) for o in offered] == [
        ("c1", "a2", 1, 10_000)
    ]
    assert offered[0].endpoint == "sip:a2@x"
    assert w.agent_state("a2") is AgentState.RESERVED
    reserved = w.agents[-1]
    assert isinstance(reserved, AgentStateChanged)
    assert reserved.causation_id == offered[0].event_id  # links reservation to offer
    assert reserved.previous_state is AgentState.READY


def test_vip_queue_requires_the_higher_level() -> None:
    w = World()
    w.ready("a2", "a3")  # sales 3 and sales 1: neither has sales 5
    w.arrive("c1", entry="200")
    assert w.offers() == []
    w.ready("a1")
    assert w.offered_to("c1") == ["a1"]


def test_announcement_entry_point_is_not_queued() -> None:
    w = World()
    w.ready("a1")
    assert w.arrive("c1", entry="999") == []
    assert w.arrive("c2", entry="unknown") == []


def test_longest_idle_ready_agent_gets_the_contact() -> None:
    w = World()
    w.ready("a2", "a1", "a3")  # ready in this order, 1 s apart
    w.arrive("c1")
    assert w.offered_to("c1") == ["a2"]
    w.now += 100
    w.arrive("c2")
    assert w.offered_to("c2") == ["a1"]


def test_agent_who_just_finished_goes_to_the_back() -> None:
    w = World()
    w.ready("a1", "a2")
    w.arrive("c1")
    assert w.offered_to("c1") == ["a1"]
    w.accept("c1")
    w.now += 1_000
    w.complete("c1")
    w.now += 1_000
    w.command("finish_wrap_up", "a1", "c1", None)
    assert w.agent_state("a1") is AgentState.READY
    w.now += 10
    w.arrive("c2")
    assert w.offered_to("c2") == ["a2"]  # a2 has been idle longer than a1


def test_queue_order_is_priority_then_queued_time() -> None:
    w = World()
    w.arrive("low-1", entry="100")
    w.now += 10
    w.arrive("low-2", entry="100")
    w.now += 10
    w.arrive("vip", entry="200")  # priority 5, queued last
    w.ready("a1")
    assert w.offered_to("vip") == ["a1"]
    w.ready("a2")
    assert w.offered_to("low-1") == ["a2"]
    assert w.offered_to("low-2") == []


def test_timed_out_offer_goes_to_the_next_agent_and_agent_misses() -> None:
    w = World()
    w.ready("a1", "a2")
    w.arrive("c1")
    assert w.offered_to("c1") == ["a1"]
    queued_at = w.now
    w.now += 10_000
    w.time_out("c1")
    a1 = w.state.tenants[T].agents["a1"]
    assert (a1.state, a1.reason_code) == (AgentState.NOT_READY, MISSED_OFFER)
    assert w.offered_to("c1") == ["a1", "a2"]
    assert [o.attempt for o in w.offers()] == [1, 2]
    # the contact kept its place: still the original queued time
    placement = w.interaction("c1").placement
    assert placement is not None and placement.queued_at_ms == queued_at


def test_rejected_offer_goes_to_the_next_agent() -> None:
    w = World()
    w.ready("a1", "a2")
    w.arrive("c1")
    w.reject("c1")
    assert w.agent_state("a1") is AgentState.NOT_READY
    assert w.offered_to("c1") == ["a1", "a2"]


def test_router_times_the_offer_out_itself_when_ingress_is_silent() -> None:
    w = World()  # ring 10 s + grace 2 s
    w.ready("a1", "a2")
    w.arrive("c1")
    assert w.tick(11_999) == []
    out = w.tick(1)
    timed_out = [f for f in out if isinstance(f, OfferTimedOut)]
    assert [(t.agent_id, t.rang_ms) for t in timed_out] == [("a1", 12_000)]
    assert w.agent_state("a1") is AgentState.NOT_READY
    assert w.offered_to("c1") == ["a1", "a2"]


def test_late_accept_after_router_timeout_wins_and_withdraws_the_reoffer() -> None:
    w = World()
    w.ready("a1", "a2")
    w.arrive("c1")
    first = w.open_offer("c1")
    w.tick(12_000)  # router times out a1, offers a2
    assert w.offered_to("c1") == ["a1", "a2"]
    # ingress says a1 answered after all
    from hotline_router.domain.facts import OfferAccepted

    w.ingress(
        OfferAccepted(
            event_id="late",
            tenant_id=T,
            at_ms=w.now,
            interaction_id="c1",
            offer_id=first.offer_id,
            agent_id="a1",
        )
    )
    assert w.agent_state("a1") is AgentState.BUSY
    assert w.agent_state("a2") is AgentState.READY
    assert w.interaction("c1").open_offer() is None


def test_abandon_frees_the_reserved_agent_who_keeps_their_idle_place() -> None:
    w = World()
    w.ready("a1", "a2")
    w.arrive("c1")
    assert w.agent_state("a1") is AgentState.RESERVED
    w.now += 500
    w.abandon("c1")
    assert w.agent_state("a1") is AgentState.READY
    assert w.interaction("c1").open_offer() is None
    w.now += 500
    w.arrive("c2")
    assert w.offered_to("c2") == ["a1"]  # a1 kept idle-since from before the reservation


def test_abandon_while_waiting_removes_the_contact() -> None:
    w = World()
    w.arrive("c1")
    w.abandon("c1")
    w.ready("a1")
    assert w.offers() == []


def test_accept_complete_wrap_up_and_finish() -> None:
    w = World()
    w.ready("a1")
    w.arrive("c1")
    w.accept("c1")
    assert w.agent_state("a1") is AgentState.BUSY
    w.now += 60_000
    out = w.complete("c1")
    assert [type(f) for f in out] == [WrapUpStarted, AgentStateChanged]
    assert w.agent_state("a1") is AgentState.WRAP_UP
    w.now += 4_000
    out = w.command("finish_wrap_up", "a1", "c1", None)
    ended = out[0]
    assert isinstance(ended, WrapUpEnded)
    assert (ended.wrap_up_ms, ended.timed_out) == (4_000, False)
    back = out[1]
    assert isinstance(back, AgentStateChanged)
    assert (back.state, back.previous_state, back.previous_state_ms) == (
        AgentState.READY,
        AgentState.WRAP_UP,
        4_000,
    )


def test_wrap_up_times_out() -> None:
    w = World()
    w.ready("a1")
    w.arrive("c1")
    w.accept("c1")
    w.complete("c1")
    assert w.tick(29_999) == []
    out = w.tick(1)
    ended = [f for f in out if isinstance(f, WrapUpEnded)]
    assert [(e.timed_out, e.wrap_up_ms) for e in ended] == [(True, 30_000)]
    assert w.agent_state("a1") is AgentState.READY


def test_agent_commands_validate_state() -> None:
    w = World()
    with pytest.raises(CommandRefused, match="LOGGED_OUT"):
        w.command("set_ready", "a1")
    facts = w.command("log_in", "a1")
    assert w.agent_state("a1") is AgentState.NOT_READY  # log in: not ready until SetReady
    assert w.command("log_in", "a1") == []  # idempotent
    assert facts
    w.command("set_ready", "a1")
    assert w.command("set_ready", "a1") == []
    w.arrive("c1")
    assert w.agent_state("a1") is AgentState.RESERVED
    with pytest.raises(CommandRefused, match="RESERVED"):
        w.command("set_not_ready", "a1", "break")
    w.accept("c1")
    for name, args in (("set_not_ready", ("break",)), ("log_out", ("eod",)), ("set_ready", ())):
        with pytest.raises(CommandRefused, match="BUSY"):
            w.command(name, "a1", *args)
    with pytest.raises(CommandRefused):
        w.command("finish_wrap_up", "a1", "c1", None)
    w.complete("c1")
    with pytest.raises(CommandRefused, match="not 'other'"):
        w.command("finish_wrap_up", "a1", "other", None)
    w.command("finish_wrap_up", "a1", "", None)
    w.command("set_not_ready", "a1", "break")
    w.command("log_out", "a1", "eod")
    assert w.agent_state("a1") is AgentState.LOGGED_OUT


def test_not_ready_agent_gets_nothing() -> None:
    w = World()
    w.ready("a1")
    w.command("set_not_ready", "a1", "lunch")
    w.arrive("c1")
    assert w.offers() == []
    w.command("set_ready", "a1")
    assert w.offered_to("c1") == ["a1"]


def test_one_agent_is_never_offered_two_contacts() -> None:
    w = World()
    w.arrive("c1")
    w.arrive("c2")
    w.ready("a1")
    offers = w.offers()
    assert len(offers) == 1
    assert isinstance(offers[0], Offered)
