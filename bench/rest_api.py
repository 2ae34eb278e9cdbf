"""REST gateway: requests/s of `GET /v1/tenants/{t}/queues/stats` (real-time queue statistics)
with 64 concurrent clients, and the latency percentiles (the issue asks p99 < 50 ms; the anchor
is Amazon Connect's GetCurrentMetricData, held to 5 requests/s).

Method: a memory-only Tansu broker, the router and the gateway as their own processes
(`python -m hotline_router`, `python -m hotline_gateway`, as `hotline up` runs them), a tenant
with 12 queues and 40 agents of whom 30 are logged in and ready (through the gateway). The
clients are 64 keep-alive HTTP/1.1 connections in this process (a plain asyncio client, so the
client costs little CPU beside the servers on a 2-core machine), each sending its next request
when the previous answer arrived (closed loop) with the tenant's credential; after a warm-up,
every request of the measured window is timed. The gateway's per-credential rate limit is
switched off for the run (HOTLINE_RATE_LIMIT_PER_S=0): one credential stands for 64 clients.
Each request runs the whole path: admission (credential, rate-limit bucket, policy), a gRPC
ListQueues to the router, JSON, access log line, metrics.

Writes bench/results/rest_api.json: `requests_per_s`, `p99_ms` (and p50/p90/max), `requests`,
`errors` (non-200), `clients`, `seconds`; and, since the machine may be shared, what does not
depend on the other load: the CPU time the gateway and the router processes spent per request
(`gateway_cpu_ms_per_request`, `router_cpu_ms_per_request`, warm-up included) and the load
average around the run (`load_average`).

Sizes: BENCH_REST_SECONDS (default 20), BENCH_REST_CLIENTS (default 64).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "rest_api.json"
ROOT = Path(__file__).resolve().parents[1]
TENANT = "bench"
CREDENTIAL = "bench-rest-credential"
QUEUES = 12
AGENTS = 40
READY = 30
WARM_UP_S = 3.0


def tenancy() -> dict[str, Any]:
    return {
        "sites": [{"id": "lisbon"}],
        "tenants": [{
            "id": TENANT,
            "credential": CREDENTIAL,
            "queues": [{"id": f"q{i:02d}", "required_skills": [{"name": f"s{i % 4}"}]}
                       for i in range(QUEUES)],
            "entry_points": [{"address": f"+1000{i:02d}", "queue": f"q{i:02d}"}
                             for i in range(QUEUES)],
            "agents": [{"id": f"a{i:02d}", "skills": [f"s{i % 4}", f"s{(i + 1) % 4}"],
                        "phone": f"sip:a{i}@127.0.0.1:{17000 + i}"} for i in range(AGENTS)],
        }],
    }


class _Stack:
    def __init__(self, workdir: Path) -> None:
        import yaml

        from hotline_cli.embedded import find_free_port, start_broker, wait_broker_ready

        self.workdir = workdir
        self.procs: list[Any] = []
        self.pids: dict[str, int] = {}
        broker_port = find_free_port()
        broker = start_broker(broker_port, workdir / "broker.log")
        self.procs.append(broker)
        wait_broker_ready(broker_port, timeout=30, proc=broker, log_path=workdir / "broker.log")
        from hotline_platform.bus import ensure_topics

        ensure_topics(f"127.0.0.1:{broker_port}")
        config = workdir / "hotline.yaml"
        config.write_text(yaml.safe_dump(tenancy()))
        self.router_port, self.grpc_port, self.http_port = (find_free_port() for _ in range(3))
        common = {
            "HOTLINE_KAFKA_BOOTSTRAP": f"127.0.0.1:{broker_port}",
            "HOTLINE_CONFIG_PATH": str(config),
            "HOTLINE_METRICS_PORT": "0",
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT / "services" / "router"), str(ROOT / "services" / "gateway"),
                 os.environ.get("PYTHONPATH", "")]
            ),
        }
        self._spawn("router", "hotline_router", {
            **common, "HOTLINE_GRPC_PORT": str(self.router_port),
        })
        self._wait_grpc("router", self.router_port)
        self._spawn("gateway", "hotline_gateway", {
            **common,
            "HOTLINE_GRPC_PORT": str(self.grpc_port),
            "HOTLINE_HTTP_PORT": str(self.http_port),
            "HOTLINE_HTTP_HOST": "127.0.0.1",
            "HOTLINE_ROUTER_ADDRESS": f"127.0.0.1:{self.router_port}",
            "HOTLINE_RATE_LIMIT_PER_S": "0",
        })
        self._wait_grpc("gateway", self.grpc_port)

    def _spawn(self, name: str, module: str, env: dict[str, str]) -> None:
        from hotline_cli.embedded import spawn

        self.procs.append(
            spawn([sys.executable, "-m", module], self.workdir / f"{name}.log",
                  env={**os.environ, **env})
        )
        self.pids[name] = self.procs[-1].pid

    def _wait_grpc(self, name: str, port: int) -> None:
        from hotline_platform.grpc_server import is_serving

        deadline = time.monotonic() + 60
        while not is_serving(f"127.0.0.1:{port}", timeout=0.5):
            if self.procs[-1].poll() is not None or time.monotonic() > deadline:
                log = (self.workdir / f"{name}.log").read_text()[-3000:]
                raise RuntimeError(f"{name} did not start:\n{log}")
            time.sleep(0.1)

    def stop(self) -> None:
        from hotline_cli.embedded import stop_process

        for proc in reversed(self.procs):
            stop_process(proc.pid, timeout=15)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _post(url: str) -> None:
    request = urllib.request.Request(
        url, method="POST", headers={"Authorization": f"Bearer {CREDENTIAL}"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        reply.read()


async def _client(
    port: int, request: bytes, stop_at: float, measure_from: float, latencies: list[float],
    errors: list[int], sent: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            started = time.perf_counter()
            if started >= stop_at:
                return
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            sent[0] += 1
            if started >= measure_from:
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(status)
    finally:
        writer.close()


async def _load(
    port: int, clients: int, seconds: float
) -> tuple[list[float], list[int], int]:
    path = f"/v1/tenants/{TENANT}/queues/stats?limit=50"
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {CREDENTIAL}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    now = time.perf_counter()
    measure_from = now + WARM_UP_S
    stop_at = measure_from + seconds
    latencies: list[float] = []
    errors: list[int] = []
    sent = [0]
    await asyncio.gather(*(
        _client(port, request, stop_at, measure_from, latencies, errors, sent)
        for _ in range(clients)
    ))
    return latencies, errors, sent[0]


def _percentile(ordered: list[float], q: float) -> float:
    index = min(len(ordered) - 1, max(0, int(round(q * len(ordered))) - 1))
    return ordered[index]


def main() -> None:
    seconds = float(os.environ.get("BENCH_REST_SECONDS", "20"))
    clients = int(os.environ.get("BENCH_REST_CLIENTS", "64"))
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as tmp:
        stack = _Stack(Path(tmp))
        try:
            base = f"http://127.0.0.1:{stack.http_port}/v1/tenants/{TENANT}/agents"
            for i in range(READY):
                _post(f"{base}/a{i:02d}/log-in")
                _post(f"{base}/a{i:02d}/ready")
            load_before = os.getloadavg()[0]
            cpu_before = {name: _cpu_s(pid) for name, pid in stack.pids.items()}
            latencies, errors, total = asyncio.run(_load(stack.http_port, clients, seconds))
            cpu = {name: _cpu_s(pid) - cpu_before[name] for name, pid in stack.pids.items()}
            load_after = os.getloadavg()[0]
        finally:
            stack.stop()
    ordered = sorted(latencies)
    ms = [x * 1000 for x in ordered]
    result = {
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p99_ms": round(_percentile(ms, 0.99), 2),
        "p50_ms": round(_percentile(ms, 0.50), 2),
        "p90_ms": round(_percentile(ms, 0.90), 2),
        "max_ms": round(ms[-1], 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "requests": len(latencies),
        "errors": len(errors),
        "clients": clients,
        "seconds": seconds,
        "queues": QUEUES,
        "request": f"GET /v1/tenants/{TENANT}/queues/stats?limit=50",
        "rate_limit": "off (HOTLINE_RATE_LIMIT_PER_S=0)",
        "gateway_cpu_ms_per_request": round(cpu["gateway"] * 1000 / total, 3),
        "router_cpu_ms_per_request": round(cpu["router"] * 1000 / total, 3),
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "cpus": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
