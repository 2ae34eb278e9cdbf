"""The CLI's client of the analytics API (`hotline.analytics.v1.Reports` on the running stack's
analytics service): the KPI report and the lifecycle check. Nothing here reads ClickHouse.

Credentials: a tenant's API credential is sent as `authorization: Bearer ...`. It is the one
given (`hotline report --credential`, or HOTLINE_CREDENTIAL), else the plaintext `credential`
of the tenant in the tenancy config the stack runs with (development configs and the demo's;
a config holding only a `credential_hash` needs the token to be given).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import yaml

from hotline.analytics.v1 import reports_pb2, reports_pb2_grpc
from hotline_analytics.application.report import format_report
from hotline_cli.stack import StackState
from hotline_platform import protodict

__all__ = [
    "ReportsClient",
    "ReportsError",
    "format_report",
    "kpi_report_from_state",
    "lifecycle_problems",
    "queue_rows",
    "tenant_credential",
]

CREDENTIAL_ENV = "HOTLINE_CREDENTIAL"

# Retry what the server could not answer for now (restarting, ClickHouse down) a few times.
_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{"service": "hotline.analytics.v1.Reports"}],
                "retryPolicy": {
                    "maxAttempts": 5,
                    "initialBackoff": "0.5s",
                    "maxBackoff": "4s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


class ReportsError(RuntimeError):
    """The analytics API refused or could not answer; the message says why."""


def analytics_address(state: StackState) -> str:
    return f"127.0.0.1:{state.service('analytics-sink').grpc_port}"


def tenant_credential(state: StackState, tenant_id: str, credential: str | None = None) -> str:
    """The credential to call the API for `tenant_id` with (see the module docstring)."""
    given = credential or os.environ.get(CREDENTIAL_ENV, "")
    if given:
        return given
    path = Path(state.config_path)
    raw = yaml.safe_load(path.read_text()) or {}
    tenants = {t.get("id"): t for t in raw.get("tenants") or [] if isinstance(t, dict)}
    if tenant_id not in tenants:
        known = ", ".join(str(t) for t in tenants)
        raise ReportsError(
            f"tenant {tenant_id!r} is not in {path} (tenants: {known}): give its credential"
            f" with --credential or {CREDENTIAL_ENV} (e.g. a tenant added over the API)"
        )
    plain = tenants[tenant_id].get("credential")
    if not plain:
        raise ReportsError(
            f"tenant {tenant_id!r} has only a hashed credential in {path}: give its token with "
            f"--credential or {CREDENTIAL_ENV}"
        )
    return str(plain)


class ReportsClient:
    """Blocking client of the Reports API at `address` (plaintext: the embedded stack's
    loopback). Use as a context manager or call close()."""

    def __init__(self, address: str, timeout_s: float = 60.0) -> None:
        self._channel = grpc.insecure_channel(
            address,
            options=[("grpc.service_config", _SERVICE_CONFIG), ("grpc.enable_retries", 1)],
        )
        self._stub = reports_pb2_grpc.ReportsStub(self._channel)
        self._timeout_s = timeout_s

    def __enter__(self) -> ReportsClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def _call(self, method: Any, request: Any, credential: str) -> Any:
        try:
            return method(
                request,
                metadata=(("authorization", f"Bearer {credential}"),),
                timeout=self._timeout_s,
                wait_for_ready=True,
            )
        except grpc.RpcError as exc:
            code = exc.code()  # type: ignore[attr-defined]
            details = exc.details()  # type: ignore[attr-defined]
            raise ReportsError(f"{code.name}: {details}") from exc

    def kpi_report(
        self,
        tenant_id: str,
        credential: str,
        start: datetime,
        end: datetime,
        queue_ids: Iterable[str] = (),
        split_by: str = "",
        priority_band_edges: Sequence[int] = (),
    ) -> dict[str, Any]:
        """The report as `build_report` returns it (the same dict, key for key); split by
        `split_by` (site | bullseye_step | priority_band) when given."""
        request = reports_pb2.GetKpiReportRequest(
            tenant_id=tenant_id,
            period=_period(start, end),
            queue_ids=list(queue_ids),
            split_by=split_by,
            priority_band_edges=list(priority_band_edges),
        )
        return protodict.to_dict(self._call(self._stub.GetKpiReport, request, credential))

    def check_lifecycle(
        self, tenant_id: str, credential: str, start: datetime, end: datetime
    ) -> reports_pb2.LifecycleCheck:
        request = reports_pb2.CheckLifecycleRequest(
            tenant_id=tenant_id, period=_period(start, end)
        )
        reply: reports_pb2.LifecycleCheck = self._call(
            self._stub.CheckLifecycle, request, credential
        )
        return reply


def _period(start: datetime, end: datetime) -> reports_pb2.Period:
    return protodict.to_message({"from": start, "to": end}, reports_pb2.Period)


def kpi_report_from_state(
    state: StackState,
    tenant_id: str,
    start: datetime,
    end: datetime,
    credential: str | None = None,
    queue_ids: Sequence[str] = (),
    split_by: str = "",
    priority_band_edges: Sequence[int] = (),
) -> dict[str, Any]:
    """The KPI report of `tenant_id` for contacts queued in [start, end), from the running
    stack's analytics API."""
    token = tenant_credential(state, tenant_id, credential)
    with ReportsClient(analytics_address(state)) as client:
        return client.kpi_report(
            tenant_id, token, start, end, queue_ids, split_by, priority_band_edges
        )


def queue_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return list(report["queues"])


def lifecycle_problems(
    state: StackState,
    tenant_id: str,
    start: datetime,
    end: datetime,
    credential: str | None = None,
) -> dict[str, list[str]]:
    """Interactions that arrived in [start, end) and never ended or ended more than once, and
    contacts offered to a second agent while an earlier offer was still unresolved, as lines
    for people (from the analytics API's CheckLifecycle)."""
    token = tenant_credential(state, tenant_id, credential)
    with ReportsClient(analytics_address(state)) as client:
        check = client.check_lifecycle(tenant_id, token, start, end)
    return {
        "unfinished_interactions": [f"{tenant_id}/{i}" for i in check.unfinished_interactions],
        "ended_twice": [
            f"{tenant_id}/{e.interaction_id}: {e.terminal_events} terminal events"
            for e in check.ended_twice
        ],
        "concurrent_offers": [
            f"{o.interaction_id}: offered to {o.agent_id} while still offered to "
            f"{', '.join(o.still_offered_to)}"
            for o in check.concurrent_offers
        ],
    }
