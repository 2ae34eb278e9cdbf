"""`hotline report --split-by ... --priority-bands ...`: the options reach the Reports API's
request, and the split rows are printed (the API itself: tests/integration/
test_analytics_split_report.py)."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.analytics.v1 import reports_pb2
from hotline_cli import main as cli
from hotline_cli import reporting


def _figures(queued: int) -> dict[str, Any]:
    return {
        "queued": queued, "short_abandoned": 0, "offered": queued, "answered": queued,
        "answered_within_threshold": queued, "abandoned": 0, "waiting": 0, "callbacks": 0,
        "flowed_out": 0, "handled": 0, "service_level": 1.0, "abandonment_rate": 0.0,
        "asa_s": 1.0, "aht_s": None, "tally": {},
    }


def _report(request: reports_pb2.GetKpiReportRequest) -> dict[str, Any]:
    split = [{"key": "<=4", "figures": _figures(1)}, {"key": "5+", "figures": _figures(2)}]
    return {
        "tenant_id": request.tenant_id, "tenant_name": None,
        "period": {"from": "2026-11-05T00:00:00Z", "to": "2026-11-06T00:00:00Z"},
        "definitions": {
            "service_level": "exclude", "service_level_formula": "f", "within_T": "w",
            "short_abandon_s": 5.0, "offered": "o", "abandonment_rate_formula": "a", "asa": "s",
            "aht": "h", "waiting": "w", "ended_by_fault": "e",
        },
        "queues": [{**_figures(3), "queue_id": "support", "service_level_threshold_s": 20,
                    "service_level_target": 0.8, "splits": split}],
        "total": _figures(3),
        "split": {"by": request.split_by, "rule": "the band of the priority",
                  "priority_band_edges": list(request.priority_band_edges)},
        "total_splits": split,
    }


def test_split_options_reach_the_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sent: list[reports_pb2.GetKpiReportRequest] = []

    def call(self: reporting.ReportsClient, method: Any, request: Any, credential: str) -> Any:
        sent.append(request)
        return None

    monkeypatch.setattr(cli, "_state_or_exit", lambda settings: object())
    monkeypatch.setattr(reporting, "tenant_credential", lambda *a: "token")
    monkeypatch.setattr(reporting, "analytics_address", lambda state: "127.0.0.1:1")
    monkeypatch.setattr(reporting.ReportsClient, "_call", call)
    monkeypatch.setattr(reporting.protodict, "to_dict", lambda reply: _report(sent[-1]))
    code = cli.main(["report", "--tenant", "acme", "--split-by", "priority_band",
                     "--priority-bands", "5", "--queue", "support"])
    assert code == 0
    assert (sent[-1].split_by, list(sent[-1].priority_band_edges)) == ("priority_band", [5])
    assert list(sent[-1].queue_ids) == ["support"]
    out = capsys.readouterr().out
    assert "  priority_band <=4" in out and "  priority_band 5+" in out
    assert "split by priority_band: the band of the priority" in out


def test_bad_split_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--split-by", "agent"], ["--split-by", "priority_band", "--priority-bands",
                                           "1,x"]):
        with pytest.raises(SystemExit):
            cli.build_parser().parse_args(["report", "--tenant", "acme", *argv])
    assert "invalid choice: 'agent'" in capsys.readouterr().err
