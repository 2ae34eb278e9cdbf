"""Users, API keys and browser sessions end to end, on a real broker: the directory service
(subprocess) holds the users and keys as facts, a router and the gateway (subprocesses,
HOTLINE_DIRECTORY=on) follow it live; a user applied through the directory logs in through the
gateway, uses the cookie on tenant routes (the router accepts the gateway's signed delegation),
logs out; lock-out; another tenant's user refused; an API key accepted by the gateway, the
router and the directory, then revoked."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import yaml
from confluent_kafka import TopicPartition
from gateway_stack import Proc, spawn, wait_grpc
from support import polling

from hotline.directory.v1 import directory_pb2, directory_pb2_grpc
from hotline.directory.v1 import events_pb2 as pb
from hotline.directory.v1.directory_pb2 import Change
from hotline.router.v1 import router_pb2, router_pb2_grpc
from hotline_cli import config_cmd
from hotline_cli.embedded import find_free_port
from hotline_platform import credentials, directory, identity, topics
from hotline_platform.bus import ensure_topics, new_consumer

pytestmark = pytest.mark.integration

OPERATOR_TOKEN = credentials.new_token("operator")
PASSWORD = "correct horse battery"
XRW = {"X-Requested-With": "fetch"}


@dataclass
class Stack:
    base_url: str
    directory: str
    router: str
    acme: str
    globex: str
    procs: list[Proc]
    gateway_env: dict[str, str]
    work: Path

    def gateway(self, name: str) -> tuple[Proc, str]:
        """Another gateway process on the same broker (its own ports): (process, base URL)."""
        grpc_port, http_port = find_free_port(), find_free_port()
        proc = spawn(name, "hotline_gateway", self.work / f"{name}.log", {
            **self.gateway_env, "HOTLINE_GRPC_PORT": str(grpc_port),
            "HOTLINE_HTTP_PORT": str(http_port),
            "HOTLINE_INSTANCE_ID": f"{name}-{uuid.uuid4().hex[:6]}",
        })
        self.procs.append(proc)
        wait_grpc(proc, grpc_port)
        return proc, f"http://127.0.0.1:{http_port}"

    def apply(self, *changes: Change, token: str = OPERATOR_TOKEN) -> directory_pb2.ApplyResponse:
        with grpc.insecure_channel(self.directory) as channel:
            reply: directory_pb2.ApplyResponse = directory_pb2_grpc.DirectoryServiceStub(
                channel
            ).Apply(directory_pb2.ApplyRequest(changes=changes),
                    metadata=(("authorization", f"Bearer {token}"),), timeout=15)
            return reply


eventually = partial(polling.eventually, timeout=20)


def _tenant(tid: str, users: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": tid, "credential": f"{tid}.secret-credential",
        "queues": [{"id": "sales", "required_skills": ["sales"]}],
        "entry_points": [{"address": f"ep-{tid}", "queue": "sales"}],
        "agents": [{"id": f"{tid}-a{i}", "skills": ["sales"], "phone": f"sip:a{i}@127.0.0.1:1"}
                   for i in (1, 2)],
        "users": users,
    }


@pytest.fixture(scope="module")
def stack(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    ensure_topics(broker)
    work = tmp_path_factory.mktemp("identity")
    acme, globex = (f"{p}-{uuid.uuid4().hex[:6]}" for p in ("acme", "globex"))
    site = f"site-{uuid.uuid4().hex[:6]}"
    config = work / "hotline.yaml"
    config.write_text(yaml.safe_dump({
        "sites": [{"id": site}],
        "tenants": [
            _tenant(acme, [{"id": "sam", "roles": ["supervisor"], "password": PASSWORD}]),
            _tenant(globex, [{"id": "gus", "roles": ["supervisor"], "password": PASSWORD}]),
        ],
    }))
    key = "integration-delegation-key-0123456789"
    common = {"HOTLINE_KAFKA_BOOTSTRAP": broker, "HOTLINE_DELEGATION_KEY": key,
              "HOTLINE_DIRECTORY": "on", "HOTLINE_CONFIG_PATH": str(config)}
    directory_port, router_port, gateway_grpc, http_port = (find_free_port() for _ in range(4))
    procs: list[Proc] = []
    try:
        procs.append(spawn("directory", "hotline_directory", work / "directory.log", {
            **common, "HOTLINE_GRPC_PORT": str(directory_port),
            "HOTLINE_INSTANCE_ID": f"directory-{uuid.uuid4().hex[:6]}",
            "HOTLINE_DIRECTORY_ADMIN_TOKEN": credentials.hash_secret(
                OPERATOR_TOKEN, credentials.IN_MEMORY_PARAMS),
        }))
        wait_grpc(procs[-1], directory_port)
        address = f"127.0.0.1:{directory_port}"
        config_cmd.apply_file(address, OPERATOR_TOKEN, config, prune=False, say=lambda _: None)
        procs.append(spawn("router", "hotline_router", work / "router.log", {
            **common, "HOTLINE_GRPC_PORT": str(router_port),
            "HOTLINE_INSTANCE_ID": f"router-{uuid.uuid4().hex[:6]}",
            "HOTLINE_INGRESS_LOST_AFTER_MS": "600000",
        }))
        gateway_env = {
            **common, "HOTLINE_HTTP_HOST": "127.0.0.1",
            "HOTLINE_ROUTER_ADDRESS": f"127.0.0.1:{router_port}",
            "HOTLINE_WFM_ADDRESS": f"127.0.0.1:{find_free_port()}",
            "HOTLINE_RATE_LIMIT_PER_S": "0",
        }
        procs.append(spawn("gateway", "hotline_gateway", work / "gateway.log", {
            **gateway_env, "HOTLINE_GRPC_PORT": str(gateway_grpc),
            "HOTLINE_HTTP_PORT": str(http_port),
            "HOTLINE_INSTANCE_ID": f"gateway-{uuid.uuid4().hex[:6]}",
        }))
        wait_grpc(procs[1], router_port)
        wait_grpc(procs[2], gateway_grpc)
        yield Stack(f"http://127.0.0.1:{http_port}", address, f"127.0.0.1:{router_port}",
                    acme, globex, procs, gateway_env, work)
    finally:
        for proc in reversed(procs):
            proc.stop()


def _log_in(client: httpx.Client, tenant: str, user: str, password: str = PASSWORD) -> Any:
    return client.post("/v1/session", json={"tenant": tenant, "username": user,
                                            "password": password}, headers=XRW)


def _user(tenant: str, uid: str, roles: list[str], agent: str = "") -> Change:
    return Change(define_user=pb.UserDefined(
        tenant_id=tenant, user_id=uid, display_name=uid.title(), roles=roles, locale="zh-CN",
        agent_id=agent, password_hash=identity.hash_password(PASSWORD)))


def test_a_user_applied_live_logs_in_uses_the_cookie_and_logs_out(stack: Stack) -> None:
    reply = stack.apply(_user(stack.acme, "nina", ["agent"], f"{stack.acme}-a1"))
    assert reply.applied and reply.events[0].changed_by == "operator"
    with httpx.Client(base_url=stack.base_url, timeout=10) as browser:
        me = eventually(
            lambda: (r := _log_in(browser, stack.acme, "nina")).status_code == 200 and r,
            "the gateway to know the new user",
        ).json()
        assert (me["id"], me["tenant_id"], me["roles"]) == ("nina", stack.acme, ["agent"])
        assert me["locale"] == "zh-CN" and me["agent_id"] == f"{stack.acme}-a1"
        cookie = browser.cookies["hotline_session"]
        assert cookie.startswith("hs_")
        own = f"/v1/tenants/{stack.acme}/agents/{stack.acme}-a1"
        # Through the gateway to the router, which accepts the gateway's delegation.
        got = eventually(lambda: (r := browser.get(own)).status_code == 200 and r,
                         "the router to know the user")
        assert got.json()["agent_id"] == f"{stack.acme}-a1"
        assert browser.post(f"{own}/log-in").status_code == 403  # no CSRF header
        logged_in = browser.post(f"{own}/log-in", headers=XRW)
        assert logged_in.status_code == 200, logged_in.text
        assert logged_in.json()["state"] == "not_ready"
        assert browser.get(f"/v1/tenants/{stack.acme}/agents/{stack.acme}-a2").status_code == 403
        assert browser.get(f"/v1/tenants/{stack.globex}/queues/stats").status_code == 403
        # The session token itself is useless to the router: it is the gateway's.
        with grpc.insecure_channel(stack.router) as channel:
            with pytest.raises(grpc.RpcError) as caught:
                router_pb2_grpc.AgentServiceStub(channel).GetAgent(
                    router_pb2.GetAgentRequest(tenant_id=stack.acme,
                                               agent_id=f"{stack.acme}-a1"),
                    metadata=(("authorization", f"Bearer {cookie}"),), timeout=10)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        out = browser.delete("/v1/session", headers=XRW)
        assert out.status_code == 204
        assert browser.get("/v1/session").status_code == 401
        stale = httpx.get(f"{stack.base_url}{own}", timeout=10,
                          headers={"Authorization": f"Bearer {cookie}"})
        assert stale.status_code == 401


def test_a_disabled_user_is_out_at_the_next_request(stack: Stack) -> None:
    stack.apply(_user(stack.acme, "dora", ["supervisor"]))
    with httpx.Client(base_url=stack.base_url, timeout=10) as browser:
        eventually(lambda: _log_in(browser, stack.acme, "dora").status_code == 200, "log-in")
        path = f"/v1/tenants/{stack.acme}/agents"
        assert eventually(lambda: browser.get(path).status_code == 200, "the router")
        disabled = _user(stack.acme, "dora", ["supervisor"])
        disabled.define_user.disabled = True
        stack.apply(disabled)
        eventually(lambda: browser.get(path).status_code == 401, "the session to end")


def test_lock_out_and_the_same_answer_for_unknown_users(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=10) as browser:
        wrong = _log_in(browser, stack.acme, "sam", "not-the-password")
        unknown = _log_in(browser, stack.acme, "nobody-here")
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["detail"] == unknown.json()["detail"]
        for _ in range(3):
            assert _log_in(browser, stack.acme, "sam", "not-the-password").status_code == 401
        locked = _log_in(browser, stack.acme, "sam", "not-the-password")
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 800
        assert _log_in(browser, stack.acme, "sam").status_code == 429  # right password too
        assert "set-cookie" not in locked.headers


def test_another_tenants_user_is_refused(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=10) as browser:
        assert _log_in(browser, stack.acme, "gus").status_code == 401  # gus is globex's
        me = _log_in(browser, stack.globex, "gus")
        assert me.status_code == 200 and me.json()["tenants"] == [stack.globex]
        refused = browser.get(f"/v1/tenants/{stack.acme}/agents")
        assert refused.status_code == 403
        assert f"not on tenant '{stack.acme}'" in refused.json()["detail"]
        assert eventually(
            lambda: browser.get(f"/v1/tenants/{stack.globex}/agents").status_code == 200,
            "the router to know gus",
        )


def test_an_api_key_works_on_the_gateway_router_and_directory_until_revoked(
    stack: Stack,
) -> None:
    key, token = identity.new_api_key(
        stack.acme, ["queue.stats.read", "directory.read"], "", name="wallboard")
    reply = stack.apply(Change(define_api_key=directory.api_key_definition(key)))
    assert reply.events[0].api_key_defined.created_by == "operator"
    bearer = {"Authorization": f"Bearer {token}"}
    stats = f"{stack.base_url}/v1/tenants/{stack.acme}/queues/stats"
    eventually(lambda: httpx.get(stats, headers=bearer, timeout=10).status_code == 200,
               "the gateway and router to accept the key")
    assert httpx.get(f"{stack.base_url}/v1/tenants/{stack.acme}/agents", headers=bearer,
                     timeout=10).status_code == 403  # no agent.state.read scope
    with grpc.insecure_channel(stack.directory) as channel:
        stub = directory_pb2_grpc.DirectoryServiceStub(channel)
        metadata = (("authorization", f"Bearer {token}"),)
        listed = stub.List(directory_pb2.ListRequest(tenant_id=stack.acme), metadata=metadata,
                           timeout=10)
        users = [e.definition.user_defined for e in listed.entities
                 if e.definition.WhichOneof("event") == "user_defined"]
        assert users and all(u.password_hash == "" for u in users)  # hashes blanked
        with pytest.raises(grpc.RpcError) as caught:  # directory.read only: no identity.write
            stub.Apply(directory_pb2.ApplyRequest(changes=[_user(stack.acme, "eve", ["agent"],
                                                                 f"{stack.acme}-a2")]),
                       metadata=metadata, timeout=10)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "lacks the scope identity.write" in (caught.value.details() or "")
    stack.apply(Change(revoke_api_key=pb.ApiKeyRevoked(tenant_id=stack.acme, key_id=key.id)))
    eventually(lambda: httpx.get(stats, headers=bearer, timeout=10).status_code == 401,
               "the revoked key to be refused")


def test_the_directory_refuses_an_unknown_role_precisely(stack: Stack) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stack.apply(_user(stack.acme, "ivan", ["janitor"]))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"user {stack.acme}/ivan: unknown role 'janitor'" in (caught.value.details() or "")


def test_no_secret_reaches_the_directory_topic(stack: Stack, broker: str) -> None:
    consumer = new_consumer(broker, f"identity-check-{uuid.uuid4().hex[:6]}")
    consumer.assign([TopicPartition(topics.DIRECTORY.name, 0, 0)])
    seen = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            if seen:
                break  # caught up
            continue
        if message.error() is None:
            seen += message.value() or b""
    consumer.close()
    assert b"$argon2id$" in seen  # the users are there, hashed
    assert PASSWORD.encode() not in seen


def test_a_session_works_on_every_replica_and_survives_a_restart(stack: Stack) -> None:
    """The sessions topic: made on one gateway, used on another, kept across a restart of
    the first, ended everywhere by a log-out on either."""
    first, first_url = stack.gateway("gateway-a")
    second, second_url = stack.gateway("gateway-b")
    path = f"/v1/tenants/{stack.globex}/agents"
    with httpx.Client(base_url=first_url, timeout=10) as browser:
        assert _log_in(browser, stack.globex, "gus").status_code == 200
        cookie = browser.cookies["hotline_session"]
    bearer = {"Authorization": f"Bearer {cookie}"}
    eventually(lambda: httpx.get(second_url + path, headers=bearer, timeout=10).status_code
               == 200, "the other replica to know the session", timeout=10)
    first.stop()
    restarted, restarted_url = stack.gateway("gateway-a2")
    # Replayed at start: no wait.
    assert httpx.get(restarted_url + path, headers=bearer, timeout=10).status_code == 200
    with httpx.Client(base_url=second_url, timeout=10,
                      cookies={"hotline_session": cookie}) as browser:
        assert browser.delete("/v1/session", headers=XRW).status_code == 204
    assert httpx.get(second_url + path, headers=bearer, timeout=10).status_code == 401
    eventually(lambda: httpx.get(restarted_url + path, headers=bearer, timeout=10).status_code
               == 401, "the log-out to reach the other replica", timeout=10)
    # And it stays ended for a gateway that replays the topic from the start.
    _, fresh_url = stack.gateway("gateway-c")
    assert httpx.get(fresh_url + path, headers=bearer, timeout=10).status_code == 401
    restarted.stop()
    second.stop()
