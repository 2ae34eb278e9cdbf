"""The embedded stack behind `hotline up` / `hotline down`: the Tansu broker, a ClickHouse
server and every service as its own OS process (as Kubernetes runs them), on this machine.

What `up` started is written to <state dir>/stack.json; `down` stops exactly those processes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline_cli import embedded
from hotline_platform.bus import ensure_topics
from hotline_platform.grpc_server import is_serving


class StackSettings(BaseSettings):
    """Where the embedded stack lives and listens. Override with HOTLINE_* variables."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    state_dir: Path = Path(".hotline")
    config_path: Path = Path("config/hotline.yaml")
    broker_port: int = 19092
    clickhouse_tcp_port: int = 19000
    clickhouse_http_port: int = 18123
    sip_port: int = 5060
    ingress_sip_grpc_port: int = 50051
    router_grpc_port: int = 50052
    analytics_grpc_port: int = 50053
    ingress_sip_metrics_port: int = 9101
    router_metrics_port: int = 9102
    analytics_metrics_port: int = 9103
    start_timeout_s: float = 60.0


@dataclass
class ServiceProcess:
    name: str
    pid: int
    grpc_port: int
    log: str
    module: str = ""
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class StackState:
    state_dir: str
    config_path: str
    broker: str
    broker_pid: int
    clickhouse_host: str
    clickhouse_tcp_port: int
    clickhouse_http_port: int
    clickhouse_pid: int
    sip: str
    services: list[ServiceProcess]
    # pid -> kernel start time: a pid reused by another program after a reboot is not ours.
    started: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> StackState:
        raw = json.loads(path.read_text())
        raw["services"] = [ServiceProcess(**s) for s in raw["services"]]
        return cls(**raw)

    def service(self, name: str) -> ServiceProcess:
        return next(s for s in self.services if s.name == name)

    def pids(self) -> list[int]:
        return [self.broker_pid, self.clickhouse_pid, *(s.pid for s in self.services)]

    def remember_start_times(self) -> None:
        self.started = {str(pid): _start_time(pid) for pid in self.pids()}

    def ours(self, pid: int) -> bool:
        """The process `up` started is still running under this pid."""
        recorded = self.started.get(str(pid))
        return pid_alive(pid) and (recorded is None or recorded == _start_time(pid))


class StackError(RuntimeError):
    pass


def state_file(settings: StackSettings) -> Path:
    return settings.state_dir / "stack.json"


def pid_alive(pid: int) -> bool:
    """True while the process runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        return ""


def running_state(settings: StackSettings) -> StackState | None:
    path = state_file(settings)
    if not path.exists():
        return None
    state = StackState.load(path)
    return state if any(state.ours(pid) for pid in state.pids()) else None


def _port_free(port: int, kind: int = socket.SOCK_STREAM) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _pick_port(
    wanted: int, what: str, say: Callable[[str], None], kind: int = socket.SOCK_STREAM
) -> int:
    """The configured port, or a free one when it is taken (e.g. in TIME_WAIT after a restart)."""
    if _port_free(wanted, kind):
        return wanted
    port = embedded.find_free_port()
    say(f"  port {wanted} for {what} is in use; using {port} instead")
    return port


def service_env(state: StackState, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "HOTLINE_KAFKA_BOOTSTRAP": state.broker,
            "HOTLINE_CONFIG_PATH": state.config_path,
            "HOTLINE_CLICKHOUSE_HOST": state.clickhouse_host,
            "HOTLINE_CLICKHOUSE_PORT": str(state.clickhouse_tcp_port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def start_service(state: StackState, svc: ServiceProcess) -> ServiceProcess:
    log = open(svc.log, "ab")  # noqa: SIM115 (handed to the child)
    proc = subprocess.Popen(
        [sys.executable, "-m", svc.module],
        env=service_env(state, svc.env),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    svc.pid = proc.pid
    return svc


def wait_healthy(state: StackState, svc: ServiceProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(svc.pid):
            raise StackError(f"{svc.name} exited during start-up; see {svc.log}:\n{_tail(svc.log)}")
        if is_serving(f"127.0.0.1:{svc.grpc_port}", timeout=1.0):
            return
        time.sleep(0.2)
    raise StackError(
        f"{svc.name} not healthy after {timeout:.0f}s; see {svc.log}:\n{_tail(svc.log)}"
    )


def _tail(path: str, size: int = 3000) -> str:
    try:
        data = Path(path).read_bytes()[-size:]
    except OSError:
        return ""
    return data.decode(errors="replace")


def up(settings: StackSettings, say: Callable[[str], None] = print) -> StackState:
    existing = running_state(settings)
    if existing is not None:
        raise StackError(
            f"a Hotline stack is already running (state {state_file(settings)}, broker "
            f"{existing.broker}); run `hotline down` first"
        )
    state_dir = settings.state_dir.resolve()
    logs = state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    config_path = settings.config_path.resolve()
    if not config_path.exists():
        raise StackError(f"tenancy config {config_path} not found")

    broker_port = _pick_port(settings.broker_port, "the broker", say)
    ch_tcp = _pick_port(settings.clickhouse_tcp_port, "ClickHouse (native)", say)
    ch_http = _pick_port(settings.clickhouse_http_port, "ClickHouse (HTTP)", say)
    sip_port = _pick_port(settings.sip_port, "SIP (UDP)", say, socket.SOCK_DGRAM)

    started: list[int] = []
    try:
        broker = embedded.start_broker(broker_port, logs / "broker.log")
        started.append(broker.pid)
        clickhouse = embedded.start_clickhouse(state_dir / "clickhouse", ch_tcp, ch_http, logs)
        started.append(clickhouse.pid)
        embedded.wait_broker_ready(broker_port, timeout=settings.start_timeout_s)
        embedded.wait_clickhouse_ready(ch_tcp, timeout=settings.start_timeout_s)
        bootstrap = f"127.0.0.1:{broker_port}"
        ensure_topics(bootstrap)

        specs = [
            (
                "ingress-sip",
                "hotline_ingress_sip",
                settings.ingress_sip_grpc_port,
                settings.ingress_sip_metrics_port,
                {"HOTLINE_SIP_PORT": str(sip_port)},
            ),
            (
                "router",
                "hotline_router",
                settings.router_grpc_port,
                settings.router_metrics_port,
                {},
            ),
            (
                "analytics-sink",
                "hotline_analytics",
                settings.analytics_grpc_port,
                settings.analytics_metrics_port,
                {},
            ),
        ]
        services = []
        for name, module, grpc_port, metrics_port, extra in specs:
            grpc_port = _pick_port(grpc_port, f"{name} gRPC", say)
            metrics_port = _pick_port(metrics_port, f"{name} metrics", say)
            env = {
                "HOTLINE_GRPC_PORT": str(grpc_port),
                "HOTLINE_METRICS_PORT": str(metrics_port),
                "HOTLINE_INSTANCE_ID": f"{name}-0",
                **extra,
            }
            services.append(
                ServiceProcess(name, 0, grpc_port, str(logs / f"{name}.log"), module, env)
            )
        state = StackState(
            state_dir=str(state_dir),
            config_path=str(config_path),
            broker=bootstrap,
            broker_pid=broker.pid,
            clickhouse_host="127.0.0.1",
            clickhouse_tcp_port=ch_tcp,
            clickhouse_http_port=ch_http,
            clickhouse_pid=clickhouse.pid,
            sip=f"udp:127.0.0.1:{sip_port}",
            services=services,
        )
        for svc in services:
            start_service(state, svc)
            started.append(svc.pid)
        save(settings, state)
        for svc in services:
            wait_healthy(state, svc, settings.start_timeout_s)
    except Exception:
        for pid in reversed(started):
            embedded.stop_process(pid)
        state_file(settings).unlink(missing_ok=True)
        raise
    return state


def save(settings: StackSettings, state: StackState) -> None:
    state.remember_start_times()
    state_file(settings).write_text(json.dumps(asdict(state), indent=2))


def restart_service(settings: StackSettings, state: StackState, name: str) -> ServiceProcess:
    svc = state.service(name)
    start_service(state, svc)
    save(settings, state)
    wait_healthy(state, svc, settings.start_timeout_s)
    return svc


def down(settings: StackSettings, say: Callable[[str], None] = print) -> bool:
    path = state_file(settings)
    if not path.exists():
        say("no Hotline stack is running here")
        return False
    state = StackState.load(path)
    # Services first (they flush to the broker), then the broker and ClickHouse; never a
    # process that merely reuses a recorded pid.
    for pid in [*(s.pid for s in reversed(state.services)), state.broker_pid, state.clickhouse_pid]:
        if state.ours(pid):
            embedded.stop_process(pid)
    path.unlink()
    say("Hotline stack stopped")
    return True


def describe(state: StackState) -> str:
    lines = [
        f"  broker (Kafka protocol)   {state.broker}",
        f"  ClickHouse                native 127.0.0.1:{state.clickhouse_tcp_port}, "
        f"HTTP http://127.0.0.1:{state.clickhouse_http_port}",
        f"  SIP (ingress-sip)         {state.sip}",
    ]
    for svc in state.services:
        lines.append(
            f"  {svc.name:<25} gRPC 127.0.0.1:{svc.grpc_port}, "
            f"metrics :{svc.env.get('HOTLINE_METRICS_PORT')}, pid {svc.pid}, log {svc.log}"
        )
    lines.append(f"  tenancy config            {state.config_path}")
    return "\n".join(lines)
