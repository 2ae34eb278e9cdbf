"""Position and estimated wait stated in `queued` (issue 9 item 4, issue 16 item 10): position
in routing order (priority, then queued time); EWT = 0 when enough able agents are READY, else
(position - able READY) x the queue's mean handle time over its last 50 handled contacts /
able agents logged in; a replay in any topic order gives the same figures."""

from __future__ import annotations

import random

import pytest
from router_world import T, World, interleave, rebuild

from hotline_platform import codec, topics
from hotline_router.adapters.mapping import to_event, to_fact
from hotline_router.domain.facts import Completed, Queued, SelfServiceFinished, Transferred
from hotline_router.domain.model import DEFAULT_HANDLE_MS, HANDLE_WINDOW

DEFAULT = DEFAULT_HANDLE_MS


def _queued(w: World, iid: str) -> Queued:
    found = [f for f in w.routing if isinstance(f, Queued) and f.interaction_id == iid]
    assert len(found) == 1, found
    return found[0]


def _figures(w: World, iid: str) -> tuple[int, int]:
    q = _queued(w, iid)
    return q.position, q.estimated_wait_ms


def _routed(w: World, iid: str, priority: int, queue_id: str = "sales") -> None:
    """An IVR contact that self-service routes to `queue_id` with `priority`."""
    w.arrive(iid, entry="999")
    w.ingress(
        SelfServiceFinished(
            event_id=w.new_id(), tenant_id=T, at_ms=w.now, interaction_id=iid,
            outcome="route_to_queue", queue_id=queue_id, priority=priority,
        )
    )


def _handle(w: World, iid: str, talk_ms: int, wrap_up_ms: int, entry: str = "100") -> None:
    """A contact answered, talked for `talk_ms`, wrapped up for `wrap_up_ms`."""
    w.arrive(iid, entry=entry)
    w.accept(iid)
    agent = w.interaction(iid).connected_agent
    w.now += talk_ms
    w.ingress(Completed(**w._base(iid), agent_id=agent, talk_ms=talk_ms))
    w.now += wrap_up_ms
    w.command("finish_wrap_up", agent, iid, None)


def test_position_counts_the_waiting_contacts_ahead_by_priority_then_time() -> None:
    w = World()  # nobody logged in: nothing is offered, everyone waits
    w.arrive("c1")
    w.now += 1_000
    w.arrive("c2")
    w.now += 1_000
    _routed(w, "c3", priority=3)  # ahead of c1 and c2
    w.now += 1_000
    _routed(w, "c4", priority=3)  # behind c3 (same priority, later), ahead of c1, c2
    w.now += 1_000
    w.arrive("c5")
    w.arrive("c6", entry="300")  # another queue: its own line
    assert [_figures(w, i)[0] for i in ("c1", "c2", "c3", "c4", "c5", "c6")] == [
        1, 2, 1, 2, 5, 1,
    ]
    # A lower priority than everyone waiting: last.
    _routed(w, "c7", priority=-1)
    assert _figures(w, "c7")[0] == 6


def test_a_contact_ringing_an_agent_is_still_ahead_and_a_connected_one_is_not() -> None:
    w = World()
    w.ready("a2")
    w.arrive("c1")
    assert w.offered_to("c1") == ["a2"]
    w.arrive("c2")
    assert _figures(w, "c2")[0] == 2  # c1 rings a2: it may come back
    w.accept("c1")
    w.arrive("c3")
    assert _figures(w, "c3")[0] == 2  # c1 is talking: only c2 is ahead


def test_contacts_queued_in_one_batch_count_each_other() -> None:
    """Queued together (a router back from an outage): each counts the others ahead."""
    w = World()
    w.arrive("c2")
    w.now += 1_000
    w.arrive("c1")
    queued = [f for f in w.routing if isinstance(f, Queued)]
    fresh = rebuild(w, [f for f in w.voice + w.routing + w.agents if f not in queued])
    fresh.settle()
    assert (_figures(fresh, "c2")[0], _figures(fresh, "c1")[0]) == (1, 2)


def test_ewt_with_no_agent_logged_in_is_position_times_the_default_handle_time() -> None:
    w = World()
    w.arrive("c1")
    w.arrive("c2")
    w.arrive("c3")
    assert [_figures(w, i) for i in ("c1", "c2", "c3")] == [
        (1, DEFAULT), (2, 2 * DEFAULT), (3, 3 * DEFAULT)
    ]


def test_ewt_with_one_agent_not_ready_counts_it() -> None:
    w = World()
    w.command("log_in", "a2")  # logged in (NOT_READY) with the sales skill: it counts
    w.command("log_in", "a4")  # support only: cannot take sales
    w.arrive("c1")
    w.arrive("c2")
    assert [_figures(w, i) for i in ("c1", "c2")] == [(1, DEFAULT), (2, 2 * DEFAULT)]


def test_ewt_with_several_agents_divides_the_line_among_them() -> None:
    w = World()
    for agent in ("a1", "a2", "a3"):  # all three have sales >= 1
        w.command("log_in", agent)
    w.command("log_in", "a4")
    w.command("log_out", "a3", "")  # logged out: no longer counts
    for i in range(1, 6):
        w.arrive(f"c{i}")
    # two able agents, none READY: one frees up every half handle time
    assert [_figures(w, f"c{i}")[1] for i in range(1, 6)] == [
        DEFAULT // 2, DEFAULT, 3 * DEFAULT // 2, 2 * DEFAULT, 5 * DEFAULT // 2
    ]
    # vip needs sales 5: only a1 can take it
    w.arrive("v1", entry="200")
    w.arrive("v2", entry="200")
    assert [_figures(w, v) for v in ("v1", "v2")] == [(1, DEFAULT), (2, 2 * DEFAULT)]


def test_ewt_is_zero_while_an_able_agent_is_ready_and_counts_only_the_rest_after() -> None:
    w = World()
    w.command("log_in", "a2")  # sales, not ready
    w.ready("a4")  # support only: READY but cannot take sales
    w.arrive("c1")
    w.ready("a1")  # sales: c1 is offered to a1 at once
    assert w.offered_to("c1") == ["a1"]
    w.command("log_in", "a3")
    w.command("set_ready", "a3")  # sales, READY: takes the next contact at once
    w.arrive("c2")
    assert _figures(w, "c2") == (2, 0)  # c1 rings a1; a3 is free for c2
    w.arrive("c3")
    # c1 rings a1, c2 rings a3 (they need no other agent): c3 waits for one of the three
    # able agents logged in to free up
    assert _figures(w, "c3") == (3, DEFAULT // 3)


def test_mean_handle_time_is_talk_plus_wrap_up_of_the_queue_s_handled_contacts() -> None:
    w = World()
    w.ready("a3")
    _handle(w, "h1", talk_ms=60_000, wrap_up_ms=20_000)  # 80 s
    _handle(w, "h2", talk_ms=100_000, wrap_up_ms=0)  # 100 s
    _handle(w, "s1", talk_ms=10_000, wrap_up_ms=0, entry="300")  # support: not sales
    w.command("set_not_ready", "a3", "break")
    w.arrive("c1")
    w.arrive("c2")
    # a3 is logged in and able: one agent; mean of sales = 90 s
    assert [_figures(w, i) for i in ("c1", "c2")] == [(1, 90_000), (2, 180_000)]
    w.arrive("s2", entry="300")
    assert _figures(w, "s2") == (1, 10_000)


def test_the_mean_keeps_only_the_last_handled_contacts() -> None:
    w = World()
    w.ready("a2")
    for i in range(5):  # the oldest five: long calls that fall out of the window
        _handle(w, f"old{i}", talk_ms=1_000_000, wrap_up_ms=0)
    for i in range(HANDLE_WINDOW):
        _handle(w, f"new{i}", talk_ms=30_000, wrap_up_ms=10_000)
    assert len(w.state.tenants[T].handle_times.by_queue["sales"]) == HANDLE_WINDOW
    w.command("set_not_ready", "a2", "break")
    w.arrive("c1")
    assert _figures(w, "c1") == (1, 40_000)


def _history() -> World:
    w = World()
    w.ready("a1", "a2")
    for i in range(8):
        _handle(w, f"h{i}", talk_ms=20_000 + 7_000 * i, wrap_up_ms=3_000 * i)
    w.command("set_not_ready", "a1", "break")
    w.arrive("w1")  # offered to a2, ringing
    w.arrive("w2")
    _routed(w, "w3", priority=4)
    w.now += 1_000
    return w


@pytest.mark.parametrize("seed", range(10))
def test_a_replay_in_any_topic_order_gives_the_same_figures(seed: int) -> None:
    w = _history()
    fresh = rebuild(w, interleave([w.voice, w.routing, w.agents], random.Random(seed)))
    assert fresh.settle() == []
    assert fresh.state.tenants[T].handle_times == w.state.tenants[T].handle_times
    for world in (w, fresh):
        world.arrive("next")
    assert _figures(fresh, "next") == _figures(w, "next")
    position, ewt = _figures(w, "next")
    mean = sum(20_000 + 7_000 * i + 3_000 * i for i in range(8)) // 8
    # w3 (priority), w1 (ringing at a2), w2 ahead; a1 and a2 logged in, none READY: w3, w2
    # and this one wait for one of the two to free up
    assert (position, ewt) == (4, 3 * mean // 2)


def test_interaction_facts_in_any_order_at_all_rebuild_the_same_window() -> None:
    w = _history()
    facts = w.voice + w.routing
    random.Random(3).shuffle(facts)
    fresh = rebuild(w, facts + w.agents)
    assert fresh.state.tenants[T].handle_times == w.state.tenants[T].handle_times


def test_the_transfer_placement_states_its_figures_too() -> None:
    w = World()
    w.ready("a3")  # sales 1 and support 2
    w.arrive("c1", entry="300")
    w.accept("c1")
    w.command("log_in", "a2")  # sales, not ready
    w.arrive("c2")  # waits in sales
    w.now += 1_000
    w.ingress(Transferred(**w._base("c1"), kind="blind", from_agent_id="a3", to_queue_id="sales"))
    placements = [f for f in w.routing if isinstance(f, Queued) and f.interaction_id == "c1"]
    assert [p.queue_id for p in placements] == ["support", "sales"]
    # behind c2; a3 wrapped up its part of c1 so cannot take it back: a2 alone counts
    assert (placements[1].position, placements[1].estimated_wait_ms) == (2, 2 * DEFAULT)


def test_the_figures_travel_in_the_queued_event() -> None:
    fact = Queued(
        event_id="e1", tenant_id=T, at_ms=5_000, interaction_id="c1", queue_id="sales",
        position=3, estimated_wait_ms=270_000,
    )
    topic, event = to_event(fact, "router/r0")
    assert event.queued.position == 3 and event.queued.estimated_wait_ms == 270_000
    decoded = codec.decode(topic, codec.encode(event), T.encode())
    assert topic == topics.ROUTING_INTERACTIONS
    back = to_fact(decoded)
    assert isinstance(back, Queued) and (back.position, back.estimated_wait_ms) == (3, 270_000)
