"""Users and API keys over REST against the real stack (tests/integration/directory_stack.py:
the directory service and the gateway as subprocesses on the session's broker, the gateway
following the live directory).

A tenant admin's credential creates a user with a password over REST; that user logs in with
it at once (browser session), issues an API key from the session and the key works on the
routes of its scope only; a key wider than its issuer is refused by the directory (403); a
replacement without a password keeps the password; no answer ever carries a password, hash or
(after its creation) token; revoking the key and removing the user stop them at once; another
tenant's caller is refused.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from directory_stack import FullStack, start_full, tenant
from support import polling

pytestmark = pytest.mark.integration

PASSWORD = "a long enough password"
XRW = {"X-Requested-With": "fetch"}
WAIT_S = 10.0
DELEGATION_KEY = "identity-tests-delegation-key-0123456789"


eventually = partial(polling.eventually, timeout=WAIT_S)


@pytest.fixture(scope="module")
def stack(
    broker: str, clickhouse: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FullStack]:
    workdir = tmp_path_factory.mktemp("gateway-identity")
    # Sessions reach the directory as the gateway's signed delegations: every service of the
    # stack shares the key (the subprocesses inherit the environment).
    os.environ["HOTLINE_DELEGATION_KEY"] = DELEGATION_KEY
    try:
        running = start_full(
            broker, clickhouse, workdir, [tenant("ident", agents=1), tenant("other", agents=1)],
            HOTLINE_RATE_LIMIT_PER_S="0",
        )
    finally:
        os.environ.pop("HOTLINE_DELEGATION_KEY", None)
    try:
        yield running
    finally:
        running.stop()


def _no_secrets(reply: httpx.Response, *secrets: str) -> None:
    for secret in (PASSWORD, "$argon2", "scrypt", *secrets):
        assert secret not in reply.text, (secret, reply.text)


def test_users_and_api_keys_over_rest_through_the_real_directory(stack: FullStack) -> None:
    tid = stack.tenants[0]["id"]
    base = f"{stack.base_url}/v1/tenants/{tid}"
    admin = httpx.Client(headers={"Authorization": f"Bearer {stack.credential(0)}"},
                         timeout=15)

    # A user with a password, created with the tenant's credential.
    created = admin.post(f"{base}/users", json={
        "user_id": "ana", "display_name": "Ana", "roles": ["tenant_admin"], "locale": "zh-CN",
        "password": PASSWORD,
    }, headers={"Idempotency-Key": "user-ana"})
    assert created.status_code == 201, created.text
    assert created.json()["changed_by"] == f"tenant:{tid}"
    _no_secrets(created)

    # She logs in with it at once (the gateway follows the directory).
    browser = httpx.Client(base_url=stack.base_url, timeout=15)

    def log_in() -> httpx.Response | None:
        reply = browser.post("/v1/session", json={"tenant": tid, "username": "ana",
                                                   "password": PASSWORD}, headers=XRW)
        assert reply.status_code in (200, 401), reply.text
        return reply if reply.status_code == 200 else None

    t0 = time.monotonic()
    session = eventually(log_in, "the new user to log in")
    login_ms = (time.monotonic() - t0) * 1000
    assert session.json()["roles"] == ["tenant_admin"]

    # From her session: an API key. The token is in this answer only.
    issued = browser.post(f"/v1/tenants/{tid}/api-keys",
                          json={"name": "crm", "scopes": ["queue.stats.read"]}, headers=XRW)
    assert issued.status_code == 201, issued.text
    key = issued.json()
    token, key_id = key["token"], key["key_id"]
    assert token.startswith(f"hk_{key_id}_")
    assert key["changed_by"] == key["created_by"] == f"user:{tid}/ana"
    # Wider than its issuer (tenant.write is the operator's): the directory refuses it.
    wide = browser.post(f"/v1/tenants/{tid}/api-keys",
                        json={"scopes": ["queue.stats.read", "tenant.write"]}, headers=XRW)
    assert wide.status_code == 403, wide.text
    assert "tenant.write" in wide.json()["detail"]

    # The key works on its scope and nothing else.
    machine = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=15)

    def stats() -> bool:
        reply = machine.get(f"{base}/queues/stats")
        assert reply.status_code in (200, 401), reply.text
        return reply.status_code == 200

    eventually(stats, "the new key to be accepted")
    assert machine.get(f"{base}/users").status_code == 403
    assert machine.get(f"{base}/agents").status_code == 403

    # Reads never carry a hash or the token.
    for read in (admin.get(f"{base}/users"), admin.get(f"{base}/users/ana"),
                 admin.get(f"{base}/api-keys"), admin.get(f"{base}/api-keys/{key_id}")):
        assert read.status_code == 200, read.text
        _no_secrets(read, token)
    assert [u["user_id"] for u in admin.get(f"{base}/users").json()["items"]] == ["ana"]
    assert [k["key_id"] for k in admin.get(f"{base}/api-keys").json()["items"]] == [key_id]

    # A replacement without a password keeps it: she still logs in with it.
    user = admin.get(f"{base}/users/ana")
    replaced = admin.put(f"{base}/users/ana", json={
        "display_name": "Ana Lima", "roles": ["tenant_admin", "supervisor"], "locale": "en",
    }, headers={"If-Match": user.headers["ETag"]})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["display_name"] == "Ana Lima"
    stale = admin.put(f"{base}/users/ana", json={"roles": ["agent"]},
                      headers={"If-Match": user.headers["ETag"]})
    assert stale.status_code == 412 and stale.headers["ETag"] == replaced.headers["ETag"]

    def relogged() -> bool:
        reply = browser.post("/v1/session", json={"tenant": tid, "username": "ana",
                                                   "password": PASSWORD}, headers=XRW)
        return reply.status_code == 200 and "supervisor" in reply.json()["roles"]

    eventually(relogged, "the replaced user to log in with her old password")
    assert browser.get("/v1/session").status_code == 200

    # A new password set by an admin ends her sessions; the new one works, the old does not.
    current = admin.get(f"{base}/users/ana").headers["ETag"]
    renewed = admin.put(f"{base}/users/ana", json={
        "display_name": "Ana Lima", "roles": ["tenant_admin", "supervisor"],
        "password": "a brand new password",
    }, headers={"If-Match": current})
    assert renewed.status_code == 200, renewed.text
    assert browser.get("/v1/session").status_code == 401
    eventually(lambda: browser.post("/v1/session", json={
        "tenant": tid, "username": "ana", "password": "a brand new password"},
        headers=XRW).status_code == 200, "the new password to log in")
    assert browser.post("/v1/session", json={"tenant": tid, "username": "ana",
                                             "password": PASSWORD},
                        headers=XRW).status_code == 401

    # Another tenant's credential sees none of it.
    other = httpx.Client(headers={"Authorization": f"Bearer {stack.credential(1)}"}, timeout=15)
    assert other.get(f"{base}/users").status_code == 403
    assert other.delete(f"{base}/api-keys/{key_id}").status_code == 403

    # Revoking the key and removing the user stop them at once.
    assert admin.delete(f"{base}/api-keys/{key_id}").status_code == 204
    eventually(lambda: machine.get(f"{base}/queues/stats").status_code == 401,
               "the revoked key to be refused")
    assert admin.delete(f"{base}/users/ana").status_code == 204
    assert admin.get(f"{base}/users/ana").status_code == 404

    assert browser.get("/v1/session").status_code == 401  # her session ended with her

    def refused() -> bool:
        reply = browser.post("/v1/session", json={"tenant": tid, "username": "ana",
                                                   "password": "a brand new password"},
                             headers=XRW)
        return reply.status_code == 401

    eventually(refused, "the removed user to be refused")
    print(f"new user logged in {login_ms:.0f} ms after its creation")
    # Nothing logged a password or a token (access logs, errors) in any process.
    for log in sorted(stack_logs(stack)):
        text = log.read_text(errors="replace")
        assert PASSWORD not in text and token not in text, log


def stack_logs(stack: FullStack) -> list[Path]:
    logs = [proc.log for proc in stack.procs.values()]
    assert logs and all(log.exists() for log in logs)
    return logs
