"""The embedded stack runs the gateway after the router, pointed at the router's (and WFM's)
port, on the
HTTP port of the settings (or a free one), and `hotline status` shows where it listens."""

from __future__ import annotations

import socket
from pathlib import Path

from hotline_cli import stack

CONFIG = Path(__file__).resolve().parents[3] / "config" / "hotline.yaml"


def test_plan_runs_the_gateway_after_the_router(tmp_path: Path) -> None:
    with socket.socket() as taken:  # the configured HTTP port is in use: another is picked
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        said: list[str] = []
        settings = stack.StackSettings(
            state_dir=tmp_path / "state", config_path=CONFIG, gateway_http_port=busy
        )
        state = stack.plan(settings, said.append)
    names = [p.name for p in state.services]
    assert names.index("gateway") == names.index("router") + 1
    gateway, router = state.process("gateway"), state.process("router")
    assert gateway.module == "hotline_gateway"
    assert gateway.env["HOTLINE_ROUTER_ADDRESS"] == f"127.0.0.1:{router.grpc_port}"
    wfm = state.process("wfm")  # staffing
    assert gateway.env["HOTLINE_WFM_ADDRESS"] == f"127.0.0.1:{wfm.grpc_port}"
    http = int(gateway.env["HOTLINE_HTTP_PORT"])
    assert http != busy and any("REST gateway" in line for line in said)
    assert gateway.env["HOTLINE_HTTP_HOST"] == "127.0.0.1"
    assert gateway.grpc_port and gateway.grpc_port != router.grpc_port
    assert f"HTTP http://127.0.0.1:{http}" in stack.describe(state)
