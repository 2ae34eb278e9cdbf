"""Restart time of the embedded stack with a long history: seconds from `hotline up` to every
service healthy when the event log holds 1,000,000 events, and where that time goes.

Method (a temporary state dir, fresh ports, the demo's tenancy: two tenants, three queues, 22
agents):

1. `stack.up` once (creates the buckets, topics and ClickHouse tables), then stop its supervisor,
   the router and ingress-sip (pids from stack.json), so no live service reacts to the history
   while it is written (a live router would queue and offer the calls a second time);
2. write the history straight to the broker's topics with a confluent-kafka producer (idempotent,
   like the platform's EventPublisher), in time order: shifts of every agent (logged_in,
   NOT_READY, READY ... LOGGED_OUT, logged_out) and in them back-to-back answered calls
   (arrived, offer_accepted, completed on hotline.voice.interactions.v1 with producer
   "ingress-sip/ingress-sip-0"; queued, offered, wrap_up_started, wrap_up_ended on
   hotline.routing.interactions.v1 and RESERVED, BUSY, WRAP_UP, READY on hotline.agents.v1, built
   with the router's own mapping) plus calls abandoned in queue (arrived, queued, abandoned).
   Every call is finished and every agent logged out at the end, so nothing is re-offered;
3. wait (bounded) until the analytics sink, still running, has stored the history in ClickHouse,
   so the measured start does not compete with a backlog; `stack.down`;
4. time `stack.up` again (the figure), with fresh ports as `hotline up` would pick after a
   restart; read each process's `ready_after_s` from stack.json and the router's own log lines
   ("replay done in ...", "live: replayed N facts, W contacts waiting, P facts published");
   `stack.down`.

Writes bench/results/restart.json: `seconds` (step 4), `breakdown` (object store, broker + topics,
ClickHouse, ingress-sip, router, analytics-sink, supervisor/plan overhead = the rest),
`history_events` (written), `write_events_per_s`, and the details.

Size: BENCH_RESTART_EVENTS (default 1,000,000) or --events. The default run takes about 3-4
minutes on a 2-core machine (generating the history alone is ~1/3 of it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.event_log import produce_all

RESULTS = Path(__file__).resolve().parent / "results"
INGRESS = "ingress-sip/ingress-sip-0"
ROUTER = "router/router-0"
DAY_MS = 86_400_000
SHIFT_MS = 8 * 3_600_000
ABANDON_SHARE = 0.12  # per answered call, a call abandoned in queue this often


# ------------------------------------------------------------------ history


@dataclass(order=True)
class _Record:
    at_ms: int
    seq: int
    topic: str = field(compare=False)
    partition: int = field(compare=False)
    key: bytes = field(compare=False)
    value: bytes = field(compare=False)


class _History:
    """Builds the events of whole shifts and calls of a tenancy config, in time order."""

    def __init__(self, tenancy: Any, seed: int = 5) -> None:
        from hotline_platform import topics

        self.tenancy = tenancy
        self.rnd = random.Random(seed)
        self.records: list[_Record] = []
        self.partitions = {
            tid: topics.partition_for(tid, topics.EVENT_PARTITIONS) for tid in tenancy.tenants
        }
        self.calls = 0
        self.abandoned = 0
        self.shifts = 0
        # Per tenant: entry point (address, site) of each queue.
        self.entry: dict[tuple[str, str], tuple[str, str]] = {}
        for ep in tenancy.entry_points.values():
            if ep.kind == "queue":
                self.entry.setdefault((ep.tenant_id, ep.queue_id), (ep.address, ep.site_id))

    def _add(self, topic: Any, at_ms: int, event: Any) -> str:
        from hotline_platform.codec import encode

        tenant = event.envelope.tenant_id
        self.records.append(
            _Record(
                at_ms,
                len(self.records),
                topic.name,
                self.partitions[tenant],
                tenant.encode(),
                encode(event),
            )
        )
        return str(event.envelope.event_id)

    def _router(self, fact: Any, site: str) -> str:
        from hotline_router.adapters.mapping import to_event

        topic, event = to_event(fact, ROUTER, site)
        return self._add(topic, fact.at_ms, event)

    def _ingress(
        self, tenant: str, iid: str, at_ms: int, cause: str, site: str, agent: str = ""
    ) -> Any:
        from hotline.interaction.v1.events_pb2 import InteractionEvent
        from hotline_platform.envelope import new_envelope

        return InteractionEvent(
            envelope=new_envelope(
                tenant_id=tenant,
                producer=INGRESS,
                interaction_id=iid,
                agent_id=agent,
                occurred_at_ms=at_ms,
                causation_id=cause,
                site_id=site,
            )
        )

    def _arrive_and_queue(self, queue: Any, iid: str, at_ms: int) -> tuple[str, str]:
        from hotline.common.v1.envelope_pb2 import CHANNEL_VOICE, DIRECTION_INBOUND
        from hotline.interaction.v1.events_pb2 import IDENTITY_KIND_PHONE
        from hotline_platform import topics
        from hotline_router.domain import facts
        from hotline_router.domain.model import Skill

        tenant = queue.tenant_id
        address, site = self.entry[(tenant, queue.id)]
        caller = f"+3519{self.rnd.randrange(10**8):08d}"
        event = self._ingress(tenant, iid, at_ms, "", site)
        arrived = event.arrived
        arrived.channel = CHANNEL_VOICE
        arrived.direction = DIRECTION_INBOUND
        arrived.from_address = f"sip:{caller}@198.51.100.7"
        arrived.to_address = f"sip:{address}@hotline"
        arrived.entry_point_id = address
        arrived.session_ref = f"{iid}@198.51.100.7"
        arrived.identity_hints.add(kind=IDENTITY_KIND_PHONE, value=caller)
        arrived_id = self._add(topics.VOICE_INTERACTIONS, at_ms, event)
        queued_id = self._router(
            facts.Queued(
                event_id=str(uuid.uuid4()),
                tenant_id=tenant,
                at_ms=at_ms + 35,
                causation_id=arrived_id,
                interaction_id=iid,
                queue_id=queue.id,
                priority=queue.priority,
                required_skills=tuple(Skill(s.name, s.level) for s in queue.required_skills),
                language=queue.language,
                service_level_threshold_s=queue.service_level_threshold_s,
            ),
            site,
        )
        return queued_id, site

    def _abandoned_call(self, queue: Any, at_ms: int) -> None:
        from hotline.interaction.v1.events_pb2 import InteractionAbandoned
        from hotline_platform import topics

        iid = str(uuid.uuid4())
        queued_id, site = self._arrive_and_queue(queue, iid, at_ms)
        waited = self.rnd.randrange(2_000, 90_000)
        event = self._ingress(queue.tenant_id, iid, at_ms + waited, queued_id, site)
        event.abandoned.stage = InteractionAbandoned.STAGE_IN_QUEUE
        event.abandoned.waited_ms = waited
        event.abandoned.reason = "caller hung up"
        self._add(topics.VOICE_INTERACTIONS, at_ms + waited, event)
        self.abandoned += 1

    def _state(
        self,
        agent: Any,
        at_ms: int,
        state: Any,
        previous: Any,
        since: int,
        cause: str = "",
        iid: str = "",
        reason: str = "",
    ) -> str:
        from hotline_router.domain import facts

        return self._router(
            facts.AgentStateChanged(
                event_id=str(uuid.uuid4()),
                tenant_id=agent.tenant_id,
                at_ms=at_ms,
                causation_id=cause,
                agent_id=agent.id,
                state=state,
                previous_state=previous,
                reason_code=reason,
                previous_state_ms=max(0, at_ms - since),
                interaction_id=iid,
            ),
            agent.site_id,
        )

    def answered_call(self, agent: Any, queue: Any, ready_at: int) -> int:
        """One call answered by `agent` (READY since `ready_at`); returns when it is READY again."""
        from hotline.interaction.v1.events_pb2 import InteractionCompleted
        from hotline_platform import topics
        from hotline_router.domain import facts
        from hotline_router.domain.model import AgentState as S

        rnd, tenant, site = self.rnd, agent.tenant_id, agent.site_id
        iid, offer_id = str(uuid.uuid4()), str(uuid.uuid4())
        offer_at = ready_at + rnd.randrange(0, 60_000)  # idle before the next call
        arrived_at = offer_at - 35 - rnd.randrange(0, 30_000)  # waited in queue
        queued_id, ep_site = self._arrive_and_queue(queue, iid, arrived_at)
        offered_id = self._router(
            facts.Offered(
                event_id=str(uuid.uuid4()),
                tenant_id=tenant,
                at_ms=offer_at,
                causation_id=queued_id,
                interaction_id=iid,
                offer_id=offer_id,
                agent_id=agent.id,
                queue_id=queue.id,
                endpoint=agent.phone,
                ring_timeout_ms=round(queue.ring_timeout_s * 1000),
                attempt=1,
            ),
            site,
        )
        self._state(agent, offer_at, S.RESERVED, S.READY, ready_at, offered_id, iid)
        answer_at = offer_at + rnd.randrange(1_500, 8_000)
        event = self._ingress(tenant, iid, answer_at, offered_id, ep_site, agent.id)
        acc = event.offer_accepted
        acc.offer_id, acc.agent_id, acc.queue_id = offer_id, agent.id, queue.id
        acc.since_arrival_ms = answer_at - arrived_at
        accepted_id = self._add(topics.VOICE_INTERACTIONS, answer_at, event)
        self._state(agent, answer_at, S.BUSY, S.RESERVED, offer_at, accepted_id, iid)
        talk = int(rnd.expovariate(1 / 180_000)) + 20_000
        end_at = answer_at + talk
        event = self._ingress(tenant, iid, end_at, accepted_id, ep_site, agent.id)
        done = event.completed
        done.ended_by = rnd.choice(
            (InteractionCompleted.ENDED_BY_CUSTOMER, InteractionCompleted.ENDED_BY_AGENT)
        )
        done.agent_id, done.talk_ms = agent.id, talk
        completed_id = self._add(topics.VOICE_INTERACTIONS, end_at, event)
        wrap_at = end_at + 3
        self._router(
            facts.WrapUpStarted(
                event_id=str(uuid.uuid4()),
                tenant_id=tenant,
                at_ms=wrap_at,
                causation_id=completed_id,
                interaction_id=iid,
                agent_id=agent.id,
            ),
            site,
        )
        self._state(agent, wrap_at, S.WRAP_UP, S.BUSY, answer_at, completed_id, iid)
        wrap_ms = rnd.randrange(5_000, 90_000)
        ended_at = wrap_at + wrap_ms
        ended_id = self._router(
            facts.WrapUpEnded(
                event_id=str(uuid.uuid4()),
                tenant_id=tenant,
                at_ms=ended_at,
                interaction_id=iid,
                agent_id=agent.id,
                wrap_up_ms=wrap_ms,
                disposition=facts.Disposition(
                    rnd.choice(("resolved", "callback", "escalated")), rnd.random() < 0.8
                ),
            ),
            site,
        )
        self._state(agent, ended_at, S.READY, S.WRAP_UP, wrap_at, ended_id)
        self.calls += 1
        if rnd.random() < ABANDON_SHARE:
            self._abandoned_call(queue, arrived_at + rnd.randrange(-60_000, 60_000))
        return ended_at

    def shift(self, agent: Any, queues: list[Any], start_ms: int, budget: int) -> None:
        """One shift of `agent`: log in, calls until the shift ends (or `budget` events), log
        out."""
        from hotline_router.domain import facts
        from hotline_router.domain.model import LOGGED_IN, Skill
        from hotline_router.domain.model import AgentState as S

        login_id = self._router(
            facts.AgentLoggedIn(
                event_id=str(uuid.uuid4()),
                tenant_id=agent.tenant_id,
                at_ms=start_ms,
                agent_id=agent.id,
                site_id=agent.site_id,
                skills=tuple(Skill(s.name, s.level) for s in agent.skills),
                endpoint=agent.phone,
                languages=agent.languages,
            ),
            agent.site_id,
        )
        self._state(
            agent, start_ms, S.NOT_READY, S.LOGGED_OUT, start_ms, login_id, reason=LOGGED_IN
        )
        ready_at = start_ms + self.rnd.randrange(5_000, 120_000)
        self._state(agent, ready_at, S.READY, S.NOT_READY, start_ms)
        while ready_at < start_ms + SHIFT_MS and len(self.records) < budget:
            ready_at = self.answered_call(agent, self.rnd.choice(queues), ready_at)
        out_at = ready_at + self.rnd.randrange(1_000, 30_000)
        out_id = self._state(agent, out_at, S.LOGGED_OUT, S.READY, ready_at, reason="end_of_shift")
        self._router(
            facts.AgentLoggedOut(
                event_id=str(uuid.uuid4()),
                tenant_id=agent.tenant_id,
                at_ms=out_at,
                causation_id=out_id,
                agent_id=agent.id,
                reason="end_of_shift",
                session_ms=out_at - start_ms,
            ),
            agent.site_id,
        )
        self.shifts += 1

    def build(self, target: int, end_ms: int) -> list[_Record]:
        """Shifts of every agent, day after day, until `target` events; ends before `end_ms`."""
        staffed = []
        for tenant in self.tenancy.tenants.values():
            for agent in tenant.agents.values():
                queues = [
                    q
                    for q in tenant.queues.values()
                    if _can_take(agent, q) and (tenant.id, q.id) in self.entry
                ]
                if queues:
                    staffed.append((agent, queues))
        if not staffed:
            raise RuntimeError("the tenancy config has no agent able to take a queue's calls")
        per_day = len(staffed) * 900  # events of one 8 h shift, at least
        days = max(1, -(-target // per_day) + 1)
        day0 = (end_ms // DAY_MS - days) * DAY_MS
        day = 0
        while len(self.records) < target:
            start = day0 + day * DAY_MS + 8 * 3_600_000
            if start + SHIFT_MS + 3_600_000 > end_ms:
                break  # never write the future
            for agent, queues in staffed:
                if len(self.records) >= target:
                    break
                self.shift(agent, queues, start + self.rnd.randrange(0, 1_800_000), target)
            day += 1
        self.records.sort()
        return self.records


def _can_take(agent: Any, queue: Any) -> bool:
    levels = {s.name: s.level for s in agent.skills}
    return all(levels.get(s.name, -1) >= s.level for s in queue.required_skills)


def _produce(bootstrap: str, records: list[_Record]) -> dict[str, Any]:
    count, seconds = produce_all(
        bootstrap,
        "bench-restart-history",
        ((r.topic, r.partition, r.key, r.value) for r in records),
    )
    return {"seconds": round(seconds, 2), "events_per_s": round(count / seconds)}


# ------------------------------------------------------------------ stack


def _settings(state_dir: Path, config: Path) -> Any:
    from hotline_cli import embedded, stack

    ports = {
        name: embedded.find_free_port()
        for name in (
            "object_store_port", "broker_port", "clickhouse_tcp_port", "clickhouse_http_port",
            "sip_port", "ingress_sip_grpc_port", "router_grpc_port", "analytics_grpc_port",
            "ingress_sip_metrics_port", "router_metrics_port", "analytics_metrics_port",
        )
    }  # fmt: skip
    settings = stack.StackSettings(state_dir=state_dir, config_path=config, start_timeout_s=1_800)
    return settings.model_copy(update=ports)


def _stop(pid: int, started: str, timeout: float = 15) -> None:
    from hotline_cli import embedded, stack

    if pid and stack.pid_alive(pid) and stack.start_time(pid) == started:
        embedded.stop_process(pid, timeout=timeout)


def _events_stored(state: Any) -> int:
    from clickhouse_driver import Client

    client = Client("127.0.0.1", port=state.clickhouse_tcp_port)
    try:
        return int(client.execute("SELECT count() FROM hotline.events")[0][0])
    except Exception:  # noqa: BLE001 (the table may not exist yet)
        return 0
    finally:
        client.disconnect()


def _router_log(path: Path, offset: int) -> dict[str, Any]:
    """What the router said about its replay, after `offset` in its log."""
    text = path.read_bytes()[offset:].decode(errors="replace")
    out: dict[str, Any] = {}
    if m := re.search(r"replay done in ([0-9.]+)s", text):
        out["replay_seconds"] = float(m.group(1))
    if m := re.search(
        r"live: replayed (\d+) facts, (\d+) contacts waiting, (\d+) facts published", text
    ):
        out["replayed_facts"] = int(m.group(1))
        out["contacts_waiting"] = int(m.group(2))
        out["facts_published_in_reconcile"] = int(m.group(3))
    out["errors_logged"] = len(re.findall(r" (ERROR|CRITICAL) ", text))
    return out


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.restart",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--events", type=int, default=int(os.environ.get("BENCH_RESTART_EVENTS", 1_000_000))
    )
    p.add_argument(
        "--sink-wait",
        type=float,
        default=300.0,
        help="seconds to wait for the analytics sink to store the history",
    )
    return p.parse_args(argv)


def _say(text: str) -> None:
    print(f"  {text.strip()}", flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import yaml

    from hotline_cli import stack
    from hotline_cli.demo import DemoOptions, build_plan
    from hotline_platform import tenancy

    args = _args(argv if argv is not None else [])
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-restart-"))
    config = work / "tenancy.yaml"
    config.write_text(yaml.safe_dump(build_plan(DemoOptions()).config, sort_keys=False))
    print(f"restart: work dir {work}; demo tenancy ({config})", flush=True)

    t0 = time.monotonic()
    history = _History(tenancy.load(config))
    records = history.build(args.events, int(time.time() * 1000) - DAY_MS)
    generated_s = time.monotonic() - t0
    size = sum(len(r.value) for r in records)
    per_topic: dict[str, int] = {}
    for r in records:
        per_topic[r.topic] = per_topic.get(r.topic, 0) + 1
    print(
        f"  history: {len(records):,} events ({size / 1e6:.0f} MB) of {history.calls:,} answered"
        f" and {history.abandoned:,} abandoned calls in {history.shifts:,} shifts, built in"
        f" {generated_s:.1f}s",
        flush=True,
    )

    state_dir = work / "state"
    settings = _settings(state_dir, config)
    first_up_s = 0.0
    written: dict[str, Any] = {}
    sink: dict[str, Any] = {}
    try:
        started = time.monotonic()
        state = stack.up(settings, say=_say)
        first_up_s = time.monotonic() - started
        print(f"  first up (empty log): {first_up_s:.1f}s", flush=True)
        _stop(state.supervisor_pid, state.supervisor_started)
        for name in ("router", "ingress-sip"):
            proc = state.process(name)
            _stop(proc.pid, proc.started)
        base = _events_stored(state)
        written = _produce(state.broker, records)
        print(
            f"  wrote {len(records):,} events in {written['seconds']:.1f}s"
            f" ({written['events_per_s']:,}/s) to the broker on s3:// storage",
            flush=True,
        )
        started = time.monotonic()
        stored = base
        while time.monotonic() - started < args.sink_wait:
            stored = _events_stored(state)
            if stored - base >= len(records):
                break
            time.sleep(1)
        sink = {
            "stored": stored - base,
            "seconds": round(time.monotonic() - started, 1),
            "caught_up": stored - base >= len(records),
        }
        print(
            f"  analytics sink: {sink['stored']:,} of {len(records):,} events in ClickHouse"
            f" {sink['seconds']:.0f}s after the write",
            flush=True,
        )
    finally:
        stack.down(settings, say=_say)

    settings = _settings(state_dir, config)  # fresh ports, as `up` picks after a restart
    router_log = state_dir.resolve() / "logs" / "router.log"
    log_offset = router_log.stat().st_size if router_log.exists() else 0
    try:
        started = time.monotonic()
        state = stack.up(settings, say=_say)
        seconds = time.monotonic() - started
        router = _router_log(router_log, log_offset)
    finally:
        started = time.monotonic()
        stack.down(settings, say=_say)
        down_s = time.monotonic() - started

    ready = {p.name: p.ready_after_s for p in state.processes}
    breakdown = {
        "object_store": ready.get("object-store", 0.0),
        "broker_and_topics": ready.get("broker", 0.0),
        "clickhouse": ready.get("clickhouse", 0.0),
        "ingress_sip": ready.get("ingress-sip", 0.0),
        "router": ready.get("router", 0.0),
        "analytics_sink": ready.get("analytics-sink", 0.0),
    }
    breakdown["supervisor_and_plan"] = round(seconds - sum(breakdown.values()), 3)
    result: dict[str, Any] = {
        "seconds": round(seconds, 2),
        "breakdown": breakdown,
        "history_events": len(records),
        "history_events_requested": args.events,
        "history_mean_event_bytes": round(size / len(records), 1),
        "history_per_topic": per_topic,
        "history_calls": {"answered": history.calls, "abandoned_in_queue": history.abandoned},
        "history_shifts": history.shifts,
        "history_generated_seconds": round(generated_s, 1),
        "write_seconds": written["seconds"],
        "write_events_per_s": written["events_per_s"],
        "router": router,
        "analytics_sink_before_restart": sink,
        "first_up_seconds_empty_log": round(first_up_s, 2),
        "down_seconds_after": round(down_s, 2),
        "tenancy": "hotline_cli.demo.build_plan (2 tenants, 3 queues, 22 agents)",
        "definitions": {
            "seconds": "stack.up wall time, from the call to every process ready (services:"
            " gRPC health SERVING), with the history in the broker's s3:// log",
            "breakdown": "ready_after_s of each process from stack.json (its start to serving;"
            " they start one after the other); supervisor_and_plan is the rest",
        },
        "cpus": os.cpu_count(),
        "note": "the machine is shared with other work: expect noise",
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "restart.json"
    out.write_text(json.dumps(result, indent=2))
    lines = [f"    {k:<22}{v:>8.2f}s" for k, v in breakdown.items()]
    print(
        f"restart: `up` with {len(records):,} events of history -> {seconds:.1f}s\n"
        + "\n".join(lines)
        + f"\n  router: {router}\n  -> {out}",
        flush=True,
    )
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
