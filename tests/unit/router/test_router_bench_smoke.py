"""`python -m bench.router` in miniature: the benchmark's setup routes as described (every
wrap-up end is an offer, the waiting contacts stay waiting) and it writes its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_router_bench_runs_and_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "router.json"
    subprocess.run(
        [
            sys.executable, "-m", "bench.router", "--agents", "300", "--queues", "20",
            "--waiting", "100", "--events", "400", "--history", "20000", "--out", str(out),
        ],
        cwd=ROOT, check=True, capture_output=True, timeout=300,
    )
    result = json.loads(out.read_text())
    for key in ("decisions_per_s", "decision_p50_ms", "decision_p99_ms", "restart_seconds"):
        assert result[key] > 0, key
    stream = result["stream"]
    assert stream["events"] == 400
    assert stream["offers"] == stream["by_kind"]["finish_wrap_up"]["events"]  # each freed agent
    assert result["waiting_after_stream"] == 100  # one arrival per contact offered
    assert result["restart"]["history_events"] >= 19_990
    assert result["restart"]["interactions_in_memory_after_go_live"] == 300 - 3 + 100
