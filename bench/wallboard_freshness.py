"""Wallboard freshness: from an event produced to the change visible in the browser page, over
200 agent state changes (the issue: a change shows within 2 s of its event).

Method: a memory-only Tansu broker, the router and the gateway as their own processes (as
`hotline up` runs them); a headless Chromium (Debian `chromium`, Playwright) signs in as a
supervisor and opens the wallboard (`/wallboard/`), which follows the gateway's push stream.
The bench then changes one agent's state 200 times through the REST API (ready <-> not ready,
one at a time, each after the previous one is visible). For each change the router records an
`AgentStateChanged` fact whose `occurred_at` is when the event was produced; the page shows the
agent's row with that time (`data-since`), and a MutationObserver in the page notes the
wall-clock moment the row first shows it. Latency = that moment - occurred_at: the event's way
through Kafka, the gateway's consumer and live board, the WebSocket, and the page's next
animation frame (same machine, same clock). The REST command's own time is reported apart
(`command_to_visible_*`: from sending the command to the row showing it).

Writes bench/results/wallboard_freshness.json: `p50_ms`, `p95_ms` (and p99, max, mean), the
command-to-visible figures, `changes`, `within_2s` (the share under 2 s), `load_average`.
Size: BENCH_WALLBOARD_CHANGES (default 200).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.gateway_stack import GatewayStack

RESULTS = Path(__file__).resolve().parent / "results" / "wallboard_freshness.json"
TENANT = "fresh"
CREDENTIAL = "bench-wallboard-credential"
PASSWORD = "bench-wallboard-password"
AGENTS = 10
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# Installed in the page: the first moment each (agent, state, since) shows in the wallboard.
OBSERVER = """() => {
  window.__seen = {};
  const scan = () => {
    const now = Date.now();
    for (const row of document.querySelectorAll("tr[data-agent]")) {
      const key = `${row.dataset.agent}|${row.dataset.state}|${row.dataset.since}`;
      if (!(key in window.__seen)) window.__seen[key] = now;
    }
  };
  new MutationObserver(scan).observe(document.body, {subtree: true, childList: true,
    attributes: true});
  scan();
}"""


def tenancy() -> dict[str, Any]:
    return {
        "sites": [{"id": "lisbon"}],
        "tenants": [{
            "id": TENANT,
            "credential": CREDENTIAL,
            "queues": [{"id": "sales", "required_skills": [{"name": "sales"}]}],
            "entry_points": [{"address": "+100001", "queue": "sales"}],
            "agents": [{"id": f"a{i:02d}", "name": f"Agent {i}", "site": "lisbon",
                        "skills": ["sales"], "phone": f"sip:a{i}@127.0.0.1:{17100 + i}"}
                       for i in range(AGENTS)],
            "users": [{"id": "sup", "name": "Supervisor", "roles": ["supervisor"],
                       "password": PASSWORD}],
        }],
    }


class _Stack(GatewayStack):
    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir, tenancy())

    def command(self, agent: str, action: str, body: dict[str, Any] | None = None) -> None:
        request = urllib.request.Request(
            f"{self.base_url}/v1/tenants/{TENANT}/agents/{agent}/{action}", method="POST",
            data=json.dumps(body or {}).encode(),
            headers={"Authorization": f"Bearer {CREDENTIAL}",
                     "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            reply.read()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _figures(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(_percentile(values, 0.5), 1),
            "p95_ms": round(_percentile(values, 0.95), 1),
            "p99_ms": round(_percentile(values, 0.99), 1),
            "max_ms": round(max(values), 1), "mean_ms": round(statistics.fmean(values), 1)}


def run(changes: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-wallboard-") as tmp:
        stack = _Stack(Path(tmp))
        try:
            agent = "a00"
            stack.command(agent, "log-in")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=CHROMIUM_ARGS)
                page = browser.new_page(base_url=stack.base_url,
                                        viewport={"width": 1366, "height": 768})
                page.goto("/login/")
                page.locator("#tenant").fill(TENANT)
                page.locator("#username").fill("sup")
                page.locator("#password").fill(PASSWORD)
                page.locator("#password").press("Enter")
                page.wait_for_url("**/wallboard/")
                page.wait_for_selector(f"tr[data-agent='{agent}'][data-state='not_ready']")
                page.evaluate(OBSERVER)
                command_ms: list[float] = []
                for i in range(changes):
                    target = "ready" if i % 2 == 0 else "not_ready"
                    started = time.monotonic()
                    if target == "ready":
                        stack.command(agent, "ready")
                    else:
                        stack.command(agent, "not-ready", {"reason_code": "break"})
                    page.wait_for_selector(f"tr[data-agent='{agent}'][data-state='{target}']",
                                           timeout=10_000)
                    command_ms.append((time.monotonic() - started) * 1000)
                seen: dict[str, int] = page.evaluate("() => window.__seen")
                browser.close()
        finally:
            stack.stop()
    latencies = []
    for key, at_ms in seen.items():
        who, state, since = key.split("|")
        if who == agent and state in ("ready", "not_ready") and since.isdigit():
            latencies.append(float(at_ms - int(since)))
    latencies = latencies[-changes:]
    if len(latencies) < changes * 0.95:
        raise RuntimeError(f"only {len(latencies)} of {changes} changes were seen")
    return {
        **_figures(latencies),
        "changes": len(latencies),
        "within_2s": round(sum(1 for v in latencies if v < 2000) / len(latencies), 4),
        "command_to_visible": _figures(command_ms),
        "load_average": list(os.getloadavg()),
    }


def main() -> None:
    changes = int(os.environ.get("BENCH_WALLBOARD_CHANGES", "200"))
    result = run(changes)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wallboard freshness over {result['changes']} changes: p50 {result['p50_ms']} ms, "
          f"p95 {result['p95_ms']} ms, max {result['max_ms']} ms "
          f"({result['within_2s']:.1%} within 2 s); command -> visible p50 "
          f"{result['command_to_visible']['p50_ms']} ms")


if __name__ == "__main__":
    main()
