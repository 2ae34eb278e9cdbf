"""The embedded stack's supervisor: starts every process of stack.json in order, then restarts
any that exits, with back-off (what Kubernetes does in a cluster).

    python -m hotline_cli.supervisor <state dir>/stack.json

Start-up is staged: the object store (and its buckets), the broker (and the contract's topics),
ClickHouse, the media relay (rtpengine), then the services; each must be ready before the next
starts. After that, a process that exits (crash, SIGKILL, a service stopping itself because an
event was not recorded) is started again with the same command line and environment after
0.5 s, doubling per consecutive failure up to 15 s; a process that ran for a minute starts from
0.5 s again. The broker's port can stay in TIME_WAIT for about a minute after it died: it fails
to bind and is retried until it can. SIGTERM stops the supervisor only; `hotline down` then
stops the processes.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from hotline_cli import config_cmd, stack
from hotline_platform.bus import ensure_topics

log = logging.getLogger("hotline.supervisor")

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 15.0
STABLE_AFTER_S = 60.0


class Supervisor:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.state = stack.StackState.load(path)
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.failures: dict[str, int] = {}
        self.due: dict[str, float] = {}  # when an exited process is started again
        self.started_at: dict[str, float] = {}  # when each process was last started
        self.stop = threading.Event()
        # Sockets handed to processes (Process.udp_port), bound once for the stack's life.
        self.sockets = {
            p.name: stack.bind_udp(p.udp_port) for p in self.state.processes if p.udp_port
        }

    def start(self, proc: stack.Process) -> subprocess.Popen[bytes]:
        self.started_at[proc.name] = time.monotonic()
        return stack.start_process(proc, self.sockets.get(proc.name))

    def save(self) -> None:
        stack.save(self.path, self.state)

    def start_all(self) -> None:
        timeout = self.state.start_timeout_s
        for proc in self.state.processes:
            started = time.monotonic()
            self.children[proc.name] = self.start(proc)
            self.save()
            log.info("started %s pid %s", proc.name, proc.pid)
            stack.wait_ready(self.state, proc, timeout)
            if proc.name == "broker":
                ensure_topics(self.state.broker)
            if proc.name == "directory":
                # Only at `up` (start_all), not on restarts: the directory is durable, and
                # the services started after it (the router folds only known tenants' facts
                # at replay) find the stack's tenancy file in it.
                self.apply_tenancy(proc)
            proc.ready_after_s = round(time.monotonic() - started, 3)
            log.info("%s ready after %.2fs", proc.name, proc.ready_after_s)
        self.state.ready = True
        self.save()
        log.info("every process is ready")

    def apply_tenancy(self, proc: stack.Process) -> None:
        config_cmd.apply_file(
            f"127.0.0.1:{proc.grpc_port}",
            (Path(self.state.state_dir) / config_cmd.ADMIN_TOKEN_FILE).read_text().strip(),
            self.state.config_path,
            # Additive: what was added to the directory live survives a restart of the stack
            # (`hotline config apply` is the declarative sync, removals included).
            prune=False,
            say=lambda line: log.info("directory: %s", line),
        )

    def watch(self) -> None:
        while not self.stop.wait(0.2):
            now = time.monotonic()
            for proc in self.state.processes:
                child = self.children.get(proc.name)
                if child is not None and child.poll() is not None:
                    ran = now - self.started_at[proc.name]
                    failures = 0 if ran >= STABLE_AFTER_S else self.failures.get(proc.name, 0)
                    delay = min(FIRST_DELAY_S * 2**failures, MAX_DELAY_S)
                    self.failures[proc.name] = failures + 1
                    self.due[proc.name] = now + delay
                    del self.children[proc.name]
                    log.warning("%s (pid %s) exited with %s; restarting in %.1fs",
                                proc.name, proc.pid, child.returncode, delay)
                if proc.name not in self.children and now >= self.due.get(proc.name, 0):
                    self.children[proc.name] = self.start(proc)
                    proc.restarts += 1
                    self.save()
                    log.info("restarted %s: pid %s (restart %d)",
                             proc.name, proc.pid, proc.restarts)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    supervisor = Supervisor(Path(args[0]))
    signal.signal(signal.SIGTERM, lambda *_: supervisor.stop.set())
    signal.signal(signal.SIGINT, lambda *_: supervisor.stop.set())
    supervisor.state.supervisor_pid = os.getpid()
    supervisor.state.supervisor_started = stack.start_time(supervisor.state.supervisor_pid)
    supervisor.save()
    try:
        supervisor.start_all()
    except Exception as exc:  # noqa: BLE001 (any failure to start is reported to `up`)
        log.exception("start-up failed")
        supervisor.state.error = f"start-up failed: {exc}"
        supervisor.save()
        return 1
    supervisor.watch()
    log.info("supervisor stopping (the processes keep running until `hotline down`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
