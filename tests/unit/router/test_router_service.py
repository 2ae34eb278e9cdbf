"""The application layer over fakes: replay without decisions, reconcile on going live,
dedupe of the router's own facts read back, durable command acknowledgements, watchers."""

from __future__ import annotations

import itertools

import pytest
from router_world import T, make_config

from hotline_router.application.service import NotLive, RouterService, UnknownAgent
from hotline_router.domain.commands import CommandRefused
from hotline_router.domain.facts import Abandoned, AgentFact, Arrived, Fact, Offered, Queued
from hotline_router.domain.model import AgentState


class FakeClock:
    def __init__(self) -> None:
        self.now = 5_000_000

    def now_ms(self) -> int:
        return self.now


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[Fact] = []
        self.durable = 0  # how many of `published` were flushed

    def publish(self, fact: Fact) -> None:
        self.published.append(fact)

    def flush(self) -> None:
        self.durable = len(self.published)


def _service() -> tuple[RouterService, RecordingPublisher, FakeClock]:
    ids = itertools.count()
    publisher, clock = RecordingPublisher(), FakeClock()
    service = RouterService(make_config(), publisher, clock, lambda: f"e{next(ids)}")
    return service, publisher, clock


def _arrived(iid: str, at: int) -> Arrived:
    return Arrived(
        event_id=f"arr-{iid}", tenant_id=T, at_ms=at, interaction_id=iid, entry_point_id="100"
    )


def test_replay_folds_without_deciding_and_going_live_reconciles() -> None:
    service, publisher, clock = _service()
    service.on_fact(_arrived("c1", clock.now - 10_000), own_topic=False)
    assert publisher.published == []
    with pytest.raises(NotLive):
        service.log_in(T, "a1")
    service.go_live()
    assert [type(f) for f in publisher.published] == [Queued]
    assert service.queues(T)[0].waiting == 1
    # Queued on reconcile, but in the queue since it arrived: the wait counts from then.
    assert publisher.published[0].at_ms == clock.now - 10_000
    assert service.queues(T)[0].longest_wait_ms == 10_000


def test_caller_who_gave_up_before_the_router_queued_them_is_queued_then_abandoned() -> None:
    service, publisher, clock = _service()
    service.on_fact(_arrived("c1", clock.now - 10_000), own_topic=False)
    service.on_fact(
        Abandoned(
            event_id="ab-c1",
            tenant_id=T,
            at_ms=clock.now - 2_000,
            interaction_id="c1",
            waited_ms=8_000,
        ),
        own_topic=False,
    )
    service.go_live()
    assert [type(f) for f in publisher.published] == [Queued]
    assert publisher.published[0].at_ms == clock.now - 10_000
    assert service.queues(T)[0].waiting == 0


def test_commands_are_durable_before_they_are_acknowledged() -> None:
    service, publisher, _ = _service()
    service.go_live()
    view = service.log_in(T, "a1")
    assert view.state is AgentState.NOT_READY
    assert publisher.published and publisher.durable == len(publisher.published)
    service.on_fact(_arrived("c1", 1), own_topic=False)
    view = service.set_ready(T, "a1")
    assert view.state is AgentState.RESERVED  # offered at once
    assert view.interaction_id == "c1"
    assert publisher.durable == len(publisher.published)
    with pytest.raises(CommandRefused):
        service.set_not_ready(T, "a1", "break")
    with pytest.raises(UnknownAgent):
        service.log_in(T, "nobody")
    with pytest.raises(UnknownAgent):
        service.log_in("other-tenant", "a1")


def test_own_facts_read_back_are_not_applied_twice() -> None:
    service, publisher, _ = _service()
    service.go_live()
    service.log_in(T, "a1")
    service.set_ready(T, "a1")
    service.on_fact(_arrived("c1", 1), own_topic=False)
    before = repr(service.state_for_tests())
    count = len(publisher.published)
    for fact in list(publisher.published):
        service.on_fact(fact, own_topic=True)
    assert repr(service.state_for_tests()) == before
    assert len(publisher.published) == count
    assert service.stats.late_own_facts == 0


def test_restarted_service_rebuilds_from_the_log_without_a_second_offer() -> None:
    first, publisher, clock = _service()
    first.go_live()
    first.log_in(T, "a1")
    first.set_ready(T, "a1")
    first.log_in(T, "a2")
    for i in range(3):
        first.on_fact(_arrived(f"c{i}", clock.now), own_topic=False)
    ingress = [_arrived(f"c{i}", clock.now) for i in range(3)]
    log = list(publisher.published)

    second, publisher2, _ = _service()
    for fact in [*log[::-1], *ingress]:  # the worst order: the router's facts backwards
        if isinstance(fact, AgentFact):
            continue
        second.on_fact(fact, own_topic=not isinstance(fact, Arrived))
    for fact in log:
        if isinstance(fact, AgentFact):
            second.on_fact(fact, own_topic=True)
    second.go_live()
    assert publisher2.published == []  # nothing to repair, nothing to re-decide
    assert second.queues(T)[0].waiting == 3
    assert second.agent(T, "a1").state is AgentState.RESERVED
    second.set_ready(T, "a2")
    offers = [f for f in publisher2.published if isinstance(f, Offered)]
    assert [(o.interaction_id, o.agent_id) for o in offers] == [("c1", "a2")]


def test_watchers_hear_every_agent_change() -> None:
    service, _, clock = _service()
    service.go_live()
    seen: list[tuple[str, AgentState, str]] = []
    first, unsubscribe = service.watch(
        T, "a1", lambda v: seen.append(("a1", v.state, v.reason_code))
    )
    assert first.state is AgentState.LOGGED_OUT
    service.watch(T, "a2", lambda v: seen.append(("a2", v.state, v.reason_code)))
    service.log_in(T, "a1")
    service.set_ready(T, "a1")
    clock.now += 1
    service.on_fact(_arrived("c1", 1), own_topic=False)  # a1 reserved
    assert seen == [
        ("a1", AgentState.LOGGED_OUT, ""),  # logged_in fact; its state change follows
        ("a1", AgentState.NOT_READY, "logged_in"),
        ("a1", AgentState.READY, ""),
        ("a1", AgentState.RESERVED, ""),
    ]
    unsubscribe()
    service.log_in(T, "a2")
    assert seen[4:] == [
        ("a2", AgentState.LOGGED_OUT, ""),
        ("a2", AgentState.NOT_READY, "logged_in"),
    ]
    with pytest.raises(UnknownAgent):
        service.watch(T, "nobody", lambda v: None)


def test_facts_of_unknown_tenants_are_ignored() -> None:
    service, publisher, _ = _service()
    service.go_live()
    service.on_fact(
        Arrived(event_id="x", tenant_id="ghost", at_ms=1, interaction_id="i", entry_point_id="100"),
        own_topic=False,
    )
    assert publisher.published == []
    assert "ghost" not in service.state_for_tests().tenants


def test_an_ingress_with_no_liveness_is_lost_counting_from_going_live() -> None:
    """Replay folds an old arrival of an ingress-sip instance that never said it was alive;
    the service goes live (that is "last seen"), and its tick ends the call once the limit
    has passed, exactly once."""
    service, publisher, clock = _service()
    old = Arrived(
        event_id="arr-old", tenant_id=T, at_ms=clock.now - 3_600_000, interaction_id="old",
        producer="ingress-sip/gone", entry_point_id="100",
    )
    service.on_fact(old, own_topic=False)
    service.go_live()
    assert [type(f) for f in publisher.published] == [Queued]  # queued at arrival, waits
    clock.now += 25_000  # the default HOTLINE_INGRESS_LOST_AFTER_MS
    service.tick()
    assert [type(f) for f in publisher.published] == [Queued]
    clock.now += 1
    service.tick()
    service.tick()
    assert [type(f) for f in publisher.published] == [Queued, Abandoned]
    assert service.queues(T)[0].waiting == 0


def test_a_directory_change_routes_a_waiting_contact_to_an_agent_added_live() -> None:
    from dataclasses import replace

    from hotline_router.domain.facts import Offered
    from hotline_router.domain.model import AgentProfile, Skill

    service, publisher, clock = _service()
    service.go_live()
    config = service.config
    tenant = config.tenants[T]
    # Only a4 (support) exists in the smaller config: a sales contact waits.
    small = replace(
        config, tenants={T: replace(tenant, agents={"a4": tenant.agents["a4"]})}
    )
    service.reconfigure(small)
    service.on_fact(_arrived("c1", clock.now), own_topic=False)
    assert service.queues(T)[0].waiting == 1
    # The directory gains a sales agent: she logs in, is ready, and gets the contact at once.
    nina = AgentProfile("a9", "Nina", "lisbon", (Skill("sales", 5),), ("en",), "sip:a9@x")
    service.reconfigure(
        replace(small, tenants={T: replace(small.tenants[T], agents={
            **small.tenants[T].agents, "a9": nina
        })})
    )
    service.log_in(T, "a9")
    service.set_ready(T, "a9")
    offers = [f for f in publisher.published if isinstance(f, Offered)]
    assert [(o.interaction_id, o.agent_id) for o in offers] == [("c1", "a9")]
    assert publisher.durable == len(publisher.published)
