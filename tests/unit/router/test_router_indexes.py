"""decide() looks only at what changed since its last pass (domain/index.py): the agents and
contacts a fact was folded about, the timers that came due, the ingress instances that
restarted or fell silent. These tests hold it to a brute-force reference that looks at every
agent and contact of the tenant, after any sequence of facts, commands and clock moves."""

from __future__ import annotations

import copy
import pickle

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from router_world import T, World

from hotline_router.domain import commands
from hotline_router.domain.decisions import ChangeAgentState, Decision, decide, realize
from hotline_router.domain.facts import (
    Abandoned,
    Arrived,
    Completed,
    Fact,
    IngressHeartbeat,
    IngressStarted,
    OfferAccepted,
    OfferRejected,
    OfferTimedOut,
    Transferred,
)
from hotline_router.domain.fold import apply, compact
from hotline_router.domain.index import TenantIndex
from hotline_router.domain.model import (
    HANDLE_WINDOW,
    AgentState,
    HandleTimes,
    RouterState,
    TenantState,
)

AGENTS = ("a1", "a2", "a3", "a4")
INGRESS = "ingress-sip/i1"


def full_scan(state: RouterState, world: World) -> list[Decision]:
    """The reference: decide() on a copy of the state whose index marks every agent and
    contact and whose contacts derive every property afresh, so each rule looks at all."""
    ref = copy.deepcopy(state)
    for tenant in ref.tenants.values():
        tenant.index = TenantIndex()  # never evaluated: decide() marks everything
        for it in tenant.interactions.values():
            it.changed()
    return decide(ref, world.config, T, world.now)


def check(world: World) -> list[Decision]:
    # The reference first: the indexed decide() may consume timers.
    expected = full_scan(world.state, world)
    got = decide(world.state, world.config, T, world.now)
    assert got == expected
    assert decide(world.state, world.config, T, world.now) == got  # again: same answer
    return got


def settle_checked(world: World, crash: bool = False) -> None:
    """The application's decide-until-quiet loop, each pass checked, then compaction.
    `crash`: one pass writes only the first fact of each decision (a crash between two
    writes), which leaves repairs to the next passes."""
    for _ in range(100):
        decisions = check(world)
        if not decisions:
            compact(world.state.tenant(T))
            return
        for d in decisions:
            facts = realize(d, world.state, world.now, world.new_id)
            world.publish(facts[:1] if crash else facts)
        crash = False
    raise AssertionError("decisions did not converge")


def _fold(world: World, fact: Fact) -> None:
    world.voice.append(fact)
    apply(world.state, fact)


def _pick(world: World, k: int, want: str) -> str | None:
    tenant = world.state.tenants.get(T)
    if tenant is None:
        return None
    rules = {
        "offered": lambda it: it.open_offer() is not None,
        "connected": lambda it: bool(it.connected_agent) and not it.ended,
        "open": lambda it: not it.ended,
    }
    found = [iid for iid, it in sorted(tenant.interactions.items()) if rules[want](it)]
    return found[k % len(found)] if found else None


def run(world: World, action: tuple[object, ...]) -> None:
    kind = action[0]
    base = {"event_id": world.new_id(), "tenant_id": T, "at_ms": world.now}
    if kind == "arrive":
        n = len(world.voice)
        _fold(world, Arrived(
            **base, interaction_id=f"c{n}", producer=str(action[2]), entry_point_id=str(action[1])
        ))
    elif kind == "command":
        name, agent_id = str(action[1]), str(action[2])
        try:
            if name == "log_in":
                profile = world.config.tenants[T].agents[agent_id]
                facts = commands.log_in(world.state, T, profile, world.now, world.new_id)
            elif name == "set_not_ready":
                facts = commands.set_not_ready(
                    world.state, T, agent_id, "break", world.now, world.new_id
                )
            elif name == "log_out":
                facts = commands.log_out(world.state, T, agent_id, "", world.now, world.new_id)
            elif name == "finish_wrap_up":
                facts = commands.finish_wrap_up(
                    world.state, T, agent_id, "", None, world.now, world.new_id
                )
            else:
                facts = commands.set_ready(world.state, T, agent_id, world.now, world.new_id)
        except commands.CommandRefused:
            return
        world.publish(facts)
    elif kind == "answer":
        iid = _pick(world, int(str(action[1])), "offered")
        if iid is None:
            return
        offer = world.interaction(iid).open_offer()
        assert offer is not None
        cls = {"accept": OfferAccepted, "reject": OfferRejected, "time_out": OfferTimedOut}[
            str(action[2])
        ]
        _fold(world, cls(
            **base, interaction_id=iid, offer_id=offer.offer_id, agent_id=offer.agent_id
        ))
    elif kind == "late_accept":  # ingress answers an offer the router already timed out
        iid = _pick(world, int(str(action[1])), "open")
        it = world.interaction(iid) if iid is not None else None
        if it is not None and it.offers and it.open_offer() is None:
            offer = max(it.offers.values(), key=lambda o: (o.attempt, o.offer_id))
            _fold(world, OfferAccepted(
                **base, interaction_id=it.interaction_id, offer_id=offer.offer_id,
                agent_id=offer.agent_id,
            ))
    elif kind == "abandon":
        iid = _pick(world, int(str(action[1])), "open")
        if iid is not None:
            _fold(world, Abandoned(**base, interaction_id=iid, stage="in_queue"))
    elif kind == "complete":
        iid = _pick(world, int(str(action[1])), "connected")
        if iid is not None:
            agent = world.interaction(iid).connected_agent
            _fold(world, Completed(**base, interaction_id=iid, agent_id=agent))
    elif kind == "transfer":
        iid = _pick(world, int(str(action[1])), "connected")
        if iid is not None:
            target = str(action[2])
            _fold(world, Transferred(
                **base, interaction_id=iid, kind="blind",
                from_agent_id=world.interaction(iid).connected_agent,
                to_queue_id=target if target in ("sales", "support") else "",
                to_agent_id=target if target.startswith("a") else "",
                to_address=target if target.startswith("sip:") else "",
            ))
    elif kind == "started":
        _fold(world, IngressStarted(**base, producer=INGRESS))
    elif kind == "heartbeat":
        _fold(world, IngressHeartbeat(
            **base, producer=INGRESS, started_at_ms=int(str(action[1]))
        ))
    elif kind == "tick":
        world.now += int(str(action[1]))


ACTIONS = st.one_of(
    st.tuples(
        st.just("arrive"), st.sampled_from(["100", "200", "300", "999"]),
        st.sampled_from(["", INGRESS]),
    ),
    st.tuples(
        st.just("command"),
        st.sampled_from(["log_in", "set_ready", "set_not_ready", "log_out", "finish_wrap_up"]),
        st.sampled_from(AGENTS),
    ),
    st.tuples(
        st.just("answer"), st.integers(0, 5), st.sampled_from(["accept", "reject", "time_out"])
    ),
    st.tuples(st.just("late_accept"), st.integers(0, 5)),
    st.tuples(st.just("abandon"), st.integers(0, 5)),
    st.tuples(st.just("complete"), st.integers(0, 5)),
    st.tuples(
        st.just("transfer"), st.integers(0, 5),
        st.sampled_from(["support", "sales", "a4", "a1", "sip:ext@x", "nowhere"]),
    ),
    st.tuples(st.just("started")),
    st.tuples(st.just("heartbeat"), st.sampled_from([0, 1_000_000, 1_000_500])),
    st.tuples(st.just("tick"), st.sampled_from([100, 5_000, 13_000, 31_000, 60_000])),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    steps=st.lists(
        st.tuples(ACTIONS, st.sampled_from(["no", "settle", "crash"])), max_size=40
    )
)
def test_indexed_decide_equals_a_full_scan_after_any_history(
    steps: list[tuple[tuple[object, ...], str]],
) -> None:
    world = World()
    world.state.live_since_ms = world.now
    for action, settle in steps:
        run(world, action)
        check(world)  # facts folded, not yet decided upon
        if settle != "no":
            settle_checked(world, crash=settle == "crash")
    world.now += 200_000  # every timer due
    settle_checked(world)


def _served(world: World, n: int) -> None:
    """n contacts arrive, are answered by a1, completed and wrapped up, one after the other
    (compacted after each, as the application does after every settle)."""
    for k in range(n):
        world.arrive(f"x{k}")
        world.accept(f"x{k}")
        world.complete(f"x{k}")
        world.command("finish_wrap_up", "a1", f"x{k}", None)
        compact(world.state.tenant(T))


def test_finished_contacts_leave_memory_and_the_index() -> None:
    world = World()
    world.ready("a1")
    _served(world, 30)
    tenant: TenantState = world.state.tenants[T]
    assert tenant.interactions == {}
    assert len(tenant.finished) == 30
    index = tenant.index
    assert index.holders == {} and index.links == {} and index.by_owner == {}
    assert not (index.contacts | index.lost | index.to_queue | index.to_place | index.offers)
    assert world.agent_state("a1") is AgentState.READY


def test_the_finished_ids_kept_are_bounded() -> None:
    world = World()
    tenant = world.state.tenant(T)
    tenant.finished.capacity = 10
    world.ready("a1")
    _served(world, 25)
    assert len(tenant.finished) == 10
    assert "x24" in tenant.finished and "x0" not in tenant.finished


def test_a_quiet_tenant_marks_nothing_and_a_timer_wakes_it() -> None:
    world = World()
    world.ready("a1")
    world.arrive("c1")
    world.accept("c1")
    world.complete("c1")  # a1 wraps up; time-out 30 s
    index = world.state.tenants[T].index
    assert not (index.agents | index.contacts | index.lost | index.offers)
    assert world.tick(29_000) == []
    out = world.tick(1_000)
    assert [type(f).__name__ for f in out] == ["WrapUpEnded", "AgentStateChanged"]
    assert world.agent_state("a1") is AgentState.READY


def test_an_agent_freed_later_is_repaired_for_a_contact_it_answered_late() -> None:
    """c1's offer to a1 timed out on the router's side; a1 took c2; ingress then reports
    that a1 answered c1 after all. Nothing to do while a1 is busy on c2: the repair (a1 BUSY
    on c1) is due when a1's own state changes, not c1's, so the agent's change must bring
    c1 back into view."""
    world = World()
    world.ready("a1")
    world.arrive("c1")
    first = world.open_offer("c1")
    world.tick(10_000 + 2_000)  # ring time-out + grace: the router times the offer out
    assert world.agent_state("a1") is AgentState.NOT_READY
    world.arrive("c2", entry="200")  # vip: routed before c1, which still waits
    world.command("set_ready", "a1")
    world.accept("c2")
    late = OfferAccepted(
        event_id=world.new_id(), tenant_id=T, at_ms=world.now, interaction_id="c1",
        offer_id=first.offer_id, agent_id="a1",
    )
    _fold(world, late)
    assert check(world) == []  # a1 is BUSY on c2
    world.complete("c2")
    assert world.agent_state("a1") is AgentState.WRAP_UP
    facts = commands.finish_wrap_up(world.state, T, "a1", "c2", None, world.now, world.new_id)
    world.publish(facts)
    assert check(world) == [
        ChangeAgentState(T, "a1", AgentState.BUSY, "", "c1", late.event_id)
    ]
    settle_checked(world)
    assert world.agent_state("a1") is AgentState.BUSY


def test_a_pickled_state_decides_as_the_original() -> None:
    """Snapshots pickle the tenant state: the copy carries no configuration in its index
    and looks at everything once, deciding what the original decides."""
    world = World()
    world.ready("a1", "a2")
    world.arrive("c1")
    world.arrive("c2")
    world.accept("c1")
    _fold(world, Completed(
        event_id=world.new_id(), tenant_id=T, at_ms=world.now, interaction_id="c1",
        agent_id="a1",
    ))
    world.now += 60_000
    restored = pickle.loads(pickle.dumps(world.state))
    assert restored.tenants[T].index.config is None
    expected = decide(world.state, world.config, T, world.now)
    assert expected  # a1 to wrap up (the repairs come first)
    assert decide(restored, world.config, T, world.now) == expected


@settings(max_examples=200, deadline=None)
@example(  # an interaction completed earlier than first read: its old entry is stale
    records=[("q1", 0, 5, 1), ("q1", 0, 30, 1)]
    + [("q1", n, 10, 1) for n in range(1, HANDLE_WINDOW)]
    + [("q1", HANDLE_WINDOW, 20, 1)]
)
@given(
    records=st.lists(
        st.tuples(
            st.sampled_from(["q1", "q1", "q1", "q2"]), st.integers(0, 60), st.integers(0, 40),
            st.integers(1, 9),
        ),
        min_size=60,
        max_size=400,
    )
)
def test_handle_time_windows_keep_the_newest_whatever_the_order(
    records: list[tuple[str, int, int, int]],
) -> None:
    """The windows (newest HANDLE_WINDOW completions per queue, an interaction in one queue
    at most) equal a reference that searches every window for each record."""
    times = HandleTimes()
    ref: dict[str, dict[str, tuple[int, int]]] = {}
    for queue, n, at_ms, handle_ms in records:
        iid = f"i{n}"
        times.record(queue, iid, at_ms, handle_ms)
        for other, window in ref.items():
            if other != queue:
                window.pop(iid, None)
        window = ref.setdefault(queue, {})
        window[iid] = (at_ms, handle_ms)
        if len(window) > HANDLE_WINDOW:
            del window[min(window, key=lambda i: (window[i][0], i))]
        assert times.by_queue == ref
