"""`hotline down` and the "already running" check trust a recorded pid only while it is still
the process `up` started (pids are reused after a reboot)."""

from __future__ import annotations

import os

from hotline_cli.stack import StackState


def _state(pid: int) -> StackState:
    return StackState("s", "c", "b", pid, "h", 1, 2, pid, "udp:127.0.0.1:5060", [])


def test_a_recorded_pid_is_ours_only_with_the_same_start_time() -> None:
    state = _state(os.getpid())
    state.remember_start_times()
    assert state.ours(os.getpid())
    state.started[str(os.getpid())] = "1"  # another process that got the same pid
    assert not state.ours(os.getpid())


def test_a_gone_pid_is_not_ours() -> None:
    state = _state(2**22 + 12345)  # above the default pid_max: no such process
    assert not state.ours(state.broker_pid)
