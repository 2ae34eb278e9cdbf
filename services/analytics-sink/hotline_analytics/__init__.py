"""Hotline analytics sink: event topics -> ClickHouse, and the KPI reports read from there.

Entry points for the CLI and the system test, in hotline_analytics.wiring:
`kpi_report(settings, tenancy, tenant_id, start, end, rules=None) -> dict`,
`format_report(report) -> str`, `outcome_counts(settings, tenant_id=None) -> list[dict]`.
"""

from __future__ import annotations

SERVICE = "analytics-sink"
CONSUMER_GROUP = "hotline-analytics"
