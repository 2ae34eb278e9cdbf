"""Schemathesis against the live OpenAPI of the gateway (a subprocess in front of a real
directory, router, WFM and analytics sink on a real broker and ClickHouse), authenticated
with a tenant credential: no 5xx, and every response conforms to the document (status code,
content type, headers, body schema), in positive and negative generation, plus the checks
that auth is enforced and undocumented methods are refused. Bounded to a few examples per
operation to stay well under 2 minutes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from directory_stack import FullStack, start_full, tenant

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
MAX_EXAMPLES = int(os.environ.get("HOTLINE_SCHEMATHESIS_EXAMPLES", "40"))
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "ignored_auth",
])


@pytest.fixture(scope="module")
def stack(
    broker: str, clickhouse: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FullStack]:
    workdir = tmp_path_factory.mktemp("gateway-schemathesis")
    # Rate limit off: the run fires requests as fast as it can (429 is documented anyway).
    running = start_full(
        broker, clickhouse, workdir, [tenant("fuzz", agents=2)], HOTLINE_RATE_LIMIT_PER_S="0"
    )
    try:
        yield running
    finally:
        running.stop()


def test_schemathesis_finds_no_5xx_and_no_schema_violation(
    stack: FullStack, tmp_path: Path
) -> None:
    the_tenant = stack.tenants[0]
    agents = [a["id"] for a in the_tenant["agents"]]
    headers = {"Authorization": f"Bearer {stack.credential()}"}
    # One agent logged in, so commands meet more than one state.
    httpx.post(f"{stack.base_url}/v1/tenants/{the_tenant['id']}/agents/{agents[0]}/log-in",
               headers=headers, timeout=10).raise_for_status()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "SCHEMATHESIS_HOOKS": "gateway_schemathesis_hooks",
        "HOTLINE_TEST_TENANT": the_tenant["id"],
        "HOTLINE_TEST_AGENTS": ",".join(agents),
    }
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{stack.base_url}/v1/openapi.json",
        "--url", stack.base_url,
        "--header", f"Authorization: Bearer {stack.credential()}",
        "--checks", CHECKS,
        "--mode", "all",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", "8",
        "--workers", "2",
        "--request-timeout", "10",
        "--no-shrink",
    ]
    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
    assert "passed" in output.lower(), output[-4000:]
