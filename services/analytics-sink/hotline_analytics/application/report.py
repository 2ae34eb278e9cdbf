"""Use case: the per-queue KPI report of one tenant over one period [start, end).

`build_report` returns a JSON-serialisable dict that names the definitions it used;
`format_report` renders that dict as a table for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hotline_analytics.application.ports import TallySource
from hotline_analytics.domain.kpi import (
    AbandonDenominator,
    CountingRules,
    QueueTally,
    ServiceLevelDefinition,
    Split,
    SplitBy,
    kpis,
)
from hotline_platform.tenancy import KpiDefinitions, TenancyConfig


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _figures(t: QueueTally, rules: CountingRules) -> dict[str, Any]:
    k = kpis(t, rules)
    return {
        "queued": t.queued,
        "short_abandoned": t.short_abandoned,
        "offered": t.offered,
        "answered": t.answered,
        "answered_within_threshold": t.answered_within_t,
        "abandoned": t.abandoned,
        "waiting": t.waiting,
        "callbacks": t.callbacks,
        "flowed_out": t.flowed_out,
        "handled": t.handled,
        "service_level": _round(k.service_level, 4),
        "abandonment_rate": _round(k.abandonment_rate, 4),
        "asa_s": _round(k.asa_s, 3),
        "aht_s": _round(k.aht_s, 3),
        "tally": t.as_dict(),
    }


def contract_rules(kpi: KpiDefinitions) -> CountingRules:
    """The counting rules a tenant's contract asks for (validated by the tenancy config)."""
    return CountingRules(
        short_abandon_s=kpi.short_abandon_s,
        service_level=ServiceLevelDefinition(kpi.service_level),
        abandon_denominator=AbandonDenominator(kpi.abandonment_denominator),
    )


def build_report(
    source: TallySource,
    tenancy: TenancyConfig,
    tenant_id: str,
    start: datetime,
    end: datetime,
    rules: CountingRules | None = None,
    split: Split | None = None,
) -> dict[str, Any]:
    """KPIs per queue of `tenant_id` for contacts queued in [start, end), plus totals; with a
    split, each queue's and the totals' figures per split key too.

    Definitions: `rules` if given, else the tenant's contract (`kpi:` in the tenancy config)."""
    start_ms, end_ms = to_ms(start), to_ms(end)
    if end_ms <= start_ms:
        raise ValueError(f"empty period: from {_iso(start)} to {_iso(end)}")
    tenant = tenancy.tenants.get(tenant_id)
    rules = rules or (contract_rules(tenant.kpi) if tenant else CountingRules())
    configured = tenant.queues if tenant else {}
    thresholds = {qid: q.service_level_threshold_s for qid, q in configured.items()}
    by_split: dict[str, dict[str, QueueTally]] = {}
    if split is None:
        tallies = source.queue_tallies(
            tenant_id, start_ms, end_ms, thresholds, rules.short_abandon_ms
        )
    else:
        # A queue's figures are the sum of its splits': one query, and they always agree.
        tallies = {}
        parts = source.split_tallies(
            tenant_id, start_ms, end_ms, thresholds, rules.short_abandon_ms, split
        )
        for (queue_id, key), t in parts.items():
            tallies[queue_id] = tallies.get(queue_id, QueueTally()) + t
            by_split.setdefault(queue_id, {})[key] = t

    queues: list[dict[str, Any]] = []
    total = QueueTally()
    total_splits: dict[str, QueueTally] = {}
    for queue_id in sorted(set(configured) | set(tallies)):
        t = tallies.get(queue_id, QueueTally())
        total = total + t
        for key, part in by_split.get(queue_id, {}).items():
            total_splits[key] = total_splits.get(key, QueueTally()) + part
        queue = configured.get(queue_id)
        entry: dict[str, Any] = {
            "queue_id": queue_id,
            "service_level_threshold_s": queue.service_level_threshold_s if queue else None,
            "threshold_source": "tenancy config" if queue else "recorded at queueing",
            "service_level_target": queue.service_level_target if queue else None,
        }
        entry.update(_figures(t, rules))
        sl = entry["service_level"]
        entry["service_level_met"] = (
            None if sl is None or queue is None else sl >= queue.service_level_target
        )
        entry["splits"] = _splits(by_split.get(queue_id, {}), split, rules)
        queues.append(entry)
    return {
        "tenant_id": tenant_id,
        "tenant_name": tenant.name if tenant else None,
        "period": {"from": _iso(start), "to": _iso(end)},
        "generated_at": _iso(datetime.now(UTC)),
        "definitions": rules.describe(),
        "queues": queues,
        "total": _figures(total, rules),
        "split": None
        if split is None
        else {
            "by": str(split.by),
            "rule": split.describe(),
            "priority_band_edges": list(split.priority_edges)
            if split.by is SplitBy.PRIORITY_BAND
            else [],
        },
        "total_splits": _splits(total_splits, split, rules),
    }


def _splits(
    tallies: Mapping[str, QueueTally], split: Split | None, rules: CountingRules
) -> list[dict[str, Any]]:
    if split is None:
        return []
    return [
        {"key": key, "figures": _figures(tallies[key], rules)}
        for key in sorted(tallies, key=split.order)
    ]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _sec(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


_COLUMNS: tuple[tuple[str, str], ...] = (
    ("queue", "<"),
    ("T(s)", ">"),
    ("queued", ">"),
    ("short", ">"),
    ("offered", ">"),
    ("answered", ">"),
    ("abandoned", ">"),
    ("waiting", ">"),
    ("SL", ">"),
    ("target", ">"),
    ("aband.%", ">"),
    ("ASA(s)", ">"),
    ("handled", ">"),
    ("AHT(s)", ">"),
)


def _cells(name: str, threshold: Any, target: Any, f: Mapping[str, Any]) -> list[str]:
    return [
        name,
        "-" if threshold is None else str(threshold),
        str(f["queued"]),
        str(f["short_abandoned"]),
        str(f["offered"]),
        str(f["answered"]),
        str(f["abandoned"]),
        str(f["waiting"]),
        _pct(f["service_level"]),
        "-" if target is None else f"{target * 100:.0f}%",
        _pct(f["abandonment_rate"]),
        _sec(f["asa_s"]),
        str(f["handled"]),
        _sec(f["aht_s"]),
    ]


def format_report(report: Mapping[str, Any]) -> str:
    """A readable table of a `build_report` dict, followed by the definitions used."""
    split = report.get("split")
    by = split["by"] if split else ""

    def split_rows(parts: list[Mapping[str, Any]]) -> list[list[str]]:
        # "-": no key (with site: not answered)
        return [_cells(f"  {by} {p['key'] or '-'}", None, None, p["figures"]) for p in parts]

    rows: list[list[str]] = []
    for q in report["queues"]:
        rows.append(
            _cells(q["queue_id"], q["service_level_threshold_s"], q["service_level_target"], q)
        )
        rows += split_rows(q.get("splits") or [])
    total_rows = [_cells("TOTAL", None, None, report["total"])]
    total_rows += split_rows(report.get("total_splits") or [])
    rows += total_rows
    header = [name for name, _ in _COLUMNS]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if align == "<" else c.rjust(w)
            for c, w, (_, align) in zip(cells, widths, _COLUMNS, strict=True)
        ).rstrip()

    d = report["definitions"]
    name = report.get("tenant_name")
    title = f"KPI report: tenant {report['tenant_id']}" + (f" ({name})" if name else "")
    out = [
        title,
        f"period: {report['period']['from']} -> {report['period']['to']}"
        " (contacts by the time they entered the queue)",
        "",
        line(header),
        line(["-" * w for w in widths]),
        *(line(r) for r in rows[: -len(total_rows)]),
        line(["-" * w for w in widths]),
        *(line(r) for r in total_rows),
        "",
        f"service level: {d['service_level']} = {d['service_level_formula']};"
        f" within T: {d['within_T']}",
        f"short abandon: wait < {d['short_abandon_s']:g} s (counted nowhere else);"
        f" offered = {d['offered']}",
        f"abandonment rate: {d['abandonment_rate_formula']}; ASA: {d['asa']}",
        f"AHT: {d['aht']}",
        f"waiting: {d['waiting']}",
        f"ended by a fault: {d['ended_by_fault']}",
    ]
    if split:
        out.append(f"split by {split['by']}: {split['rule']}")
    return "\n".join(out)
