"""Hotline analytics sink: event topics -> ClickHouse, and the reports read from there.

Reports are served over gRPC (`hotline.analytics.v1.Reports`: the KPI report, a customer's
contacts, the lifecycle check); the gateway and the CLI call that. For tests, in
hotline_analytics.wiring: `kpi_report(settings, tenancy, tenant_id, start, end, rules=None)
-> dict`, `format_report(report) -> str`, `outcome_counts(settings, tenant_id=None)`.
"""

from __future__ import annotations

SERVICE = "analytics-sink"
CONSUMER_GROUP = "hotline-analytics"
