"""The gateway as a subprocess (`python -m hotline_gateway`) in front of a real router (and
WFM) on a real broker: what the gateway's integration tests start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline_cli.embedded import find_free_port
from hotline_platform.bus import ensure_topics
from hotline_platform.grpc_server import is_serving

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60


def tenant(prefix: str, agents: int = 3) -> dict[str, Any]:
    tid = f"{prefix}-{uuid.uuid4().hex[:6]}"
    return {
        "id": tid,
        "credential": f"cred-{tid}",
        "queues": [
            {"id": "sales", "required_skills": [{"name": "sales", "level": 1}],
             "ring_timeout_s": 30, "wrap_up_timeout_s": 60},
            {"id": "support", "required_skills": [{"name": "support", "level": 1}]},
        ],
        "entry_points": [{"address": f"ep-{tid}", "queue": "sales"}],
        "agents": [
            {"id": f"{tid}-a{i}", "name": f"Agent {i}", "skills": ["sales", "support"],
             "phone": f"sip:a{i}@127.0.0.1:{16000 + i}"}
            for i in range(agents)
        ],
    }


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                return self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        return self.popen.returncode


@dataclass
class GatewayStack:
    base_url: str
    router_port: int
    gateway_grpc_port: int
    tenants: list[dict[str, Any]]
    procs: dict[str, Proc] = field(default_factory=dict)
    # name -> (module, log, env, gRPC port): what `restart` starts again.
    specs: dict[str, tuple[str, Path, dict[str, str], int]] = field(default_factory=dict)

    def run(self, name: str, module: str, log: Path, env: dict[str, str], port: int) -> Proc:
        self.specs[name] = (module, log, env, port)
        self.procs[name] = spawn(name, module, log, env)
        return self.procs[name]

    def restart(self, name: str) -> None:
        """Start a stopped process again, on the same ports; wait until it serves."""
        module, log, env, port = self.specs[name]
        wait_grpc(self.run(name, module, log, env, port), port)

    def credential(self, index: int = 0) -> str:
        return str(self.tenants[index]["credential"])

    def stop(self) -> None:
        for name in ("gateway", "wfm", "router"):
            if name in self.procs:
                self.procs[name].stop()


def _env(extra: dict[str, str]) -> dict[str, str]:
    paths = [str(ROOT / "services" / s) for s in ("gateway", "router", "wfm", "directory")]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]),
        "HOTLINE_METRICS_PORT": "0",
        **extra,
    }


def spawn(name: str, module: str, log: Path, env: dict[str, str]) -> Proc:
    with log.open("ab") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", module], env=_env(env), stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    return Proc(name, popen, log)


def wait_grpc(proc: Proc, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not is_serving(f"127.0.0.1:{port}", timeout=0.5):
        if proc.popen.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{proc.name} did not start:\n{proc.log.read_text()[-4000:]}")
        time.sleep(0.1)


def start(
    broker: str, workdir: Path, tenants: list[dict[str, Any]],
    operators: list[dict[str, Any]] | None = None, sites: tuple[str, ...] = ("lisbon",),
    router_env: dict[str, str] | None = None,
    **gateway_env: str,
) -> GatewayStack:
    """Router and WFM, then the gateway in front of them; ready when each serves gRPC health
    (the gateway's once its HTTP listens). `operators`: BPO operator users of the tenancy;
    `router_env`: more settings of the router."""
    ensure_topics(broker)
    config = workdir / "hotline.yaml"
    config.write_text(yaml.safe_dump({
        "sites": [{"id": site} for site in sites], "tenants": tenants,
        "operators": operators or [],
    }))
    common = {"HOTLINE_KAFKA_BOOTSTRAP": broker, "HOTLINE_CONFIG_PATH": str(config)}
    router_port, wfm_port, grpc_port, http_port = (find_free_port() for _ in range(4))
    stack = GatewayStack(f"http://127.0.0.1:{http_port}", router_port, grpc_port, tenants)
    try:
        stack.run("router", "hotline_router", workdir / "router.log", {
            **common, "HOTLINE_GRPC_PORT": str(router_port),
            "HOTLINE_INSTANCE_ID": f"router-{uuid.uuid4().hex[:6]}",
            "HOTLINE_INGRESS_LOST_AFTER_MS": "600000",
            **(router_env or {}),
        }, router_port)
        stack.run("wfm", "hotline_wfm", workdir / "wfm.log", {
            **common, "HOTLINE_GRPC_PORT": str(wfm_port),
        }, wfm_port)
        stack.run("gateway", "hotline_gateway", workdir / "gateway.log", {
            **common,
            "HOTLINE_GRPC_PORT": str(grpc_port),
            "HOTLINE_HTTP_PORT": str(http_port),
            "HOTLINE_HTTP_HOST": "127.0.0.1",
            "HOTLINE_ROUTER_ADDRESS": f"127.0.0.1:{router_port}",
            "HOTLINE_WFM_ADDRESS": f"127.0.0.1:{wfm_port}",
            **gateway_env,
        }, grpc_port)
        wait_grpc(stack.procs["router"], router_port)
        wait_grpc(stack.procs["wfm"], wfm_port)
        wait_grpc(stack.procs["gateway"], grpc_port)
        with urllib.request.urlopen(f"{stack.base_url}/healthz", timeout=5) as reply:
            assert reply.status == 200
    except BaseException:
        stack.stop()
        raise
    return stack
