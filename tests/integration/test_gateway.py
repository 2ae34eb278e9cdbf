"""The gateway in front of a real router and WFM on a real broker: agent state commands end
to end, the router's refusals as problem+json, queue statistics, staffing, a stopped router as
503 with Retry-After, and the process's own lifecycle (health, SIGTERM)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_stack import GatewayStack, start, tenant

from hotline_platform.grpc_server import is_serving

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayStack]:
    workdir = tmp_path_factory.mktemp("gateway")
    running = start(broker, workdir, [tenant("gw"), tenant("other")])
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(stack: GatewayStack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{stack.base_url}/v1/tenants/{stack.tenants[0]['id']}",
        headers={"Authorization": f"Bearer {stack.credential()}"},
        timeout=10,
    ) as client:
        yield client


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def test_agent_state_commands_go_through_the_router(stack: GatewayStack, api: httpx.Client) -> None:
    agent_id = f"{stack.tenants[0]['id']}-a0"
    listed = api.get("/agents", params={"limit": 2})
    assert listed.status_code == 200
    body = listed.json()
    assert [a["agent_id"] for a in body["items"]] == sorted(a["id"] for a in
                                                            stack.tenants[0]["agents"])[:2]
    rest = api.get(body["next"].split(stack.tenants[0]["id"], 1)[1])
    assert len(rest.json()["items"]) == 1 and rest.json()["next"] is None

    before = api.get(f"/agents/{agent_id}")
    assert before.json()["state"] == "logged_out"
    refused = problem(api.post(f"/agents/{agent_id}/ready"), 409)  # FAILED_PRECONDITION
    assert refused["type"] == "/v1/problems/conflict"
    logged_in = api.post(f"/agents/{agent_id}/log-in", headers={"If-Match": before.headers["etag"]})
    assert logged_in.status_code == 200 and logged_in.json()["state"] == "not_ready"
    stale = api.post(f"/agents/{agent_id}/ready", headers={"If-Match": before.headers["etag"]})
    assert problem(stale, 412)["type"] == "/v1/problems/precondition-failed"
    ready = api.post(f"/agents/{agent_id}/ready", headers={"Idempotency-Key": "r-1"})
    assert ready.json()["state"] == "ready"
    again = api.post(f"/agents/{agent_id}/ready", headers={"Idempotency-Key": "r-1"})
    assert again.headers["idempotent-replayed"] == "true" and again.json() == ready.json()
    stats = api.get("/queues/stats").json()["items"]
    assert {q["queue_id"]: q["agents_ready"] for q in stats} == {"sales": 1, "support": 1}
    not_ready = api.post(f"/agents/{agent_id}/not-ready", json={"reason_code": "break"})
    assert (not_ready.json()["state"], not_ready.json()["reason_code"]) == ("not_ready", "break")
    finish = api.post(f"/agents/{agent_id}/finish-wrap-up",
                      json={"disposition": {"code": "sale", "resolved": True}})
    assert problem(finish, 409)["detail"]
    out = api.post(f"/agents/{agent_id}/log-out", json={"reason": "end_of_shift"})
    assert out.json()["state"] == "logged_out"
    assert problem(api.get("/agents/nobody"), 404)["type"] == "/v1/problems/not-found"


def test_other_tenants_and_unknown_credentials_are_refused(stack: GatewayStack) -> None:
    other = stack.tenants[1]["id"]
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        mine = {"Authorization": f"Bearer {stack.credential(0)}"}
        assert problem(client.get(f"/v1/tenants/{other}/agents", headers=mine), 403)
        unknown = client.get(f"/v1/tenants/{other}/agents",
                             headers={"Authorization": "Bearer nobody.secret"})
        assert problem(unknown, 401)


def test_staffing_comes_from_wfm(api: httpx.Client) -> None:
    reply = api.get("/staffing", params={"calls": 100, "aht": 180, "interval_s": 1800})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["model"] == "erlang-c" and body["erlangs"] == pytest.approx(10.0)
    assert body["agents"] >= 11 and body["scheduled_agents"] >= body["agents"]
    erlang_a = api.get("/staffing", params={"calls": 100, "aht": 180, "patience_s": 60}).json()
    assert erlang_a["model"] == "erlang-a"


def test_a_stopped_router_is_503_then_the_gateway_recovers(
    broker: str, tmp_path: Path
) -> None:
    own = start(broker, tmp_path, [tenant("down")])
    try:
        url = f"{own.base_url}/v1/tenants/{own.tenants[0]['id']}/queues/stats"
        headers = {"Authorization": f"Bearer {own.credential()}"}
        assert httpx.get(url, headers=headers, timeout=10).status_code == 200
        own.procs["router"].stop()
        down = httpx.get(url, headers=headers, timeout=10)
        body = problem(down, 503)
        assert body["type"] == "/v1/problems/unavailable"
        assert int(down.headers["retry-after"]) >= 1
        own.restart("router")  # the gateway's channel reconnects by itself
        deadline = time.monotonic() + 20
        status = 503
        while status == 503 and time.monotonic() < deadline:
            status = httpx.get(url, headers=headers, timeout=10).status_code
            time.sleep(0.1)
        assert status == 200
        gateway = own.procs["gateway"]
        assert gateway.stop(signal.SIGTERM) == 0  # a clean stop on SIGTERM
        assert not is_serving(f"127.0.0.1:{own.gateway_grpc_port}", timeout=0.5)
        log = gateway.log.read_text()
        assert '"request_id"' in log and "/queues/stats 503" in log
    finally:
        own.stop()


def test_a_tenant_added_to_the_live_directory_is_admitted_at_once(
    broker: str, tmp_path: Path
) -> None:
    """HOTLINE_DIRECTORY=on: the gateway takes tenants and credentials from the directory
    topic, so a tenant applied through the directory API is admitted without a restart."""
    import uuid

    import yaml
    from gateway_stack import spawn, wait_grpc

    from hotline_cli import config_cmd
    from hotline_cli.embedded import find_free_port
    from hotline_platform import credentials
    from hotline_platform.bus import ensure_topics

    ensure_topics(broker)
    operator = credentials.new_token("operator")
    directory_port, grpc_port, http_port = (find_free_port() for _ in range(3))
    procs = []
    try:
        procs.append(spawn("directory", "hotline_directory", tmp_path / "directory.log", {
            "HOTLINE_KAFKA_BOOTSTRAP": broker, "HOTLINE_GRPC_PORT": str(directory_port),
            "HOTLINE_INSTANCE_ID": f"directory-{uuid.uuid4().hex[:6]}",
            "HOTLINE_DIRECTORY_ADMIN_TOKEN": credentials.hash_secret(
                operator, credentials.IN_MEMORY_PARAMS),
        }))
        wait_grpc(procs[-1], directory_port)
        procs.append(spawn("gateway", "hotline_gateway", tmp_path / "gateway.log", {
            "HOTLINE_KAFKA_BOOTSTRAP": broker, "HOTLINE_DIRECTORY": "on",
            "HOTLINE_GRPC_PORT": str(grpc_port), "HOTLINE_HTTP_PORT": str(http_port),
            "HOTLINE_HTTP_HOST": "127.0.0.1",
            "HOTLINE_ROUTER_ADDRESS": f"127.0.0.1:{find_free_port()}",  # nobody: 503
        }))
        wait_grpc(procs[-1], grpc_port)
        tid, site = f"live{uuid.uuid4().hex[:6]}", f"s{uuid.uuid4().hex[:6]}"
        url = f"http://127.0.0.1:{http_port}/v1/tenants/{tid}/queues/stats"
        headers = {"Authorization": f"Bearer {tid}.secret"}
        assert problem(httpx.get(url, headers=headers, timeout=10), 401)
        config = tmp_path / "tenancy.yaml"
        config.write_text(yaml.safe_dump({"sites": [{"id": site}], "tenants": [{
            "id": tid, "credential": f"{tid}.secret",
            "queues": [{"id": "sales"}],
            "entry_points": [{"address": f"ep-{tid}", "queue": "sales", "site": site}],
            "agents": [{"id": f"{tid}-a1", "site": site, "phone": "sip:a@127.0.0.1:1"}],
        }]}))
        config_cmd.apply_file(f"127.0.0.1:{directory_port}", operator, config, say=lambda _: None)
        deadline = time.monotonic() + 10
        status = 401
        while status == 401 and time.monotonic() < deadline:
            status = httpx.get(url, headers=headers, timeout=10).status_code
            time.sleep(0.05)
        assert status == 503, status  # admitted; the router is not there
    finally:
        for proc in reversed(procs):
            proc.stop()
