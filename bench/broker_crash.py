"""Does the embedded broker keep what it acknowledged when it is SIGKILLed?

Method: SeaweedFS and Tansu on its s3 engine (as `hotline up` runs them); one EventPublisher
(the services' producer: idempotent, delivery reports) publishes InteractionEvents at a steady
rate to a 4-partition topic; every few seconds the broker is SIGKILLed and started again at once
on the same storage while publishing goes on. Afterwards the topic is read back from the start,
and every event whose delivery report said "recorded" is looked for.

Each configuration (rate, requests in flight) is run twice, without and with the publisher's
check of acknowledged records (`AckCheckSettings`: after a lost connection it reads its last
acknowledged records back and publishes again those the broker no longer has), in the same
process one after the other, so they compare on the same machine state.

Writes bench/results/broker_crash.json: per configuration `acknowledged`, `missing` (acknowledged
but not in the log afterwards), `duplicates` (and `duplicate_examples`), `kills`, `events_per_s`,
`max_in_flight`, the delivery latency p50/p99 (ms), `ack_check` (whether the check ran),
`ack_checks` (read-backs done) and `republished` (records published again).

Sizes: BENCH_BROKER_CRASH_KILLS (default 6 per configuration).
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "broker_crash.json"
ROOT = Path(__file__).resolve().parents[1]
PARTITIONS = 4
# (events per second, librdkafka max.in.flight.requests.per.connection)
CONFIGURATIONS = ((50, 5), (2000, 5), (2000, 1))
PHASE_S = 3.0  # publishing before each kill, and after each restart


def _run(workdir: Path, rate: int, in_flight: int, kills: int, check: bool) -> dict[str, Any]:
    from confluent_kafka import TopicPartition

    from hotline.interaction.v1.events_pb2 import InteractionEvent
    from hotline_cli import embedded
    from hotline_platform.bus import AckCheckSettings, EventPublisher, ensure_topics, new_consumer
    from hotline_platform.envelope import new_envelope
    from hotline_platform.topics import Topic

    store_proc, store = embedded.start_object_store(
        workdir, embedded.find_free_port(), workdir / "object-store.log"
    )
    broker = None
    try:
        embedded.wait_object_store_ready(store, ("tansu",), proc=store_proc)
        port = embedded.find_free_port()

        def start() -> Any:
            proc = embedded.start_broker(port, workdir / "broker.log", store)
            embedded.wait_broker_ready(port, proc=proc)
            return proc

        broker = start()
        bootstrap = f"127.0.0.1:{port}"
        topic = Topic("bench.broker-crash.v1", InteractionEvent, "bench", partitions=PARTITIONS)
        ensure_topics(bootstrap, [topic])
        failures: list[str] = []
        publisher = EventPublisher(
            bootstrap, "bench-broker-crash", on_failure=failures.append,
            extra={"message.timeout.ms": 60_000, "log_level": 0,
                   "max.in.flight.requests.per.connection": in_flight},
            ack_check=AckCheckSettings(check=check),
        )
        sent: dict[str, float] = {}
        recorded: dict[str, float] = {}
        lock = threading.Lock()
        count = 0

        def publish_for(seconds: float) -> None:
            nonlocal count
            interval = 1.0 / rate
            due = time.monotonic()
            end = due + seconds
            while due < end:
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                iid = f"i-{count}"
                count += 1
                event = InteractionEvent(envelope=new_envelope(
                    tenant_id=f"t{count % 7}", producer="bench/broker-crash", interaction_id=iid,
                ))
                event.arrived.entry_point_id = "bench"
                sent[iid] = time.monotonic()

                def done(iid: str = iid) -> None:
                    with lock:
                        recorded[iid] = time.monotonic()

                publisher.publish(topic, event, on_recorded=done)
                due += interval

        for _ in range(kills):
            publish_for(PHASE_S)
            broker.send_signal(signal.SIGKILL)
            broker.wait()
            broker = start()
            publish_for(PHASE_S)
        deadline = time.monotonic() + 90
        while len(recorded) + len(failures) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.2)
        while publisher.checks_pending and time.monotonic() < deadline:
            time.sleep(0.2)
        publisher.flush(30)
        publisher.close()

        seen: dict[str, int] = {}
        consumer = new_consumer(bootstrap, "bench-broker-crash-check")
        consumer.assign([TopicPartition(topic.name, p, 0) for p in range(PARTITIONS)])
        quiet_until = time.monotonic() + 10
        while time.monotonic() < quiet_until:
            messages = consumer.consume(1000, 0.5)
            for msg in messages:
                if msg.error() is None:
                    event = InteractionEvent()
                    event.ParseFromString(msg.value())
                    iid = event.envelope.interaction_id
                    seen[iid] = seen.get(iid, 0) + 1
            if messages:
                quiet_until = time.monotonic() + 3
        consumer.close()
        latencies = sorted(recorded[i] - sent[i] for i in recorded)
        missing = sorted(set(recorded) - set(seen), key=lambda i: int(i[2:]))
        return {
            "events_per_s": rate,
            "max_in_flight": in_flight,
            "kills": kills,
            "published": len(sent),
            "acknowledged": len(recorded),
            "failed": len(failures),
            "missing": len(missing),
            "missing_examples": missing[:10],
            "duplicates": sum(1 for n in seen.values() if n > 1),
            "duplicate_examples": sorted(
                (i for i, n in seen.items() if n > 1), key=lambda i: int(i[2:])
            )[:10],
            "delivery_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
            "delivery_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
            "ack_check": check,
            "ack_checks": publisher.ack_checks,
            "republished": publisher.republished,
        }
    finally:
        if broker is not None:
            broker.kill()
        embedded.stop_process(store_proc.pid)


def main() -> None:
    kills = int(os.environ.get("BENCH_BROKER_CRASH_KILLS", "6"))
    runs = []
    for rate, in_flight in CONFIGURATIONS:
        for check in (False, True):
            with tempfile.TemporaryDirectory(prefix="bench-broker-crash-") as tmp:
                run = _run(Path(tmp), rate, in_flight, kills, check)
            print(json.dumps(run), flush=True)
            runs.append(run)
    result = {"runs": runs, "storage": "tansu s3:// on SeaweedFS", "phase_s": PHASE_S}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
