"""The plan and one interval's staffing as a text table, CSV and JSON (fractions 0..1)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from hotline_wfm.application.service import ForecastResult
from hotline_wfm.domain.forecast import ForecastError
from hotline_wfm.domain.plan import IntervalStaffing, Plan, Totals

COLUMNS = (
    "queue_id", "interval_start", "contacts", "aht_s", "erlangs", "agents", "scheduled",
    "service_level", "asa_seconds", "occupancy", "p_wait", "abandon_rate",
)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def staffing_dict(s: IntervalStaffing) -> dict[str, Any]:
    return {
        "agents": s.agents,
        "scheduled_agents": s.scheduled,
        "service_level": s.service_level,
        "asa_seconds": s.asa_s,
        "occupancy": s.occupancy,
        "p_wait": s.p_wait,
        "abandon_rate": s.abandon_rate,
        "erlangs": s.erlangs,
        "contacts": s.contacts,
        "interval_seconds": s.interval_s,
        "aht_seconds": s.aht_s,
        "model": s.model,
    }


def _row(queue_id: str, start_ms: int, s: IntervalStaffing) -> dict[str, Any]:
    return {
        "queue_id": queue_id,
        "interval_start": iso(start_ms),
        "contacts": round(s.contacts, 3),
        "aht_s": round(s.aht_s, 1),
        "erlangs": round(s.erlangs, 3),
        "agents": s.agents,
        "scheduled": s.scheduled,
        "service_level": round(s.service_level, 4),
        "asa_seconds": round(s.asa_s, 2),
        "occupancy": round(s.occupancy, 4),
        "p_wait": round(s.p_wait, 4),
        "abandon_rate": round(s.abandon_rate, 4),
    }


def totals_dict(t: Totals) -> dict[str, Any]:
    out = asdict(t)
    out["asa_seconds"] = out.pop("asa_s")
    return out


def error_dict(e: ForecastError) -> dict[str, Any]:
    return asdict(e)


def plan_dict(plan: Plan, fc: ForecastResult | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "interval_seconds": plan.interval_s,
        "model": plan.params.model,
        "shrinkage": plan.params.shrinkage,
        "rows": [_row(r.queue_id, r.start_ms, r.staffing) for r in plan.rows],
        "totals_by_queue": {q: totals_dict(t) for q, t in plan.by_queue.items()},
        "totals": totals_dict(plan.total),
    }
    if fc is not None:
        out["tenant_id"] = fc.tenant_id
        out["history"] = {"from": iso(fc.history_start_ms), "to": iso(fc.history_end_ms)}
        out["forecast_error"] = [error_dict(e) for e in fc.errors]
    return out


def plan_json(plan: Plan, fc: ForecastResult | None = None) -> str:
    return json.dumps(plan_dict(plan, fc), indent=2)


def plan_csv(plan: Plan) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in plan.rows:
        writer.writerow(_row(r.queue_id, r.start_ms, r.staffing))
    return buffer.getvalue()


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def plan_table(plan: Plan, fc: ForecastResult | None = None, skip_empty: bool = True) -> str:
    """Human-readable plan: one line per interval (quiet intervals left out), then totals."""
    lines = []
    if fc is not None:
        lines.append(
            f"tenant {fc.tenant_id}: forecast from history {iso(fc.history_start_ms)} .. "
            f"{iso(fc.history_end_ms)} ({plan.params.model}, shrinkage "
            f"{100 * plan.params.shrinkage:.0f}%)"
        )
    header = (
        f"{'queue':<16} {'interval (UTC)':<20} {'contacts':>8} {'AHT s':>6} {'agents':>6} "
        f"{'sched':>6} {'SL':>6} {'ASA s':>7} {'occ':>6} {'P(wait)':>7} {'aband':>6}"
    )
    lines += [header, "-" * len(header)]
    shown = 0
    for r in plan.rows:
        s = r.staffing
        if skip_empty and s.contacts < 0.005:
            continue
        shown += 1
        lines.append(
            f"{r.queue_id:<16} {iso(r.start_ms):<20} {s.contacts:8.2f} {s.aht_s:6.0f} "
            f"{s.agents:6d} {s.scheduled:6d} {_pct(s.service_level)} {s.asa_s:7.1f} "
            f"{_pct(s.occupancy)} {_pct(s.p_wait)}  {_pct(s.abandon_rate)}"
        )
    if not shown:
        lines.append("(no interval with forecast contacts)")
    lines.append("")
    lines.append(
        f"{'queue':<16} {'contacts':>9} {'work h':>8} {'agent h':>8} {'sched h':>8} "
        f"{'peak':>5} {'SL':>6} {'ASA s':>6} {'occ':>6}"
    )
    for name, t in [*plan.by_queue.items(), ("TOTAL", plan.total)]:
        lines.append(
            f"{name:<16} {t.contacts:9.1f} {t.workload_hours:8.1f} {t.agent_hours:8.1f} "
            f"{t.scheduled_hours:8.1f} {t.peak_scheduled:5d} {_pct(t.service_level)} "
            f"{t.asa_s:6.1f} {_pct(t.occupancy)}"
        )
    if fc is not None:
        lines.append("")
        for e in fc.errors:
            wape = "n/a" if e.wape is None else _pct(e.wape)
            mape = "n/a" if e.mape is None else _pct(e.mape)
            lines.append(
                f"forecast error on the last {e.slots} held-out intervals, {e.queue_id}: "
                f"WAPE {wape}, MAPE {mape} (actual {e.actual:.0f}, forecast {e.forecast:.1f})"
            )
        if not fc.errors:
            lines.append("forecast error: history too short to hold any out")
    return "\n".join(lines)


def staffing_table(s: IntervalStaffing) -> str:
    return "\n".join(
        [
            f"traffic          {s.erlangs:.3f} erlangs ({s.contacts:g} contacts / "
            f"{s.interval_s:g} s, AHT {s.aht_s:g} s; {s.model})",
            f"agents           {s.agents} on contacts, {s.scheduled} to schedule (shrinkage)",
            f"service level    {_pct(s.service_level).strip()}",
            f"ASA              {s.asa_s:.1f} s",
            f"occupancy        {_pct(s.occupancy).strip()}",
            f"P(wait)          {_pct(s.p_wait).strip()}",
            f"abandon rate     {_pct(s.abandon_rate).strip()}",
        ]
    )
