"""System test: a short demo on the whole embedded stack (real Tansu, ClickHouse, sipp callers
and phones, every service as its own process), with the router SIGKILLed and restarted while
calls wait. The KPI report must match the calls sipp actually placed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hotline_cli.embedded import find_free_port

pytestmark = pytest.mark.system
ROOT = Path(__file__).resolve().parents[2]


def test_short_demo_with_router_restart(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["HOTLINE_STATE_DIR"] = str(tmp_path / "state")
    for name in (
        "BROKER_PORT",
        "CLICKHOUSE_TCP_PORT",
        "CLICKHOUSE_HTTP_PORT",
        "SIP_PORT",
        "INGRESS_SIP_GRPC_PORT",
        "ROUTER_GRPC_PORT",
        "ANALYTICS_GRPC_PORT",
        "INGRESS_SIP_METRICS_PORT",
        "ROUTER_METRICS_PORT",
        "ANALYTICS_METRICS_PORT",
    ):
        env[f"HOTLINE_{name}"] = str(find_free_port())
    result_path = tmp_path / "demo.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hotline_cli.main",
            "demo",
            "--duration",
            "40",
            "--kill-router-at",
            "20",
            "--json",
            str(result_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = proc.stdout + proc.stderr
    assert result_path.exists(), output[-4000:]
    result = json.loads(result_path.read_text())
    assert result["problems"] == [], output[-4000:]
    assert proc.returncode == 0, output[-4000:]

    placed = result["placed"]
    assert sum(placed.values()) >= 20, placed
    answered = abandoned = 0
    for tenant, report in result["reports"].items():
        assert report["tenant_id"] == tenant
        for row in report["queues"]:
            key = f"{tenant}/{row['queue_id']}"
            assert row["queued"] == placed[key], (key, row)
            assert row["answered"] + row["abandoned"] == row["offered"], (key, row)
            answered += row["answered"]
            abandoned += row["abandoned"]
    assert answered > 0 and abandoned > 0, result["reports"]
    # After the router's SIGKILL every arrived call ended, and no call rang two agents at once.
    assert result["unfinished_interactions"] == []
    assert result["concurrent_offers"] == []
    # `down` stopped everything it started.
    assert not (tmp_path / "state" / "stack.json").exists()
