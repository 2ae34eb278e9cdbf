"""Routing speed of the router at a BPO's scale, in process: the domain and the application
(`RouterService`) with an in-memory publisher and a clock the bench controls, no broker.

Setup (one tenant): `--agents` agents (default 10,000) at `--sites` sites (5), `--queues`
queues (500), each requiring its own skill and language. Queues of the first half hold the
`--waiting` contacts (5,000); every agent able to take them is BUSY on a contact, except 1 %
of the agents, READY, whose skills are those of the second half only (they match none of the
waiting contacts: the term the issue's profile found). The state is folded as a replay of the
facts that built it (logins, answered calls, queued contacts), then the router goes live.

Stream (`--events`, default 20,000, or as many as `--seconds`, default 180, allow), in
rotation: a call completes (the agent wraps up), an agent finishes its wrap-up (FinishWrapUp:
READY, then offered the best waiting contact it can take), the offer is accepted (BUSY), a
new contact arrives (queued: no free agent can take it), and every 100 events an ingress
heartbeat; the clock moves 20 ms per event. So the number of waiting contacts and of busy
agents stays the same throughout.

Figures (bench/results/router.json):
- `decision_p50_ms` / `decision_p99_ms`: per event, from the fact in (`on_fact`) or command
  to the router's decisions out (offer, state change, queued: every fact published for it);
  the wrap-up-finish events are "agent free -> offer out" (`by_kind`).
- `decisions_per_s`: events decided per second on one core (one thread, single tenant);
  each event is one routing decision (its settle), as the issue counts them.
- `restart_seconds`: a fresh RouterService folds `--history` events (1,000,000: finished
  calls, then the setup above) as a replay, then goes live (reconcile: one settle). Building
  the facts is not counted. `replay_events_per_s` is the fold alone.
- `idle_tick_ms`: the 200 ms tick with no traffic (median of 50).
- `stream.cpu`, `restart.cpu_seconds`: the same in CPU time (of the deciding thread, of the
  process): on a shared machine the wall-clock figures include waiting for a core.
- Reference in the same run: `fold_only_us_per_event`, the cost of folding the stream's
  facts into a state with no decision (the floor of any decision).

`--quick`: 1,000 agents / 50 queues / 500 waiting / 2,000 events / 100,000 history events.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hotline_router.application.service import RouterService
from hotline_router.domain.facts import (
    AgentFact,
    AgentLoggedIn,
    AgentStateChanged,
    Arrived,
    Completed,
    Fact,
    IngressHeartbeat,
    IngressStarted,
    OfferAccepted,
    Offered,
    Queued,
    WrapUpEnded,
    WrapUpStarted,
)
from hotline_router.domain.fold import apply
from hotline_router.domain.model import (
    LOGGED_IN,
    AgentProfile,
    AgentState,
    EntryPointConfig,
    QueueConfig,
    RouterState,
    RoutingConfig,
    Skill,
    TenantConfig,
)

RESULTS = Path(__file__).resolve().parent / "results"
TENANT = "bench"
INGRESS = "ingress-sip/bench-0"
LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl")
SKILLS_PER_AGENT = 4
IDLE_SHARE = 0.01  # READY agents who match none of the waiting contacts
STEP_MS = 20  # clock advance per stream event
CALL_GAP_MS = 30_000  # an agent's calls in the history: talk, wrap-up and pause


@dataclass(frozen=True)
class Sizes:
    agents: int
    queues: int
    sites: int
    waiting: int
    events: int
    history: int


class BenchClock:
    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now


class Collect:
    """The publisher: keeps the facts of the current event (the bench reads its offers)."""

    def __init__(self) -> None:
        self.batch: list[Fact] = []

    def publish(self, fact: Fact) -> None:
        self.batch.append(fact)

    def flush(self) -> None:
        pass


def _own(fact: Fact) -> bool:
    """Written by the router (its topics), as opposed to ingress-sip's."""
    return isinstance(fact, AgentFact | Queued | Offered | WrapUpStarted | WrapUpEnded)


# ------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class Setup:
    config: RoutingConfig
    workers: list[str]  # agents able to take the waiting contacts
    idle: list[str]  # READY agents matching none of them
    skills: dict[str, tuple[int, ...]]  # agent -> queue numbers it can take
    busy_queues: int  # queues 0 .. busy_queues - 1 hold the waiting contacts


def build_setup(sizes: Sizes, rnd: random.Random) -> Setup:
    queues = {
        f"q{i}": QueueConfig(
            f"q{i}", (Skill(f"s{i}", 1),), LANGUAGES[i % len(LANGUAGES)], i % 3, 20, 15_000,
            600_000,
        )
        for i in range(sizes.queues)
    }
    entry_points = {f"ep{i}": EntryPointConfig(f"ep{i}", f"q{i}") for i in range(sizes.queues)}
    busy_queues = max(1, sizes.queues // 2)
    n_idle = max(1, int(sizes.agents * IDLE_SHARE))
    agents: dict[str, AgentProfile] = {}
    skills: dict[str, tuple[int, ...]] = {}
    workers: list[str] = []
    idle: list[str] = []
    for n in range(sizes.agents):
        aid = f"a{n}"
        is_idle = n >= sizes.agents - n_idle
        pool = range(busy_queues, sizes.queues) if is_idle else range(busy_queues)
        mine = tuple(sorted(rnd.sample(pool, min(SKILLS_PER_AGENT, len(pool)))))
        skills[aid] = mine
        agents[aid] = AgentProfile(
            aid, aid, f"site{n % sizes.sites}",
            tuple(Skill(f"s{q}", rnd.randint(1, 5)) for q in mine),
            tuple(sorted({LANGUAGES[q % len(LANGUAGES)] for q in mine})),
            f"sip:{aid}@bench",
        )
        (idle if is_idle else workers).append(aid)
    config = RoutingConfig({TENANT: TenantConfig(TENANT, queues, entry_points, agents)})
    return Setup(config, workers, idle, skills, busy_queues)


# ------------------------------------------------------------------ facts


class Facts:
    """Builds consistent facts: what ingress-sip and the router would have written."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self._ids = itertools.count()
        self.state: dict[str, AgentState] = {}

    def id(self) -> str:
        return f"e{next(self._ids)}"

    def _base(self, at_ms: int, cause: str = "") -> dict[str, Any]:
        return {"event_id": self.id(), "tenant_id": TENANT, "at_ms": at_ms, "causation_id": cause}

    def agent_state(
        self, aid: str, new: AgentState, at_ms: int, *, reason: str = "", iid: str = "",
        cause: str = "",
    ) -> AgentStateChanged:
        prev = self.state.get(aid, AgentState.LOGGED_OUT)
        self.state[aid] = new
        return AgentStateChanged(
            **self._base(at_ms, cause), agent_id=aid, state=new, previous_state=prev,
            reason_code=reason, interaction_id=iid,
        )

    def log_in(self, aid: str, at_ms: int) -> list[Fact]:
        p = self.setup.config.tenants[TENANT].agents[aid]
        logged_in = AgentLoggedIn(
            **self._base(at_ms), agent_id=aid, site_id=p.site_id, skills=p.skills,
            endpoint=p.endpoint, languages=p.languages,
        )
        return [
            logged_in,
            self.agent_state(aid, AgentState.NOT_READY, at_ms, reason=LOGGED_IN,
                             cause=logged_in.event_id),
            self.agent_state(aid, AgentState.READY, at_ms + 1),
        ]

    def arrive(self, iid: str, queue: int, at_ms: int) -> Arrived:
        return Arrived(
            **self._base(at_ms), interaction_id=iid, producer=INGRESS, entry_point_id=f"ep{queue}"
        )

    def queued(self, arrived: Arrived, queue: int) -> Queued:
        q = self.setup.config.tenants[TENANT].queues[f"q{queue}"]
        return Queued(
            **self._base(arrived.at_ms, arrived.event_id), interaction_id=arrived.interaction_id,
            queue_id=q.queue_id, priority=q.priority, required_skills=q.required_skills,
            language=q.language, service_level_threshold_s=q.service_level_threshold_s,
        )

    def answered(self, iid: str, queue: int, aid: str, at_ms: int) -> list[Fact]:
        """Arrived, queued, offered to `aid`, RESERVED, accepted, BUSY."""
        arrived = self.arrive(iid, queue, at_ms)
        queued = self.queued(arrived, queue)
        offered = Offered(
            **self._base(at_ms + 10, queued.event_id), interaction_id=iid, offer_id=self.id(),
            agent_id=aid, queue_id=queued.queue_id, endpoint=f"sip:{aid}@bench",
            ring_timeout_ms=15_000,
        )
        reserved = self.agent_state(
            aid, AgentState.RESERVED, at_ms + 10, iid=iid, cause=offered.event_id
        )
        accepted = OfferAccepted(
            **self._base(at_ms + 2_000), interaction_id=iid, offer_id=offered.offer_id,
            agent_id=aid, queue_id=queued.queue_id,
        )
        busy = self.agent_state(
            aid, AgentState.BUSY, at_ms + 2_000, iid=iid, cause=accepted.event_id
        )
        return [arrived, queued, offered, reserved, accepted, busy]

    def finished_call(self, iid: str, queue: int, aid: str, at_ms: int) -> list[Fact]:
        """A whole answered call: the six above, completed, wrap-up, READY (11 facts)."""
        facts = self.answered(iid, queue, aid, at_ms)
        completed = Completed(
            **self._base(at_ms + 20_000), interaction_id=iid, agent_id=aid, ended_by="customer",
            talk_ms=18_000,
        )
        started = WrapUpStarted(
            **self._base(at_ms + 20_000, completed.event_id), interaction_id=iid, agent_id=aid
        )
        wrap = self.agent_state(
            aid, AgentState.WRAP_UP, at_ms + 20_000, iid=iid, cause=started.event_id
        )
        ended = WrapUpEnded(
            **self._base(at_ms + 25_000), interaction_id=iid, agent_id=aid, wrap_up_ms=5_000
        )
        ready = self.agent_state(aid, AgentState.READY, at_ms + 25_000, cause=ended.event_id)
        return [*facts, completed, started, wrap, ended, ready]


def build_history(
    setup: Setup, sizes: Sizes, rnd: random.Random, history: int, start_ms: int
) -> tuple[list[Fact], int, dict[str, str], list[int]]:
    """Facts of `history` events (at least the live setup): every agent logs in, answers
    finished calls, then the workers take one call each and the waiting contacts queue.
    Returns the facts, the time after the last, each worker's current contact, and the
    queue of each waiting contact."""
    facts = Facts(setup)
    out: list[Fact] = [IngressStarted(**facts._base(start_ms), producer=INGRESS)]
    at = start_ms + 1_000
    for aid in [*setup.workers, *setup.idle]:
        out.extend(facts.log_in(aid, at))
    setup_events = len(out) + 6 * len(setup.workers) + 2 * sizes.waiting
    calls = max(0, (history - setup_events) // 11)
    at += 1_000
    # Finished calls, each worker in turn, CALL_GAP_MS apart for the same agent.
    per_round = len(setup.workers)
    for n in range(calls):
        aid = setup.workers[n % per_round]
        round_at = at + (n // per_round) * CALL_GAP_MS + (n % per_round) * CALL_GAP_MS // per_round
        out.extend(facts.finished_call(f"h{n}", rnd.choice(setup.skills[aid]), aid, round_at))
    at += (calls // per_round + 1) * CALL_GAP_MS
    current: dict[str, str] = {}
    for n, aid in enumerate(setup.workers):
        iid = f"c{n}"
        out.extend(facts.answered(iid, rnd.choice(setup.skills[aid]), aid, at))
        current[aid] = iid
    at += 3_000
    waiting: list[int] = []
    for n in range(sizes.waiting):
        queue = rnd.randrange(setup.busy_queues)
        arrived = facts.arrive(f"w{n}", queue, at + n)
        out.extend([arrived, facts.queued(arrived, queue)])
        waiting.append(queue)
    return out, at + sizes.waiting + 1_000, current, waiting


def _new_service(setup: Setup, now_ms: int) -> tuple[RouterService, BenchClock, Collect]:
    clock = BenchClock(now_ms)
    sink = Collect()
    ids = itertools.count()
    svc = RouterService(setup.config, sink, clock, lambda: f"r{next(ids)}")
    return svc, clock, sink


def _replay(svc: RouterService, facts: list[Fact]) -> None:
    for fact in facts:
        svc.on_fact(fact, own_topic=_own(fact))


# ------------------------------------------------------------------ the stream


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_stream(
    svc: RouterService, clock: BenchClock, sink: Collect, setup: Setup, sizes: Sizes,
    current: dict[str, str], rnd: random.Random, max_seconds: float,
) -> dict[str, Any]:
    facts = Facts(setup)
    facts._ids = itertools.count(10**9)
    busy: deque[tuple[str, str]] = deque(sorted(current.items()))
    wrapping: deque[tuple[str, str]] = deque()
    accepts: deque[Offered] = deque()
    latencies: dict[str, list[float]] = {}
    cpu: list[float] = []  # the same, in this thread's CPU time
    stream_facts: list[Fact] = []  # the ingress facts fed (for the fold-only reference)
    offers = 0
    published = 0
    started_at = clock.now
    kinds = ("complete", "finish_wrap_up", "accept", "arrive")
    n = 0
    step = 0  # the rotation, which heartbeats do not advance
    arrivals = itertools.count()
    busy_ns = 0
    deadline = time.monotonic() + max_seconds
    while n < sizes.events and time.monotonic() < deadline:
        if n % 100 == 99:  # besides the rotation
            kind = "heartbeat"
        else:
            kind = kinds[step % len(kinds)]
            step += 1
        clock.now += STEP_MS
        sink.batch = []
        fact: Fact | None = None
        if kind == "heartbeat":
            fact = IngressHeartbeat(
                **facts._base(clock.now), producer=INGRESS, started_at_ms=started_at - 10**7
            )
        elif kind == "complete" and busy:
            aid, iid = busy.popleft()
            fact = Completed(
                **facts._base(clock.now), interaction_id=iid, agent_id=aid, talk_ms=60_000
            )
            wrapping.append((aid, iid))
        elif kind == "finish_wrap_up" and wrapping:
            aid, iid = wrapping.popleft()
        elif kind == "accept" and accepts:
            offer = accepts.popleft()
            fact = OfferAccepted(
                **facts._base(clock.now), interaction_id=offer.interaction_id,
                offer_id=offer.offer_id, agent_id=offer.agent_id, queue_id=offer.queue_id,
            )
            busy.append((offer.agent_id, offer.interaction_id))
        else:
            kind = "arrive"
            queue = rnd.randrange(setup.busy_queues)
            fact = facts.arrive(f"s{next(arrivals)}", queue, clock.now)
        c0 = time.thread_time_ns()
        t0 = time.perf_counter_ns()
        if fact is None:
            svc.finish_wrap_up(TENANT, aid, iid, None)
        else:
            svc.on_fact(fact, own_topic=False)
        elapsed = time.perf_counter_ns() - t0
        cpu.append((time.thread_time_ns() - c0) / 1e6)
        busy_ns += elapsed
        if fact is not None:
            stream_facts.append(fact)
        latencies.setdefault(kind, []).append(elapsed / 1e6)
        published += len(sink.batch)
        for out in sink.batch:
            if isinstance(out, Offered):
                offers += 1
                accepts.append(out)
        n += 1
    every = [v for vs in latencies.values() for v in vs]
    return {
        "events": n,
        "decisions_per_s": round(n / (busy_ns / 1e9), 1),
        "decision_p50_ms": round(_pct(every, 0.50), 3),
        "decision_p99_ms": round(_pct(every, 0.99), 3),
        "decision_max_ms": round(max(every), 3),
        # CPU time of the deciding thread: what the code costs when the machine is shared.
        "cpu": {
            "decisions_per_s": round(n / (sum(cpu) / 1e3), 1),
            "decision_p50_ms": round(_pct(cpu, 0.50), 3),
            "decision_p99_ms": round(_pct(cpu, 0.99), 3),
        },
        "offers": offers,
        "offers_per_s": round(offers / (busy_ns / 1e9), 1),
        "facts_published": published,
        "by_kind": {
            k: {
                "events": len(v),
                "p50_ms": round(_pct(v, 0.50), 3),
                "p99_ms": round(_pct(v, 0.99), 3),
                "mean_ms": round(statistics.fmean(v), 3),
            }
            for k, v in sorted(latencies.items())
        },
        "_stream_facts": stream_facts,
    }


def idle_ticks(svc: RouterService, clock: BenchClock, n: int = 50) -> float:
    times = []
    for _ in range(n):
        clock.now += 200
        t0 = time.perf_counter_ns()
        svc.tick()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return round(statistics.median(times), 3)


def fold_only(history: list[Fact], stream: list[Fact]) -> float:
    """µs per stream fact folded into the setup's state with no decision (a reference)."""
    state = RouterState()
    for fact in history:
        apply(state, fact)
    t0 = time.perf_counter_ns()
    for fact in stream:
        apply(state, fact)
    return round((time.perf_counter_ns() - t0) / 1e3 / max(1, len(stream)), 2)


# ------------------------------------------------------------------ main


def _args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.router", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (a few seconds)")
    p.add_argument("--agents", type=int)
    p.add_argument("--queues", type=int)
    p.add_argument("--sites", type=int, default=5)
    p.add_argument("--waiting", type=int)
    p.add_argument("--events", type=int, help="stream events measured")
    p.add_argument("--history", type=int, help="events replayed by the restart")
    p.add_argument(
        "--seconds", type=float, default=180.0,
        help="stop the stream after this long even if fewer events were measured",
    )
    p.add_argument("--seed", type=int, default=16)
    p.add_argument("--out", type=Path, default=RESULTS / "router.json")
    p.add_argument("--profile", type=Path, help="write a cProfile of the stream here")
    return p.parse_args(argv)


def _sizes(args: argparse.Namespace) -> Sizes:
    small = args.quick
    return Sizes(
        agents=args.agents or (1_000 if small else 10_000),
        queues=args.queues or (50 if small else 500),
        sites=args.sites,
        waiting=args.waiting or (500 if small else 5_000),
        events=args.events or (2_000 if small else 20_000),
        history=args.history or (100_000 if small else 1_000_000),
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _args(argv if argv is not None else [])
    sizes = _sizes(args)
    rnd = random.Random(args.seed)
    setup = build_setup(sizes, rnd)
    start_ms = 1_800_000_000_000
    print(f"router: {asdict(sizes)}", flush=True)

    # Live: fold the setup (no finished history), go live, then the stream.
    live_history, now, current, _waiting = build_history(setup, sizes, rnd, 0, start_ms)
    svc, clock, sink = _new_service(setup, now)
    t0 = time.perf_counter()
    _replay(svc, live_history)
    svc.caught_up()
    svc.go_live()
    setup_s = time.perf_counter() - t0
    gc.freeze()  # as the router does once live (hotline_router.wiring)
    print(f"  setup: {len(live_history):,} facts folded + go live in {setup_s:.1f}s", flush=True)
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    stream = run_stream(svc, clock, sink, setup, sizes, current, rnd, args.seconds)
    if args.profile:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    stream_facts = stream.pop("_stream_facts")
    tick_ms = idle_ticks(svc, clock)
    tenant = svc.state_for_tests().tenants[TENANT]
    in_memory = len(tenant.interactions)
    waiting_end = sum(1 for it in tenant.interactions.values() if it.waiting)
    print(
        f"  stream: {stream['events']:,} events, p50 {stream['decision_p50_ms']} ms,"
        f" p99 {stream['decision_p99_ms']} ms, {stream['decisions_per_s']:,} decisions/s"
        f" (CPU: p50 {stream['cpu']['decision_p50_ms']} ms, p99 {stream['cpu']['decision_p99_ms']}"
        f" ms, {stream['cpu']['decisions_per_s']:,}/s),"
        f" {stream['offers']:,} offers; idle tick {tick_ms} ms",
        flush=True,
    )
    fold_us = fold_only(live_history, stream_facts)
    setup_facts = len(live_history)
    del svc, live_history, stream_facts
    gc.collect()

    # Restart: fold the whole history into a fresh service, then go live.
    history, now, _current, _waiting = build_history(
        setup, sizes, random.Random(args.seed + 1), sizes.history, start_ms
    )
    svc, clock, sink = _new_service(setup, now)
    c0 = time.process_time()
    t0 = time.perf_counter()
    _replay(svc, history)
    replayed_s = time.perf_counter() - t0
    svc.caught_up()
    svc.go_live()
    restart_s = time.perf_counter() - t0
    restart_cpu_s = time.process_time() - c0
    after = svc.state_for_tests().tenants[TENANT]
    print(
        f"  restart: {len(history):,} events folded in {replayed_s:.1f}s, live after"
        f" {restart_s:.1f}s ({restart_cpu_s:.1f}s CPU); in memory after:"
        f" {len(after.interactions):,} interactions",
        flush=True,
    )

    result: dict[str, Any] = {
        "decisions_per_s": stream["decisions_per_s"],
        "decision_p50_ms": stream["decision_p50_ms"],
        "decision_p99_ms": stream["decision_p99_ms"],
        "restart_seconds": round(restart_s, 2),
        "goals": {
            "decision_p99_ms": "< 1", "decisions_per_s": ">= 10000", "restart_seconds": "< 10"
        },
        "setup": {
            **asdict(sizes),
            "tenants": 1,
            "idle_agents_matching_no_waiting_contact": len(setup.idle),
            "skills_per_agent": SKILLS_PER_AGENT,
            "stream_clock_step_ms": STEP_MS,
            "setup_facts": setup_facts,
        },
        "stream": stream,
        "idle_tick_ms": tick_ms,
        "interactions_in_memory_after_stream": in_memory,
        "waiting_after_stream": waiting_end,
        "restart": {
            "history_events": len(history),
            "replay_seconds": round(replayed_s, 2),
            "cpu_seconds": round(restart_cpu_s, 2),
            "go_live_seconds": round(restart_s - replayed_s, 2),
            "replay_events_per_s": round(len(history) / replayed_s),
            "interactions_in_memory_after_go_live": len(after.interactions),
        },
        "reference": {
            "fold_only_us_per_event": fold_us,
            "meaning": "folding one stream fact into the same state, no decision (a floor)",
        },
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "note": "one thread; the machine is shared with other work: expect noise",
    }
    out: Path = args.out
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"  -> {out}", flush=True)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
