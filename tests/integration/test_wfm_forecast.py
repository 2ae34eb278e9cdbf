"""The WFM forecast pipeline on a small history written to a real ClickHouse 18.16.

Two weeks of calls of one tenant go into the analytics sink's `events` table through the
sink's own row mapping (the `interactions` view fills itself); the ClickHouse history adapter
must count them per queue and 15-minute slot, the forecast must reproduce the weekly pattern
and the `hotline staffing --from-history` command must print the plan.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline_analytics.adapters.clickhouse import (
    ClickHouseEventStore,
    ClickHouseSettings,
    create_schema,
)
from hotline_analytics.adapters.rows import EventBatch
from hotline_analytics.adapters.synthetic import Call, CallEnd, call_events
from hotline_cli.embedded import ClickHouseEndpoint
from hotline_platform import codec, tenancy
from hotline_wfm.adapters.clickhouse import ClickHouseHistory
from hotline_wfm.application.service import WfmService
from hotline_wfm.domain.forecast import DAY_MS, SLOT_MS, day_of_week
from hotline_wfm.domain.plan import StaffingParams

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
DB = f"wfm_{RUN}"
TENANT = f"acme-{RUN}"
# The last Monday 00:00 UTC up to today: the CLI reads history before the real "now".
_TODAY = int(time.time() * 1000) // DAY_MS * DAY_MS
NOW = _TODAY - day_of_week(_TODAY) * DAY_MS
DAYS = 14
BUSY_SLOTS = range(36, 40)  # 09:00-10:00 UTC


def calls_in(slot_ms: int) -> int:
    """Weekdays: Monday 4 calls per slot, other weekdays 2; weekends none."""
    dow = day_of_week(slot_ms)
    return 4 if dow == 0 else (2 if dow < 5 else 0)


@dataclass
class FakeRecord:
    _topic: str
    _value: bytes
    _key: bytes

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return 0

    def key(self) -> bytes:
        return self._key

    def value(self) -> bytes:
        return self._value


def write_history(endpoint: ClickHouseEndpoint, start_ms: int) -> int:
    client = ClickHouseSettings(host=endpoint.host, port=endpoint.tcp_port).client()
    try:
        create_schema(client, DB)
        batch = EventBatch()
        calls = 0
        for day in range(DAYS):
            for tod in BUSY_SLOTS:
                slot = start_ms + day * DAY_MS + tod * SLOT_MS
                for i in range(calls_in(slot)):
                    end = CallEnd.ABANDONED if i == 1 else CallEnd.ANSWERED
                    call = Call(TENANT, slot + 60_000 * (i + 1), end=end, queue_id="support",
                                talk_ms=150_000, wrap_up_ms=30_000, wait_ms=5_000)
                    for topic, event in call_events(call):
                        batch.add(FakeRecord(topic.name, codec.encode(event), TENANT.encode()))
                    calls += 1
        ClickHouseEventStore(client, DB).insert(batch)
    finally:
        client.disconnect()
    return calls


@pytest.fixture(scope="module")
def history(clickhouse: ClickHouseEndpoint) -> tuple[ClickHouseHistory, int]:
    calls = write_history(clickhouse, NOW - DAYS * DAY_MS)
    return ClickHouseHistory(clickhouse.host, clickhouse.tcp_port, DB), calls


def config(tmp: Path | None = None) -> tenancy.TenancyConfig:
    raw = {
        "sites": [{"id": "lisbon"}],
        "tenants": [
            {
                "id": TENANT,
                "credential": f"secret-{RUN}",
                "queues": [
                    {"id": "support", "service_level": {"threshold_s": 20, "target": 0.8}},
                    {"id": "quiet"},
                ],
            }
        ],
    }
    if tmp is not None:
        import yaml

        (tmp / "hotline.yaml").write_text(yaml.safe_dump(raw))
    return tenancy.parse(raw)


def test_history_counts_per_slot(history: tuple[ClickHouseHistory, int]) -> None:
    source, calls = history
    obs = source.observations(TENANT, NOW - DAYS * DAY_MS, NOW)
    assert sum(o.contacts for o in obs) == calls
    assert {o.queue_id for o in obs} == {"support"}
    for o in obs:
        assert (o.slot_ms % DAY_MS) // SLOT_MS in BUSY_SLOTS
        assert o.contacts == calls_in(o.slot_ms)
        assert o.handled == o.contacts - 1  # the second call of each slot abandoned
        assert o.handle_ms == o.handled * 180_000
    assert source.first_slot_ms(TENANT) == NOW - DAYS * DAY_MS + 36 * SLOT_MS + 60_000 + 40
    assert source.observations(TENANT, NOW - DAYS * DAY_MS, NOW, ["quiet"]) == []
    assert source.first_slot_ms("nobody") is None


def test_forecast_and_plan_from_clickhouse(history: tuple[ClickHouseHistory, int]) -> None:
    source, _ = history
    service = WfmService(config, source)
    result = service.plan_from_history(TENANT, [], NOW, 7, NOW, StaffingParams(shrinkage=0.25))
    fc = result.forecast
    assert fc.history_start_ms == NOW - DAYS * DAY_MS
    assert len(fc.intervals) == 2 * 7 * 96  # two queues × a week
    for d in fc.intervals:
        expected = calls_in(d.start_ms) if (d.start_ms % DAY_MS) // SLOT_MS in BUSY_SLOTS else 0
        assert d.contacts == pytest.approx(expected if d.queue_id == "support" else 0)
        if d.queue_id == "support" and expected:
            assert d.aht_s == pytest.approx(180.0)
    # The last 3.5 days (a quarter of the history) held out: the pattern repeats exactly.
    support = next(e for e in fc.errors if e.queue_id == "support")
    assert support.slots == 14 * 96 // 4
    assert support.wape == pytest.approx(0.0) and support.actual > 0
    plan = result.plan
    monday_nine = next(
        r for r in plan.rows if r.queue_id == "support" and r.start_ms == NOW + 36 * SLOT_MS
    )
    assert monday_nine.staffing.agents == 3  # 4 calls × 180 s / 900 s = 0.8 erlang at 80/20
    assert monday_nine.staffing.scheduled == 4
    assert plan.by_queue["quiet"].agent_hours == 0
    assert plan.total.contacts == pytest.approx(4 * 4 + 4 * 4 * 2)  # Mon + Tue-Fri


def test_cli_plan_from_history(
    clickhouse: ClickHouseEndpoint, history: tuple[ClickHouseHistory, int], tmp_path: Path
) -> None:
    config(tmp_path)
    base = [
        sys.executable, "-m", "hotline_cli.main", "staffing", "--tenant", TENANT, "--queue",
        "support", "--days", "7", "--from-history", "--clickhouse-host", clickhouse.host,
        "--clickhouse-port", str(clickhouse.tcp_port), "--database", DB,
        "--config", str(tmp_path / "hotline.yaml"),
    ]
    table = subprocess.run(base, capture_output=True, text=True, timeout=60, check=False)
    assert table.returncode == 0, table.stderr
    assert "support" in table.stdout and "TOTAL" in table.stdout
    assert "forecast error" in table.stdout
    out = subprocess.run([*base, "--json"], capture_output=True, text=True, timeout=60,
                         check=False)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["tenant_id"] == TENANT
    assert len(doc["rows"]) == 7 * 96
    assert doc["totals"]["contacts"] > 0
    for args, message in (([*base[:5], "nope", *base[6:]], "no tenant 'nope'"),
                          ([*base[:7], "nope", *base[8:]], "no queue nope")):
        bad = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
        assert bad.returncode == 2 and message in bad.stderr
