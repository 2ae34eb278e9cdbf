"""Analytics-sink throughput: contract events from Kafka to rows in ClickHouse, per second.

Starts its own Tansu broker and ClickHouse server (hotline_cli.embedded, fresh ports) and the
sink as its own process (`python -m hotline_analytics`, as in Kubernetes). A separate producer
process publishes protobuf events of whole voice-call lifecycles (arrived, queued, offered,
accepted, completed, wrap-up, agent state changes; answered, abandoned, short-abandoned,
contained and re-offered calls across four tenants) with confluent-kafka, keyed and partitioned
by tenant like the services do. The events are clones of 84 calls built with the contract
classes, each clone with fresh interaction, event and offer ids (so every event is stored; their
timestamps repeat). Two phases:

1. capacity: N events produced as fast as the producer can; events/s = N / (time the last row is
   visible in ClickHouse - time of the first produce). This is the sink's sustained throughput
   (the producer is several times faster, so the sink is the bottleneck throughout).
2. paced: M events produced at a steady rate (default 50,000/s, the goal); the figure that
   matters is the lag at the end: seconds between the last produce and the last row visible.

Writes bench/results/event_throughput.json: `events_per_second` (phase 1),
`final_lag_seconds` (phase 2), and the details of both phases.

Sizes: BENCH_EVENTS (phase 1, default 1,500,000), BENCH_EVENTS_PACED (phase 2, default
1,500,000), BENCH_EVENTS_RATE (phase 2 rate, default 50,000; 0 skips phase 2), or the flags
--events / --paced-events / --rate. The default run takes about 1.5 minutes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_EVENTS_PER_S = 50_000
GOAL_LAG_S = 5.0
DATABASE = "hotline_bench"
TENANTS = ("acme", "haier-europe", "globex", "initech-bpo")

_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


# ------------------------------------------------------------------ producer (own process)


@dataclass
class _TemplateEvent:
    topic: str
    partition: int
    key: bytes
    payload: bytes
    uuids: tuple[int, ...]  # indices into the call's uuid list that occur in the payload


def _templates() -> list[tuple[list[_TemplateEvent], list[bytes]]]:
    """Whole calls built with the contract classes; each is cloned with fresh ids below."""
    from hotline_analytics.adapters.synthetic import Call, CallEnd, call_events
    from hotline_platform.codec import encode
    from hotline_platform.topics import partition_for

    rnd = random.Random(7)
    day = 1_793_520_000_000  # 2026-10-31T00:00Z
    shapes: list[dict[str, Any]] = [
        {"end": CallEnd.ANSWERED},
        {"end": CallEnd.ANSWERED, "rejected_offers": 1},
        {"end": CallEnd.ANSWERED, "hold_ms": 20_000},
        {"end": CallEnd.ABANDONED, "wait_ms": 45_000},
        {"end": CallEnd.ABANDONED, "wait_ms": 2_000},  # a short abandon
        {"end": CallEnd.ABANDONED_WHILE_OFFERED, "wait_ms": 15_000},
        {"end": CallEnd.CONTAINED, "talk_ms": 30_000},
    ]
    out = []
    for tenant in TENANTS:
        for shape in shapes:
            for _ in range(3):
                base = Call(
                    tenant,
                    day + rnd.randrange(0, 2 * 86_400_000),
                    queue_id=rnd.choice(("support", "sales", "billing")),
                    agent_id=f"{tenant}-agent-{rnd.randrange(40)}",
                    wait_ms=rnd.randrange(1_000, 60_000),
                    talk_ms=rnd.randrange(30_000, 600_000),
                    wrap_up_ms=rnd.randrange(5_000, 90_000),
                )
                call = replace(base, **shape).with_id()
                events = [(t, encode(e)) for t, e in call_events(call)]
                uuids = sorted({u for _, payload in events for u in _UUID.findall(payload)})
                out.append(
                    (
                        [
                            _TemplateEvent(
                                t.name,
                                partition_for(tenant, t.partitions),
                                tenant.encode(),
                                payload,
                                tuple(i for i, u in enumerate(uuids) if u in payload),
                            )
                            for t, payload in events
                        ],
                        uuids,
                    )
                )
    return out


def _generate(n: int, seed: int) -> list[tuple[str, int, bytes, bytes]]:
    """n events: clones of the template calls with fresh interaction, event and offer ids."""
    templates = _templates()
    prefix = f"{random.Random(seed).getrandbits(32):08x}-{seed & 0xFFFF:04x}-4000-8000-"
    out: list[tuple[str, int, bytes, bytes]] = []
    counter = 0
    while len(out) < n:
        for events, uuids in templates:
            fresh = [f"{prefix}{counter + i:012x}".encode() for i in range(len(uuids))]
            counter += len(uuids)
            for ev in events:
                payload = ev.payload
                for i in ev.uuids:
                    payload = payload.replace(uuids[i], fresh[i])
                out.append((ev.topic, ev.partition, ev.key, payload))
            if len(out) >= n:
                break
    del out[n:]
    return out


def _producer_main(bootstrap: str, conn: Connection) -> None:
    """Child process: ("generate", n, seed) -> "ready"; ("go", rate) -> timings."""
    from confluent_kafka import Producer

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": "bench-producer",
            "enable.idempotence": True,
            "linger.ms": 5,
            "batch.num.messages": 10_000,
            "batch.size": 1_000_000,
            "queue.buffering.max.messages": 2_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
            "compression.type": "none",
        }
    )
    errors: list[str] = []

    def on_delivery(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(str(err))

    events: list[tuple[str, int, bytes, bytes]] = []
    while True:
        command = conn.recv()
        if command[0] == "generate":
            events = _generate(command[1], command[2])
            conn.send(("ready", len(events), sum(len(e[3]) for e in events)))
        elif command[0] == "go":
            rate = command[1]
            produce = producer.produce
            first = time.time()
            t0 = time.monotonic()
            sent = 0
            total = len(events)
            while sent < total:
                if rate:
                    due = min(total, int((time.monotonic() - t0) * rate) + 1)
                    if due <= sent:
                        time.sleep(0.002)
                        continue
                else:
                    due = total
                while sent < due:
                    topic, partition, key, payload = events[sent]
                    try:
                        produce(topic, payload, key, partition=partition, on_delivery=on_delivery)
                        sent += 1
                    except BufferError:
                        producer.poll(0.01)
                producer.poll(0)
            last_produced = time.time()
            remaining = producer.flush(60)
            conn.send(
                {
                    "first_produce": first,
                    "last_produce": last_produced,
                    "all_acked": time.time(),
                    "undelivered": remaining,
                    "errors": errors[:5],
                }
            )
            events = []
        else:
            return


# ------------------------------------------------------------------ harness


def _count(client: Any) -> int:
    return int(client.execute(f"SELECT count() FROM {DATABASE}.events")[0][0])


def _run_phase(
    name: str,
    conn: Connection,
    client: Any,
    n: int,
    rate: int,
    seed: int,
    sink: subprocess.Popen[bytes],
) -> dict[str, Any]:
    conn.send(("generate", n, seed))
    _, generated, size = conn.recv()
    base = _count(client)
    target = base + generated
    conn.send(("go", rate))
    started = time.time()
    timeline: dict[str, list[float]] = {"seconds": [], "rows": []}
    last_sample = 0.0
    timing: dict[str, Any] | None = None
    visible_at = None
    deadline = started + max(120.0, 5 * n / GOAL_EVENTS_PER_S)
    while time.time() < deadline:
        if sink.poll() is not None:
            raise RuntimeError(f"the sink exited with code {sink.returncode}")
        if timing is None and conn.poll():
            timing = conn.recv()
        rows = _count(client)
        now = time.time()
        if now - last_sample >= 1.0:
            timeline["seconds"].append(round(now - started, 2))
            timeline["rows"].append(rows - base)
            last_sample = now
        if rows >= target:
            visible_at = now
            break
        time.sleep(0.05)
    if timing is None:
        timing = conn.recv()
    if visible_at is None:
        raise RuntimeError(f"{name}: only {_count(client) - base} of {generated} rows arrived")
    first, last = timing["first_produce"], timing["last_produce"]
    elapsed = visible_at - first
    result = {
        "events": generated,
        "mean_event_bytes": round(size / generated, 1),
        "target_rate": rate or "unpaced",
        "produce_seconds": round(last - first, 3),
        "producer_events_per_second": round(generated / max(last - first, 1e-9)),
        "end_to_end_seconds": round(elapsed, 3),
        "events_per_second": round(generated / elapsed),
        "final_lag_seconds": round(max(visible_at - last, 0.0), 3),
        "undelivered": timing["undelivered"],
        "delivery_errors": timing["errors"],
        "rows_visible_timeline": timeline,
    }
    print(
        f"  {name}: {generated:,} events in {elapsed:.1f}s ->"
        f" {result['events_per_second']:,} events/s"
        f" (producer {result['producer_events_per_second']:,}/s), lag at end"
        f" {result['final_lag_seconds']:.2f}s",
        flush=True,
    )
    return result


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.event_throughput", description=__doc__)
    p.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", 1_500_000)))
    p.add_argument(
        "--paced-events", type=int, default=int(os.environ.get("BENCH_EVENTS_PACED", 1_500_000))
    )
    p.add_argument("--rate", type=int, default=int(os.environ.get("BENCH_EVENTS_RATE", 50_000)))
    p.add_argument("--batch-size", type=int, default=None, help="sink batch size override")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from clickhouse_driver import Client

    from hotline_cli import embedded
    from hotline_platform.bus import ensure_topics
    from hotline_platform.grpc_server import is_serving

    args = _args(argv if argv is not None else [])
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-events-"))
    broker_port, tcp_port, http_port, grpc_port = (embedded.find_free_port() for _ in range(4))
    print(f"event_throughput: work dir {work}", flush=True)
    broker = embedded.start_broker(broker_port, work / "broker.log")
    clickhouse = embedded.start_clickhouse(work / "clickhouse", tcp_port, http_port)
    sink: subprocess.Popen[bytes] | None = None
    producer: Any = None
    conn: Connection | None = None
    client: Any = None
    phases: dict[str, Any] = {}
    try:
        embedded.wait_broker_ready(broker_port, timeout=30, proc=broker)
        embedded.wait_clickhouse_ready(tcp_port, timeout=60, proc=clickhouse)
        bootstrap = f"127.0.0.1:{broker_port}"
        ensure_topics(bootstrap)

        # The producer process builds its events while the sink starts.
        ctx = mp.get_context("spawn")
        conn, child_conn = ctx.Pipe()
        producer = ctx.Process(target=_producer_main, args=(bootstrap, child_conn), daemon=True)
        producer.start()

        env = dict(os.environ)
        env.update(
            HOTLINE_KAFKA_BOOTSTRAP=bootstrap,
            HOTLINE_CLICKHOUSE_HOST="127.0.0.1",
            HOTLINE_CLICKHOUSE_PORT=str(tcp_port),
            HOTLINE_CLICKHOUSE_DATABASE=DATABASE,
            HOTLINE_GRPC_PORT=str(grpc_port),
            HOTLINE_INSTANCE_ID="bench-sink",
            HOTLINE_LOG_LEVEL="WARNING",
        )
        if args.batch_size:
            env["HOTLINE_BATCH_SIZE"] = str(args.batch_size)
        with open(work / "sink.log", "wb") as log:
            sink = subprocess.Popen(
                [sys.executable, "-m", "hotline_analytics"], env=env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while not is_serving(f"127.0.0.1:{grpc_port}"):
            if time.monotonic() > deadline or sink.poll() is not None:
                raise RuntimeError(f"the sink did not start; see {work / 'sink.log'}")
            time.sleep(0.2)
        client = Client("127.0.0.1", port=tcp_port)

        # Warm-up: one small batch end to end (the consumer has joined its group after this).
        phases["warm_up"] = _run_phase("warm-up", conn, client, 5_000, 0, 1, sink)
        phases["capacity"] = _run_phase("capacity (unpaced)", conn, client, args.events, 0, 2, sink)
        if args.rate and args.paced_events:
            phases["paced"] = _run_phase(
                f"paced at {args.rate:,}/s", conn, client, args.paced_events, args.rate, 3, sink
            )
        distinct = int(client.execute(f"SELECT count() FROM {DATABASE}.events FINAL")[0][0])
        interactions = int(
            client.execute(f"SELECT uniqExact(interaction_id) FROM {DATABASE}.interactions")[0][0]
        )
    finally:
        if conn is not None:
            conn.send(("quit",))
        if producer is not None:
            producer.join(10)
        if client is not None:
            client.disconnect()
        if sink is not None:
            embedded.stop_process(sink.pid, timeout=20)
        embedded.stop_process(clickhouse.pid, timeout=20)
        embedded.stop_process(broker.pid, timeout=10)

    capacity = phases["capacity"]
    paced = phases.get("paced")
    result: dict[str, Any] = {
        "events_per_second": capacity["events_per_second"],
        "final_lag_seconds": (paced or capacity)["final_lag_seconds"],
        "goal": {"events_per_second": GOAL_EVENTS_PER_S, "final_lag_seconds": GOAL_LAG_S},
        "meets_goal": capacity["events_per_second"] >= GOAL_EVENTS_PER_S
        and (paced or capacity)["final_lag_seconds"] < GOAL_LAG_S,
        "definitions": {
            "events_per_second": "capacity phase: events / (last row visible in ClickHouse"
            " - first produce), producer unpaced",
            "final_lag_seconds": "paced phase: last row visible - last produce"
            if paced
            else "capacity phase: last row visible - last produce",
        },
        "distinct_events_stored": distinct,
        "interactions_stored": interactions,
        "cpus": os.cpu_count(),
        "phases": phases,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "event_throughput.json"
    out.write_text(json.dumps(result, indent=2))
    print(
        f"event_throughput: {result['events_per_second']:,} events/s, final lag"
        f" {result['final_lag_seconds']:.2f}s (goal >= {GOAL_EVENTS_PER_S:,}/s, < {GOAL_LAG_S:g}s)"
        f" -> {out}",
        flush=True,
    )
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
