"""Reports over the running stack's ClickHouse: the KPI report and the demo's lifecycle checks."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from hotline_analytics.adapters.clickhouse import ClickHouseSettings
from hotline_analytics.application.report import format_report, to_ms
from hotline_analytics.wiring import kpi_report
from hotline_cli.stack import StackState
from hotline_platform import tenancy

__all__ = ["format_report", "kpi_report_from_state", "lifecycle_problems", "queue_rows"]

TERMINAL = ("completed", "abandoned", "self_service_finished")
OFFER_RESOLUTIONS = ("offer_accepted", "offer_rejected", "offer_timed_out")


def _clickhouse(state: StackState) -> ClickHouseSettings:
    return ClickHouseSettings(host=state.clickhouse_host, port=state.clickhouse_tcp_port)


def kpi_report_from_state(
    state: StackState, tenant_id: str, start: datetime, end: datetime
) -> dict[str, Any]:
    config = tenancy.load(state.config_path)
    if tenant_id not in config.tenants:
        raise SystemExit(f"unknown tenant {tenant_id!r}; tenants: {', '.join(config.tenants)}")
    return kpi_report(_clickhouse(state), config, tenant_id, start, end)


def queue_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return list(report["queues"])


def lifecycle_problems(
    state: StackState, tenant_id: str, start: datetime, end: datetime
) -> dict[str, list[str]]:
    """Interactions that arrived in [start, end) and never ended or ended more than once, and
    contacts that were offered to a second agent while an earlier offer was still unresolved."""
    ch = _clickhouse(state)
    client = ch.client()
    params = {"tenant": tenant_id, "start": to_ms(start), "end": to_ms(end)}
    try:
        unfinished = client.execute(
            f"""
            SELECT interaction_id FROM {ch.database}.events FINAL
            WHERE tenant_id = %(tenant)s AND entity = 'interaction'
            GROUP BY interaction_id
            HAVING minIf(occurred_at_ms, kind = 'arrived') >= %(start)s
               AND minIf(occurred_at_ms, kind = 'arrived') < %(end)s
               AND countIf(kind IN {TERMINAL}) = 0
            """,
            params,
        )
        ended_twice = client.execute(
            f"""
            SELECT interaction_id, countIf(kind IN {TERMINAL}) AS ends
            FROM {ch.database}.events FINAL
            WHERE tenant_id = %(tenant)s AND entity = 'interaction'
            GROUP BY interaction_id
            HAVING minIf(occurred_at_ms, kind = 'arrived') >= %(start)s
               AND minIf(occurred_at_ms, kind = 'arrived') < %(end)s
               AND ends > 1
            """,
            params,
        )
        offers = client.execute(
            f"""
            SELECT interaction_id, occurred_at_ms, kind, offer_id, agent_id
            FROM {ch.database}.events FINAL
            WHERE tenant_id = %(tenant)s AND entity = 'interaction'
              AND kind IN ('offered', {", ".join(repr(k) for k in OFFER_RESOLUTIONS + TERMINAL)})
              AND occurred_at_ms >= %(start)s
            ORDER BY interaction_id, occurred_at_ms
            """,
            params,
        )
    finally:
        client.disconnect()
    timeline: dict[str, list[tuple[int, int, str, str, str]]] = defaultdict(list)
    for interaction_id, at_ms, kind, offer_id, agent_id in offers:
        # At the same millisecond, a resolution is taken to come before a new offer.
        timeline[interaction_id].append(
            (at_ms, 1 if kind == "offered" else 0, kind, offer_id, agent_id)
        )
    concurrent = []
    for interaction_id, events in timeline.items():
        ringing: dict[str, str] = {}
        for _at, _order, kind, offer_id, agent_id in sorted(events):
            if kind == "offered":
                if ringing:
                    concurrent.append(
                        f"{interaction_id}: offered to {agent_id} while still offered to "
                        f"{', '.join(ringing.values())}"
                    )
                ringing[offer_id] = agent_id
            elif kind in TERMINAL:
                ringing.clear()
            else:
                ringing.pop(offer_id, None)
    return {
        "unfinished_interactions": [f"{tenant_id}/{row[0]}" for row in unfinished],
        "ended_twice": [f"{tenant_id}/{row[0]}: {row[1]} terminal events" for row in ended_twice],
        "concurrent_offers": concurrent,
    }
