"""The embedded stack behind `hotline up` / `hotline down`: object storage (SeaweedFS), the Tansu
broker on it, a ClickHouse server and every service as its own OS process (as Kubernetes runs
them), on this machine, under one supervisor that restarts whatever dies.

`up` plans the processes (ports, command lines, environments), writes the plan to
<state dir>/stack.json and starts the supervisor (`python -m hotline_cli.supervisor`), which
starts everything in order, waits for each to be ready, and from then on restarts a process that
exits, with back-off. `down` stops the supervisor, then exactly the processes it recorded.

Everything durable lives in the state dir: the event log (the broker's `s3://` storage in the
object store), the content store's bucket, the keyring, ClickHouse's tables. `down` then `up`
resumes with the whole history; `hotline reset` deletes it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline_cli import config_cmd, embedded, identity_cmd
from hotline_platform.grpc_server import is_serving

#: Buckets of the embedded object store: the broker's event log and the content store.
EVENTS_BUCKET = "hotline-events"
CONTENT_BUCKET = "hotline-content"


class StackSettings(BaseSettings):
    """Where the embedded stack lives and listens. Override with HOTLINE_* variables."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    state_dir: Path = Path(".hotline")
    config_path: Path = Path("config/hotline.yaml")
    object_store_port: int = 18333
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
    # The REST gateway: its API (HTTP) and gRPC health.
    gateway_http_port: int = 8080
    gateway_grpc_port: int = 50057
    gateway_metrics_port: int = 9107
    # WFM (staffing: the gateway's /staffing and `hotline staffing`).
    wfm_grpc_port: int = 50054
    wfm_metrics_port: int = 9104
    directory_grpc_port: int = 50056
    directory_metrics_port: int = 9106
    # Each process's start-up, and `up` as a whole. The router replays its whole history at
    # start (~50k events/s here: 1M events take ~20 s), so this bounds the history too.
    start_timeout_s: float = 600.0
    # The broker's event log in memory instead of the object store (tests and benchmarks only:
    # `down` then loses every event).
    memory_broker: bool = False


@dataclass
class Process:
    """One process the supervisor keeps running."""

    name: str
    argv: list[str]
    log: str
    env: dict[str, str] = field(default_factory=dict)  # added to the supervisor's environment
    unset: list[str] = field(default_factory=list)  # removed from it
    cwd: str = ""
    grpc_port: int = 0  # services: where gRPC health is served
    pid: int = 0
    started: str = ""  # kernel start time of pid: a reused pid is not ours
    restarts: int = 0
    ready_after_s: float = 0.0  # from its start to serving, at `up`
    # A UDP port the supervisor binds once and hands to every incarnation of the process as an
    # open socket (its number in the environment variable `udp_socket_env`), like systemd
    # socket activation: datagrams sent while the process restarts wait in the socket instead
    # of bouncing (ICMP port unreachable), so a caller's INVITE reaches the new process.
    udp_port: int = 0
    udp_socket_env: str = ""

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in self.unset}
        env.update(self.env)
        return env

    @property
    def module(self) -> str:
        return self.argv[2] if self.argv[1:2] == ["-m"] else ""


@dataclass
class StackState:
    state_dir: str
    config_path: str
    broker: str
    clickhouse_host: str
    clickhouse_tcp_port: int
    clickhouse_http_port: int
    sip: str
    object_store_endpoint: str
    processes: list[Process]
    start_timeout_s: float = 600.0
    supervisor_pid: int = 0
    supervisor_started: str = ""
    ready: bool = False
    error: str = ""

    @classmethod
    def load(cls, path: Path) -> StackState:
        raw = json.loads(path.read_text())
        raw["processes"] = [Process(**p) for p in raw["processes"]]
        return cls(**raw)

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def service(self, name: str) -> Process:
        return self.process(name)

    @property
    def services(self) -> list[Process]:
        return [p for p in self.processes if p.grpc_port]

    def ours(self, pid: int, started: str) -> bool:
        """The process we started is still running under this pid."""
        return pid > 0 and pid_alive(pid) and (not started or started == start_time(pid))

    def supervisor_running(self) -> bool:
        return self.ours(self.supervisor_pid, self.supervisor_started)


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


def start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        return ""


def save(path: Path, state: StackState) -> None:
    """Write the state atomically (readers never see half a file); it holds the object
    store's keys, so only its owner may read it."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(state), fh, indent=2)
    os.replace(tmp, path)


def running_state(settings: StackSettings) -> StackState | None:
    path = state_file(settings)
    if not path.exists():
        return None
    state = StackState.load(path)
    alive = state.supervisor_running() or any(state.ours(p.pid, p.started) for p in state.processes)
    return state if alive else None


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


def plan(settings: StackSettings, say: Callable[[str], None] = print) -> StackState:
    """Every process of the stack, with its ports, command line and environment."""
    state_dir = settings.state_dir.resolve()
    logs = state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    config_path = settings.config_path.resolve()
    if not config_path.exists():
        raise StackError(f"tenancy config {config_path} not found")

    s3_port = _pick_port(settings.object_store_port, "the object store (S3)", say)
    broker_port = _pick_port(settings.broker_port, "the broker", say)
    ch_tcp = _pick_port(settings.clickhouse_tcp_port, "ClickHouse (native)", say)
    ch_http = _pick_port(settings.clickhouse_http_port, "ClickHouse (HTTP)", say)
    sip_port = _pick_port(settings.sip_port, "SIP (UDP)", say, socket.SOCK_DGRAM)
    http_port = _pick_port(settings.gateway_http_port, "the REST gateway (HTTP)", say)

    access_key, secret_key = embedded.object_store_credentials(state_dir)
    store = embedded.ObjectStore(f"http://127.0.0.1:{s3_port}", access_key, secret_key)
    objects_dir = state_dir / "objects"
    embedded.write_object_store_identities(objects_dir, access_key, secret_key)
    weed_ports = {flag: embedded.find_free_port() for flag in embedded.WEED_PORT_FLAGS}
    storage = "memory://tansu/" if settings.memory_broker else f"s3://{EVENTS_BUCKET}/"
    broker_env = embedded.broker_env(None if settings.memory_broker else store)
    processes = [
        Process(
            "object-store",
            embedded.object_store_argv(objects_dir, s3_port, weed_ports),
            str(logs / "object-store.log"),
            cwd=str(objects_dir),
        ),
        Process(
            "broker",
            embedded.broker_argv(broker_port, storage),
            str(logs / "broker.log"),
            env={k: v for k, v in broker_env.items() if os.environ.get(k) != v},
            unset=[k for k in os.environ if k not in broker_env],
        ),
        Process(
            "clickhouse",
            embedded.clickhouse_argv(state_dir / "clickhouse", ch_tcp, ch_http, logs),
            str(logs / "clickhouse-server.stdout.log"),
            cwd=str(state_dir / "clickhouse"),
        ),
    ]
    common = {
        "HOTLINE_KAFKA_BOOTSTRAP": f"127.0.0.1:{broker_port}",
        "HOTLINE_CONFIG_PATH": str(config_path),
        "HOTLINE_CLICKHOUSE_HOST": "127.0.0.1",
        "HOTLINE_CLICKHOUSE_PORT": str(ch_tcp),
        "HOTLINE_OBJECT_STORE_ENDPOINT": store.endpoint,
        "HOTLINE_OBJECT_STORE_BUCKET": CONTENT_BUCKET,
        "HOTLINE_OBJECT_STORE_REGION": store.region,
        "HOTLINE_OBJECT_STORE_ACCESS_KEY": access_key,
        "HOTLINE_OBJECT_STORE_SECRET_KEY": secret_key,
        "HOTLINE_KEYRING_PATH": str(state_dir / "keyring.json"),
        "PYTHONUNBUFFERED": "1",
        # Services follow the live directory; `up` applies the tenancy file to it (supervisor).
        "HOTLINE_DIRECTORY": "on",
        # The gateway signs browser sessions' calls to the services with it (identity_cmd).
        "HOTLINE_DELEGATION_KEY": identity_cmd.stack_delegation_key(state_dir),
    }
    specs = [
        ("directory", "hotline_directory", settings.directory_grpc_port,
         settings.directory_metrics_port,
         {"HOTLINE_DIRECTORY_ADMIN_TOKEN": config_cmd.stack_admin_hash(state_dir)}),
        ("ingress-sip", "hotline_ingress_sip", settings.ingress_sip_grpc_port,
         settings.ingress_sip_metrics_port, {"HOTLINE_SIP_PORT": str(sip_port)}),
        ("router", "hotline_router", settings.router_grpc_port,
         settings.router_metrics_port, {}),
        ("gateway", "hotline_gateway", settings.gateway_grpc_port,
         settings.gateway_metrics_port,
         {"HOTLINE_HTTP_PORT": str(http_port), "HOTLINE_HTTP_HOST": "127.0.0.1"}),
        ("analytics-sink", "hotline_analytics", settings.analytics_grpc_port,
         settings.analytics_metrics_port, {}),
        ("wfm", "hotline_wfm", settings.wfm_grpc_port, settings.wfm_metrics_port, {}),
    ]  # fmt: skip
    for name, module, grpc_port, metrics_port, extra in specs:
        grpc_port = _pick_port(grpc_port, f"{name} gRPC", say)
        metrics_port = _pick_port(metrics_port, f"{name} metrics", say)
        env = {
            **common,
            "HOTLINE_GRPC_PORT": str(grpc_port),
            "HOTLINE_METRICS_PORT": str(metrics_port),
            "HOTLINE_INSTANCE_ID": f"{name}-0",
            **extra,
        }
        processes.append(
            Process(
                name,
                [sys.executable, "-m", module],
                str(logs / f"{name}.log"),
                env=env,
                grpc_port=grpc_port,
            )
        )
        if name == "ingress-sip":
            processes[-1].udp_port, processes[-1].udp_socket_env = sip_port, "HOTLINE_SIP_FD"
    # The gateway calls the router's API on the port picked for it.
    router = next(p for p in processes if p.name == "router")
    gateway = next(p for p in processes if p.name == "gateway")
    gateway.env["HOTLINE_ROUTER_ADDRESS"] = f"127.0.0.1:{router.grpc_port}"
    wfm = next(p for p in processes if p.name == "wfm")
    gateway.env["HOTLINE_WFM_ADDRESS"] = f"127.0.0.1:{wfm.grpc_port}"
    for backend, setting in (("directory", "DIRECTORY"), ("analytics-sink", "ANALYTICS")):
        found = next(p for p in processes if p.name == backend)
        gateway.env[f"HOTLINE_{setting}_ADDRESS"] = f"127.0.0.1:{found.grpc_port}"
    return StackState(
        state_dir=str(state_dir),
        config_path=str(config_path),
        broker=f"127.0.0.1:{broker_port}",
        clickhouse_host="127.0.0.1",
        clickhouse_tcp_port=ch_tcp,
        clickhouse_http_port=ch_http,
        sip=f"udp:127.0.0.1:{sip_port}",
        object_store_endpoint=store.endpoint,
        processes=processes,
        start_timeout_s=settings.start_timeout_s,
    )


def object_store(state: StackState) -> embedded.ObjectStore:
    access_key, secret_key = embedded.object_store_credentials(Path(state.state_dir))
    return embedded.ObjectStore(state.object_store_endpoint, access_key, secret_key)


def up(settings: StackSettings, say: Callable[[str], None] = print) -> StackState:
    """Plan the stack, start its supervisor, and wait until every process is ready."""
    existing = running_state(settings)
    if existing is not None:
        raise StackError(
            f"a Hotline stack is already running (state {state_file(settings)}, broker "
            f"{existing.broker}); run `hotline down` first"
        )
    state = plan(settings, say)
    path = state_file(settings).resolve()
    save(path, state)
    log_path = Path(state.state_dir) / "logs" / "supervisor.log"
    supervisor = embedded.spawn(
        [sys.executable, "-m", "hotline_cli.supervisor", str(path)], log_path
    )
    deadline = time.monotonic() + settings.start_timeout_s
    while True:
        state = StackState.load(path)
        if state.ready:
            return state
        failed = supervisor.poll() is not None or state.error
        if failed or time.monotonic() > deadline:
            if supervisor.poll() is None:
                embedded.stop_process(supervisor.pid, timeout=60)
            _stop_processes(state)
            path.unlink(missing_ok=True)
            reason = state.error or (
                "the supervisor exited" if supervisor.poll() is not None else
                f"not ready after {settings.start_timeout_s:.0f}s"
            )
            raise StackError(f"{reason}; see {log_path}:\n{tail(str(log_path))}")
        time.sleep(0.2)


def wait_ready(state: StackState, proc: Process, timeout: float) -> None:
    """Block until ``proc`` serves (services: gRPC health; infrastructure: its own probe)."""
    if proc.name == "object-store":
        embedded.wait_object_store_ready(
            object_store(state), (EVENTS_BUCKET, CONTENT_BUCKET), timeout, log_path=Path(proc.log)
        )
    elif proc.name == "broker":
        embedded.wait_broker_ready(int(state.broker.rsplit(":", 1)[1]), timeout)
    elif proc.name == "clickhouse":
        embedded.wait_clickhouse_ready(state.clickhouse_tcp_port, timeout)
    else:
        deadline = time.monotonic() + timeout
        while not is_serving(f"127.0.0.1:{proc.grpc_port}", timeout=1.0):
            if not pid_alive(proc.pid):
                raise StackError(f"{proc.name} exited during start-up; see {proc.log}:\n"
                                 + tail(proc.log))
            if time.monotonic() > deadline:
                raise StackError(f"{proc.name} not healthy after {timeout:.0f}s; see {proc.log}:\n"
                                 + tail(proc.log))
            time.sleep(0.2)


def tail(path: str, size: int = 3000) -> str:
    try:
        data = Path(path).read_bytes()[-size:]
    except OSError:
        return ""
    return data.decode(errors="replace")


#: Stop order: services first (they flush to the broker), then ClickHouse and the broker, and
#: the object store last (the broker's log lives in it).
_STOP_ORDER = ("clickhouse", "broker", "object-store")


def _stop_processes(state: StackState) -> None:
    """Stop the services together (each flushes its events), then ClickHouse and the broker,
    then the object store."""

    def stop(proc: Process) -> None:
        if state.ours(proc.pid, proc.started):
            # weed ignores SIGTERM for > 20 s (INFRA.md); its writes are already on disk.
            embedded.stop_process(proc.pid, timeout=3 if proc.name == "object-store" else 15)

    infra = [p for p in state.processes if p.name in _STOP_ORDER]
    stages = [
        [p for p in state.processes if p not in infra],
        [p for p in infra if p.name != "object-store"],
        [p for p in infra if p.name == "object-store"],
    ]
    with ThreadPoolExecutor(max_workers=len(state.processes) or 1) as pool:
        for stage in stages:
            list(pool.map(stop, stage))


def down(settings: StackSettings, say: Callable[[str], None] = print) -> bool:
    path = state_file(settings)
    if not path.exists():
        say("no Hotline stack is running here")
        return False
    state = StackState.load(path)
    if state.supervisor_running():  # first, so that it restarts nothing we stop
        embedded.stop_process(state.supervisor_pid, timeout=10)
    _stop_processes(StackState.load(path))  # the supervisor may have restarted one meanwhile
    path.unlink()
    say("Hotline stack stopped")
    return True


def reset(settings: StackSettings) -> Path:
    """Delete everything the stack keeps (event log, content, keys, ClickHouse, logs)."""
    if running_state(settings) is not None:
        raise StackError("the stack is running: `hotline down` first")
    state_dir = settings.state_dir.resolve()
    if state_dir.exists():
        shutil.rmtree(state_dir)
    return state_dir


def kill(state: StackState, name: str, sig: int) -> int:
    """Send ``sig`` to the named process (chaos); returns its pid."""
    proc = state.process(name)
    if not state.ours(proc.pid, proc.started):
        raise StackError(f"{name} is not running")
    os.kill(proc.pid, sig)
    return proc.pid


def wait_restarted(
    settings: StackSettings, name: str, old_pid: int, timeout: float
) -> StackState:
    """Wait until the supervisor has restarted ``name`` (a new pid) and it is ready again."""
    path = state_file(settings)
    deadline = time.monotonic() + timeout
    while True:
        state = StackState.load(path)
        proc = state.process(name)
        if proc.pid not in (0, old_pid) and state.ours(proc.pid, proc.started):
            break
        if time.monotonic() > deadline:
            raise StackError(f"{name} was not restarted within {timeout:.0f}s")
        time.sleep(0.2)
    wait_ready(state, proc, max(1.0, deadline - time.monotonic()))
    return state


def describe(state: StackState) -> str:
    lines = [
        f"  object store (S3)         {state.object_store_endpoint} "
        f"(buckets {EVENTS_BUCKET}, {CONTENT_BUCKET})",
        f"  broker (Kafka protocol)   {state.broker}",
        f"  ClickHouse                native 127.0.0.1:{state.clickhouse_tcp_port}, "
        f"HTTP http://127.0.0.1:{state.clickhouse_http_port}",
        f"  SIP (ingress-sip)         {state.sip}",
    ]
    for svc in state.services:
        http = svc.env.get("HOTLINE_HTTP_PORT")
        lines.append(
            f"  {svc.name:<25} " + (f"HTTP http://127.0.0.1:{http}, " if http else "")
            + f"gRPC 127.0.0.1:{svc.grpc_port}, "
            f"metrics :{svc.env.get('HOTLINE_METRICS_PORT')}, pid {svc.pid}, log {svc.log}"
        )
    restarted = [f"{p.name} ×{p.restarts}" for p in state.processes if p.restarts]
    lines.append(f"  supervisor                pid {state.supervisor_pid}, restarts: "
                 + (", ".join(restarted) or "none"))
    lines.append(f"  tenancy config            {state.config_path}")
    lines.append(f"  state (durable)           {state.state_dir}")
    return "\n".join(lines)


def bind_udp(port: int) -> socket.socket:
    """The socket a process with `udp_port` inherits (see Process)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    return sock


def start_process(proc: Process, udp: socket.socket | None = None) -> subprocess.Popen[bytes]:
    env = proc.environment()
    fds: tuple[int, ...] = ()
    if udp is not None:
        fds = (udp.fileno(),)
        env[proc.udp_socket_env] = str(udp.fileno())
    popen = embedded.spawn(
        proc.argv, Path(proc.log), cwd=Path(proc.cwd) if proc.cwd else None, env=env,
        pass_fds=fds,
    )
    proc.pid = popen.pid
    proc.started = start_time(popen.pid)
    return popen
