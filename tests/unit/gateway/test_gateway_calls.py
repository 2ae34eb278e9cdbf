"""Hold, resume and transfer from the desktop or the API: the live board knows whose call it
is, the routes authorise the caller on that agent and record the command (in-memory ports;
tests/integration/test_gateway_call_control.py runs them against the real broker and
ingress-sip)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gateway_fakes import CREDENTIALS, World, make_world, tenancy_config
from support.authz_matrix import Caller
from support.identity_fakes import MatrixIdentities
from test_gateway_live import SETUPS, T0, Clock

from hotline.voice.v1.commands_pb2 import CallCommand
from hotline_gateway.adapters.kafka_calls import to_message
from hotline_gateway.domain.calls import CallAction, CallRequest
from hotline_gateway.domain.live import Fact, LiveBoard, Viewer
from hotline_platform.identity import Role
from hotline_platform.topics import VOICE_COMMANDS

# --------------------------------------------------------------------------- the board


def connected_board() -> LiveBoard:
    b = LiveBoard(SETUPS.get, Clock(), epoch="e1")
    b.apply(Fact("queued", "acme", T0, interaction_id="i1", body={"queue_id": "support"}))
    b.apply(Fact("offered", "acme", T0 + 10, interaction_id="i1",
                 body={"offer_id": "o1", "agent_id": "a1", "queue_id": "support"}))
    return b


def test_the_board_knows_the_agent_a_call_is_connected_to() -> None:
    b = connected_board()
    assert b.connected_agent("acme", "i1") is None  # ringing: nothing to hold yet
    b.apply(Fact("offer_accepted", "acme", T0 + 20, interaction_id="i1",
                 body={"offer_id": "o1", "agent_id": "a1", "queue_id": "support"}))
    assert b.connected_agent("acme", "i1") == "a1"
    assert b.connected_agent("globex", "i1") is None  # another tenant's id space
    assert b.connected_agent("acme", "i2") is None
    # Where a call may be transferred: every queue of the tenant, even one the agent does not
    # serve (its own view of the queues' figures stays limited to the ones it serves).
    mine = b.snapshot(Viewer("acme", wide=False, agent_id="a1", queues=frozenset({"support"})))
    assert mine["queue_ids"] == ["billing", "support"]
    assert [q["queue_id"] for q in mine["queues"]] == ["support"]


def test_held_and_resumed_show_on_the_offer_and_a_transfer_ends_it() -> None:
    b = connected_board()
    b.apply(Fact("offer_accepted", "acme", T0 + 20, interaction_id="i1",
                 body={"offer_id": "o1", "agent_id": "a1"}))
    held = b.apply(Fact("held", "acme", T0 + 30, interaction_id="i1", agent_id="a1",
                        body={"agent_id": "a1"}))
    assert [(c.kind, c.data["held"]) for c in held] == [("offer", True)]
    resumed = b.apply(Fact("resumed", "acme", T0 + 40, interaction_id="i1", agent_id="a1",
                           body={"agent_id": "a1", "held_ms": 10}))
    assert [(c.kind, c.data["held"]) for c in resumed] == [("offer", False)]
    # A transfer by another agent than the one connected (a late fact) changes nothing.
    assert b.apply(Fact("transferred", "acme", T0 + 45, interaction_id="i1",
                        body={"from_agent_id": "a2", "to_queue_id": "billing"})) == []
    b.apply(Fact("held", "acme", T0 + 48, interaction_id="i1", body={"agent_id": "a1"}))
    ended = b.apply(Fact("transferred", "acme", T0 + 50, interaction_id="i1",
                         body={"from_agent_id": "a1", "to_queue_id": "billing"}))
    assert [(c.kind, c.data["status"], c.data["held"]) for c in ended] == [
        ("offer", "ended", False)
    ]
    assert b.connected_agent("acme", "i1") is None


# --------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("action", list(CallAction))
def test_a_request_becomes_its_command(action: CallAction) -> None:
    queue = "billing" if action is CallAction.TRANSFER else ""
    message = to_message(CallRequest("acme", "i1", "a1", action, queue, "user:sup"), "gateway/g0")
    assert isinstance(message, VOICE_COMMANDS.value_type)
    assert message.WhichOneof("event") == action.value
    env = message.envelope
    assert (env.tenant_id, env.interaction_id, env.agent_id, env.producer) == (
        "acme", "i1", "a1", "gateway/g0")
    assert env.event_id and message.requested_by == "user:sup"
    assert message.transfer.to_queue_id == queue
    assert CallCommand.FromString(message.SerializeToString()) == message


# --------------------------------------------------------------------------- the routes


@pytest.fixture(scope="module")
def identities() -> MatrixIdentities:
    return MatrixIdentities("acme", "globex", "acme-a1", "acme-a2", CREDENTIALS)


@pytest.fixture()
def world(identities: MatrixIdentities) -> Iterator[World]:
    config = tenancy_config()

    def tenant_of(token: str) -> str | None:
        found = config.tenant_for_credential(token)
        return found.id if found else None

    w = make_world(resolver=identities.resolver(tenant_of, config.credential_is_cached))
    w.calls.connect("acme", "call-1", "acme-a1")
    w.calls.connect("acme", "call-2", "acme-a2")
    w.calls.connect("globex", "call-g", "globex-a1")
    yield w
    w.client.close()


def post(world: World, token: str, path: str, **kwargs: object) -> tuple[int, dict]:
    response = world.client.post(path, headers={"Authorization": f"Bearer {token}",
                                                **kwargs.pop("headers", {})},  # type: ignore[dict-item]
                                 **kwargs)  # type: ignore[arg-type]
    return response.status_code, response.json()


AGENT = Caller("agent", "user", frozenset({Role.AGENT}))
SUPERVISOR = Caller("supervisor", "user", frozenset({Role.SUPERVISOR}))
QA = Caller("qa_evaluator", "user", frozenset({Role.QA_EVALUATOR}))
BASE = "/v1/tenants/acme/interactions"


def test_an_agent_holds_resumes_and_transfers_its_own_call(
    world: World, identities: MatrixIdentities
) -> None:
    token = identities.token(AGENT)
    status, body = post(world, token, f"{BASE}/call-1/hold")
    assert status == 202, body
    assert body == {"command_id": "cmd-1", "interaction_id": "call-1", "agent_id": "acme-a1",
                    "action": "hold", "to_queue_id": "", "status": "accepted"}
    assert post(world, token, f"{BASE}/call-1/resume")[0] == 202
    status, body = post(world, token, f"{BASE}/call-1/transfer", json={"to_queue_id": "q1"})
    assert status == 202 and body["to_queue_id"] == "q1"
    assert [(r.action, r.agent_id, r.to_queue_id) for r in world.calls.sent] == [
        (CallAction.HOLD, "acme-a1", ""), (CallAction.RESUME, "acme-a1", ""),
        (CallAction.TRANSFER, "acme-a1", "q1"),
    ]
    assert world.calls.sent[0].requested_by  # who asked, for the logs


def test_an_agent_may_not_touch_another_agents_call_nor_an_unknown_one(
    world: World, identities: MatrixIdentities
) -> None:
    token = identities.token(AGENT)
    status, body = post(world, token, f"{BASE}/call-2/hold")
    assert status == 403 and "acme-a2" in body["detail"], body
    assert post(world, token, f"{BASE}/nothing/hold")[0] == 403  # whose? nobody's: not its
    assert post(world, token, "/v1/tenants/globex/interactions/call-g/hold")[0] == 403
    assert post(world, identities.token(QA), f"{BASE}/call-1/hold")[0] == 403
    assert world.calls.sent == []


def test_a_supervisor_acts_on_any_call_of_its_tenant_for_the_connected_agent(
    world: World, identities: MatrixIdentities
) -> None:
    token = identities.token(SUPERVISOR)
    status, body = post(world, token, f"{BASE}/call-2/hold")
    assert status == 202 and body["agent_id"] == "acme-a2"
    # Another tenant's call (by its id, under the own tenant), or none: 404.
    assert post(world, token, f"{BASE}/call-g/hold")[0] == 404
    assert post(world, token, f"{BASE}/nothing/resume")[0] == 404
    assert post(world, CREDENTIALS["acme"], f"{BASE}/call-1/resume")[0] == 202  # tenant admin
    assert [r.agent_id for r in world.calls.sent] == ["acme-a2", "acme-a1"]


def test_a_transfer_names_a_queue_of_the_tenant(
    world: World, identities: MatrixIdentities
) -> None:
    token = identities.token(SUPERVISOR)
    world.calls.queues["globex"] = {"gq"}
    status, body = post(world, token, f"{BASE}/call-1/transfer", json={"to_queue_id": "gq"})
    assert status == 422 and body["errors"][0]["location"] == "body.to_queue_id", body
    assert post(world, token, f"{BASE}/call-1/transfer", json={})[0] == 422
    assert post(world, token, f"{BASE}/call-1/transfer", json={"to_queue_id": "../x"})[0] == 422
    assert post(world, token, f"{BASE}/call-1/transfer",
                json={"to_queue_id": "q1", "more": 1})[0] == 422
    assert world.calls.sent == []


def test_an_idempotency_key_makes_a_retry_safe(world: World, identities: MatrixIdentities) -> None:
    token = identities.token(AGENT)
    key = {"Idempotency-Key": "hold-once"}
    first = post(world, token, f"{BASE}/call-1/hold", headers=key)
    again = world.client.post(f"{BASE}/call-1/hold",
                              headers={"Authorization": f"Bearer {token}", **key})
    assert first[0] == again.status_code == 202
    assert again.json() == first[1] and again.headers["Idempotent-Replayed"] == "true"
    assert len(world.calls.sent) == 1
