"""The analytics read API under load: `Reports.GetKpiReport` requests/s and latency with 16
concurrent clients, over one day of synthetic history.

Starts its own Tansu broker and ClickHouse (hotline_cli.embedded, fresh ports) and the analytics
sink as its own process (`python -m hotline_analytics`, as in Kubernetes; it serves the API).
The history (BENCH_REPORT_CALLS calls, default 40,000, over 24 h, three queues of one tenant,
answered, abandoned, short-abandoned, re-offered and contained calls: about 13 events each) is
built with the contract classes (hotline_analytics.adapters.synthetic) and written through the
sink's own mapping straight into ClickHouse (no broker in between: what is measured is reading).
Then a client process runs 16 concurrent clients (grpc.aio, one channel each), each asking the
whole day's report again as soon as the previous answer arrived, for BENCH_REPORT_SECONDS
(default 20) after a warm-up; and the same for ListCustomerContacts (the screen-pop).

Writes bench/results/report_api.json: `requests_per_s`, `p50_ms`, `p99_ms` (GetKpiReport), the
same for ListCustomerContacts under `contacts`, and the history's size.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
DATABASE = "hotline_bench_reports"
TENANT = "acme"
CREDENTIAL = "acme-bench-credential"
CLIENTS = 16
DAY = datetime(2026, 11, 2, tzinfo=UTC)
CALLERS = 5_000  # distinct caller numbers over the day


@dataclass
class _Record:
    """A consumed record, as the sink's mapping reads it (a confluent_kafka.Message stand-in)."""

    _topic: str
    _value: bytes
    _key: bytes
    _offset: int

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return self._key

    def value(self) -> bytes:
        return self._value


class _NoDeadLetters:
    def send(self, record: Any, reason: str) -> None:
        raise RuntimeError(f"synthetic event refused: {reason}")

    def flush(self) -> None:
        pass


def _write_history(tcp_port: int, calls: int) -> dict[str, Any]:
    """`calls` calls over DAY into ClickHouse through the sink's mapping; what was written."""
    from dataclasses import replace

    from hotline_analytics.adapters.audit import SinkBatch, SinkStore
    from hotline_analytics.adapters.clickhouse import ClickHouseSettings
    from hotline_analytics.adapters.synthetic import Call, CallEnd, call_events
    from hotline_analytics.application.ingest import IngestBatch
    from hotline_platform.codec import encode

    rnd = random.Random(11)
    day_ms = int(DAY.timestamp() * 1000)
    shapes: list[tuple[float, dict[str, Any]]] = [
        (0.70, {"end": CallEnd.ANSWERED}),
        (0.06, {"end": CallEnd.ANSWERED, "rejected_offers": 1}),
        (0.10, {"end": CallEnd.ABANDONED}),
        (0.04, {"end": CallEnd.ABANDONED, "wait_ms": 2_000}),
        (0.04, {"end": CallEnd.ABANDONED_WHILE_OFFERED}),
        (0.06, {"end": CallEnd.CONTAINED, "talk_ms": 30_000}),
    ]
    weights = [w for w, _ in shapes]
    client = ClickHouseSettings(port=tcp_port, database=DATABASE).client()
    ingest = IngestBatch(SinkBatch, SinkStore(client, DATABASE), _NoDeadLetters())
    events = 0
    offset = 0
    started = time.monotonic()
    try:
        batch: list[_Record] = []
        for i in range(calls):
            (_, shape), = rnd.choices(shapes, weights)
            call = Call(
                TENANT,
                day_ms + rnd.randrange(0, 86_400_000 - 3_600_000),
                queue_id=rnd.choice(("support", "sales", "billing")),
                agent_id=f"agent-{rnd.randrange(60)}",
                wait_ms=rnd.randrange(1_000, 60_000),
                talk_ms=rnd.randrange(30_000, 600_000),
                wrap_up_ms=rnd.randrange(5_000, 90_000),
                caller=f"+35191{rnd.randrange(CALLERS):07d}",
            )
            for topic, event in call_events(replace(call, **shape).with_id()):
                batch.append(_Record(topic.name, encode(event), TENANT.encode(), offset))
                offset += 1
            if len(batch) >= 50_000 or i == calls - 1:
                ingest(batch)
                events += len(batch)
                batch = []
    finally:
        client.disconnect()
    return {"calls": calls, "events": events, "write_seconds": round(time.monotonic() - started, 1)}


# ------------------------------------------------------------------ clients (own process)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _load(
    address: str, method: str, seconds: float, warm_up_s: float, clients: int = CLIENTS
) -> dict[str, Any]:
    import grpc

    from hotline.analytics.v1 import reports_pb2, reports_pb2_grpc
    from hotline.interaction.v1.events_pb2 import IdentityKind
    from hotline_platform import protodict

    metadata = (("authorization", f"Bearer {CREDENTIAL}"),)
    period = protodict.to_message({"from": DAY, "to": DAY + timedelta(days=1)}, reports_pb2.Period)
    rnd = random.Random(5)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    measuring = asyncio.Event()
    stop = asyncio.Event()

    async def client() -> None:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = reports_pb2_grpc.ReportsStub(channel)
            while not stop.is_set():
                if method == "GetKpiReport":
                    call = stub.GetKpiReport(
                        reports_pb2.GetKpiReportRequest(tenant_id=TENANT, period=period),
                        metadata=metadata, timeout=30,
                    )
                else:
                    identity = reports_pb2.CustomerIdentity(
                        kind=IdentityKind.IDENTITY_KIND_PHONE,
                        value=f"+35191{rnd.randrange(CALLERS):07d}",
                    )
                    call = stub.ListCustomerContacts(
                        reports_pb2.ListCustomerContactsRequest(
                            tenant_id=TENANT, identity=identity, limit=10
                        ),
                        metadata=metadata, timeout=30,
                    )
                t0 = time.perf_counter()
                try:
                    await call
                except grpc.aio.AioRpcError as exc:
                    errors[exc.code().name] = errors.get(exc.code().name, 0) + 1
                    continue
                if measuring.is_set() and not stop.is_set():
                    latencies.append((time.perf_counter() - t0) * 1000)

    tasks = [asyncio.ensure_future(client()) for _ in range(clients)]
    await asyncio.sleep(warm_up_s)
    measuring.set()
    t0 = time.monotonic()
    await asyncio.sleep(seconds)
    stop.set()
    elapsed = time.monotonic() - t0
    await asyncio.gather(*tasks)
    if not latencies:
        raise RuntimeError(f"{method}: no answer; errors {errors}")
    return {
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 0.50), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "clients": clients,
        "requests": len(latencies),
        "seconds": round(elapsed, 1),
        "errors": errors,
    }


def _clients_main(address: str, seconds: float, conn: Any) -> None:
    out = {}
    for method in ("GetKpiReport", "ListCustomerContacts"):
        out[method] = asyncio.run(_load(address, method, seconds, warm_up_s=2.0))
    # One client alone: the latency of one report without queueing behind others.
    out["single"] = asyncio.run(_load(address, "GetKpiReport", seconds / 2, 1.0, clients=1))
    conn.send(out)


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import yaml

    from hotline_cli import embedded
    from hotline_platform.grpc_server import is_serving

    calls = int(os.environ.get("BENCH_REPORT_CALLS", 40_000))
    seconds = float(os.environ.get("BENCH_REPORT_SECONDS", 20))
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-reports-"))
    broker_port, tcp_port, http_port, grpc_port = (embedded.find_free_port() for _ in range(4))
    print(f"report_api: work dir {work}", flush=True)
    config = work / "tenancy.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sites": [{"id": "lisbon"}],
                "tenants": [
                    {
                        "id": TENANT,
                        "name": "ACME",
                        "credential": CREDENTIAL,
                        "queues": [
                            {"id": q, "service_level": {"threshold_s": 20, "target": 0.8}}
                            for q in ("support", "sales", "billing")
                        ],
                    }
                ],
            }
        )
    )
    broker = embedded.start_broker(broker_port, work / "broker.log")
    clickhouse = embedded.start_clickhouse(work / "clickhouse", tcp_port, http_port)
    sink: subprocess.Popen[bytes] | None = None
    try:
        embedded.wait_broker_ready(broker_port, timeout=30, proc=broker)
        embedded.wait_clickhouse_ready(tcp_port, timeout=60, proc=clickhouse)
        env = dict(os.environ)
        env.update(
            HOTLINE_KAFKA_BOOTSTRAP=f"127.0.0.1:{broker_port}",
            HOTLINE_CLICKHOUSE_PORT=str(tcp_port),
            HOTLINE_CLICKHOUSE_DATABASE=DATABASE,
            HOTLINE_GRPC_PORT=str(grpc_port),
            HOTLINE_CONFIG_PATH=str(config),
            HOTLINE_INSTANCE_ID="bench-reports",
            HOTLINE_LOG_LEVEL="WARNING",
        )
        with open(work / "sink.log", "wb") as log:
            sink = subprocess.Popen(
                [sys.executable, "-m", "hotline_analytics"], env=env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while not is_serving(f"127.0.0.1:{grpc_port}"):
            if time.monotonic() > deadline or sink.poll() is not None:
                raise RuntimeError(f"the sink did not start; see {work / 'sink.log'}")
            time.sleep(0.2)
        history = _write_history(tcp_port, calls)
        print(
            f"report_api: {history['events']:,} events of {calls:,} calls written in"
            f" {history['write_seconds']}s; {CLIENTS} clients for {seconds:g}s per method",
            flush=True,
        )
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        clients = ctx.Process(
            target=_clients_main, args=(f"127.0.0.1:{grpc_port}", seconds, child), daemon=True
        )
        clients.start()
        figures = parent.recv()
        clients.join(30)
    finally:
        if sink is not None:
            embedded.stop_process(sink.pid, timeout=20)
        embedded.stop_process(clickhouse.pid, timeout=20)
        embedded.stop_process(broker.pid, timeout=10)

    report = figures["GetKpiReport"]
    result: dict[str, Any] = {
        "requests_per_s": report["requests_per_s"],
        "p50_ms": report["p50_ms"],
        "p99_ms": report["p99_ms"],
        "clients": CLIENTS,
        "definitions": {
            "requests_per_s": "GetKpiReport answers per second: one tenant, three queues, the"
            " whole day, 16 clients each asking again as soon as answered",
            "p50_ms/p99_ms": "client-side latency of those calls",
            "contacts": "the same for ListCustomerContacts (a random caller's last 10"
            " contacts)",
            "get_kpi_report_one_client": "GetKpiReport with one client asking in turn",
        },
        "get_kpi_report": report,
        "get_kpi_report_one_client": figures["single"],
        "contacts": figures["ListCustomerContacts"],
        "history": history,
        "cpus": os.cpu_count(),
        "load_average_1m_after": round(os.getloadavg()[0], 2),  # others sharing the machine
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "report_api.json"
    out.write_text(json.dumps(result, indent=2))
    contacts = figures["ListCustomerContacts"]
    print(
        f"report_api: GetKpiReport {report['requests_per_s']:,} req/s, p50"
        f" {report['p50_ms']} ms, p99 {report['p99_ms']} ms; ListCustomerContacts"
        f" {contacts['requests_per_s']:,} req/s, p99 {contacts['p99_ms']} ms -> {out}",
        flush=True,
    )
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
