"""Flow-out, closed treatment and callbacks (domain/treatment.py), on the pure domain with a
clock the test controls."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from router_world import T, World, interleave, rebuild

from hotline_platform import directory, tenancy
from hotline_platform.ivr import BusinessHours, Window
from hotline_router.adapters.config import routing_config
from hotline_router.adapters.mapping import to_event, to_fact
from hotline_router.domain import treatment
from hotline_router.domain.facts import (
    Arrived,
    CallbackRequested,
    Fact,
    FlowedOut,
    Offered,
    Queued,
)
from hotline_router.domain.model import RoutingConfig
from hotline_router.domain.treatment import CallbackRefused, FlowOutTarget, Treatment

CALLER = "sip:+493012345@example.net"


def _world(**queues: Treatment) -> World:
    w = World()
    tc = w.config.tenants[T]
    changed = {qid: replace(tc.queues[qid], treatment=tr) for qid, tr in queues.items()}
    w.config = RoutingConfig(
        {T: replace(tc, queues={**tc.queues, **changed})}, w.config.offer_grace_ms
    )
    return w


def _of(facts: list[Fact], kind: type[Fact]) -> list[Fact]:
    return [f for f in facts if isinstance(f, kind)]


def _arrive(w: World, iid: str, entry: str = "100", customer: str = CALLER) -> list[Fact]:
    return w.ingress(Arrived(**w._base(iid), entry_point_id=entry, customer=customer))


def _flowed(w: World) -> list[FlowedOut]:
    return [f for f in w.routing if isinstance(f, FlowedOut)]


def _queued(w: World, iid: str) -> list[Queued]:
    return [f for f in w.routing if isinstance(f, Queued) and f.interaction_id == iid]


# --------------------------------------------------------------------------- max wait


def test_max_wait_flows_out_to_another_queue_as_a_new_placement_caused_by_the_flow_out() -> None:
    w = _world(sales=Treatment(max_wait_ms=60_000, flow_out=FlowOutTarget("queue", "support")))
    w.command("log_in", "a4")  # logged in, not ready: sales has no taker, support has one
    _arrive(w, "c1")
    assert not w.tick(59_999)  # nothing before the max wait (its timer, no other fact)
    out = w.tick(1)
    [flow] = _of(out, FlowedOut)
    assert (flow.reason, flow.target, flow.from_queue_id, flow.to_queue_id) == (  # type: ignore[attr-defined]
        "max_wait", "queue", "sales", "support"
    )
    assert flow.waited_ms == 60_000  # type: ignore[attr-defined]
    first, second = _queued(w, "c1")
    assert flow.causation_id == first.event_id
    assert (second.queue_id, second.causation_id) == ("support", flow.event_id)
    w.command("set_ready", "a4")
    assert w.offered_to("c1") == ["a4"]
    assert not w.interaction("c1").ended


def test_max_wait_to_a_closed_message_ends_the_contact_and_it_is_never_offered() -> None:
    w = _world(sales=Treatment(max_wait_ms=30_000, closed_prompt="prompts/closed.wav"))
    _arrive(w, "c1")
    [flow] = _of(w.tick(30_000), FlowedOut)
    assert (flow.target, flow.prompt) == ("closed", "prompts/closed.wav")  # type: ignore[attr-defined]
    assert w.interaction("c1").ended
    w.ready("a1")
    assert w.offered_to("c1") == []


def test_a_ringing_contact_flows_out_only_once_its_offer_is_answered_no() -> None:
    w = _world(sales=Treatment(max_wait_ms=10_000))
    w.ready("a1")
    _arrive(w, "c1")
    assert w.offered_to("c1") == ["a1"]
    assert not _of(w.tick(10_000), FlowedOut)  # ringing: left alone
    out = w.reject("c1")
    assert [f.reason for f in _of(out, FlowedOut)] == ["max_wait"]  # type: ignore[attr-defined]


def test_a_contact_answered_before_its_max_wait_never_flows_out() -> None:
    w = _world(sales=Treatment(max_wait_ms=10_000))
    w.ready("a1")
    _arrive(w, "c1")
    w.accept("c1")
    assert not _of(w.tick(60_000), FlowedOut)


def test_a_flow_out_back_to_a_queue_the_contact_waited_in_is_a_closed_message() -> None:
    w = _world(
        sales=Treatment(max_wait_ms=10_000, flow_out=FlowOutTarget("queue", "support")),
        support=Treatment(max_wait_ms=10_000, flow_out=FlowOutTarget("queue", "sales")),
    )
    _arrive(w, "c1")
    w.tick(10_000)
    w.tick(10_000)
    assert [(f.from_queue_id, f.target) for f in _flowed(w)] == [
        ("sales", "queue"), ("support", "closed")
    ]
    assert w.interaction("c1").ended


# --------------------------------------------------------------------------- no agents


def test_no_able_agent_logged_in_flows_out_at_once_and_a_logged_in_one_keeps_it() -> None:
    w = _world(sales=Treatment(when_no_agents=True, flow_out=FlowOutTarget("queue", "support")))
    w.command("log_in", "a4")  # support only: not able to take sales
    _arrive(w, "c1")
    assert [(f.reason, f.to_queue_id) for f in _flowed(w)] == [("no_agents", "support")]

    w.command("log_in", "a2")  # able (sales 3), not ready
    _arrive(w, "c2")
    assert [f.interaction_id for f in _flowed(w)] == ["c1"]
    # The last able agent logs out: the waiting contact flows out then (roster change).
    out = w.command("log_out", "a2", "end of shift")
    assert [(f.interaction_id, f.reason) for f in _of(out, FlowedOut)] == [("c2", "no_agents")]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- hours


BERLIN_WEEKDAYS = BusinessHours(
    "Europe/Berlin", (Window(("mon", "tue", "wed", "thu", "fri"), "08:00", "18:00"),),
    holidays=("2026-12-25",),
)


def _at(iso: str) -> int:
    return int(datetime.fromisoformat(iso).astimezone(UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("when", "closed"),
    [
        ("2026-12-01T09:00:00+01:00", False),  # Tuesday, open
        ("2026-12-01T07:59:00+01:00", True),  # before opening (Berlin time, not UTC)
        ("2026-12-01T18:00:00+01:00", True),
        ("2026-12-05T10:00:00+01:00", True),  # Saturday
        ("2026-12-25T10:00:00+01:00", True),  # a Friday, but a holiday
    ],
)
def test_outside_business_hours_a_contact_flows_out_at_once(when: str, closed: bool) -> None:
    w = _world(sales=Treatment(hours=BERLIN_WEEKDAYS, closed_prompt="closed.wav"))
    w.now = _at(when)
    _arrive(w, "c1")
    assert [(f.reason, f.target) for f in _flowed(w)] == ([("closed", "closed")] if closed else [])


def test_contacts_waiting_when_the_hours_close_flow_out_at_that_minute() -> None:
    w = _world(
        sales=Treatment(hours=BERLIN_WEEKDAYS, closed=FlowOutTarget("callback"))
    )
    w.now = _at("2026-12-01T17:58:30+01:00")
    _arrive(w, "c1")
    assert not w.tick(60_000)  # 17:59:30, open
    out = w.tick(30_000)  # 18:00:00
    [flow] = _of(out, FlowedOut)
    assert (flow.reason, flow.target, flow.callback_address) == ("closed", "callback", CALLER)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- callbacks


def _request(w: World, iid: str, address: str = "") -> list[Fact]:
    facts = treatment.request_callback(
        w.state, w.config.tenants[T], T, iid, address, w.now, w.new_id
    )
    w.publish(list(facts))
    return [*facts, *w.settle()]


def test_a_callback_is_refused_below_the_threshold_and_for_a_withheld_number() -> None:
    w = _world(sales=Treatment(callback_after_ms=10 * 60_000))
    _arrive(w, "c1")
    assert _queued(w, "c1")[0].estimated_wait_ms == 180_000  # one round of the default
    with pytest.raises(CallbackRefused, match="below"):
        _request(w, "c1")
    w2 = _world(sales=Treatment(callback_after_ms=60_000))
    _arrive(w2, "c1", customer="")
    with pytest.raises(CallbackRefused, match="withheld"):
        _request(w2, "c1")
    with pytest.raises(CallbackRefused, match="not waiting"):
        _request(w2, "nobody")
    w3 = _world()
    _arrive(w3, "c1")
    with pytest.raises(CallbackRefused, match="no callbacks"):
        _request(w3, "c1")


def test_a_callback_keeps_its_place_survives_the_hang_up_and_is_offered_with_the_address() -> (
    None
):
    w = _world(sales=Treatment(callback_after_ms=60_000, max_wait_ms=120_000))
    _arrive(w, "c1")
    w.now += 1_000
    _arrive(w, "c2")
    [cb] = _of(_request(w, "c1", "sip:+4917000@example.net"), CallbackRequested)
    assert (cb.queue_id, cb.callback_address, cb.waited_ms) == (  # type: ignore[attr-defined]
        "sales", "sip:+4917000@example.net", 1_000
    )
    assert cb.causation_id == _queued(w, "c1")[0].event_id
    assert _request(w, "c1") == []  # asked again: nothing new
    w.abandon("c1")  # ingress released the caller (or the caller hung up after asking)
    assert not w.interaction("c1").ended
    assert [f.interaction_id for f in _of(w.tick(120_000), FlowedOut)] == ["c2"]  # type: ignore[attr-defined]
    w.ready("a1")
    [offer] = [o for o in w.offers() if o.interaction_id == "c1"]
    assert offer.callback_address == "sip:+4917000@example.net"
    # No ingress holds it any more: its instance restarting does not end it.
    w.ingress_started("ingress-sip/sip-0")
    assert not w.interaction("c1").ended


def test_queued_says_whether_a_callback_is_offered_for_ingress_to_announce_it() -> None:
    w = _world(sales=Treatment(callback_after_ms=180_000), support=Treatment(
        callback_after_ms=180_001))
    _arrive(w, "c1")  # 180 s estimated (the default handle time, nobody able logged in)
    _arrive(w, "c2", entry="300")
    _arrive(w, "c3", entry="200")  # vip: no treatment
    assert [_queued(w, iid)[0].callback_offered for iid in ("c1", "c2", "c3")] == [
        True, False, False
    ]


def test_a_callback_asked_for_by_key_at_ingress_keeps_the_contact_like_the_api() -> None:
    w = _world(sales=Treatment(callback_after_ms=60_000, max_wait_ms=60_000))
    _arrive(w, "c1")
    w.ingress(CallbackRequested(
        **w._base("c1"), queue_id="sales", callback_address=CALLER, waited_ms=5_000
    ))
    w.abandon("c1")  # nothing of the kind is sent, but it would end nothing
    assert not _of(w.tick(60_000), FlowedOut)  # no flow-out for a callback
    w.ready("a1")
    [offer] = w.offers()
    assert offer.callback_address == CALLER


def test_a_caller_who_hung_up_before_asking_is_not_called_back() -> None:
    w = _world(sales=Treatment(callback_after_ms=60_000))
    _arrive(w, "c1")
    w.abandon("c1")
    with pytest.raises(CallbackRefused):
        _request(w, "c1")


# --------------------------------------------------------------------------- replay, wire


def test_a_replay_in_any_order_rebuilds_flow_outs_and_callbacks() -> None:
    w = _world(
        sales=Treatment(max_wait_ms=10_000, flow_out=FlowOutTarget("queue", "support")),
        support=Treatment(callback_after_ms=60_000),
    )
    _arrive(w, "c1")
    _arrive(w, "c2", entry="300")
    w.tick(10_000)
    _request(w, "c2")
    for seed in range(5):
        order = interleave([w.voice, w.routing, w.agents], random.Random(seed))
        fresh = rebuild(w, order)
        assert fresh.settle() == []  # nothing left to decide
        for iid in ("c1", "c2"):
            a, b = fresh.interaction(iid), w.interaction(iid)
            assert (a.current_placement, a.callback, a.flow_outs) == (
                b.current_placement, b.callback, b.flow_outs
            )


def test_flow_outs_callbacks_and_callback_offers_cross_the_wire_unchanged() -> None:
    base = {"event_id": "e1", "tenant_id": T, "at_ms": 5, "interaction_id": "c1",
            "causation_id": "q1"}
    for fact in (
        FlowedOut(**base, from_queue_id="a", reason="closed", target="callback",
                  to_queue_id="", waited_ms=7, prompt="p", callback_address=CALLER),
        FlowedOut(**base, from_queue_id="a", reason="max_wait", target="queue", to_queue_id="b"),
        CallbackRequested(**base, queue_id="a", callback_address=CALLER, waited_ms=3),
        Offered(**base, offer_id="o1", agent_id="a1", queue_id="a", callback_address=CALLER),
        Queued(**base, queue_id="a", estimated_wait_ms=9, callback_offered=True),
    ):
        _, event = to_event(fact, "router/test")
        assert to_fact(event) == fact


# --------------------------------------------------------------------------- configuration


TREATED = {
    "sites": [{"id": "lisbon"}],
    "tenants": [{
        "id": T, "credential": "t1.secret-of-t1",
        "queues": [
            {"id": "q", "max_wait_s": 300, "when_no_agents": True,
             "flow_out": {"queue": "overflow"}, "closed": "callback",
             "hours": {"time_zone": "Europe/Berlin", "holidays": ["2026-12-25"],
                       "open": [{"days": ["mon", "fri"], "from": "08:00", "to": "18:00"}]},
             "closed_prompt": "prompts/closed.wav", "callback_after_s": 120},
            {"id": "overflow", "max_wait_s": 60},
            {"id": "plain"},
        ],
        "agents": [],
        "entry_points": [{"address": "100", "queue": "q"}, {"address": "200", "queue": "overflow"},
                         {"address": "300", "queue": "plain"}],
    }],
}


def _with(**changes: object) -> dict[str, object]:
    tenant = dict(TREATED["tenants"][0])  # type: ignore[index]
    tenant["queues"] = [{**tenant["queues"][0], **changes}, *tenant["queues"][1:]]
    return {**TREATED, "tenants": [tenant]}


def test_the_yaml_treatment_reaches_the_router_and_crosses_the_directory_unchanged() -> None:
    config = tenancy.parse(TREATED)
    queues = routing_config(config).tenants[T].queues
    assert queues["q"].treatment == Treatment(
        max_wait_ms=300_000, when_no_agents=True, flow_out=FlowOutTarget("queue", "overflow"),
        hours=BusinessHours(
            "Europe/Berlin", (Window(("mon", "fri"), "08:00", "18:00"),), ("2026-12-25",)
        ),
        closed=FlowOutTarget("callback"), closed_prompt="prompts/closed.wav",
        callback_after_ms=120_000,
    )
    assert queues["overflow"].treatment == Treatment(max_wait_ms=60_000)
    assert queues["plain"].treatment is None  # no treatment: nothing to judge
    back = directory.to_config(directory.definitions_of(config))
    assert back.tenants[T].queues == config.tenants[T].queues
    assert directory.validate(directory.definitions_of(config), ["queue/t1/q"])[0] == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_wait_s": -1}, "max_wait_s must be >= 0"),
        ({"flow_out": "voicemail"}, "flow_out: 'voicemail' is not one of"),
        ({"flow_out": {"queue": "q"}}, "flow_out: queue 'q' is not another queue"),
        ({"closed": {"queue": "nowhere"}}, "closed: queue 'nowhere' is not another queue"),
        ({"hours": {"time_zone": "Mars/Olympus", "open": [{"days": ["mon"], "from": "08:00",
                                                          "to": "18:00"}]}},
         "unknown time_zone 'Mars/Olympus'"),
    ],
)
def test_bad_treatment_settings_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(tenancy.ConfigError, match=message.replace("(", r"\(").replace(
            "[", r"\[")):
        tenancy.parse(_with(**changes))
