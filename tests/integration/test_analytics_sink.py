"""The analytics sink against a real Tansu broker and a real ClickHouse 18.16.

Calls are published as their services would publish them (protobuf, keyed by tenant); the sink
runs in a thread with its own consumer group and database, so other tests sharing the broker do
not disturb it. Waiting uses sentinel events published after the events under test on every
topic, in the same partitions (same tenant key): once a sentinel is in ClickHouse, everything
before it in its partition has been handled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from confluent_kafka import Consumer
from google.protobuf.message import Message
from support.analytics_sink import running_sink, sink_settings

from hotline.agent.v1.events_pb2 import AgentEvent, AgentState
from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline_analytics.adapters.clickhouse import ClickHouseReports, ClickHouseSettings
from hotline_analytics.adapters.synthetic import Call, CallEnd, call_events
from hotline_analytics.domain.kpi import CountingRules, tally
from hotline_analytics.settings import AnalyticsSettings
from hotline_analytics.wiring import AnalyticsSink, kpi_report, outcome_counts
from hotline_cli.embedded import find_free_port
from hotline_platform import tenancy
from hotline_platform.bus import EventPublisher, assign_from_start, new_consumer
from hotline_platform.envelope import new_envelope
from hotline_platform.grpc_server import is_serving
from hotline_platform.topics import (
    AGENTS,
    ROUTING_INTERACTIONS,
    VOICE_INTERACTIONS,
    Topic,
    dead_letter_topic,
    partition_for,
)

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
ACME, BETA, GAMMA = f"acme-{RUN}", f"beta-{RUN}", f"gamma-{RUN}"
START = datetime(2026, 11, 2, 10, tzinfo=UTC)
END = START + timedelta(hours=1)
T0 = int(START.timestamp() * 1000)


def queued_at(offset_ms: int) -> int:
    """arrived_at for a call queued `offset_ms` after START (the router queues 40 ms later)."""
    return T0 + offset_ms - 40


ACME_CALLS = [
    Call(ACME, queued_at(60_000), wait_ms=5_000, talk_ms=60_000, wrap_up_ms=10_000),
    Call(
        ACME, queued_at(120_000), wait_ms=20_000, talk_ms=120_000, hold_ms=10_000, wrap_up_ms=20_000
    ),
    Call(
        ACME,
        queued_at(180_000),
        wait_ms=40_000,
        talk_ms=30_000,
        wrap_up_ms=15_000,
        rejected_offers=1,
    ),
    Call(ACME, queued_at(240_000), wait_ms=8_000, wrap_up_ended=False),
    Call(ACME, queued_at(300_000), end=CallEnd.ABANDONED, wait_ms=30_000),
    Call(ACME, queued_at(360_000), end=CallEnd.ABANDONED_WHILE_OFFERED, wait_ms=12_000),
    Call(ACME, queued_at(420_000), end=CallEnd.ABANDONED, wait_ms=2_000),
    Call(ACME, queued_at(480_000), end=CallEnd.WAITING),
    Call(ACME, queued_at(540_000), end=CallEnd.CONTAINED),
    Call(
        ACME,
        queued_at(600_000),
        queue_id="sales",
        wait_ms=16_000,
        talk_ms=100_000,
        wrap_up_ms=20_000,
    ),
    # outside [START, END): queued exactly at END, and queued before START but answered after
    Call(ACME, queued_at(3_600_000), wait_ms=1_000),
    Call(ACME, queued_at(-1_000), wait_ms=10_000),
]
BETA_CALLS = [
    Call(BETA, queued_at(60_000), wait_ms=1_000, agent_id="beta-agent"),
    Call(BETA, queued_at(70_000), end=CallEnd.ABANDONED, wait_ms=50_000),
]
CONFIG = tenancy.parse(
    {
        "sites": [{"id": "lisbon"}],
        "tenants": [
            {
                "id": ACME,
                "name": "ACME",
                "credential": f"c-{ACME}",
                "queues": [
                    {"id": "support", "service_level": {"threshold_s": 20, "target": 0.8}},
                    {"id": "sales", "service_level": {"threshold_s": 15, "target": 0.9}},
                ],
            },
            {
                "id": BETA,
                "name": "Beta",
                "credential": f"c-{BETA}",
                "queues": [{"id": "support", "service_level": {"threshold_s": 20}}],
            },
        ],
    }
)


def events_of(calls: Sequence[Call]) -> list[tuple[Topic, Message]]:
    return [pair for call in calls for pair in call_events(call.with_id())]


ACME_EVENTS = events_of(ACME_CALLS)
BETA_EVENTS = events_of(BETA_CALLS)


@pytest.fixture(scope="module")
def settings(broker: str, clickhouse: Any) -> AnalyticsSettings:
    return sink_settings(broker, clickhouse, f"analytics_it_{RUN}")


@pytest.fixture(scope="module")
def sink(settings: AnalyticsSettings) -> Iterator[AnalyticsSink]:
    with running_sink(settings) as running:
        yield running


@pytest.fixture(scope="module")
def publisher(broker: str) -> Iterator[EventPublisher]:
    pub = EventPublisher(broker, "analytics-it")
    yield pub
    pub.flush()


@pytest.fixture(scope="module")
def reports(settings: AnalyticsSettings) -> Iterator[ClickHouseReports]:
    client = settings.clickhouse().client()
    yield ClickHouseReports(client, settings.clickhouse_database)
    client.disconnect()


def _sentinels(tenant: str) -> list[tuple[Topic, Message]]:
    """One event per topic for `tenant` that no KPI counts (an interaction never queued)."""
    interaction = f"sentinel-{tenant}"
    arrived = InteractionEvent(
        envelope=new_envelope(tenant_id=tenant, producer="it", interaction_id=interaction)
    )
    arrived.arrived.session_ref = "sentinel"
    wrap = InteractionEvent(
        envelope=new_envelope(tenant_id=tenant, producer="it", interaction_id=interaction)
    )
    wrap.wrap_up_started.agent_id = "sentinel"
    agent = AgentEvent(envelope=new_envelope(tenant_id=tenant, producer="it", agent_id="sentinel"))
    agent.state_changed.state = AgentState.AGENT_STATE_READY
    return [(VOICE_INTERACTIONS, arrived), (ROUTING_INTERACTIONS, wrap), (AGENTS, agent)]


def _publish_and_wait_for(
    publisher: EventPublisher,
    client: Any,
    settings: AnalyticsSettings,
    events: Sequence[tuple[Topic, Message]],
    tenants: Sequence[str],
    alive: Callable[[], bool],
    timeout: float = 60,
) -> None:
    for topic, event in events:
        publisher.publish(topic, event)
    sentinels = [pair for tenant in tenants for pair in _sentinels(tenant)]
    for topic, event in sentinels:
        publisher.publish(topic, event)
    publisher.flush()
    ids = tuple(e.envelope.event_id for _, e in sentinels)  # type: ignore[attr-defined]
    db = settings.clickhouse_database
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert alive(), "the sink died"
        found = client.execute(
            f"SELECT count() FROM {db}.events WHERE event_id IN %(ids)s", {"ids": ids}
        )[0][0]
        if found >= len(ids):
            return
        time.sleep(0.1)
    pytest.fail(f"sentinel events not in ClickHouse after {timeout}s")


def publish_and_wait(
    publisher: EventPublisher,
    reports: ClickHouseReports,
    sink: AnalyticsSink,
    events: Sequence[tuple[Topic, Message]],
    tenants: Sequence[str],
) -> None:
    _publish_and_wait_for(
        publisher, reports._client, sink.settings, events, tenants, alive=sink.is_alive
    )
    assert sink.error is None


@pytest.fixture(scope="module")
def published(sink: AnalyticsSink, publisher: EventPublisher, reports: ClickHouseReports) -> None:
    publish_and_wait(publisher, reports, sink, ACME_EVENTS + BETA_EVENTS, [ACME, BETA])


def _queues(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["queue_id"]: q for q in report["queues"]}


def _figures(entry: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "queued",
        "short_abandoned",
        "offered",
        "answered",
        "answered_within_threshold",
        "abandoned",
        "waiting",
        "handled",
        "service_level",
        "abandonment_rate",
        "asa_s",
        "aht_s",
    )
    return {k: entry[k] for k in keys}


def test_report_figures_are_exact(settings: AnalyticsSettings, published: None) -> None:
    report = kpi_report(settings, CONFIG, ACME, START, END)
    queues = _queues(report)
    assert set(queues) == {"support", "sales"}
    assert _figures(queues["support"]) == {
        "queued": 8,
        "short_abandoned": 1,
        "offered": 7,
        "answered": 4,
        "answered_within_threshold": 3,  # 5 s, 20 s (= T) and 8 s; not 40 s
        "abandoned": 2,
        "waiting": 1,
        "handled": 3,  # one answered call is still in wrap-up
        "service_level": 0.75,
        "abandonment_rate": round(2 / 7, 4),
        "asa_s": 18.25,  # (5 + 20 + 40 + 8) / 4
        "aht_s": 85.0,  # ((60 + 10) + (120 + 20) + (30 + 15)) / 3, hold inside talk
    }
    assert queues["support"]["service_level_met"] is False  # 75 % < 80 %
    assert _figures(queues["sales"]) == {
        "queued": 1,
        "short_abandoned": 0,
        "offered": 1,
        "answered": 1,
        "answered_within_threshold": 0,  # 16 s > T = 15 s
        "abandoned": 0,
        "waiting": 0,
        "handled": 1,
        "service_level": 0.0,
        "abandonment_rate": 0.0,
        "asa_s": 16.0,
        "aht_s": 120.0,
    }
    total = report["total"]
    assert (total["queued"], total["answered"], total["service_level"]) == (9, 5, 0.6)
    assert report["definitions"]["service_level"] == "exclude"
    assert report["definitions"]["short_abandon_s"] == 5.0


def test_duplicates_change_no_figure(
    settings: AnalyticsSettings,
    published: None,
    sink: AnalyticsSink,
    publisher: EventPublisher,
    reports: ClickHouseReports,
) -> None:
    before = kpi_report(settings, CONFIG, ACME, START, END)
    counts_before = outcome_counts(settings, ACME)
    publish_and_wait(publisher, reports, sink, ACME_EVENTS + BETA_EVENTS, [ACME, BETA])
    after = kpi_report(settings, CONFIG, ACME, START, END)
    before.pop("generated_at")
    after.pop("generated_at")
    assert after == before
    assert outcome_counts(settings, ACME) == counts_before
    db = settings.clickhouse_database
    distinct = reports._client.execute(
        f"SELECT count() FROM {db}.events FINAL WHERE tenant_id = %(t)s", {"t": ACME}
    )[0][0]
    assert distinct == len(ACME_EVENTS) + 2 * 3  # plus two rounds of sentinels


def test_sql_tallies_agree_with_the_domain_rules(
    settings: AnalyticsSettings, published: None, reports: ClickHouseReports
) -> None:
    start_ms, end_ms = T0, T0 + 3_600_000
    thresholds = {"support": 20, "sales": 15}
    sql = reports.queue_tallies(ACME, start_ms, end_ms, thresholds, 5_000)
    facts = reports.interaction_facts(ACME, start_ms, end_ms)
    assert len(facts) == 9
    python = {
        q: tally([f for f in facts if f.queue_id == q], t, CountingRules())
        for q, t in thresholds.items()
    }
    assert sql == python


def test_one_tenants_report_holds_nothing_of_another(
    settings: AnalyticsSettings, published: None
) -> None:
    beta = _queues(kpi_report(settings, CONFIG, BETA, START, END))
    assert set(beta) == {"support"}
    assert _figures(beta["support"]) == {
        "queued": 2,
        "short_abandoned": 0,
        "offered": 2,
        "answered": 1,
        "answered_within_threshold": 1,
        "abandoned": 1,
        "waiting": 0,
        "handled": 1,
        "service_level": 1.0,
        "abandonment_rate": 0.5,
        "asa_s": 1.0,
        "aht_s": 150.0,
    }
    nobody = kpi_report(settings, CONFIG, f"nobody-{RUN}", START, END)
    assert nobody["queues"] == [] and nobody["total"]["queued"] == 0
    assert {r["tenant_id"] for r in outcome_counts(settings, BETA)} == {BETA}


def test_outcome_counts_for_the_system_test(settings: AnalyticsSettings, published: None) -> None:
    rows = outcome_counts(settings, ACME)
    counts = {(r["queue_id"], r["outcome"]): r["interactions"] for r in rows}
    assert counts == {
        ("", "contained"): 1,
        ("", "not_queued"): 1,  # the sentinel interaction
        ("sales", "answered"): 1,
        ("support", "abandoned"): 2,
        ("support", "answered"): 6,  # the 4 in the period and the 2 outside it
        ("support", "short_abandoned"): 1,
        ("support", "waiting"): 1,
    }
    clickhouse_only = ClickHouseSettings(
        host=settings.clickhouse_host,
        port=settings.clickhouse_port,
        database=settings.clickhouse_database,
    )
    assert outcome_counts(clickhouse_only, ACME) == outcome_counts(settings, ACME)


def _dead_letters(broker: str, wanted: int, timeout: float = 30) -> list[Any]:
    consumer: Consumer = new_consumer(broker, f"dlq-reader-{uuid.uuid4()}")
    assign_from_start(consumer, [dead_letter_topic("analytics-sink")])
    found: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(found) < wanted:
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            headers = dict(msg.headers() or [])
            if RUN.encode() in (msg.value() or b"") + (msg.key() or b""):
                found.append((msg, headers))
    finally:
        consumer.close()
    return found


def test_unusable_records_go_to_the_dead_letter_topic_and_the_sink_goes_on(
    broker: str,
    settings: AnalyticsSettings,
    published: None,
    sink: AnalyticsSink,
    publisher: EventPublisher,
    reports: ClickHouseReports,
) -> None:
    # Both bad records go to GAMMA's partition, before a good GAMMA call.
    partition = partition_for(GAMMA)
    garbage = b"\xff\xfe not protobuf " + RUN.encode()
    publisher.publish_raw(VOICE_INTERACTIONS, GAMMA.encode(), garbage, partition)
    no_tenant = InteractionEvent(
        envelope=new_envelope(tenant_id="", producer="it", interaction_id=f"orphan-{RUN}")
    )
    no_tenant.arrived.session_ref = "x"
    publisher.publish_raw(ROUTING_INTERACTIONS, b"", no_tenant.SerializeToString(), partition)
    before = sink.dead_lettered
    later = events_of([Call(GAMMA, queued_at(900_000), wait_ms=3_000)])
    publish_and_wait(publisher, reports, sink, later, [GAMMA])
    # The sink thread counts a batch's dead letters after storing its rows: wait for it.
    deadline = time.monotonic() + 15
    while sink.dead_lettered < before + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sink.dead_lettered >= before + 2

    dead = _dead_letters(broker, wanted=2)
    reasons = {
        headers["hotline-source-topic"].decode(): headers["hotline-reason"].decode()
        for _, headers in dead
    }
    assert "not a hotline.interaction.v1.InteractionEvent" in reasons[VOICE_INTERACTIONS.name]
    assert "envelope lacks tenant_id" in reasons[ROUTING_INTERACTIONS.name]
    assert {m.value() for m, _ in dead} == {garbage, no_tenant.SerializeToString()}

    # the sink went on: the call published after them is in the report
    support = _queues(kpi_report(settings, CONFIG, GAMMA, START, END))["support"]
    assert (support["queued"], support["answered"]) == (1, 1)


def test_entrypoint_commits_what_it_stored_and_a_restart_resumes_there(
    broker: str,
    clickhouse: Any,
    publisher: EventPublisher,
    tmp_path: Any,
) -> None:
    """`python -m hotline_analytics` (health, SIGTERM) then an in-process sink in its group."""
    delta = f"delta-{RUN}"
    settings = AnalyticsSettings(
        kafka_bootstrap=broker,
        clickhouse_host=clickhouse.host,
        clickhouse_port=clickhouse.tcp_port,
        clickhouse_database=f"analytics_restart_{RUN}",
        consumer_group=f"hotline-analytics-restart-{RUN}",
        batch_max_wait_s=0.1,
        grpc_port=find_free_port(),
    )
    env = dict(os.environ)
    env.update({f"HOTLINE_{k.upper()}": str(v) for k, v in settings.model_dump().items()})
    first_calls = events_of(
        [
            Call(delta, queued_at(60_000), wait_ms=4_000),
            Call(delta, queued_at(61_000), end=CallEnd.ABANDONED),
        ]
    )
    with open(tmp_path / "sink.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hotline_analytics"], env=env, stdout=log, stderr=log
        )
    client = settings.clickhouse().client()
    try:
        deadline = time.monotonic() + 60
        while not is_serving(f"127.0.0.1:{settings.grpc_port}"):
            assert proc.poll() is None and time.monotonic() < deadline, (
                tmp_path / "sink.log"
            ).read_text()
            time.sleep(0.1)
        _publish_and_wait_for(
            publisher, client, settings, first_calls, [delta], alive=lambda: proc.poll() is None
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, (tmp_path / "sink.log").read_text()
        time.sleep(1.1)  # ingested_at has 1 s resolution
        restarted_at = int(time.time())

        second = AnalyticsSink(settings)
        second.start()
        try:
            later = events_of([Call(delta, queued_at(62_000), wait_ms=30_000)])
            _publish_and_wait_for(
                publisher, client, settings, later, [delta], alive=second.is_alive
            )
        finally:
            second.stop()
        # Resumed at the committed offsets: what the first sink stored was not read again
        # (a re-read row would be the newest version of its event, so merges cannot hide it).
        reread = client.execute(
            f"SELECT count() FROM {settings.clickhouse_database}.events FINAL"
            " WHERE tenant_id = %(t)s AND ingested_at >= %(at)s",
            {"t": delta, "at": restarted_at},
        )[0][0]
        assert reread == len(later) + 3  # its events and the sentinels published after it
        support = _queues(kpi_report(settings, CONFIG, delta, START, END))["support"]
        assert (support["queued"], support["answered"], support["abandoned"]) == (3, 2, 1)
    finally:
        if proc.poll() is None:
            proc.kill()
        client.disconnect()


def test_two_sinks_in_one_group_share_the_work_and_lose_nothing_on_rebalance(
    broker: str, clickhouse: Any, publisher: EventPublisher
) -> None:
    """A second replica joining makes the first give up partitions mid-stream (on_revoke)."""
    tenants = [f"eps{i}-{RUN}" for i in range(6)]  # spread over several partitions
    settings = AnalyticsSettings(
        kafka_bootstrap=broker,
        clickhouse_host=clickhouse.host,
        clickhouse_port=clickhouse.tcp_port,
        clickhouse_database=f"analytics_replicas_{RUN}",
        consumer_group=f"hotline-analytics-replicas-{RUN}",
        batch_max_wait_s=0.3,
    )
    calls = [
        Call(t, queued_at(60_000 + i * 1_000), wait_ms=1_000 * i)
        for t in tenants
        for i in range(1, 4)
    ]
    events = events_of(calls)
    first, second = AnalyticsSink(settings), AnalyticsSink(settings)
    client = settings.clickhouse().client()
    first.start()
    try:
        half = len(events) // 2
        for topic, event in events[:half]:
            publisher.publish(topic, event)
        publisher.flush()
        second.start()  # joins the group while the first is consuming
        _publish_and_wait_for(
            publisher,
            client,
            settings,
            events[half:],
            tenants,
            alive=lambda: first.is_alive() and second.is_alive(),
        )
    finally:
        second.stop()
        first.stop()
    for tenant in tenants:
        support = _queues(kpi_report(settings, CONFIG, tenant, START, END))["support"]
        assert (support["queued"], support["answered"], support["answered_within_threshold"]) == (
            3,
            3,
            3,
        )
    distinct = client.execute(
        f"SELECT count() FROM {settings.clickhouse_database}.events FINAL"
        " WHERE tenant_id IN %(t)s AND event_id NOT IN"
        f" (SELECT event_id FROM {settings.clickhouse_database}.events WHERE producer = 'it')",
        {"t": tuple(tenants)},
    )[0][0]
    client.disconnect()
    assert distinct == len(events)
