"""Contacts whose ingress instance was lost (restarted after they arrived, or silent longer
than `ingress_lost_after_ms`) are ended by the router: a level-triggered decision over folded
state and the clock, so it holds live, after a router restart, and run twice."""

from __future__ import annotations

import random

import pytest
from router_world import T, World, interleave, rebuild

from hotline.ingress.v1.events_pb2 import IngressEvent
from hotline_platform import codec, topics
from hotline_platform.envelope import new_envelope
from hotline_router.adapters.mapping import to_event, to_fact
from hotline_router.domain.decisions import EndLostContact, decide
from hotline_router.domain.facts import (
    Abandoned,
    AgentStateChanged,
    Arrived,
    Completed,
    Fact,
    IngressHeartbeat,
    Offered,
    Queued,
    WrapUpEnded,
    WrapUpStarted,
)
from hotline_router.domain.fold import apply
from hotline_router.domain.model import INGRESS_LOST, AgentState

X = "ingress-sip/sip-0"
Y = "ingress-sip/sip-1"
LOST_AFTER = 25_000  # RoutingConfig default


def _of(facts: list[Fact], kind: type[Fact]) -> list[Fact]:
    return [f for f in facts if isinstance(f, kind)]


def _world(*producers: str) -> World:
    w = World()
    w.state.live_since_ms = w.now
    for p in producers or (X,):
        w.ingress_started(p)
    w.now += 1_000
    return w


def _states(facts: list[Fact], agent_id: str) -> list[AgentState]:
    return [f.state for f in _of(facts, AgentStateChanged) if f.agent_id == agent_id]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- restart


def test_restart_completes_a_connected_call_by_system_and_the_agent_wraps_up() -> None:
    w = _world()
    w.ready("a1")
    w.arrive("c1", producer=X)
    assert w.offered_to("c1") == ["a1"]
    w.now += 2_000
    w.accept("c1")
    answered_at = w.now
    assert w.agent_state("a1") is AgentState.BUSY
    w.now += 30_000
    out = w.ingress_started(X)  # the instance's process starts again: its calls are gone
    [completed] = _of(out, Completed)
    assert completed.ended_by == "system" and completed.agent_id == "a1"  # type: ignore[attr-defined]
    assert completed.talk_ms == w.now - answered_at  # type: ignore[attr-defined]
    assert completed.causation_id == w.liveness[-1].event_id  # the newer `started`
    assert _of(out, WrapUpStarted) and _states(out, "a1") == [AgentState.WRAP_UP]
    # The normal wrap-up policy follows: the queue's wrap-up time-out (30 s) ends it.
    out = w.tick(30_000)
    assert _of(out, WrapUpEnded) and _states(out, "a1") == [AgentState.READY]
    # And the agent can log out again.
    w.command("log_out", "a1", "end of shift")
    assert w.agent_state("a1") is AgentState.LOGGED_OUT


def test_restart_abandons_a_ringing_call_while_offered_and_frees_the_agent() -> None:
    w = _world()
    w.ready("a1")
    w.arrive("c1", producer=X)
    assert w.agent_state("a1") is AgentState.RESERVED
    w.now += 3_000
    out = w.ingress_started(X)
    [abandoned] = _of(out, Abandoned)
    assert abandoned.stage == "while_offered" and abandoned.reason == INGRESS_LOST  # type: ignore[attr-defined]
    assert abandoned.waited_ms == 3_000  # type: ignore[attr-defined]
    assert _states(out, "a1") == [AgentState.READY]
    assert not _of(out, Offered)


def test_restart_abandons_a_waiting_call_in_queue_and_it_is_never_offered_again() -> None:
    w = _world()
    w.arrive("c1", producer=X)  # no agent ready: waits in queue
    assert w.interaction("c1").waiting
    w.now += 4_000
    [abandoned] = _of(w.ingress_started(X), Abandoned)
    assert abandoned.stage == "in_queue" and abandoned.reason == INGRESS_LOST  # type: ignore[attr-defined]
    w.ready("a1", "a2")
    assert w.offers() == []
    assert w.agent_state("a1") is AgentState.READY


def test_calls_of_the_new_process_and_of_other_instances_are_kept() -> None:
    w = _world(X, Y)
    w.arrive("old", producer=X)
    w.arrive("other", producer=Y)
    w.now += 1_000
    w.ingress_started(X)
    w.now += 1_000
    w.arrive("new", producer=X)  # taken by the new process, after its start
    w.heartbeat(X, started_at_ms=w.now - 1_000)
    w.heartbeat(Y, started_at_ms=0)
    assert w.interaction("old").ended
    assert not w.interaction("new").ended and not w.interaction("other").ended


def test_a_heartbeat_naming_a_later_start_counts_as_the_restart() -> None:
    """The `started` record may be past its retention: the heartbeat's started_at says it."""
    w = World()
    w.state.live_since_ms = w.now
    w.arrive("c1", producer=X)
    w.now += 3_000
    out = w.heartbeat(X, started_at_ms=w.now - 500)
    [abandoned] = _of(out, Abandoned)
    assert abandoned.causation_id == ""  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- silence


def test_silence_longer_than_the_limit_ends_the_calls() -> None:
    w = _world()
    started_at = w.now - 1_000
    w.ready("a1")
    w.arrive("c1", producer=X)
    w.accept("c1")
    answered_at = w.now
    w.arrive("c2", producer=X)  # waits: a1 is busy
    for _ in range(10):  # alive: nothing happens
        w.now += 2_000
        assert w.heartbeat(X, started_at) == []
    last_beat = w.now
    assert w.tick(LOST_AFTER) == []  # exactly the limit: not yet
    out = w.tick(1)
    [completed] = _of(out, Completed)
    [abandoned] = _of(out, Abandoned)
    assert completed.interaction_id == "c1" and abandoned.interaction_id == "c2"
    # Talk counts to the ingress's last sign of life.
    assert completed.talk_ms == last_beat - answered_at  # type: ignore[attr-defined]
    assert abandoned.stage == "in_queue"  # type: ignore[attr-defined]
    assert _states(out, "a1") == [AgentState.WRAP_UP]


def test_an_arrival_is_a_sign_of_life() -> None:
    w = _world()
    w.now += 9_000
    w.arrive("c1", producer=X)  # 10 s after the start, no heartbeat
    assert w.tick(LOST_AFTER) == []
    assert _of(w.tick(1), Abandoned)


def test_no_liveness_record_counts_as_seen_when_the_router_went_live() -> None:
    """An older ingress (no liveness), or a contact of an instance whose records expired:
    silent since this router went live, not since the epoch."""
    w = World()
    w.arrive("c1", producer=X)  # an old log: arrived long ago, never ended
    w.now += 3_600_000
    w.state.live_since_ms = w.now  # the router goes live now
    assert w.settle() == []
    assert w.tick(LOST_AFTER) == []
    [abandoned] = _of(w.tick(1), Abandoned)
    assert abandoned.reason == INGRESS_LOST  # type: ignore[attr-defined]


def test_silence_is_judged_up_to_what_the_router_has_read_not_the_clock() -> None:
    """A router behind its topics (stalled, or on a loaded machine) has not read the
    heartbeats of the last seconds yet: it judges silence up to where it has read."""
    w = _world()
    w.arrive("c1", producer=X)
    w.state.read_up_to_ms = w.now  # the router reads nothing more for a while
    assert w.tick(LOST_AFTER + 5_000) == []
    w.state.read_up_to_ms = w.now  # caught up: still no heartbeat, so the ingress is silent
    [abandoned] = _of(w.settle(), Abandoned)
    assert abandoned.reason == INGRESS_LOST  # type: ignore[attr-defined]


def test_after_a_router_restart_every_ingress_gets_the_full_limit_again() -> None:
    w = _world()
    w.arrive("c1", producer=X)
    w.now += LOST_AFTER * 3  # the router was away, no heartbeat read meanwhile
    w.state.live_since_ms = w.now  # it comes back
    assert w.settle() == []
    assert w.tick(LOST_AFTER) == []
    assert _of(w.tick(1), Abandoned)


@pytest.mark.parametrize("producer", ["", "chat-gateway/c-0", "test/ingress"])
def test_producers_that_publish_no_liveness_are_not_judged(producer: str) -> None:
    w = World()
    w.arrive("c1", producer=producer)
    assert w.tick(10 * LOST_AFTER) == []
    assert w.interaction("c1").waiting


def test_a_contact_not_yet_queued_is_queued_at_arrival_then_abandoned() -> None:
    """The router was away when the call arrived and when the ingress died: the caller
    still counts in its queue (entered at arrival), as an abandon."""
    rebuilt = World()
    arrived = Arrived(
        event_id="arr", tenant_id=T, at_ms=rebuilt.now, interaction_id="c9", producer=X,
        entry_point_id="100",
    )
    apply(rebuilt.state, arrived)  # folded in replay: no decision yet
    rebuilt.now += 20_000
    rebuilt.state.live_since_ms = rebuilt.now
    out = rebuilt.tick(LOST_AFTER + 1)
    assert [type(f) for f in out] == [Queued, Abandoned]
    assert out[0].at_ms == arrived.at_ms and out[1].stage == "in_queue"  # type: ignore[attr-defined]


def test_a_lost_announcement_call_ends_before_queue() -> None:
    w = _world()
    w.arrive("c1", entry="999", producer=X)
    w.now += 1_000
    [abandoned] = _of(w.ingress_started(X), Abandoned)
    assert abandoned.stage == "before_queue"  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- idempotence


def _lost_history() -> World:
    w = _world(X, Y)
    w.ready("a1", "a2")
    w.arrive("talking", producer=X)
    w.accept("talking")
    w.arrive("ringing", producer=X)
    w.arrive("waiting", producer=X)  # no agent left
    w.arrive("kept", producer=Y)
    w.now += 5_000
    w.ingress_started(X)
    return w


def test_a_second_pass_publishes_nothing() -> None:
    w = _lost_history()
    ended = {f.interaction_id: type(f) for f in w.routing if isinstance(f, Abandoned | Completed)}
    assert ended == {"talking": Completed, "ringing": Abandoned, "waiting": Abandoned}
    assert decide(w.state, w.config, T, w.now) == []
    assert w.settle() == []


@pytest.mark.parametrize("seed", range(5))
def test_replay_after_a_router_restart_publishes_nothing_more(seed: int) -> None:
    w = _lost_history()
    terminal = {
        f.interaction_id  # type: ignore[attr-defined]
        for f in _of(w.routing, Abandoned) + _of(w.routing, Completed)
    }
    order = interleave([w.voice, w.routing, w.agents, w.liveness], random.Random(seed))
    fresh = rebuild(w, order)
    fresh.now += 1_000
    fresh.state.live_since_ms = fresh.now
    fresh.heartbeat(Y, started_at_ms=0)
    fresh.heartbeat(X, started_at_ms=w.liveness[-1].at_ms)
    out = fresh.settle()
    assert not [f for f in out if isinstance(f, Abandoned | Completed)]
    assert not [f for f in out if isinstance(f, Offered) and f.interaction_id in terminal]
    # Nothing that ended is offered again, ever.
    out = fresh.tick(60_000)
    assert not [f for f in out if isinstance(f, Offered) and f.interaction_id in terminal]
    assert not [
        d for d in decide(fresh.state, fresh.config, T, fresh.now) if isinstance(d, EndLostContact)
    ]


def test_no_agent_stays_busy_or_reserved_for_a_lost_call() -> None:
    w = _lost_history()
    w.tick(60_000)  # wrap-up time-outs
    tenant = w.state.tenants[T]
    for agent in tenant.agents.values():
        if agent.state in (AgentState.BUSY, AgentState.RESERVED):
            it = tenant.interactions.get(agent.interaction_id)
            assert it is not None and not it.ended and it.owner != X, agent


# --------------------------------------------------------------------------- mapping


def test_router_terminal_facts_and_liveness_round_trip_through_the_contract() -> None:
    w = _lost_history()
    for fact in _of(w.routing, Abandoned) + _of(w.routing, Completed):
        topic, event = to_event(fact, "router/r-0")
        assert topic is topics.ROUTING_INTERACTIONS
        decoded = codec.decode(topic, codec.encode(event), T.encode())
        assert to_fact(decoded) == fact
    ev = IngressEvent(envelope=new_envelope(tenant_id=T, producer=X, occurred_at_ms=42))
    ev.heartbeat.started_at_ms = 7
    ev.heartbeat.incarnation_id = "inc"
    fact = to_fact(codec.decode(topics.INGRESS_LIVENESS, codec.encode(ev), T.encode()))
    assert isinstance(fact, IngressHeartbeat)
    assert (fact.producer, fact.at_ms, fact.started_at_ms) == (X, 42, 7)
