"""`hotline up` / `status` / `events tail` / `down` / `reset` on the real embedded stack: the
event log survives `down` and `up`, the supervisor restarts a killed service."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from support.stack_ports import fresh_ports

from hotline.agent.v1 import events_pb2 as agent_pb2
from hotline.router.v1 import router_pb2, router_pb2_grpc
from hotline_cli import stack
from hotline_platform.media_relay import NgClient
from hotline_platform.topics import EVENT_PARTITIONS

pytestmark = pytest.mark.system
ROOT = Path(__file__).resolve().parents[2]


def _hotline(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline_cli.main", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_up_status_tail_down(tmp_path: Path) -> None:
    env = dict(os.environ, HOTLINE_STATE_DIR=str(tmp_path / "state"))
    env.update(fresh_ports())
    up = _hotline(env, "up", "--config", "config/hotline.yaml")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "router" in up.stdout and "ClickHouse" in up.stdout

        again = _hotline(env, "up")
        assert again.returncode == 1
        assert "already running" in again.stderr

        status = _hotline(env, "status")
        assert status.returncode == 0 and "ingress-sip" in status.stdout

        # The media relay answers on its ng port; the default prompts are there for ingress-sip.
        asyncio.run(_ping_media_relay(int(env["HOTLINE_MEDIA_RELAY_NG_PORT"])))
        assert (tmp_path / "state" / "prompts" / "zh" / "position_3.wav").stat().st_size > 1000

        # An agent logs in through the router's API; the fact shows up in `events tail`.
        with grpc.insecure_channel(f"127.0.0.1:{env['HOTLINE_ROUTER_GRPC_PORT']}") as channel:
            agents = router_pb2_grpc.AgentServiceStub(channel)
            agents.LogIn(
                router_pb2.LogInRequest(tenant_id="acme", agent_id="acme-a1"),
                metadata=(("authorization", "Bearer acme-dev-credential"),),
                timeout=10,
            )
        tail = _hotline(
            env,
            "events",
            "tail",
            "--from-beginning",
            "--limit",
            str(EVENT_PARTITIONS + 2),
            "--topic",
            "hotline.agents.v1",
            timeout=60,
        )
        assert tail.returncode == 0, tail.stderr
        # The router's claim of each partition (tenant "~router"), and the log-in (logged_in,
        # then the state change to NOT_READY).
        lines = [json.loads(text) for text in tail.stdout.splitlines()]
        assert {line["topic"] for line in lines} == {"hotline.agents.v1"}
        tenants = [line["event"]["envelope"]["tenantId"] for line in lines]
        assert sorted(tenants) == ["acme"] * 2 + ["~router"] * EVENT_PARTITIONS
        line = lines[tenants.index("acme")]
        assert line["event"]["envelope"]["agentId"] == "acme-a1"
        assert "loggedIn" in line["event"]
        pids = _pids(tmp_path)
        assert all(stack.pid_alive(pid) for pid in pids)
    finally:
        down = _hotline(env, "down")
    assert down.returncode == 0
    assert not any(stack.pid_alive(pid) for pid in pids), "down left a process running"
    assert not (tmp_path / "state" / "stack.json").exists()

    # The event log is durable: after `up` again the router rebuilt the agent's state from it.
    up = _hotline(env, "up", "--config", "config/hotline.yaml")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert _agent_state(env) == agent_pb2.AGENT_STATE_NOT_READY
        # A SIGKILLed service is restarted by the supervisor, and rebuilds the same state.
        settings = stack.StackSettings(state_dir=tmp_path / "state")
        state = stack.StackState.load(stack.state_file(settings))
        killed = stack.kill(state, "router", signal.SIGKILL)
        stack.wait_restarted(settings, "router", killed, timeout=60)
        assert _agent_state(env) == agent_pb2.AGENT_STATE_NOT_READY
        # SIP sent while ingress-sip restarts waits in the socket the supervisor hands over,
        # and the new process answers it.
        killed = stack.kill(state, "ingress-sip", signal.SIGKILL)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
            phone.settimeout(30)
            phone.sendto(_options(phone), ("127.0.0.1", int(env["HOTLINE_SIP_PORT"])))
            stack.wait_restarted(settings, "ingress-sip", killed, timeout=60)
            reply = phone.recv(65535).decode()
        assert reply.startswith("SIP/2.0 200"), reply
        status = _hotline(env, "status")
        assert "router ×1" in status.stdout and "ingress-sip ×1" in status.stdout, status.stdout
        refused = _hotline(env, "reset", "--yes")
        assert refused.returncode == 1 and "down" in refused.stderr
        pids = _pids(tmp_path)
    finally:
        assert _hotline(env, "down").returncode == 0
    assert not any(stack.pid_alive(pid) for pid in pids), "down left a process running"
    reset = _hotline(env, "reset", "--yes")
    assert reset.returncode == 0, reset.stderr
    assert not (tmp_path / "state").exists()


def _options(sock: socket.socket) -> bytes:
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    return (
        "OPTIONS sip:hotline@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-restart-1\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@127.0.0.1:{port}>;tag=probe\r\n"
        "To: <sip:hotline@127.0.0.1>\r\n"
        "Call-ID: restart-probe-1\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


async def _ping_media_relay(port: int) -> None:
    async with NgClient(("127.0.0.1", port)) as relay:
        await relay.ping()


def _pids(tmp_path: Path) -> list[int]:
    recorded = json.loads((tmp_path / "state" / "stack.json").read_text())
    return [recorded["supervisor_pid"], *(p["pid"] for p in recorded["processes"])]


def _agent_state(env: dict[str, str]) -> int:
    with grpc.insecure_channel(f"127.0.0.1:{env['HOTLINE_ROUTER_GRPC_PORT']}") as channel:
        view = router_pb2_grpc.AgentServiceStub(channel).GetAgent(
            router_pb2.GetAgentRequest(tenant_id="acme", agent_id="acme-a1"),
            metadata=(("authorization", "Bearer acme-dev-credential"),),
            timeout=10,
        )
    return int(view.state)
