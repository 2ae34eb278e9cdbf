"""The event log's cost: produce and consume events/s on Tansu with `s3://` storage (over a
SeaweedFS started here) against Tansu with `memory://` storage, in the same run, same workload.

Both brokers run side by side in a temporary directory (hotline_cli.embedded, fresh ports); the
S3 one keeps its topics in a bucket of the object store, as the embedded stack does. The workload
is N protobuf InteractionEvents of the contract (whole voice calls: arrived, queued, offered,
offer_accepted, completed, wrap_up_started, wrap_up_ended), keyed by tenant and partitioned with
`topics.partition_for` over 12 partitions, produced with confluent-kafka configured like the
platform's EventPublisher (idempotent, no compression; linger 5 ms). Each round:

* produce: N events into a fresh topic; events/s = N / (first produce -> every delivery acked);
* consume: the platform's consumer (`bus.new_consumer`) assigned every partition from offset 0,
  reading until it has counted N records (Tansu's high-water mark is under-reported, so it is
  not trusted; its sum is recorded as `high_water_mark_sum` to show by how much).

Rounds alternate which storage goes first (the machine is shared: noise hits both alike); the
figures are the medians over rounds.

Writes bench/results/event_log.json: `s3_produce_per_s`, `memory_produce_per_s`, `ratio`
(s3 / memory, produce), `s3_consume_per_s`, `memory_consume_per_s`, `consume_ratio`, `events`,
`mean_event_bytes`, and every round.

Sizes: BENCH_EVENT_LOG_EVENTS (default 200,000) and BENCH_EVENT_LOG_ROUNDS (default 3), or
--events / --rounds. The default run takes well under a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PARTITIONS = 12
TENANTS = tuple(f"tenant-{i:02d}" for i in range(16))
BUCKET = "bench-event-log"
PRODUCER_CONFIG: dict[str, Any] = {
    # As hotline_platform.bus.EventPublisher, with batching for a bulk load.
    "enable.idempotence": True,
    "compression.type": "none",
    "linger.ms": 5,
    "batch.num.messages": 10_000,
    "queue.buffering.max.messages": 2_000_000,
    "queue.buffering.max.kbytes": 1_048_576,
}


def _events(n: int, seed: int = 11) -> list[tuple[int, bytes, bytes]]:
    """n (partition, key, value) InteractionEvents of whole calls, as the services write them."""
    from hotline.interaction.v1.events_pb2 import InteractionEvent
    from hotline_analytics.adapters.synthetic import Call, call_events
    from hotline_platform.codec import encode
    from hotline_platform.topics import partition_for

    rnd = random.Random(seed)
    start_ms = 1_793_520_000_000  # 2026-10-31T00:00Z
    out: list[tuple[int, bytes, bytes]] = []
    while len(out) < n:
        tenant = rnd.choice(TENANTS)
        call = Call(
            tenant,
            start_ms + rnd.randrange(0, 7 * 86_400_000),
            queue_id=rnd.choice(("support-en", "sales-en", "billing-de")),
            agent_id=f"{tenant}-agent-{rnd.randrange(40):02d}",
            wait_ms=rnd.randrange(1_000, 60_000),
            talk_ms=rnd.randrange(30_000, 600_000),
            wrap_up_ms=rnd.randrange(5_000, 90_000),
        ).with_id()
        key = tenant.encode()
        partition = partition_for(tenant, PARTITIONS)
        for _topic, event in call_events(call):
            if isinstance(event, InteractionEvent):
                out.append((partition, key, encode(event)))
    del out[n:]
    return out


def produce_all(
    bootstrap: str,
    client_id: str,
    records: Iterable[tuple[str, int, bytes, bytes]],
    timeout: float = 300,
) -> tuple[int, float]:
    """Produce (topic, partition, key, value) records as fast as the producer takes them;
    raise unless every one was delivered. Returns (count, seconds). Shared by the benches."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "client.id": client_id, **PRODUCER_CONFIG})
    errors: list[str] = []

    def on_delivery(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(str(err))

    produce = producer.produce
    count = 0
    started = time.monotonic()
    for topic, partition, key, value in records:
        count += 1
        while True:
            try:
                produce(topic, value, key, partition=partition, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.01)
    producer.poll(0)
    undelivered = producer.flush(timeout)
    seconds = time.monotonic() - started
    if undelivered or errors:
        raise RuntimeError(f"{client_id}: {undelivered} undelivered, errors {errors[:3]}")
    return count, seconds


def _produce(bootstrap: str, topic: str, events: list[tuple[int, bytes, bytes]]) -> dict[str, Any]:
    count, seconds = produce_all(
        bootstrap, "bench-event-log", ((topic, p, k, v) for p, k, v in events), timeout=120
    )
    return {"seconds": round(seconds, 3), "per_s": round(count / seconds)}


def _consume(bootstrap: str, topic: str, expected: int, timeout: float = 120) -> dict[str, Any]:
    from confluent_kafka import KafkaError, TopicPartition

    from hotline_platform.bus import new_consumer

    consumer = new_consumer(bootstrap, f"bench-event-log-{topic}")
    high_water = 0
    try:
        for p in range(PARTITIONS):
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, p), timeout=10, cached=False
            )
            high_water += max(high, 0)
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        count = 0
        started = time.monotonic()
        deadline = started + timeout
        while count < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{topic}: read {count} of {expected} in {timeout:.0f}s")
            for msg in consumer.consume(10_000, 0.2):
                error = msg.error()
                if error is None:
                    count += 1
                elif error.code() != KafkaError._PARTITION_EOF:
                    raise RuntimeError(f"{topic}: consume error {error}")
        seconds = time.monotonic() - started
    finally:
        consumer.close()
    return {
        "seconds": round(seconds, 3),
        "per_s": round(count / seconds),
        "records": count,
        "high_water_mark_sum": high_water,
    }


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.event_log",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--events", type=int, default=int(os.environ.get("BENCH_EVENT_LOG_EVENTS", 200_000))
    )
    p.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_EVENT_LOG_ROUNDS", 3)))
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from hotline.interaction.v1.events_pb2 import InteractionEvent
    from hotline_cli import embedded
    from hotline_platform.bus import ensure_topics
    from hotline_platform.topics import Topic

    args = _args(argv if argv is not None else [])
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-event-log-"))
    print(f"event_log: work dir {work}; generating {args.events:,} events", flush=True)
    events = _events(args.events)
    size = sum(len(v) for _, _, v in events)

    s3_port, s3_broker_port, memory_broker_port = (embedded.find_free_port() for _ in range(3))
    weed, store = embedded.start_object_store(work, s3_port, work / "weed.log")
    brokers: dict[str, Any] = {}
    rounds: list[dict[str, Any]] = []
    try:
        brokers["memory"] = embedded.start_broker(memory_broker_port, work / "memory-broker.log")
        embedded.wait_object_store_ready(
            store, (BUCKET,), timeout=60, proc=weed, log_path=work / "weed.log"
        )
        brokers["s3"] = embedded.start_broker(
            s3_broker_port, work / "s3-broker.log", store=store, bucket=BUCKET
        )
        bootstrap = {
            "memory": f"127.0.0.1:{memory_broker_port}",
            "s3": f"127.0.0.1:{s3_broker_port}",
        }
        for name, port in (("memory", memory_broker_port), ("s3", s3_broker_port)):
            embedded.wait_broker_ready(
                port, timeout=30, proc=brokers[name], log_path=work / f"{name}-broker.log"
            )
        for i in range(args.rounds):
            order = ("memory", "s3") if i % 2 == 0 else ("s3", "memory")
            result: dict[str, Any] = {}
            for storage in order:
                topic = f"bench.event-log.round-{i}"
                ensure_topics(
                    bootstrap[storage],
                    [Topic(topic, InteractionEvent, "bench", partitions=PARTITIONS)],
                )
                produced = _produce(bootstrap[storage], topic, events)
                consumed = _consume(bootstrap[storage], topic, len(events))
                result[storage] = {"produce": produced, "consume": consumed}
                print(
                    f"  round {i + 1} {storage:<6}: produce {produced['per_s']:>9,}/s"
                    f" ({produced['seconds']:.2f}s), consume {consumed['per_s']:>9,}/s"
                    f" ({consumed['seconds']:.2f}s); high-water marks sum to"
                    f" {consumed['high_water_mark_sum']:,} for {consumed['records']:,} records",
                    flush=True,
                )
            rounds.append(result)
    finally:
        for proc in brokers.values():
            embedded.stop_process(proc.pid, timeout=10)
        embedded.stop_process(weed.pid, timeout=3)  # weed ignores SIGTERM for > 20 s

    def median(storage: str, phase: str) -> int:
        return round(statistics.median(r[storage][phase]["per_s"] for r in rounds))

    result_json: dict[str, Any] = {
        "s3_produce_per_s": median("s3", "produce"),
        "memory_produce_per_s": median("memory", "produce"),
        "ratio": round(median("s3", "produce") / median("memory", "produce"), 3),
        "s3_consume_per_s": median("s3", "consume"),
        "memory_consume_per_s": median("memory", "consume"),
        "consume_ratio": round(median("s3", "consume") / median("memory", "consume"), 3),
        "events": len(events),
        "mean_event_bytes": round(size / len(events), 1),
        "partitions": PARTITIONS,
        "tenants": len(TENANTS),
        "rounds": rounds,
        "producer_config": PRODUCER_CONFIG,
        "definitions": {
            "produce_per_s": "events / (first produce -> flush returned, every delivery acked),"
            " median over rounds",
            "consume_per_s": "events / (assign from offset 0 -> the last of them counted),"
            " median over rounds",
            "ratio": "s3_produce_per_s / memory_produce_per_s",
            "consume_ratio": "s3_consume_per_s / memory_consume_per_s",
        },
        "cpus": os.cpu_count(),
        "note": "same run, same events; the machine is shared, so expect noise",
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "event_log.json"
    out.write_text(json.dumps(result_json, indent=2))
    r = result_json
    print(
        f"event_log: {r['events']:,} events of {r['mean_event_bytes']:.0f} B, median of"
        f" {len(rounds)} round(s)\n"
        f"  {'storage':<8}{'produce/s':>12}{'consume/s':>12}\n"
        f"  {'s3':<8}{r['s3_produce_per_s']:>12,}{r['s3_consume_per_s']:>12,}\n"
        f"  {'memory':<8}{r['memory_produce_per_s']:>12,}{r['memory_consume_per_s']:>12,}\n"
        f"  {'s3/mem':<8}{r['ratio']:>12.2f}{r['consume_ratio']:>12.2f}\n"
        f"  -> {out}",
        flush=True,
    )
    return result_json


if __name__ == "__main__":
    main(sys.argv[1:])
