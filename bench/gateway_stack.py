"""The router and the gateway as their own processes (as `hotline up` runs them) on a memory-only
Tansu broker, with a given tenancy file: what the REST and wallboard benches measure against."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class GatewayStack:
    def __init__(self, workdir: Path, tenancy: dict[str, Any]) -> None:
        import yaml

        from hotline_cli.embedded import find_free_port, start_broker, wait_broker_ready
        from hotline_platform.bus import ensure_topics

        self.workdir = workdir
        self.procs: list[Any] = []
        self.pids: dict[str, int] = {}
        broker_port = find_free_port()
        broker = start_broker(broker_port, workdir / "broker.log")
        self.procs.append(broker)
        wait_broker_ready(broker_port, timeout=30, proc=broker, log_path=workdir / "broker.log")
        ensure_topics(f"127.0.0.1:{broker_port}")
        config = workdir / "hotline.yaml"
        config.write_text(yaml.safe_dump(tenancy))
        self.router_port, self.grpc_port, self.http_port = (find_free_port() for _ in range(3))
        self.base_url = f"http://127.0.0.1:{self.http_port}"
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
            # One credential stands for many clients: no per-credential limit.
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
