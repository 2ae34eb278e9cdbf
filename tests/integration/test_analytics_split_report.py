"""The KPI report split by site, bullseye step and priority band (issue 16 item 12), against a
real Tansu broker and a real ClickHouse 18.16: events in through the sink, the report over
gRPC (`GetKpiReport.split_by`), figures checked by hand, and the SQL tallies of every split
equal to the domain's (`domain.kpi.split_tallies` over the same interactions' facts).

The migration test creates the tables and view with the DDL of before the split (the same
generator without the new columns), stores calls, then lets the sink's `create_schema`
migrate them: old contacts keep their figures and new ones get their splits.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from support.analytics_sink import record_of, serve_reports, sink_settings, stored_events

from hotline.analytics.v1 import reports_pb2, reports_pb2_grpc
from hotline_analytics.adapters import schema
from hotline_analytics.adapters.clickhouse import (
    ClickHouseEventStore,
    ClickHouseReports,
    create_schema,
)
from hotline_analytics.adapters.rows import EventBatch
from hotline_analytics.adapters.synthetic import Call, CallEnd, call_events
from hotline_analytics.domain.kpi import CountingRules, Split, SplitBy, split_tallies
from hotline_analytics.settings import AnalyticsSettings
from hotline_analytics.wiring import kpi_report
from hotline_platform import protodict, tenancy

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
ACME, BETA = f"acme-{RUN}", f"beta-{RUN}"
START = datetime(2026, 11, 4, 9, tzinfo=UTC)
END = START + timedelta(hours=1)
T0 = int(START.timestamp() * 1000)
THRESHOLDS = {"support": 20, "sales": 15}

CONFIG = tenancy.parse(
    {
        "sites": [{"id": "lisbon"}, {"id": "porto"}],
        "tenants": [
            {
                "id": ACME,
                "credential": f"c-{ACME}",
                "queues": [
                    {"id": "support", "service_level": {"threshold_s": 20, "target": 0.8}},
                    {"id": "sales", "service_level": {"threshold_s": 15, "target": 0.9}},
                ],
            },
            {
                "id": BETA,
                "credential": f"c-{BETA}",
                "queues": [{"id": "support", "service_level": {"threshold_s": 20}}],
            },
        ],
    }
)


def _call(offset_s: int, **kw: Any) -> Call:
    return Call(kw.pop("tenant_id", ACME), T0 + offset_s * 1000, **kw)


# (name: site, step, band) as the rules say; the site of an offer is its agent's.
CALLS = [
    # a1: lisbon, 0, <=0 -- answered in 5 s (within T)
    _call(60, wait_ms=5_000),
    # a2: porto, 1, 1-4 -- answered after one step, in 25 s (not within T)
    _call(120, wait_ms=25_000, agent_site_id="porto", routing_steps=1, priority=3),
    # a3: porto, 2, 5-9 -- a missed offer then answered at step 2, in 10 s
    _call(
        180, wait_ms=10_000, agent_site_id="porto", routing_steps=2, priority=7,
        rejected_offers=1,
    ),
    # a4: "", 1, 10+ -- abandoned after 30 s having reached step 1
    _call(240, end=CallEnd.ABANDONED, wait_ms=30_000, routing_steps=1, priority=12),
    # a5: "", 0, <=0 -- short abandon
    _call(300, end=CallEnd.ABANDONED, wait_ms=2_000),
    # a6: "", 2, 5-9 -- still waiting at step 2
    _call(360, end=CallEnd.WAITING, routing_steps=2, priority=5),
    # a8: "", 0, 1-4 -- abandoned while offered to a porto agent (not answered: no site)
    _call(
        420, end=CallEnd.ABANDONED_WHILE_OFFERED, wait_ms=12_000, agent_site_id="porto",
        priority=4,
    ),
    # a7 (sales): lisbon, 0, 1-4 -- answered in 16 s (T 15: not within)
    _call(480, queue_id="sales", wait_ms=16_000, priority=1),
    # another tenant's answered call at porto: never in ACME's figures
    _call(90, tenant_id=BETA, wait_ms=1_000, agent_site_id="porto", routing_steps=3),
]
EVENTS = [pair for call in CALLS for pair in call_events(call)]


def _counts(figures: dict[str, Any]) -> tuple[int, int, int, int, int, int]:
    f = figures
    return (
        f["queued"], f["answered"], f["answered_within_threshold"], f["abandoned"],
        f["short_abandoned"], f["waiting"],
    )


# Per split: {queue: {key: (queued, answered, within T, abandoned, short, waiting)}}.
EXPECTED: dict[SplitBy, dict[str, dict[str, tuple[int, ...]]]] = {
    SplitBy.SITE: {
        "support": {
            "": (4, 0, 0, 2, 1, 1),
            "lisbon": (1, 1, 1, 0, 0, 0),
            "porto": (2, 2, 1, 0, 0, 0),
        },
        "sales": {"lisbon": (1, 1, 0, 0, 0, 0)},
    },
    SplitBy.BULLSEYE_STEP: {
        "support": {
            "0": (3, 1, 1, 1, 1, 0),
            "1": (2, 1, 0, 1, 0, 0),
            "2": (2, 1, 1, 0, 0, 1),
        },
        "sales": {"0": (1, 1, 0, 0, 0, 0)},
    },
    SplitBy.PRIORITY_BAND: {
        "support": {
            "<=0": (2, 1, 1, 0, 1, 0),
            "1-4": (2, 1, 0, 1, 0, 0),
            "5-9": (2, 1, 1, 0, 0, 1),
            "10+": (1, 0, 0, 1, 0, 0),
        },
        "sales": {"1-4": (1, 1, 0, 0, 0, 0)},
    },
}


@pytest.fixture(scope="module")
def settings(broker: str, clickhouse: Any) -> AnalyticsSettings:
    return sink_settings(broker, clickhouse, f"analytics_split_{RUN}")


@pytest.fixture(scope="module")
def stored(settings: AnalyticsSettings) -> Iterator[None]:
    with stored_events(settings, EVENTS, "analytics-split-it"):
        yield


def _serve(
    settings: AnalyticsSettings,
    exercise: Callable[[reports_pb2_grpc.ReportsStub], Awaitable[None]],
) -> None:
    serve_reports(settings, CONFIG, exercise)


def _request(split_by: str, tenant: str = ACME, **kw: Any) -> reports_pb2.GetKpiReportRequest:
    period = protodict.to_message({"from": START, "to": END}, reports_pb2.Period)
    return reports_pb2.GetKpiReportRequest(
        tenant_id=tenant, period=period, split_by=split_by, **kw
    )


def _metadata(tenant: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer c-{tenant}"),)


def _by_queue(report: dict[str, Any]) -> dict[str, dict[str, tuple[int, ...]]]:
    return {
        q["queue_id"]: {s["key"]: _counts(s["figures"]) for s in q["splits"]}
        for q in report["queues"]
    }


def test_the_split_reports_figures_over_grpc(settings: AnalyticsSettings, stored: None) -> None:
    async def exercise(stub: reports_pb2_grpc.ReportsStub) -> None:
        plain = protodict.to_dict(
            await stub.GetKpiReport(_request(""), metadata=_metadata(ACME))
        )
        assert plain["split"] is None and plain["total_splits"] == []
        for by, expected in EXPECTED.items():
            report = protodict.to_dict(
                await stub.GetKpiReport(_request(str(by)), metadata=_metadata(ACME))
            )
            assert report["split"]["by"] == str(by)
            assert _by_queue(report) == expected
            # keys in order: steps by number, bands low to high, sites by name
            assert [s["key"] for s in report["queues"][1]["splits"]] == list(
                expected["support"]
            )
            # the queues' and the totals' figures are those of the report without a split
            for q, p in zip(report["queues"], plain["queues"], strict=True):
                assert _counts(q) == _counts(p)
                assert q["tally"] == p["tally"]
            assert report["total"] == plain["total"]
            totals = {s["key"]: s["figures"]["tally"] for s in report["total_splits"]}
            summed: dict[str, dict[str, int]] = {}
            for q in report["queues"]:
                for s in q["splits"]:
                    acc = summed.setdefault(s["key"], {})
                    for name, value in s["figures"]["tally"].items():
                        acc[name] = acc.get(name, 0) + value
            assert totals == summed
            # over gRPC = build_report straight from ClickHouse
            direct = kpi_report(settings, CONFIG, ACME, START, END, split=Split(by))
            assert {k: v for k, v in report.items() if k != "generated_at"} == {
                k: v for k, v in direct.items() if k != "generated_at"
            }

        # service level per site: lisbon 1 of 2 answered within T, porto 1 of 2
        report = protodict.to_dict(
            await stub.GetKpiReport(_request("site"), metadata=_metadata(ACME))
        )
        sl = {s["key"]: s["figures"]["service_level"] for s in report["total_splits"]}
        assert sl == {"": None, "lisbon": 0.5, "porto": 0.5}

        # bands with other edges: <=4 | 5+
        report = protodict.to_dict(
            await stub.GetKpiReport(
                _request("priority_band", priority_band_edges=[5]), metadata=_metadata(ACME)
            )
        )
        assert report["split"]["priority_band_edges"] == [5]
        assert {s["key"]: s["figures"]["queued"] for s in report["total_splits"]} == {
            "<=4": 5, "5+": 3,
        }
        # another tenant sees its own contacts only
        beta = protodict.to_dict(
            await stub.GetKpiReport(_request("bullseye_step", BETA), metadata=_metadata(BETA))
        )
        assert _by_queue(beta) == {"support": {"3": (1, 1, 1, 0, 0, 0)}}

    _serve(settings, exercise)


def test_a_split_asks_the_same_checks_as_the_report(
    settings: AnalyticsSettings, stored: None
) -> None:
    async def exercise(stub: reports_pb2_grpc.ReportsStub) -> None:
        refused = [
            (_request("site"), _metadata(BETA), grpc.StatusCode.PERMISSION_DENIED),
            (_request("site"), (), grpc.StatusCode.UNAUTHENTICATED),
            (_request("agent"), _metadata(ACME), grpc.StatusCode.INVALID_ARGUMENT),
            (
                _request("priority_band", priority_band_edges=[5, 5]),
                _metadata(ACME),
                grpc.StatusCode.INVALID_ARGUMENT,
            ),
            (
                _request("site", priority_band_edges=[5]),
                _metadata(ACME),
                grpc.StatusCode.INVALID_ARGUMENT,
            ),
        ]
        for request, metadata, code in refused:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetKpiReport(request, metadata=metadata)
            assert caught.value.code() == code, (request.split_by, caught.value.details())

    _serve(settings, exercise)


def test_sql_split_tallies_equal_the_domains(settings: AnalyticsSettings, stored: None) -> None:
    client = settings.clickhouse().client()
    try:
        reports = ClickHouseReports(client, settings.clickhouse_database)
        start_ms, end_ms = T0, T0 + 3_600_000
        facts = reports.interaction_facts(ACME, start_ms, end_ms)
        assert len(facts) == 8
        for split in (*(Split(by) for by in SplitBy), Split(SplitBy.PRIORITY_BAND, (-1, 4, 8))):
            sql = reports.split_tallies(ACME, start_ms, end_ms, THRESHOLDS, 5_000, split)
            assert sql == split_tallies(facts, THRESHOLDS, split, CountingRules()), split
    finally:
        client.disconnect()


def _old_ddl(database: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The DDL of before the split: today's generator without the columns it added."""
    added = {"priority", "answer_offer_id", "offers_made", "last_step"}
    with monkeypatch.context() as m:
        m.setattr(schema, "COLUMNS", tuple(c for c in schema.COLUMNS if c[0] != "routing_step"))
        m.setattr(
            schema,
            "INTERACTION_AGGREGATES",
            tuple(a for a in schema.INTERACTION_AGGREGATES if a[0] not in added),
        )
        return schema.schema_statements(database)


def _store(client: Any, database: str, calls: list[Call], columns: set[str]) -> None:
    batch = EventBatch()
    for call in calls:
        for topic, event in call_events(call):
            batch.add(record_of(topic, event))
    names, values = batch.columns()
    keep = [i for i, n in enumerate(names) if n in columns]  # what the old table has
    client.execute(
        f"INSERT INTO {database}.events ({', '.join(names[i] for i in keep)}) VALUES",
        [values[i] for i in keep],
        columnar=True,
        types_check=False,
    )


def test_the_migration_brings_an_old_schema_to_the_split(
    clickhouse: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"analytics_migrate_{RUN}"
    client = sink_settings("unused:0", clickhouse, database).clickhouse().client()
    try:
        for statement in _old_ddl(database, monkeypatch):
            client.execute(statement)
        old_columns = {
            n for (n,) in client.execute(f"SELECT name FROM system.columns WHERE database ="
                                         f" '{database}' AND table = 'events'")
        }
        assert "routing_step" not in old_columns
        before = [_call(60, wait_ms=5_000, priority=7, agent_site_id="porto")]
        _store(client, database, before, old_columns)

        create_schema(client, database)  # what the sink does at start
        existing: dict[str, set[str]] = {}
        for table, column in client.execute(schema.EXISTING_COLUMNS_SQL, {"database": database}):
            existing.setdefault(table, set()).add(column)
        assert schema.migration_statements(database, existing) == []  # current now
        create_schema(client, database)  # and a second start changes nothing

        after = [_call(120, wait_ms=25_000, priority=7, agent_site_id="porto", routing_steps=1)]
        store = ClickHouseEventStore(client, database)
        batch = EventBatch()
        for topic, event in call_events(after[0]):
            batch.add(record_of(topic, event))
        store.insert(batch)

        reports = ClickHouseReports(client, database)
        by_site = reports.split_tallies(ACME, T0, T0 + 3_600_000, THRESHOLDS, 5_000, Split(
            SplitBy.SITE))
        # the old contact: answered, but its offer predates the migration: no site known
        assert {k: (t.queued, t.answered) for k, t in by_site.items()} == {
            ("support", ""): (1, 1),
            ("support", "porto"): (1, 1),
        }
        by_band = reports.split_tallies(ACME, T0, T0 + 3_600_000, THRESHOLDS, 5_000, Split(
            SplitBy.PRIORITY_BAND))
        # the old contact's priority was stored in `events` but not aggregated: band <=0
        assert {k: t.queued for k, t in by_band.items()} == {
            ("support", "<=0"): 1,
            ("support", "5-9"): 1,
        }
        by_step = reports.split_tallies(ACME, T0, T0 + 3_600_000, THRESHOLDS, 5_000, Split(
            SplitBy.BULLSEYE_STEP))
        assert {k: t.queued for k, t in by_step.items()} == {
            ("support", "0"): 1,
            ("support", "1"): 1,
        }
        unsplit = reports.queue_tallies(ACME, T0, T0 + 3_600_000, THRESHOLDS, 5_000)
        assert (unsplit["support"].queued, unsplit["support"].answered) == (2, 2)
    finally:
        client.execute(f"DROP DATABASE IF EXISTS {database}")
        client.disconnect()
