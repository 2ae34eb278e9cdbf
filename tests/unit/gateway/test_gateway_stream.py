"""The pages' push stream (WebSocket) over in-memory backends: the tenant x role matrix
(tests/support/authz_matrix.py, the stream's one rule), credentials by cookie, subprotocol or
header, Origin check, what an agent and a supervisor see, and resuming after `after=N`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from gateway_fakes import CREDENTIALS, make_world, tenancy_config
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from support.authz_matrix import (
    ALLOW,
    FORBIDDEN,
    UNAUTHENTICATED,
    Caller,
    Case,
    cases,
    unauthenticated_tokens,
)
from support.identity_fakes import MatrixIdentities

from hotline_gateway.adapters.http.stream import HUB_STATE
from hotline_gateway.application.live import STREAM_PERMISSION, LiveHub
from hotline_gateway.domain.live import AgentSetup, Fact, LiveBoard, QueueSetup, TenantSetup
from hotline_platform.identity import Role
from hotline_platform.policy import Rule

HOME, OTHER_TENANT = "acme", "globex"
STREAM = {"tenantStream": Rule(STREAM_PERMISSION, "")}
SETUP = {
    t: TenantSetup(
        t, t.upper(),
        queues={"q1": QueueSetup("q1", (("support", 1),)),
                "q2": QueueSetup("q2", (("billing", 1),))},
        agents={"acme-a1": AgentSetup("acme-a1", "Ana", "lisbon", (("support", 3),)),
                "acme-a2": AgentSetup("acme-a2", "Bruno", "lisbon", (("billing", 3),))},
    )
    for t in (HOME, OTHER_TENANT)
}


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture(scope="module")
def identities() -> MatrixIdentities:
    return MatrixIdentities(HOME, OTHER_TENANT, "acme-a1", "acme-a2", CREDENTIALS)


@pytest.fixture(scope="module")
def client(identities: MatrixIdentities) -> Iterator[TestClient]:
    config = tenancy_config()

    def tenant_of(token: str) -> str | None:
        found = config.tenant_for_credential(token)
        return found.id if found else None

    world = make_world(resolver=identities.resolver(tenant_of, config.credential_is_cached))
    app = world.client._client._transport.app  # type: ignore[attr-defined]  # the world's app
    board = LiveBoard(SETUP.get, now_ms, ring_size=50)
    hub = LiveHub(board, app.state.components.access.identity, lambda: SETUP.keys(), now_ms)
    setattr(app.state, HUB_STATE, hub)
    with TestClient(app) as test_client:
        test_client.portal.call(hub.mark_replayed)  # type: ignore[union-attr]
        yield test_client
    world.client.close()


def hub_of(client: TestClient) -> LiveHub:
    hub: LiveHub = getattr(client.app.state, HUB_STATE)  # type: ignore[attr-defined]
    return hub


def apply(client: TestClient, *facts: Fact) -> None:
    client.portal.call(hub_of(client).apply, list(facts))  # type: ignore[union-attr]


def state(agent: str, new: str, tenant: str = HOME) -> Fact:
    return Fact("state_changed", tenant, now_ms(), agent_id=agent,
                body={"state": new, "previous_state": "", "reason_code": ""})


def first(client: TestClient, path: str, token: str = "", **kwargs: Any) -> dict[str, Any]:
    """The first message, or {"close": code, "reason": ...} when the server closes."""
    protocols = ["hotline.v1"] + ([f"bearer.{token}"] if token else [])
    with client.websocket_connect(path, subprotocols=protocols, **kwargs) as ws:
        message = ws.receive()
        if message["type"] == "websocket.close":
            return {"close": message["code"], "reason": message.get("reason", "")}
        found: dict[str, Any] = json.loads(message["text"])
        return found


def outcome(client: TestClient, tenant: str, token: str) -> str:
    found = first(client, f"/v1/tenants/{tenant}/stream", token)
    if found.get("close") == 4401:
        return UNAUTHENTICATED
    if found.get("close") == 4403:
        return FORBIDDEN
    assert found.get("type") == "hello", found
    return ALLOW


MATRIX = cases(STREAM)


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.id)
def test_stream_refuses_whom_the_policy_refuses(
    client: TestClient, identities: MatrixIdentities, case: Case
) -> None:
    token = identities.token(case.caller)
    assert outcome(client, identities.tenant(case.tenant), token) == case.expected, case.id


def test_stream_refuses_unknown_credentials(client: TestClient) -> None:
    for name, token in unauthenticated_tokens():
        assert outcome(client, HOME, token) == UNAUTHENTICATED, name


def messages(client: TestClient, path: str, token: str, count: int) -> list[dict[str, Any]]:
    with client.websocket_connect(path, subprotocols=["hotline.v1", f"bearer.{token}"]) as ws:
        return [json.loads(ws.receive_text()) for _ in range(count)]


def test_a_supervisor_sees_the_tenant_an_agent_its_own_agent_and_queues(
    client: TestClient, identities: MatrixIdentities
) -> None:
    apply(client, state("acme-a1", "ready"), state("acme-a2", "not_ready"))
    supervisor = identities.token(Caller("supervisor", "user", frozenset({Role.SUPERVISOR})))
    hello, snapshot = messages(client, f"/v1/tenants/{HOME}/stream", supervisor, 2)
    assert hello["type"] == "hello" and hello["resumed"] is False
    assert snapshot["type"] == "snapshot" and snapshot["reason"] == "start"
    (tenant,) = snapshot["tenants"]
    assert {a["agent_id"]: a["state"] for a in tenant["agents"]} == {
        "acme-a1": "ready", "acme-a2": "not_ready"}
    assert [q["queue_id"] for q in tenant["queues"]] == ["q1", "q2"]
    agent = identities.token(Caller("agent", "user", frozenset({Role.AGENT})))
    _, snapshot = messages(client, f"/v1/tenants/{HOME}/stream", agent, 2)
    (tenant,) = snapshot["tenants"]
    assert [a["agent_id"] for a in tenant["agents"]] == ["acme-a1"]
    assert [q["queue_id"] for q in tenant["queues"]] == ["q1"]


def test_resume_after_a_number_sends_the_missed_changes_only(
    client: TestClient, identities: MatrixIdentities
) -> None:
    supervisor = identities.token(Caller("supervisor", "user", frozenset({Role.SUPERVISOR})))
    hello, _ = messages(client, f"/v1/tenants/{HOME}/stream", supervisor, 2)
    apply(client, state("acme-a2", "ready"))
    path = f"/v1/tenants/{HOME}/stream?after={hello['seq']}&epoch={hello['epoch']}"
    hello2, agent, queue = messages(client, path, supervisor, 3)
    assert hello2["resumed"] is True
    assert (agent["type"], agent["key"], agent["data"]["state"]) == ("agent", "acme-a2", "ready")
    assert agent["seq"] == hello["seq"] + 1 and queue["seq"] == hello["seq"] + 2
    for _ in range(60):  # the ring keeps 50 changes per tenant
        apply(client, state("acme-a2", "not_ready"))
    _, snapshot = messages(client, path, supervisor, 2)
    assert snapshot["type"] == "snapshot" and snapshot["reason"] == "too_old"
    other = f"/v1/tenants/{HOME}/stream?after=1&epoch=someoneelse"
    _, snapshot = messages(client, other, supervisor, 2)
    assert snapshot["reason"] == "other_epoch"


def test_live_changes_follow_the_snapshot(client: TestClient, identities: MatrixIdentities) -> None:
    supervisor = identities.token(Caller("supervisor", "user", frozenset({Role.SUPERVISOR})))
    with client.websocket_connect(f"/v1/tenants/{HOME}/stream",
                                  subprotocols=["hotline.v1", f"bearer.{supervisor}"]) as ws:
        assert json.loads(ws.receive_text())["type"] == "hello"
        snapshot = json.loads(ws.receive_text())
        apply(client, state("acme-a1", "not_ready"), state("x", "ready", tenant=OTHER_TENANT))
        change = json.loads(ws.receive_text())
        assert change["seq"] == snapshot["seq"] + 1
        assert (change["tenant_id"], change["key"]) == (HOME, "acme-a1")


def test_an_operator_of_every_tenant_gets_all_on_one_stream(
    client: TestClient, identities: MatrixIdentities
) -> None:
    operator = identities.token(
        Caller("operator_all", "user", frozenset({Role.OPERATOR}), all_tenants=True))
    _, snapshot = messages(client, "/v1/stream", operator, 2)
    assert [t["tenant_id"] for t in snapshot["tenants"]] == [HOME, OTHER_TENANT]
    listed = identities.token(Caller("operator_listed", "user", frozenset({Role.OPERATOR})))
    _, snapshot = messages(client, "/v1/stream", listed, 2)
    assert [t["tenant_id"] for t in snapshot["tenants"]] == [HOME]
    qa = identities.token(Caller("qa_evaluator", "user", frozenset({Role.QA_EVALUATOR})))
    assert first(client, "/v1/stream", qa)["close"] == 4403


def test_cookie_needs_this_origin_and_header_credentials_work(
    client: TestClient, identities: MatrixIdentities
) -> None:
    session = identities.token(Caller("supervisor", "user", frozenset({Role.SUPERVISOR})))
    client.cookies.set("hotline_session", session)
    try:
        path = f"/v1/tenants/{HOME}/stream"
        assert first(client, path, headers={"origin": "http://testserver"})["type"] == "hello"
        assert first(client, path, headers={"origin": "https://evil.example"})["close"] == 4403
    finally:
        client.cookies.clear()
    header = {"authorization": f"Bearer {CREDENTIALS[HOME]}"}
    assert first(client, f"/v1/tenants/{HOME}/stream", headers=header)["type"] == "hello"
    assert first(client, f"/v1/tenants/{HOME}/stream?after=x", CREDENTIALS[HOME])["close"] == 4400


def test_an_unknown_route_still_answers_problem_json(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect):
        first(client, "/v1/nowhere/stream")


def test_a_session_that_ends_closes_its_stream(
    client: TestClient, identities: MatrixIdentities, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline_gateway.adapters.http import stream

    monkeypatch.setattr(stream, "RECHECK_EVERY_S", 0.1)
    # A user of its own (its session ends here; the other tests' sessions stay).
    token = identities.token(Caller("leaving", "user", frozenset({Role.SUPERVISOR})))
    with client.websocket_connect(f"/v1/tenants/{HOME}/stream",
                                  subprotocols=["hotline.v1", f"bearer.{token}"]) as ws:
        assert json.loads(ws.receive_text())["type"] == "hello"
        assert json.loads(ws.receive_text())["type"] == "snapshot"
        identities.sessions.end(token)  # logged out elsewhere
        message = ws.receive()
        while message["type"] != "websocket.close":
            message = ws.receive()
        assert message["code"] == 4401


def test_a_reader_too_slow_is_dropped_and_told_to_resume(
    client: TestClient, identities: MatrixIdentities, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline_gateway.application import live

    monkeypatch.setattr(live, "QUEUE_BOUND", 3)
    token = identities.token(Caller("supervisor", "user", frozenset({Role.SUPERVISOR})))
    with client.websocket_connect(f"/v1/tenants/{HOME}/stream",
                                  subprotocols=["hotline.v1", f"bearer.{token}"]) as ws:
        assert json.loads(ws.receive_text())["type"] == "hello"
        assert json.loads(ws.receive_text())["type"] == "snapshot"
        apply(client, *(state("acme-a1", "ready" if i % 2 else "not_ready") for i in range(10)))
        message = ws.receive()
        while message["type"] != "websocket.close":
            message = ws.receive()
        assert message["code"] == 1013 and "after" in message["reason"]
