"""The report use case over a fake tally source: thresholds, totals, JSON, the table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hotline_analytics.application.report import build_report, format_report, to_ms
from hotline_analytics.domain.kpi import (
    CountingRules,
    InteractionFacts,
    QueueTally,
    ServiceLevelDefinition,
)
from hotline_platform import tenancy

CONFIG = tenancy.parse(
    {
        "sites": [{"id": "lisbon"}],
        "tenants": [
            {
                "id": "acme",
                "name": "ACME",
                "credential": "c1",
                "queues": [
                    {"id": "support", "service_level": {"threshold_s": 20, "target": 0.8}},
                    {"id": "sales", "service_level": {"threshold_s": 10, "target": 0.9}},
                    {"id": "idle"},
                ],
            }
        ],
    }
)
START = datetime(2026, 11, 2, 10, tzinfo=UTC)
END = START + timedelta(hours=1)
Q = to_ms(START) + 60_000


def answered(queue: str, wait_s: float) -> InteractionFacts:
    at = Q + int(wait_s * 1000)
    return InteractionFacts(
        "i",
        queue_id=queue,
        queued_at_ms=Q,
        answered_at_ms=at,
        completed_at_ms=at + 60_000,
        talk_ms=60_000,
        wrap_up_ms=10_000,
        wrap_up_ended_at_ms=at + 70_000,
        service_level_threshold_s=99,
    )


FACTS = [
    answered("support", 15),
    answered("support", 25),
    answered("sales", 12),
    answered("legacy", 30),
    InteractionFacts("i", queue_id="support", queued_at_ms=Q),
]


class FactsSource:
    """TallySource doing in Python what the ClickHouse query does in SQL."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int, dict[str, int], int]] = []

    def queue_tallies(
        self,
        tenant_id: str,
        start_ms: int,
        end_ms: int,
        thresholds_s: Mapping[str, int],
        short_abandon_ms: int,
    ) -> dict[str, QueueTally]:
        self.calls.append((tenant_id, start_ms, end_ms, dict(thresholds_s), short_abandon_ms))
        rules = CountingRules(short_abandon_s=short_abandon_ms / 1000)
        out: dict[str, QueueTally] = {}
        for f in FACTS:
            if start_ms <= f.queued_at_ms < end_ms:
                t = thresholds_s.get(f.queue_id, f.service_level_threshold_s)
                out.setdefault(f.queue_id, QueueTally()).add(f, t, rules)
        return out


def test_report_per_queue_with_configured_thresholds() -> None:
    source = FactsSource()
    report = build_report(source, CONFIG, "acme", START, END)
    assert source.calls == [
        ("acme", to_ms(START), to_ms(END), {"support": 20, "sales": 10, "idle": 20}, 5000)
    ]
    queues = {q["queue_id"]: q for q in report["queues"]}
    assert list(queues) == ["idle", "legacy", "sales", "support"]  # configured + seen in data
    support = queues["support"]
    assert (support["queued"], support["answered"], support["waiting"]) == (3, 2, 1)
    assert support["service_level"] == 0.5  # 15 s within 20, 25 s not
    assert support["service_level_met"] is False
    assert support["asa_s"] == 20.0 and support["aht_s"] == 70.0
    assert queues["sales"]["service_level"] == 0.0  # 12 s > T = 10 s
    # a queue no longer configured: the threshold recorded at queueing time
    assert queues["legacy"]["threshold_source"] == "recorded at queueing"
    assert queues["legacy"]["service_level"] == 1.0
    assert queues["idle"]["queued"] == 0 and queues["idle"]["service_level"] is None
    assert report["total"]["queued"] == 5 and report["total"]["answered"] == 4
    assert report["total"]["service_level"] == 0.5
    assert report["definitions"]["service_level"] == "exclude"
    assert report["period"] == {"from": "2026-11-02T10:00:00Z", "to": "2026-11-02T11:00:00Z"}
    json.dumps(report)  # JSON-serialisable as is


def test_report_uses_the_requested_variant_and_rejects_empty_periods() -> None:
    rules = CountingRules(service_level=ServiceLevelDefinition.REMOVED_WITHIN_T)
    report = build_report(FactsSource(), CONFIG, "acme", START, END, rules)
    support = next(q for q in report["queues"] if q["queue_id"] == "support")
    assert support["service_level"] == round(1 / 3, 4)
    assert report["definitions"]["service_level"] == "removed_within_T"
    with pytest.raises(ValueError, match="empty period"):
        build_report(FactsSource(), CONFIG, "acme", END, START)


def test_report_uses_the_tenants_contract_definitions_by_default() -> None:
    raw = {
        "tenants": [
            {
                "id": "acme",
                "credential": "c1",
                "queues": [{"id": "support", "service_level": {"threshold_s": 20}}],
                "kpi": {
                    "service_level": "removed_within_T",
                    "short_abandon_s": 3,
                    "abandonment_denominator": "queued",
                },
            }
        ]
    }
    report = build_report(FactsSource(), tenancy.parse(raw), "acme", START, END)
    assert report["definitions"]["service_level"] == "removed_within_T"
    assert report["definitions"]["abandonment_rate"] == "queued"
    assert report["definitions"]["short_abandon_s"] == 3
    bad = {"tenants": [{"id": "acme", "credential": "c1", "kpi": {"service_level": "nope"}}]}
    with pytest.raises(tenancy.ConfigError, match="kpi.service_level 'nope' is not one of"):
        tenancy.parse(bad)


def test_naive_datetimes_are_utc_and_other_zones_are_converted() -> None:
    assert to_ms(datetime(2026, 11, 2, 10)) == to_ms(START)
    assert to_ms(datetime(2026, 11, 2, 11, tzinfo=timezone(timedelta(hours=1)))) == to_ms(START)


def test_unknown_tenant_reports_what_the_data_says() -> None:
    report = build_report(FactsSource(), CONFIG, "ghost", START, END)
    assert report["tenant_name"] is None
    assert all(q["service_level_target"] is None for q in report["queues"])


def test_format_report_is_a_readable_table() -> None:
    text = format_report(build_report(FactsSource(), CONFIG, "acme", START, END))
    lines = text.splitlines()
    assert lines[0] == "KPI report: tenant acme (ACME)"
    header = next(line for line in lines if line.startswith("queue"))
    assert header.split() == [
        "queue",
        "T(s)",
        "queued",
        "short",
        "offered",
        "answered",
        "abandoned",
        "waiting",
        "SL",
        "target",
        "aband.%",
        "ASA(s)",
        "handled",
        "AHT(s)",
    ]
    support = next(line for line in lines if line.startswith("support"))
    assert support.split() == [
        "support",
        "20",
        "3",
        "0",
        "3",
        "2",
        "0",
        "1",
        "50.0%",
        "80%",
        "0.0%",
        "20.0",
        "2",
        "70.0",
    ]
    assert any(line.startswith("TOTAL") for line in lines)
    assert "exclude = answered within T / answered" in text
