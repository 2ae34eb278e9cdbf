"""Matching and selection (issue 16 items 1-5 and 7), in the pure domain with a clock the test
controls: languages, strategies, aged priority, home site and overflow, drained sites, the
bullseye and its `routing_expanded` facts, preferred and last agents; and the config that
carries them from YAML and the directory."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
from router_world import T, World, interleave, rebuild

from hotline_platform import directory, tenancy
from hotline_router.adapters.config import routing_config
from hotline_router.adapters.mapping import to_event, to_fact
from hotline_router.domain import matching
from hotline_router.domain.decisions import decide, routing_order
from hotline_router.domain.facts import Arrived, Offered, RoutingExpanded, SelfServiceFinished
from hotline_router.domain.model import (
    ANY_SITE,
    AgentProfile,
    EntryPointConfig,
    ExpansionStep,
    QueueConfig,
    RoutingConfig,
    Skill,
    Strategy,
    TenantConfig,
)

S1, S2 = "lisbon", "porto"


def _agent(aid: str, site: str = S1, langs: tuple[str, ...] = ("en",), level: int = 3,
           extra: tuple[Skill, ...] = ()) -> AgentProfile:
    return AgentProfile(aid, aid, site, (Skill("help", level), *extra), langs, f"sip:{aid}@x")


def _world(queue: QueueConfig, *agents: AgentProfile, drained: frozenset[str] = frozenset(),
           other: tuple[QueueConfig, ...] = ()) -> World:
    queues = {q.queue_id: q for q in (queue, *other)}
    entry_points = {
        "100": EntryPointConfig("100", queue.queue_id, S1),
        "101": EntryPointConfig("101", queue.queue_id, S1, priority=4),
    }
    tc = TenantConfig(T, queues, entry_points, {a.agent_id: a for a in agents})
    return World(config=RoutingConfig({T: tc}, 2_000, drained_sites=drained))


def _q(**kw: Any) -> QueueConfig:
    return replace(QueueConfig("q", (Skill("help", 1),), "en", 0, 20, 10_000, 30_000), **kw)


def _arrive(w: World, iid: str, language: str = "", entry: str = "100",
            customer: str = "") -> list[object]:
    return list(w.ingress(Arrived(**w._base(iid), entry_point_id=entry, language=language,
                                  customer=customer)))


def _offers(facts: list[object]) -> list[tuple[str, str]]:
    return [(f.interaction_id, f.agent_id) for f in facts if isinstance(f, Offered)]


# --------------------------------------------------------------------------- languages


def test_a_contact_goes_only_to_an_agent_speaking_its_language() -> None:
    w = _world(_q(), _agent("en1"), _agent("de1", langs=("de",)))
    w.ready("en1", "de1")  # en1 idles longest
    assert _offers(_arrive(w, "c1", language="de-AT")) == [("c1", "de1")]


def test_no_agent_speaks_it_so_the_contact_waits() -> None:
    w = _world(_q(), _agent("en1"))
    w.ready("en1")
    assert _offers(_arrive(w, "c1", language="fr")) == []
    assert w.interaction("c1").waiting


def test_the_queue_language_applies_when_the_contact_has_none() -> None:
    w = _world(_q(language="de"), _agent("en1"), _agent("de1", langs=("de",)))
    w.ready("en1", "de1")
    assert _offers(_arrive(w, "c1")) == [("c1", "de1")]


def test_an_agent_with_no_languages_listed_is_not_language_routed() -> None:
    w = _world(_q(), _agent("any", langs=()), _agent("de1", langs=("de",)))
    w.ready("any", "de1")
    assert _offers(_arrive(w, "c1", language="fr")) == [("c1", "any")]


def test_a_queue_allowing_any_language_takes_the_longest_idle() -> None:
    w = _world(_q(any_language=True), _agent("en1"), _agent("de1", langs=("de",)))
    w.ready("en1", "de1")
    assert _offers(_arrive(w, "c1", language="de")) == [("c1", "en1")]


@pytest.mark.parametrize(
    ("languages", "language", "ok"),
    [
        (("de",), "de-AT", True),
        (("pt-BR",), "pt", True),
        (("DE",), "de", True),
        (("pt-BR",), "pt-PT", False),
        (("en",), "de", False),
        (("e",), "en", False),
        ((), "en", False),
    ],
)
def test_language_tags_fit_by_subtag_prefix(
    languages: tuple[str, ...], language: str, ok: bool
) -> None:
    assert matching.speaks(languages, language) is ok


# --------------------------------------------------------------------------- strategies


def test_most_skilled_takes_the_highest_level_then_the_longest_idle() -> None:
    q = _q(strategy=Strategy.MOST_SKILLED)
    w = _world(q, _agent("low", level=2), _agent("hi1", level=5), _agent("hi2", level=5))
    w.ready("low", "hi2", "hi1")
    assert _offers(_arrive(w, "c1")) == [("c1", "hi2")]


def test_least_occupied_takes_the_agent_least_busy_since_log_in() -> None:
    q = _q(strategy=Strategy.LEAST_OCCUPIED)
    w = _world(q, _agent("a1"), _agent("a2"))
    w.ready("a1", "a2")
    _arrive(w, "c1")  # a1, longest idle
    w.accept("c1")
    w.tick(60_000)
    w.complete("c1")
    w.command("finish_wrap_up", "a1", "c1", None)
    w.tick(120_000)
    w.command("set_not_ready", "a2", "break")
    w.tick(1_000)
    w.command("set_ready", "a2")  # a2 idles the shortest, but was never busy
    assert w.state.tenants[T].agents["a1"].occupied_ms == 60_000
    assert _offers(_arrive(w, "c2")) == [("c2", "a2")]


def test_round_robin_goes_round_the_agents_in_id_order() -> None:
    q = _q(strategy=Strategy.ROUND_ROBIN)
    w = _world(q, _agent("a1"), _agent("a2"), _agent("a3"))
    w.ready("a3", "a2", "a1")
    served = []
    for n in range(4):
        out = _offers(_arrive(w, f"c{n}"))
        served += [a for _, a in out]
        w.abandon(f"c{n}")  # the agent is READY again, keeping its place
    assert served == ["a1", "a2", "a3", "a1"]


# --------------------------------------------------------------------------- priority and aging


def test_aged_priority_rises_one_per_aging_period() -> None:
    assert matching.aged_priority(1, 1_000, 1_000, 10_000) == 1
    assert matching.aged_priority(1, 1_000, 30_999, 10_000) == 3
    assert matching.aged_priority(1, 1_000, 99_000, 0) == 1


def test_an_old_low_priority_contact_overtakes_a_new_high_priority_one() -> None:
    w = _world(_q(priority_aging_ms=10_000), _agent("a1"))
    _arrive(w, "old")  # priority 0 at t
    w.tick(35_000)
    _arrive(w, "vip", entry="101")  # priority 4 at t+35 s; old is at 3
    tenant, tc = w.state.tenants[T], w.config.tenants[T]
    order = [it.interaction_id for it, _ in routing_order(tenant, tc, w.now)]
    assert order == ["vip", "old"]
    order = [it.interaction_id for it, _ in routing_order(tenant, tc, w.now + 5_000)]
    assert order == ["old", "vip"]  # 4 against 4: the earlier queued first
    w.tick(5_000)
    w.ready("a1")
    assert _offers(w.last_output) == [("old", "a1")]


def test_an_entry_point_priority_is_the_contacts() -> None:
    w = _world(_q(priority=1), _agent("a1"))
    out = _arrive(w, "c1", entry="101")
    assert [getattr(f, "priority", None) for f in out] == [4]


# --------------------------------------------------------------------------- sites


def test_home_site_first_then_any_site_after_the_overflow_time() -> None:
    q = _q(home_site=S1, site_overflow_ms=10_000)
    w = _world(q, _agent("home", site=S1), _agent("away", site=S2))
    w.ready("away", "home")
    w.command("set_not_ready", "home", "break")  # logged in at home, not ready
    assert _offers(_arrive(w, "c1")) == []
    assert _offers(w.tick(9_999)) == []
    assert _offers(w.tick(1)) == [("c1", "away")]


def test_nobody_logged_in_at_home_overflows_at_once() -> None:
    q = _q(home_site=S1, site_overflow_ms=60_000)
    w = _world(q, _agent("home", site=S1), _agent("away", site=S2))
    w.ready("away")
    assert _offers(_arrive(w, "c1")) == [("c1", "away")]


def test_the_entry_point_site_is_home_when_the_queue_names_none() -> None:
    q = _q(site_overflow_ms=60_000)
    w = _world(q, _agent("home", site=S1), _agent("away", site=S2))
    w.ready("away", "home")  # away idles longest, but the entry point is at S1
    assert _offers(_arrive(w, "c1")) == [("c1", "home")]


def test_a_drained_site_gets_no_offers_and_its_queues_overflow_at_once() -> None:
    q = _q(home_site=S1, site_overflow_ms=60_000)
    w = _world(q, _agent("home", site=S1), _agent("away", site=S2), drained=frozenset({S1}))
    w.ready("home", "away")
    assert _offers(_arrive(w, "c1")) == [("c1", "away")]
    assert _offers(_arrive(w, "c2")) == []  # home is READY but drained


# --------------------------------------------------------------------------- bullseye


def test_a_bullseye_step_relaxes_the_level_once_taken_and_says_so() -> None:
    q = _q(required_skills=(Skill("help", 5),),
           expansions=(ExpansionStep(10_000, relax_levels_by=2),))
    w = _world(q, _agent("a3", level=3))
    w.ready("a3")
    assert _offers(_arrive(w, "c1")) == []
    out = w.tick(10_000)
    expanded = [f for f in out if isinstance(f, RoutingExpanded)]
    assert [(e.step, e.relaxed_levels_by, e.waited_ms) for e in expanded] == [(1, 2, 10_000)]
    assert expanded[0].causation_id == w.interaction("c1").placement.event_id  # type: ignore[union-attr]
    offered = [f for f in out if isinstance(f, Offered)]
    assert [(o.agent_id, o.routing_step) for o in offered] == [("a3", 1)]
    assert not any(isinstance(f, RoutingExpanded) for f in w.tick(60_000))  # taken once


def test_steps_due_together_are_each_recorded() -> None:
    q = _q(required_skills=(Skill("help", 9),), expansions=(
        ExpansionStep(5_000, add_sites=(S2,)),
        ExpansionStep(8_000, add_skills=(Skill("other", 1),)),
    ))
    w = _world(q, _agent("a1"))
    _arrive(w, "c1")
    out = w.tick(9_000)
    steps = [(f.step, f.added_sites, f.added_skills) for f in out if isinstance(f, RoutingExpanded)]
    assert steps == [(1, (S2,), ()), (2, (), (Skill("other", 1),))]


def test_a_skill_group_step_lets_its_holders_take_it() -> None:
    q = _q(required_skills=(Skill("help", 9),),
           expansions=(ExpansionStep(5_000, add_skills=(Skill("backup", 1),)),))
    w = _world(q, _agent("b1", extra=(Skill("backup", 1),)))
    w.ready("b1")
    assert _offers(_arrive(w, "c1")) == []
    assert _offers(w.tick(5_000)) == [("c1", "b1")]


def test_an_overflow_queue_step_lets_that_queues_agents_take_it() -> None:
    other = QueueConfig("other", (Skill("other", 1),))
    q = _q(required_skills=(Skill("help", 9),),
           expansions=(ExpansionStep(5_000, add_queue="other"),))
    w = _world(q, _agent("o1", level=0, extra=(Skill("other", 2),)), other=(other,))
    w.ready("o1")
    assert _offers(_arrive(w, "c1")) == []
    assert _offers(w.tick(5_000)) == [("c1", "o1")]


def test_a_site_step_widens_the_home_site() -> None:
    q = _q(home_site=S1, site_overflow_ms=600_000,
           expansions=(ExpansionStep(5_000, add_sites=(ANY_SITE,)),))
    w = _world(q, _agent("home", site=S1), _agent("away", site=S2))
    w.ready("away", "home")
    w.command("set_not_ready", "home", "break")
    assert _offers(_arrive(w, "c1")) == []
    assert _offers(w.tick(5_000)) == [("c1", "away")]


def test_a_replayed_step_is_not_taken_again() -> None:
    q = _q(required_skills=(Skill("help", 9),),
           expansions=(ExpansionStep(5_000, relax_levels_by=9),))
    w = _world(q, _agent("a1"))
    _arrive(w, "c1")
    w.tick(6_000)
    fresh = rebuild(w, interleave([w.voice, w.routing, w.agents], random.Random(3)))
    assert fresh.state == w.state
    assert decide(fresh.state, fresh.config, T, fresh.now) == []


# --------------------------------------------------------------------------- preferred agent


def _self_service(w: World, iid: str, preferred: str) -> list[object]:
    return list(w.ingress(SelfServiceFinished(
        **w._base(iid), outcome="route_to_queue", queue_id="q", preferred_agent_id=preferred,
    )))


def test_a_named_agent_is_offered_first() -> None:
    w = _world(_q(), _agent("a1"), _agent("a2"))
    w.ready("a1", "a2")
    w.ingress(Arrived(**w._base("c1"), entry_point_id="ivr"))
    assert _offers(_self_service(w, "c1", "a2")) == [("c1", "a2")]


def test_a_named_agent_is_waited_for_until_the_time_out() -> None:
    w = _world(_q(preferred_agent_timeout_ms=20_000), _agent("a1"), _agent("a2"))
    w.ready("a1", "a2")
    w.command("set_not_ready", "a2", "break")
    w.ingress(Arrived(**w._base("c1"), entry_point_id="ivr"))
    assert _offers(_self_service(w, "c1", "a2")) == []
    assert _offers(w.tick(19_999)) == []
    assert _offers(w.tick(1)) == [("c1", "a1")]


def test_without_a_time_out_anyone_takes_it_when_the_named_agent_is_away() -> None:
    w = _world(_q(), _agent("a1"), _agent("a2"))
    w.ready("a1")
    w.ingress(Arrived(**w._base("c1"), entry_point_id="ivr"))
    assert _offers(_self_service(w, "c1", "a2")) == [("c1", "a1")]


def test_a_named_agent_must_still_speak_the_language() -> None:
    w = _world(_q(), _agent("a1", langs=("de",)), _agent("a2"))
    w.ready("a2", "a1")
    w.ingress(Arrived(**w._base("c1"), entry_point_id="ivr", language="de"))
    assert _offers(_self_service(w, "c1", "a2")) == [("c1", "a1")]


def test_the_last_agent_who_served_the_customer_is_preferred() -> None:
    w = _world(_q(prefer_last_agent=True), _agent("a1"), _agent("a2"))
    w.ready("a1", "a2")
    _arrive(w, "c1", customer="+351900")
    w.reject("c1")  # a1 misses it: a2 serves the customer
    w.accept("c1")
    w.complete("c1")
    w.command("finish_wrap_up", "a2", "c1", None)
    w.command("set_ready", "a1")  # as idle as a2 (same time): a1 first by id, but for a2's claim
    assert w.state.tenants[T].last_agents["+351900"][1] == "a2"
    assert _offers(_arrive(w, "c2", customer="+351900")) == [("c2", "a2")]
    assert _offers(_arrive(w, "c3", customer="+351911")) == [("c3", "a1")]


def test_the_last_agent_is_not_preferred_unless_the_queue_says_so() -> None:
    w = _world(_q(), _agent("a1"), _agent("a2"))
    w.ready("a1", "a2")
    _arrive(w, "c1", customer="+351900")
    w.reject("c1")
    w.accept("c1")
    w.complete("c1")
    w.command("finish_wrap_up", "a2", "c1", None)
    w.command("set_ready", "a1")
    assert _offers(_arrive(w, "c2", customer="+351900")) == [("c2", "a1")]


# --------------------------------------------------------------------------- contract and config


def test_routing_expanded_and_the_offered_step_survive_the_contract() -> None:
    fact = RoutingExpanded(
        event_id="e1", tenant_id=T, at_ms=5, causation_id="q1", interaction_id="c1",
        queue_id="q", step=2, waited_ms=20_000, relaxed_levels_by=1,
        added_skills=(Skill("x", 2),), added_sites=("*",), added_queue_id="other",
    )
    offered = Offered(event_id="e2", tenant_id=T, at_ms=6, interaction_id="c1", offer_id="o1",
                      agent_id="a1", routing_step=2)
    for f in (fact, offered):
        _, event = to_event(f, "router/x")
        assert to_fact(event) == f


YAML = {
    "sites": [{"id": S1}, {"id": S2, "drained": True}],
    "tenants": [{
        "id": T, "credential": "t1.secret-of-t1",
        "queues": [
            {"id": "q", "required_skills": [{"name": "help", "level": 3}], "language": "de",
             "strategy": "most_skilled", "any_language": False, "priority_aging_s": 30,
             "home_site": S1, "site_overflow_s": 10, "preferred_agent_timeout_s": 15,
             "prefer_last_agent": True,
             "expansions": [
                 {"after_s": 20, "relax_levels_by": 1},
                 {"after_s": 40, "add_skills": ["backup"], "add_sites": ["*"],
                  "add_queue": "other"},
             ]},
            {"id": "other"},
        ],
        "agents": [{"id": "a1", "site": S2, "skills": ["help", "backup"], "languages": ["de"],
                    "phone": "sip:a1@x"}],
        "entry_points": [{"address": "100", "queue": "q", "site": S1, "priority": 3},
                         {"address": "200", "queue": "other"}],
    }],
}


def test_the_yaml_routing_settings_reach_the_router() -> None:
    config = routing_config(tenancy.parse(YAML))
    q = config.tenants[T].queues["q"]
    assert (q.strategy, q.any_language, q.priority_aging_ms, q.home_site, q.site_overflow_ms,
            q.preferred_agent_timeout_ms, q.prefer_last_agent) == (
        Strategy.MOST_SKILLED, False, 30_000, S1, 10_000, 15_000, True)
    assert q.expansions == (
        ExpansionStep(20_000, relax_levels_by=1),
        ExpansionStep(40_000, add_skills=(Skill("backup", 1),), add_sites=("*",),
                      add_queue="other"),
    )
    assert config.tenants[T].entry_points["100"] == EntryPointConfig("100", "q", S1, 3)
    assert config.drained_sites == frozenset({S2})
    other = config.tenants[T].queues["other"]  # defaults: today's routing
    assert (other.strategy, other.expansions, other.site_overflow_ms) == (
        Strategy.LONGEST_IDLE, (), 0)


def test_the_directory_carries_the_routing_settings_unchanged() -> None:
    config = tenancy.parse(YAML)
    back = directory.to_config(directory.definitions_of(config))
    assert back.tenants[T].queues == config.tenants[T].queues
    assert back.entry_points["100"].priority == 3
    assert back.drained_sites == config.drained_sites
    errors, _ = directory.validate(directory.definitions_of(config), ["queue/t1/q"])
    assert errors == []


def _with_queue(**changes: object) -> dict[str, object]:
    raw = {**YAML, "tenants": [dict(YAML["tenants"][0])]}  # type: ignore[index]
    tenant = raw["tenants"][0]  # type: ignore[index]
    tenant["queues"] = [{**tenant["queues"][0], **changes}, tenant["queues"][1]]
    return raw


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"strategy": "fastest"}, "strategy 'fastest' is not one of"),
        ({"home_site": "oslo"}, "home_site 'oslo' is not a site"),
        ({"priority_aging_s": -1}, "priority_aging_s must be >= 0"),
        ({"expansions": [{"after_s": 20, "relax_levels_by": 1}, {"after_s": 10,
                                                                 "relax_levels_by": 1}]},
         "expansions[2]: after_s must be > 0 and above the step before's"),
        ({"expansions": [{"after_s": 5}]}, "expansions[1]: changes nothing"),
        ({"expansions": [{"after_s": 5, "add_sites": ["oslo"]}]}, "unknown site(s) oslo"),
        ({"expansions": [{"after_s": 5, "add_queue": "q"}]}, "add_queue 'q' is not another"),
        ({"expansions": [{"after_s": 5, "add_skils": ["x"]}]}, "unknown setting(s) add_skils"),
    ],
)
def test_bad_routing_settings_are_refused_with_the_queue_named(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(tenancy.ConfigError, match="queue t1/q") as err:
        tenancy.parse(_with_queue(**changes))
    assert message in str(err.value)


def test_the_directory_refuses_bad_routing_settings() -> None:
    config = tenancy.parse(YAML)
    defs = directory.definitions_of(config)
    defs["queue/t1/q"].strategy = "fastest"
    defs["queue/t1/q"].expansions[1].add_queue_id = "nowhere"
    errors, _ = directory.validate(defs, ["queue/t1/q"])
    assert any("strategy 'fastest'" in e for e in errors)
    assert any("add_queue 'nowhere'" in e for e in errors)


def test_a_new_configuration_reaches_contacts_already_waiting() -> None:
    """The pool's sieve is judged per configuration: a bullseye step added while a contact
    waits widens its target too."""
    q = _q(required_skills=(Skill("help", 9),))
    w = _world(q, _agent("a1", level=3))
    w.ready("a1")
    assert _offers(_arrive(w, "c1")) == []
    tc = w.config.tenants[T]
    relaxed = replace(q, expansions=(ExpansionStep(1_000, relax_levels_by=6),))
    w.config = replace(w.config, tenants={T: replace(tc, queues={"q": relaxed})})
    out = w.tick(1_000)
    assert [f.step for f in out if isinstance(f, RoutingExpanded)] == [1]
    assert _offers(out) == [("c1", "a1")]
