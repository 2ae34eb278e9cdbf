"""Property tests (hypothesis) of the matching and selection invariants: no contact offered to
two agents at once (nor an agent to two contacts), a language never mismatched, the
longest-idle able agent chosen when the strategy says so, and a higher-priority contact
never waiting behind a lower one of equal age."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from router_world import T, World

from hotline_router.domain import matching
from hotline_router.domain.decisions import next_offers, routing_order
from hotline_router.domain.facts import (
    AgentLoggedIn,
    AgentStateChanged,
    Arrived,
    Offered,
    Queued,
)
from hotline_router.domain.fold import apply
from hotline_router.domain.model import (
    AgentProfile,
    AgentState,
    EntryPointConfig,
    ExpansionStep,
    QueueConfig,
    RoutingConfig,
    Skill,
    Strategy,
    TenantConfig,
)

LANGS = ("en", "de", "pt-BR", "pt")
SITES = ("lisbon", "porto")

agent_profiles = st.lists(
    st.builds(
        lambda n, site, langs, level: (n, site, tuple(langs), level),
        st.integers(0, 9), st.sampled_from(SITES),
        st.lists(st.sampled_from(LANGS), max_size=2, unique=True), st.integers(0, 5),
    ),
    min_size=1, max_size=6, unique_by=lambda a: a[0],
)
queue_settings: st.SearchStrategy[dict[str, Any]] = st.builds(
    dict,
    strategy=st.sampled_from(Strategy),
    priority_aging_ms=st.sampled_from((0, 5_000)),
    site_overflow_ms=st.sampled_from((0, 4_000)),
    expansions=st.sampled_from(((), (ExpansionStep(3_000, relax_levels_by=2),))),
)
# (kind, argument): arrive(language index), ready(agent n), reject(contact n), tick(ms),
# complete(contact n)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("arrive"), st.integers(0, len(LANGS))),
        st.tuples(st.just("ready"), st.integers(0, 9)),
        st.tuples(st.just("reject"), st.integers(0, 20)),
        st.tuples(st.just("accept"), st.integers(0, 20)),
        st.tuples(st.just("tick"), st.sampled_from((500, 2_000, 7_000))),
    ),
    max_size=40,
)


def _world(agents: list[tuple[int, str, tuple[str, ...], int]], queue: dict[str, Any]) -> World:
    q = replace(QueueConfig("q", (Skill("help", 2),), "", 0, 20, 10_000, 30_000), **queue)
    profiles = {
        f"a{n}": AgentProfile(f"a{n}", "", site, (Skill("help", level),), langs, f"sip:a{n}@x")
        for n, site, langs, level in agents
    }
    entry_points = {
        "100": EntryPointConfig("100", "q", "lisbon"),
        "101": EntryPointConfig("101", "q", "porto", priority=2),
    }
    return World(config=RoutingConfig({T: TenantConfig(T, {"q": q}, entry_points, profiles)}))


def _run(w: World, ops: list[tuple[str, int]]) -> list[Offered]:
    """Apply the operations, checking after each that nobody holds two ringing offers."""
    offered: list[Offered] = []
    arrived = 0
    for kind, arg in ops:
        out = []
        if kind == "arrive":
            language = LANGS[arg] if arg < len(LANGS) else ""
            entry = "101" if arrived % 3 == 2 else "100"
            out = w.ingress(Arrived(**w._base(f"c{arrived}"), entry_point_id=entry,
                                    language=language))
            arrived += 1
        elif kind == "ready" and f"a{arg}" in w.config.tenants[T].agents:
            agent = w.state.tenant(T).agent(f"a{arg}")
            if agent.state is AgentState.LOGGED_OUT:
                out = w.command("log_in", f"a{arg}")
            if agent.state is AgentState.NOT_READY:
                out += w.command("set_ready", f"a{arg}")
        elif kind in ("reject", "accept") and f"c{arg}" in w.state.tenant(T).interactions:
            if w.interaction(f"c{arg}").open_offer() is not None:
                out = w.reject(f"c{arg}") if kind == "reject" else w.accept(f"c{arg}")
        elif kind == "tick":
            out = w.tick(arg)
        offered += [f for f in out if isinstance(f, Offered)]
        _check_one_offer_each(w)
        _check_pool(w)
    return offered


def _check_pool(w: World) -> None:
    """The routing pool (kept from the fold's marks) lists what a scan of everything finds."""
    tenant = w.state.tenant(T)
    pool = tenant.pool
    pool.refresh(tenant)
    offerable = [
        iid for iid, it in tenant.interactions.items() if it.waiting and it.open_offer() is None
    ]
    # In routing order, by the keys computed afresh (the pool keeps each group's order).
    tc = w.config.tenants[T]

    def key(iid: str) -> tuple[int, int, str]:
        placement = tenant.interactions[iid].current_placement
        assert placement is not None
        aging = tc.queues[placement.queue_id].priority_aging_ms
        aged = matching.aged_priority(placement.priority, placement.queued_at_ms, w.now, aging)
        return matching.routing_key(aged, placement.queued_at_ms, iid)

    order = [it.interaction_id for it, _ in routing_order(tenant, tc, w.now)]
    assert order == sorted(offerable, key=key)
    ready = {a.agent_id for a in tenant.agents.values() if a.state is AgentState.READY}
    assert [a for _, a in pool.ready] == sorted(
        ready, key=lambda a: (tenant.agents[a].idle_since_ms, a)
    )
    assert {a for agents in pool.ready_by_skills.values() for a in agents} == ready
    assert {
        (name, a) for name, agents in pool.ready_by_name.items() for a in agents
    } == {(s.name, a) for a in ready for s in tenant.agents[a].skills}
    on = [a for a in tenant.agents.values() if a.state is not AgentState.LOGGED_OUT]
    assert pool.sites == Counter(a.site_id for a in on)
    assert {name: n for name, n in pool.by_skill.items() if n} == {
        name: Counter((a.skills, a.languages) for a in on if name in {s.name for s in a.skills})
        for name in {s.name for a in on for s in a.skills}
    }


def _check_one_offer_each(w: World) -> None:
    tenant = w.state.tenant(T)
    ringing_agents = []
    for it in tenant.interactions.values():
        open_offers = [
            o for o in it.offers.values()
            if o.offer_id not in it.resolutions and not it.ended and not it.connected_agent
        ]
        assert len(open_offers) <= 1, f"{it.interaction_id} rings {len(open_offers)} agents"
        ringing_agents += [o.agent_id for o in open_offers]
    assert len(ringing_agents) == len(set(ringing_agents)), "an agent rings for two contacts"
    reserved = [a.interaction_id for a in tenant.agents.values() if a.state is AgentState.RESERVED]
    assert len(reserved) == len(set(reserved)), "two agents reserved for one contact"


@settings(max_examples=120, deadline=None)
@given(agent_profiles, queue_settings, operations)
def test_no_double_offers_and_no_language_mismatch(
    agents: list[tuple[int, str, tuple[str, ...], int]],
    queue: dict[str, Any],
    ops: list[tuple[str, int]],
) -> None:
    w = _world(agents, queue)
    for offer in _run(w, ops):
        it = w.interaction(offer.interaction_id)
        placement = it.current_placement
        assert placement is not None
        agent = w.config.tenants[T].agents[offer.agent_id]
        if placement.language and agent.languages:  # none listed: not language-routed
            assert matching.speaks(agent.languages, placement.language), (
                f"{offer.agent_id} {agent.languages} got a {placement.language} contact"
            )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 1_000_000), min_size=1, max_size=8),
    st.lists(st.sampled_from(LANGS), min_size=1, max_size=8),
    st.sampled_from(LANGS),
)
def test_longest_idle_picks_the_able_agent_idle_longest(
    idle: list[int], langs: list[str], wanted: str
) -> None:
    agents = {
        f"a{n}": AgentProfile(f"a{n}", "", "lisbon", (Skill("help", 2),), (langs[n % len(langs)],))
        for n in range(len(idle))
    }
    q = QueueConfig("q", (Skill("help", 1),))
    w = World(config=RoutingConfig({T: TenantConfig(
        T, {"q": q}, {"100": EntryPointConfig("100", "q")}, agents
    )}))
    for n, since in enumerate(idle):
        profile = agents[f"a{n}"]
        apply(w.state, AgentLoggedIn(
            event_id=w.new_id(), tenant_id=T, at_ms=since, agent_id=profile.agent_id,
            skills=profile.skills, languages=profile.languages,
        ))
        apply(w.state, AgentStateChanged(
            event_id=w.new_id(), tenant_id=T, at_ms=since, agent_id=profile.agent_id,
            state=AgentState.READY, previous_state=AgentState.NOT_READY,
        ))
    out = w.ingress(Arrived(**w._base("c1"), entry_point_id="100", language=wanted))
    able = sorted(
        (since, f"a{n}") for n, since in enumerate(idle)
        if matching.speaks(agents[f"a{n}"].languages, wanted)
    )
    offered = [f.agent_id for f in out if isinstance(f, Offered)]
    assert offered == ([able[0][1]] if able else [])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-3, 3), st.integers(0, 5)), min_size=2, max_size=12),
    st.sampled_from((0, 1_000, 7_000)),
    st.integers(0, 60_000),
)
def test_a_higher_priority_never_waits_behind_a_lower_of_equal_age(
    contacts: list[tuple[int, int]], aging_ms: int, later_ms: int
) -> None:
    """Contacts of one queue (priority, queued time in seconds): in routing order, of two
    queued at the same time the higher priority always comes first, whatever the aging."""
    q = QueueConfig("q", priority_aging_ms=aging_ms)
    w = World(config=RoutingConfig({T: TenantConfig(T, {"q": q})}))
    base = 1_000_000
    for n, (priority, queued_s) in enumerate(contacts):
        apply(w.state, Queued(
            event_id=f"p{n}", tenant_id=T, at_ms=base + queued_s * 1_000, interaction_id=f"c{n}",
            queue_id="q", priority=priority,
        ))
    tenant = w.state.tenant(T)
    order = routing_order(tenant, w.config.tenants[T], base + 5_000 + later_ms)
    seen: dict[int, int] = {}  # queued time -> lowest priority served so far
    for it, placement in order:
        lowest = seen.get(placement.queued_at_ms)
        assert lowest is None or placement.priority <= lowest, (
            f"{it.interaction_id} (priority {placement.priority}) behind a lower one"
        )
        seen[placement.queued_at_ms] = placement.priority


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-3, 3), st.integers(0, 30)), min_size=1, max_size=12),
    st.sampled_from((0, 1_000, 7_000)),
    st.lists(st.tuples(st.integers(0, 40_000), st.booleans()), min_size=1, max_size=8),
)
def test_the_routing_order_kept_per_group_is_the_order_at_every_moment(
    contacts: list[tuple[int, int]], aging_ms: int, moments: list[tuple[int, bool]]
) -> None:
    """The pool keeps each group's order between facts, across aged priorities going up:
    at any moment (the clock may go back, and a contact may come in between), it is the
    order of the keys computed afresh."""
    q = QueueConfig("q", priority_aging_ms=aging_ms)
    w = World(config=RoutingConfig({T: TenantConfig(T, {"q": q})}))
    base = 1_000_000
    tc = w.config.tenants[T]

    def queue(n: int, priority: int, queued_ms: int) -> None:
        apply(w.state, Queued(
            event_id=f"p{n}", tenant_id=T, at_ms=queued_ms, interaction_id=f"c{n}",
            queue_id="q", priority=priority,
        ))

    for n, (priority, queued_s) in enumerate(contacts):
        queue(n, priority, base + queued_s * 1_000)
    tenant = w.state.tenant(T)
    for n, (later_ms, arrives) in enumerate(moments, start=len(contacts)):
        now = base + later_ms
        if arrives:
            queue(n, n % 3, now)
        expected = sorted(
            (matching.routing_key(
                matching.aged_priority(p.priority, p.queued_at_ms, now, aging_ms),
                p.queued_at_ms, it.interaction_id,
            ) for it in tenant.interactions.values() if (p := it.current_placement)),
        )
        got = [it.interaction_id for it, _ in routing_order(tenant, tc, now)]
        assert got == [key[2] for key in expected]



def _reference_offers(w: World) -> list[tuple[str, str]]:
    """next_offers by brute force: every waiting contact in routing order, every free agent
    (no pool, no sieve)."""
    tenant, tc = w.state.tenant(T), w.config.tenants[T]
    free = sorted(
        (a for a in tenant.agents.values() if a.state is AgentState.READY),
        key=lambda a: (a.idle_since_ms, a.agent_id),
    )
    waiting = sorted(
        (
            (matching.routing_key(
                matching.aged_priority(p.priority, p.queued_at_ms, w.now,
                                       tc.queues[p.queue_id].priority_aging_ms),
                p.queued_at_ms, it.interaction_id,
            ), it, p)
            for it in tenant.interactions.values()
            if (p := it.current_placement) is not None and it.waiting
            and it.open_offer() is None
        ),
        key=lambda c: c[0],
    )
    out = []
    for _, it, p in waiting:
        queue = tc.queues[p.queue_id]
        entry = tc.entry_points[it.entry_point_id]
        home = (queue.home_site or entry.site_id) if queue.site_overflow_ms else ""
        staffed = any(
            a.site_id == home and a.state is not AgentState.LOGGED_OUT
            for a in tenant.agents.values()
        )
        site_open = not home or w.now - p.queued_at_ms >= queue.site_overflow_ms or not staffed
        t = matching.target(queue, tc, p.required_skills, p.language, it.routing_step(p), home,
                            site_open)
        last = tenant.last_offered.get(queue.queue_id, (0, "", ""))[2]
        agent = matching.best_agent(free, t, w.now, last_offered=last)
        if agent is not None:
            free.remove(agent)
            out.append((it.interaction_id, agent.agent_id))
    return out


@settings(max_examples=150, deadline=None)
@given(
    agent_profiles,
    queue_settings,
    st.lists(st.tuples(st.integers(0, len(LANGS)), st.integers(0, 9_000), st.booleans()),
             max_size=12),
    st.integers(0, 12_000),
)
def test_the_pool_offers_what_a_scan_of_everything_offers(
    agents: list[tuple[int, str, tuple[str, ...], int]],
    queue: dict[str, Any],
    contacts: list[tuple[int, int, bool]],
    later_ms: int,
) -> None:
    """Agents READY at once, contacts queued at various times (no decision in between): the
    offers next_offers makes through the pool and its sieve are the brute-force ones."""
    w = _world(agents, queue)
    tenant = w.state.tenant(T)
    for n, _site, _langs, _level in agents:
        profile = w.config.tenants[T].agents[f"a{n}"]
        apply(w.state, AgentLoggedIn(
            event_id=w.new_id(), tenant_id=T, at_ms=w.now - 100 * n, agent_id=profile.agent_id,
            site_id=profile.site_id, skills=profile.skills, languages=profile.languages,
        ))
        apply(w.state, AgentStateChanged(
            event_id=w.new_id(), tenant_id=T, at_ms=w.now - 100 * n, agent_id=profile.agent_id,
            state=AgentState.READY, previous_state=AgentState.NOT_READY,
        ))
    for n, (lang, queued_ago, vip) in enumerate(contacts):
        language = LANGS[lang] if lang < len(LANGS) else ""
        at = w.now - queued_ago
        apply(w.state, Arrived(event_id=w.new_id(), tenant_id=T, at_ms=at,
                               interaction_id=f"c{n}", entry_point_id="101" if vip else "100",
                               language=language))
        apply(w.state, Queued(event_id=w.new_id(), tenant_id=T, at_ms=at, interaction_id=f"c{n}",
                              causation_id="", queue_id="q", priority=2 if vip else 0,
                              required_skills=(Skill("help", 2),), language=language))
    w.now += later_ms
    expected = _reference_offers(w)
    got = next_offers(T, tenant, w.config.tenants[T], w.config, w.now)
    assert [(o.interaction_id, o.agent_id) for o in got] == expected  # type: ignore[union-attr]
