"""Hold, resume and blind transfer (issue 9 item 5), in the pure domain: the transferring
agent wraps up once, the contact is placed again (queue, agent, or out of routing), a later
`completed` releases whoever holds it then, and a replay in any topic order rebuilds the same
state and decides nothing new."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from router_world import T, World, interleave, rebuild

from hotline.interaction.v1.events_pb2 import InteractionEvent, InteractionTransferred
from hotline_platform import codec, topics
from hotline_platform.envelope import new_envelope
from hotline_router.adapters.mapping import to_fact
from hotline_router.domain.decisions import decide
from hotline_router.domain.facts import (
    AgentStateChanged,
    Completed,
    Held,
    Offered,
    Queued,
    Resumed,
    Transferred,
    WrapUpStarted,
)
from hotline_router.domain.model import OFFER_WITHDRAWN, AgentState
from hotline_router.domain.views import queue_snapshot


def _hold(w: World, iid: str, agent: str) -> None:
    w.ingress(Held(**w._base(iid), agent_id=agent))


def _resume(w: World, iid: str, agent: str, held_ms: int) -> None:
    w.ingress(Resumed(**w._base(iid), agent_id=agent, held_ms=held_ms))


def _transfer(
    w: World, iid: str, to_queue_id: str = "", to_agent_id: str = "", to_address: str = ""
) -> Transferred:
    fact = Transferred(
        **w._base(iid), kind="blind", from_agent_id=w.interaction(iid).connected_agent,
        to_queue_id=to_queue_id, to_agent_id=to_agent_id, to_address=to_address,
    )
    w.ingress(fact)
    return fact


def _connected(w: World, iid: str, entry: str = "100") -> str:
    w.arrive(iid, entry=entry)
    w.accept(iid)
    return w.interaction(iid).connected_agent


def _wrap_ups(w: World, agent: str) -> list[WrapUpStarted]:
    return [f for f in w.routing if isinstance(f, WrapUpStarted) and f.agent_id == agent]


def _queued(w: World, iid: str) -> list[Queued]:
    return [f for f in w.routing if isinstance(f, Queued) and f.interaction_id == iid]


def test_hold_and_resume_are_folded_and_change_no_routing() -> None:
    w = World()
    w.ready("a1")
    _connected(w, "c1")
    w.now += 5_000
    _hold(w, "c1", "a1")
    assert w.interaction("c1").on_hold
    assert w.last_output == []  # nothing to decide
    w.now += 7_000
    _resume(w, "c1", "a1", 7_000)
    assert not w.interaction("c1").on_hold
    assert w.agent_state("a1") is AgentState.BUSY
    assert w.last_output == []


def test_transfer_to_a_queue_wraps_the_agent_up_and_queues_the_contact_there() -> None:
    w = World()
    w.ready("a1", "a4")  # a1 sales, a4 support
    assert _connected(w, "c1") == "a1"
    w.now += 30_000
    transfer = _transfer(w, "c1", to_queue_id="support")

    # a1's part is over: wrap-up, caused by the transfer.
    assert w.agent_state("a1") is AgentState.WRAP_UP
    [started] = _wrap_ups(w, "a1")
    assert started.causation_id == transfer.event_id
    # The contact waits in support (its priority and skills), caused by the transfer ...
    first, again = _queued(w, "c1")
    assert (first.queue_id, again.queue_id) == ("sales", "support")
    assert again.causation_id == transfer.event_id and again.at_ms == transfer.at_ms
    assert again.priority == 0 and [s.name for s in again.required_skills] == ["support"]
    # ... and is offered to the support agent, from that placement.
    offer = w.open_offer("c1")
    assert (offer.agent_id, offer.queue_id, offer.causation_id) == ("a4", "support", again.event_id)
    assert w.interaction("c1").connected_agent == ""

    w.accept("c1")
    assert w.interaction("c1").connected_agent == "a4"
    assert w.agent_state("a4") is AgentState.BUSY
    w.now += 2_000
    w.command("finish_wrap_up", "a1", "c1", None)  # a1 done while a4 still talks
    assert w.agent_state("a1") is AgentState.READY

    w.now += 60_000
    w.ingress(Completed(**w._base("c1"), agent_id="a4", talk_ms=92_000))
    assert w.agent_state("a4") is AgentState.WRAP_UP
    assert w.agent_state("a1") is AgentState.READY  # not wrapped up twice
    assert len(_wrap_ups(w, "a1")) == 1 and len(_wrap_ups(w, "a4")) == 1


def test_the_contact_is_not_offered_back_to_the_agent_who_transferred_it() -> None:
    w = World()
    w.ready("a3")  # sales and support
    _connected(w, "c1")
    _transfer(w, "c1", to_queue_id="support")
    w.command("finish_wrap_up", "a3", "c1", None)
    assert w.agent_state("a3") is AgentState.READY
    assert w.interaction("c1").open_offer() is None  # waits for another agent
    w.ready("a4")
    assert w.open_offer("c1").agent_id == "a4"


def test_wrap_up_time_out_of_the_transferring_agent_is_its_queue_s() -> None:
    w = World()
    queues = w.config.tenants[T].queues
    assert isinstance(queues, dict)
    queues["support"] = replace(queues["support"], wrap_up_timeout_ms=90_000)
    w.ready("a1", "a4")
    _connected(w, "c1")  # sales: wrap-up time-out 30 s
    _transfer(w, "c1", to_queue_id="support")
    w.accept("c1")
    w.tick(30_001)
    assert w.agent_state("a1") is AgentState.READY  # sales' 30 s, not support's 90 s


def test_transfer_to_an_agent_waits_for_that_agent_then_falls_back() -> None:
    w = World()
    w.ready("a1", "a2")
    _connected(w, "c1")  # a1 (longest idle)
    _transfer(w, "c1", to_agent_id="a4")  # a4: no sales skill, logged out
    [_, again] = _queued(w, "c1")
    assert again.queue_id == "sales"  # the queue a1 served
    assert w.interaction("c1").open_offer() is None  # a2 is READY but a4 is preferred
    w.ready("a4", gap_ms=0)
    offer = w.open_offer("c1")
    assert offer.agent_id == "a4"  # chosen by name: skills aside
    w.reject("c1")  # a4 declines: NOT_READY missed_offer
    w.tick(1_000)
    assert w.interaction("c1").open_offer() is None  # still a4's ring time-out
    w.tick(10_000)  # past the queue's ring time-out from the placement: anyone able
    assert w.open_offer("c1").agent_id == "a2"


def test_transfer_to_a_ready_agent_is_offered_at_once() -> None:
    w = World()
    w.ready("a1", "a2", "a3")
    _connected(w, "c1")
    _transfer(w, "c1", to_agent_id="a3")  # a2 is longer idle, a3 was asked for
    assert w.open_offer("c1").agent_id == "a3"


def test_transfer_to_an_external_address_leaves_routing() -> None:
    w = World()
    w.ready("a1", "a2")
    _connected(w, "c1")
    _transfer(w, "c1", to_address="sip:+3512100@carrier")
    it = w.interaction("c1")
    assert w.agent_state("a1") is AgentState.WRAP_UP
    assert len(_queued(w, "c1")) == 1 and it.transferred_out
    assert not it.waiting and it.open_offer() is None
    sales = queue_snapshot(w.state.tenants[T], w.config.tenants[T].queues["sales"], w.now)
    assert sales.waiting == 0
    w.command("finish_wrap_up", "a1", "c1", None)
    w.now += 120_000
    out = w.ingress(Completed(**w._base("c1"), agent_id="a1", ended_by="customer"))
    assert out == [] and w.agent_state("a1") is AgentState.READY
    assert w.offered_to("c1") == ["a1"]


@pytest.mark.parametrize(
    "target", [{"to_queue_id": "no-such-queue"}, {"to_agent_id": "no-such-agent"}]
)
def test_transfer_to_an_unknown_target_routes_nowhere(target: dict[str, str]) -> None:
    w = World()
    w.ready("a1", "a2")
    _connected(w, "c1")
    _transfer(w, "c1", **target)
    assert w.agent_state("a1") is AgentState.WRAP_UP
    assert len(_queued(w, "c1")) == 1 and not w.interaction("c1").waiting
    assert w.offered_to("c1") == ["a1"]
    w.ingress(Completed(**w._base("c1"), agent_id="a1"))
    assert len(_wrap_ups(w, "a1")) == 1


def test_a_second_transfer_starts_a_third_leg() -> None:
    w = World()
    w.ready("a1", "a3", "a4")
    _connected(w, "c1")  # a1
    _transfer(w, "c1", to_queue_id="support")
    w.accept("c1")
    second = w.interaction("c1").connected_agent
    _transfer(w, "c1", to_queue_id="sales")
    assert w.agent_state(second) is AgentState.WRAP_UP
    assert [q.queue_id for q in _queued(w, "c1")] == ["sales", "support", "sales"]
    assert w.interaction("c1").open_offer() is None  # a1 and a3 handled it, a4 cannot
    w.ready("a2")
    third = w.open_offer("c1").agent_id
    assert third == "a2"
    w.accept("c1")
    w.ingress(Completed(**w._base("c1"), agent_id=third))
    assert [len(_wrap_ups(w, a)) for a in ("a1", second, third)] == [1, 1, 1]


def test_lost_ingress_of_a_call_transferred_out_completes_it() -> None:
    w = World()
    w.ingress_started("ingress-sip/s0")
    w.ready("a1")
    w.arrive("c1", producer="ingress-sip/s0")
    w.accept("c1")
    _transfer(w, "c1", to_address="sip:+3512100@carrier")
    w.now += 1_000
    out = w.ingress_started("ingress-sip/s0")  # the instance restarted: the call is gone
    [completed] = [f for f in out if isinstance(f, Completed)]
    assert (completed.agent_id, completed.ended_by) == ("a1", "system")
    assert len(_wrap_ups(w, "a1")) == 1


def _transfer_history() -> World:
    w = World()
    w.ready("a1", "a2", "a3", "a4")
    _connected(w, "c1")  # to support, answered, completed
    _connected(w, "c2")  # to an agent, still ringing there
    _connected(w, "c3", entry="300")  # out of routing
    w.now += 10_000
    _hold(w, "c1", w.interaction("c1").connected_agent)
    w.now += 3_000
    _resume(w, "c1", w.interaction("c1").connected_agent, 3_000)
    _transfer(w, "c1", to_queue_id="support")
    _transfer(w, "c3", to_address="sip:ext@x")
    for aid in ("a1", "a2", "a3", "a4"):
        if w.agent_state(aid) is AgentState.WRAP_UP:
            w.command("finish_wrap_up", aid, "", None)
    if w.interaction("c1").open_offer() is not None:
        w.accept("c1")
    _transfer(w, "c2", to_agent_id="a1")
    return w


@pytest.mark.parametrize("seed", range(15))
def test_replay_in_any_order_rebuilds_the_same_state_and_decides_nothing(seed: int) -> None:
    w = _transfer_history()
    assert any(isinstance(f, Offered) for f in w.routing)
    order = interleave([w.voice, w.routing, w.agents, w.liveness], random.Random(seed))
    fresh = rebuild(w, order)
    assert decide(fresh.state, fresh.config, T, fresh.now) == []
    for iid in ("c1", "c2", "c3"):
        a, b = w.interaction(iid), fresh.interaction(iid)
        assert (a.connected_agent, a.waiting, a.current_placement, a.open_offer()) == (
            b.connected_agent, b.waiting, b.current_placement, b.open_offer()
        )
    assert {k: (v.state, v.interaction_id) for k, v in w.state.tenants[T].agents.items()} == {
        k: (v.state, v.interaction_id) for k, v in fresh.state.tenants[T].agents.items()
    }


def test_ingress_hold_resume_and_transfer_events_map_to_facts() -> None:
    def event(**body: object) -> InteractionEvent:
        env = new_envelope(
            tenant_id=T, producer="ingress-sip/s0", interaction_id="c1", occurred_at_ms=5_000,
        )
        ev = InteractionEvent(envelope=env, **body)  # type: ignore[arg-type]
        decoded = codec.decode(topics.VOICE_INTERACTIONS, codec.encode(ev), T.encode())
        assert isinstance(decoded, InteractionEvent)
        return decoded

    held = to_fact(event(held={"agent_id": "a1"}))
    assert isinstance(held, Held) and (held.agent_id, held.at_ms) == ("a1", 5_000)
    resumed = to_fact(event(resumed={"agent_id": "a1", "held_ms": 4_200}))
    assert isinstance(resumed, Resumed) and resumed.held_ms == 4_200
    ev = event(
        transferred={
            "kind": InteractionTransferred.KIND_BLIND, "from_agent_id": "a1",
            "to_queue_id": "support",
        }
    )
    transferred = to_fact(ev)
    assert isinstance(transferred, Transferred)
    assert (transferred.kind, transferred.from_agent_id, transferred.to_queue_id) == (
        "blind", "a1", "support"
    )
    assert transferred.event_id == ev.envelope.event_id


def test_an_offer_of_a_superseded_leg_frees_its_agent() -> None:
    """Two transfers of one call (an ingress retry with a new event id): the agent reserved
    for the first leg's offer is released, and the contact rings once, in the last leg."""
    w = World()
    w.ready("a1", "a3", "a4")
    _connected(w, "c1")  # a1
    _transfer(w, "c1", to_queue_id="support")
    assert w.open_offer("c1").agent_id == "a3"  # longest idle with support
    w.now += 1
    second = w.ingress(
        Transferred(**w._base("c1"), kind="blind", from_agent_id="a1", to_queue_id="support")
    )
    withdrawn = [
        f for f in second
        if isinstance(f, AgentStateChanged) and f.agent_id == "a3" and f.reason_code
    ]
    assert [(f.state, f.reason_code) for f in withdrawn] == [
        (AgentState.READY, OFFER_WITHDRAWN)
    ]
    last = _queued(w, "c1")[-1]
    offer = w.open_offer("c1")  # a3 again: it kept its idle time
    assert (offer.agent_id, offer.causation_id) == ("a3", last.event_id)
    assert w.offered_to("c1") == ["a1", "a3", "a3"] and len(_wrap_ups(w, "a1")) == 1
