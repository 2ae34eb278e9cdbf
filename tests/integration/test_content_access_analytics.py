"""Audit events of the content store land in the analytics sink's `content_access` table.

Real SeaweedFS, Tansu and ClickHouse 18.16; the sink runs in a thread with its own consumer
group and database (as in test_analytics_sink.py).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.analytics_sink import running_sink, sink_settings

from hotline_analytics.settings import AnalyticsSettings
from hotline_analytics.wiring import AnalyticsSink
from hotline_cli.embedded import ObjectStore
from hotline_platform.bus import EventPublisher
from hotline_platform.content import ContentForbidden, ContentStore
from hotline_platform.keyring import FileKeyProvider

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
TENANT, OTHER = f"acme-{RUN}", f"beta-{RUN}"


@pytest.fixture(scope="module")
def settings(broker: str, clickhouse: Any) -> AnalyticsSettings:
    return sink_settings(broker, clickhouse, f"content_access_it_{RUN}")


@pytest.fixture(scope="module")
def sink(settings: AnalyticsSettings) -> Iterator[AnalyticsSink]:
    with running_sink(settings) as running:
        yield running


def test_audit_events_land_in_content_access(
    sink: AnalyticsSink,
    settings: AnalyticsSettings,
    broker: str,
    object_store: ObjectStore,
    tmp_path: Path,
) -> None:
    publisher = EventPublisher(broker, f"content-analytics-{RUN}")
    store = ContentStore(
        object_store.client(),
        f"access-{RUN}",
        FileKeyProvider(tmp_path / "keyring.json"),
        publisher,
        "router",
    )
    store.ensure_bucket()
    ref = store.put(TENANT, b"chat transcript", "text/plain", writer="chat", purpose="transcript")
    store.get(ref, caller_tenant=TENANT, reader="agent:a1", purpose="reply", interaction_id="i-9")
    with pytest.raises(ContentForbidden):
        store.get(ref, caller_tenant=OTHER, reader="agent:b1", purpose="curious")

    client = settings.clickhouse().client()
    sql = (
        f"SELECT action, actor, purpose, outcome, caller_tenant_id, interaction_id, producer,"
        f" content_ref, topic FROM {settings.clickhouse_database}.content_access FINAL"
        f" WHERE tenant_id = %(t)s ORDER BY occurred_at_ms, action DESC, outcome DESC"
    )
    rows: list[Any] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(rows) < 3:
        rows = client.execute(sql, {"t": TENANT})
        time.sleep(0.2)
    assert sink.error is None
    assert [r[:7] for r in rows] == [
        ("stored", "chat", "transcript", "STORED", TENANT, "", "router"),
        ("read", "agent:a1", "reply", "GRANTED", TENANT, "i-9", "router"),
        ("read", "agent:b1", "curious", "DENIED_OTHER_TENANT", OTHER, "", "router"),
    ]
    assert {r[7] for r in rows} == {str(ref)}
    assert {r[8] for r in rows} == {"hotline.audit.router.v1"}
    client.disconnect()
