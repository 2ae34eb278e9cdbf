"""`hotline report`'s client of the analytics API: which credential it sends, and that the
lifecycle check comes back as the lines the demo prints (the calls themselves: the system
tests, through the demo)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hotline_cli import reporting
from hotline_cli.stack import Process, StackState


def _state(tmp_path: Path, tenants: list[dict[str, str]]) -> StackState:
    config = tmp_path / "tenancy.yaml"
    config.write_text(yaml.safe_dump({"sites": [{"id": "s"}], "tenants": tenants}))
    sink = Process("analytics-sink", ["python", "-m", "hotline_analytics"], "log", grpc_port=50999)
    return StackState(
        str(tmp_path), str(config), "b", "h", 1, 2, "udp:127.0.0.1:5060", "http://s3", [sink]
    )


def test_the_credential_given_wins_then_the_environment_then_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _state(
        tmp_path,
        [{"id": "acme", "credential": "acme-dev"}, {"id": "beta", "credential_hash": "scrypt$x"}],
    )
    monkeypatch.delenv(reporting.CREDENTIAL_ENV, raising=False)
    assert reporting.tenant_credential(state, "acme") == "acme-dev"
    assert reporting.tenant_credential(state, "acme", "given") == "given"
    monkeypatch.setenv(reporting.CREDENTIAL_ENV, "from-env")
    assert reporting.tenant_credential(state, "acme") == "from-env"
    assert reporting.tenant_credential(state, "beta") == "from-env"
    assert reporting.tenant_credential(state, "acme", "given") == "given"
    monkeypatch.delenv(reporting.CREDENTIAL_ENV)
    with pytest.raises(reporting.ReportsError, match="only a hashed credential.*--credential"):
        reporting.tenant_credential(state, "beta")
    with pytest.raises(
        reporting.ReportsError, match="tenant 'ghost' is not in .*acme, beta.*--credential"
    ):
        reporting.tenant_credential(state, "ghost")
    assert reporting.analytics_address(state) == "127.0.0.1:50999"
