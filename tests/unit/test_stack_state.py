"""`hotline down` and the "already running" check trust a recorded pid only while it is still
the process `up` started (pids are reused after a reboot); the supervisor's back-off; chaos
arguments."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hotline_cli.demo import parse_chaos
from hotline_cli.stack import Process, StackState, save, start_time


def _state(pid: int) -> StackState:
    proc = Process("router", ["python", "-m", "hotline_router"], "router.log", pid=pid,
                   started=start_time(pid), grpc_port=1)
    return StackState("s", "c", "b", "h", 1, 2, "udp:127.0.0.1:5060", "http://s3", [proc])


def test_a_recorded_pid_is_ours_only_with_the_same_start_time() -> None:
    state = _state(os.getpid())
    proc = state.process("router")
    assert state.ours(proc.pid, proc.started)
    assert not state.ours(proc.pid, "1")  # another process that got the same pid


def test_a_gone_pid_is_not_ours() -> None:
    state = _state(2**22 + 12345)  # above the default pid_max: no such process
    assert not state.ours(state.process("router").pid, "")


def test_state_round_trips_and_is_private(tmp_path: Path) -> None:
    state = _state(os.getpid())
    path = tmp_path / "stack.json"
    save(path, state)
    assert path.stat().st_mode & 0o077 == 0  # it holds the object store's keys
    loaded = StackState.load(path)
    assert loaded == state
    assert loaded.services[0].module == "hotline_router"


def test_chaos_argument() -> None:
    assert parse_chaos("broker@12", 40) == ("broker", 12.0)
    assert parse_chaos("ingress-sip", 40) == ("ingress-sip", 20.0)
    with pytest.raises(ValueError, match="unknown chaos kind"):
        parse_chaos("dns", 40)
    with pytest.raises(ValueError, match="outside"):
        parse_chaos("router@99", 40)
