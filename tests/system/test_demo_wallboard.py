"""The demo's wallboard shows the calls live: while `hotline demo` runs, the BPO operator it
prints signs in (real Chromium on the demo's gateway) and watches both tenants' queues answer
calls, the figures moving as the run goes, without reloading the page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.stack_ports import fresh_ports

pytestmark = pytest.mark.system
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _queue_figures(page: object, tenant: str, queue: str) -> tuple[str, ...]:
    """What the wallboard shows of a queue now: waiting, agents busy, service level, ASA."""
    row = page.locator(f"[data-tenant='{tenant}'] tr[data-queue='{queue}']")  # type: ignore[attr-defined]
    return tuple(
        row.locator(f"[data-field={name}]").inner_text()
        for name in ("waiting", "agents-busy", "service-level", "asa")
    )


def test_the_demo_wallboard_shows_calls_live(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (scripts/install-system-deps.sh)")
    env = dict(os.environ, HOTLINE_STATE_DIR=str(tmp_path / "state"), PYTHONUNBUFFERED="1")
    env.update(fresh_ports())
    demo = subprocess.Popen(
        [sys.executable, "-m", "hotline_cli.main", "demo", "--duration", "40",
         "--json", str(tmp_path / "demo.json")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output: list[str] = []
    started = threading.Event()

    def drain() -> None:
        """Read the demo's output to its end (a full pipe would stall it and its sipp)."""
        assert demo.stdout is not None
        for line in demo.stdout:
            output.append(line)
            if "tenants," in line and "agents with sipp phones" in line:
                started.set()  # the calls start now
        started.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        assert started.wait(600), "".join(output[-40:])
        text = "".join(output)
        found = re.search(r"wallboard (http://\S+/wallboard/)", text)
        login = re.search(r"user bpo-ops\s+password (\S+)", text)
        url = found.group(1) if found else ""
        password = login.group(1) if login else ""
        assert url and password, "".join(output[-40:])
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(url.replace("/wallboard/", "/login/"))
            page.locator("#username").fill("bpo-ops")
            page.locator("#password").fill(password)
            page.locator("#password").press("Enter")
            page.wait_for_url("**/wallboard/")
            page.wait_for_selector("#connection.status-live")
            # The operator sees both tenants' queues at once.
            for tenant, queue in (("acme", "support-en"), ("haier", "service-de")):
                expect(page.locator(f"[data-tenant='{tenant}'] tr[data-queue='{queue}']")
                       ).to_have_count(1, timeout=10_000)
            # Calls are answered while we watch: the figures move without a reload, and
            # agents are seen on calls.
            seen = {_queue_figures(page, "acme", "support-en")}
            busy_seen = 0
            deadline = time.monotonic() + 30
            while len(seen) < 4 or not busy_seen:
                assert time.monotonic() < deadline, (
                    f"the wallboard did not follow the calls: saw {sorted(seen)}"
                )
                page.wait_for_timeout(250)
                figures = _queue_figures(page, "acme", "support-en")
                seen.add(figures)
                busy_seen = max(busy_seen, int(figures[1]))
            assert any(f[2].split(" / ")[0] not in ("–", "-", "") for f in seen), seen
            browser.close()
    finally:
        demo.wait(timeout=600)
        reader.join(timeout=10)
    assert demo.returncode == 0, "".join(output)[-6000:]
