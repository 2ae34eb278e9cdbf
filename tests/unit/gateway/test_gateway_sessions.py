"""Browser sessions in the gateway's HTTP layer, over in-memory backends: log-in sets the
cookie, the cookie admits tenant routes (with the CSRF header on state changes), log-out ends
it, the same answer for unknown user and wrong password, lock-out, another tenant refused, and
a session reaches backends as a signed delegation."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gateway_fakes import CREDENTIALS, FakeRouter, FakeWfm, agent

from hotline_gateway.adapters.http.app import create_app
from hotline_gateway.adapters.http.deps import Components
from hotline_gateway.adapters.inprocess import InProcessIdempotencyStore, InProcessRateLimiter
from hotline_gateway.adapters.inprocess_sessions import InProcessSessionStore
from hotline_gateway.adapters.policy_identity import LiveUsers, PolicyIdentity, tenancy_resolver
from hotline_gateway.application.access import AccessControl, Limits
from hotline_gateway.application.service import GatewayService
from hotline_gateway.application.sessions import SessionService
from hotline_gateway.domain.ratelimit import Limit
from hotline_platform import identity, tenancy
from hotline_platform.sessions import Sessions

PASSWORD = "correct horse battery"
KEY = b"0123456789abcdef0123456789abcdef"
XRW = {"X-Requested-With": "fetch"}


@functools.cache
def config() -> tenancy.TenancyConfig:
    """Two tenants, each with an agent user and a supervisor, and an operator of acme."""
    tenants = []
    for t in ("acme", "globex"):
        tenants.append({
            "id": t, "credential": CREDENTIALS[t], "queues": [{"id": "q1"}],
            "agents": [{"id": f"{t}-a1", "phone": "sip:a@127.0.0.1"},
                       {"id": f"{t}-a2", "phone": "sip:b@127.0.0.1"}],
            "users": [
                {"id": "ana", "roles": ["agent"], "agent": f"{t}-a1", "locale": "zh-CN",
                 "password": PASSWORD},
                {"id": "sam", "roles": ["supervisor"], "password": PASSWORD},
            ],
        })
    return tenancy.parse({
        "sites": [{"id": "lisbon"}], "tenants": tenants,
        "operators": [{"id": "olga", "roles": ["operator"], "tenants": ["acme"],
                       "password": PASSWORD}],
    })


class Browser:
    """An httpx client over the app (keeps cookies, as a browser does)."""

    def __init__(self, app: Any, base_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("10.0.0.9", 1234)),
            base_url=base_url,
        )

    def __call__(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.http.request(method, url, **kwargs))

    def log_in(self, tenant: str, user: str, password: str = PASSWORD) -> httpx.Response:
        return self("POST", "/v1/session", json={"tenant": tenant, "username": user,
                                                  "password": password}, headers=XRW)

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


@pytest.fixture
def world() -> Iterator[tuple[Browser, FakeRouter, list[float]]]:
    router = FakeRouter()
    for t in ("acme", "globex"):
        router.add(agent(t, f"{t}-a1"))
        router.add(agent(t, f"{t}-a2"))
    clock = [1000.0]
    sessions = Sessions(InProcessSessionStore())
    resolver = tenancy_resolver(config, sessions)
    limiter = InProcessRateLimiter(clock=lambda: clock[0])
    limits = Limits(Limit(0, 1), Limit(0, 1))
    components = Components(
        gateway=GatewayService(agents=router, queues=router, staffing=FakeWfm()),
        access=AccessControl(
            PolicyIdentity(resolver, lambda: int(clock[0] * 1000), identity.Delegation(KEY)),
            limiter, limits,
        ),
        idempotency=InProcessIdempotencyStore(ttl_s=60, clock=lambda: clock[0]),
        sessions=SessionService(
            sessions, identity.PasswordLogin(LiveUsers(config)), resolver,
            lambda: config().tenants, limiter, limits.unverified_per_client,
            now_ms=lambda: int(clock[0] * 1000),
        ),
    )
    browser = Browser(create_app(components, access_log="off"), "http://testserver")
    yield browser, router, clock
    browser.close()


def test_log_in_sets_an_httponly_samesite_cookie_and_says_who(world: Any) -> None:
    browser, _, _ = world
    reply = browser.log_in("acme", "ana")
    assert reply.status_code == 200, reply.text
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith("hotline_session=hs_")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP
    me = reply.json()
    assert (me["kind"], me["id"], me["tenant_id"]) == ("user", "ana", "acme")
    assert me["roles"] == ["agent"] and me["agent_id"] == "acme-a1"
    assert me["locale"] == "zh-CN" and me["tenants"] == ["acme"]
    assert "agent.state.write_own" in me["permissions"]
    assert me["expires_at_ms"] == 1000 * 1000 + 8 * 3600 * 1000  # idle limit first
    assert PASSWORD not in reply.text
    again = browser("GET", "/v1/session")
    assert again.status_code == 200 and again.json()["id"] == "ana"


def test_over_https_the_cookie_is_secure_with_the_host_prefix(world: Any) -> None:
    browser, _, _ = world
    secure = Browser(browser.http._transport.app, "https://testserver")
    try:
        reply = secure.log_in("acme", "sam")
        cookie = reply.headers["set-cookie"]
        assert cookie.startswith("__Host-hotline_session=hs_") and "; Secure" in cookie
        assert secure("GET", "/v1/tenants/acme/agents").status_code == 200
    finally:
        secure.close()


def test_unknown_user_and_wrong_password_get_the_same_answer(world: Any) -> None:
    browser, _, _ = world
    wrong = browser.log_in("acme", "ana", "not the password")
    unknown = browser.log_in("acme", "nobody", PASSWORD)
    no_tenant = browser.log_in("initech", "ana", PASSWORD)
    assert wrong.status_code == unknown.status_code == no_tenant.status_code == 401
    details = {r.json()["detail"] for r in (wrong, unknown, no_tenant)}
    assert details == {identity.LoginFailed.MESSAGE}
    assert "set-cookie" not in wrong.headers


def test_five_failures_lock_the_user_name_even_for_the_right_password(world: Any) -> None:
    browser, _, clock = world
    for _ in range(4):
        assert browser.log_in("acme", "sam", "wrong-password").status_code == 401
    locked = browser.log_in("acme", "sam", "wrong-password")
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) == 15 * 60
    assert browser.log_in("acme", "sam").status_code == 429  # right password, still locked
    assert browser.log_in("globex", "sam").status_code == 200  # another tenant's sam
    clock[0] += 15 * 60 + 1
    assert browser.log_in("acme", "sam").status_code == 200


def test_the_cookie_admits_tenant_routes_of_its_tenant_and_role_only(world: Any) -> None:
    browser, router, _ = world
    assert browser.log_in("acme", "ana").status_code == 200
    assert browser("GET", "/v1/tenants/acme/queues/stats").status_code == 200
    assert browser("GET", "/v1/tenants/acme/agents/acme-a1").status_code == 200
    assert browser("GET", "/v1/tenants/acme/agents/acme-a2").status_code == 403  # not hers
    assert browser("GET", "/v1/tenants/acme/agents").status_code == 403  # agent.state.read
    other = browser("GET", "/v1/tenants/globex/queues/stats")
    assert other.status_code == 403 and "not on tenant 'globex'" in other.json()["detail"]
    # The backend got a delegation, never the session token.
    assert router.callers and all(c.credential.startswith("hd_") for c in router.callers)


def test_state_changes_with_the_cookie_need_the_csrf_header(world: Any) -> None:
    browser, router, _ = world
    browser.log_in("acme", "ana")
    refused = browser("POST", "/v1/tenants/acme/agents/acme-a1/log-in")
    assert refused.status_code == 403 and "X-Requested-With" in refused.json()["detail"]
    assert not router.commands
    done = browser("POST", "/v1/tenants/acme/agents/acme-a1/log-in", headers=XRW)
    assert done.status_code == 200, done.text
    # A bearer token needs no such header (a cross-site page cannot send one).
    bearer = browser("POST", "/v1/tenants/globex/agents/globex-a1/log-in",
                     headers={"Authorization": f"Bearer {CREDENTIALS['globex']}"})
    assert bearer.status_code == 200
    # Nor does log-in go through without it.
    assert browser("POST", "/v1/session", json={"tenant": "acme", "username": "ana",
                                                 "password": PASSWORD}).status_code == 403


def test_log_out_ends_the_session_and_clears_the_cookie(world: Any) -> None:
    browser, _, _ = world
    browser.log_in("acme", "sam")
    token = browser.http.cookies["hotline_session"]
    assert browser("DELETE", "/v1/session").status_code == 403  # CSRF header missing
    out = browser("DELETE", "/v1/session", headers=XRW)
    assert out.status_code == 204 and "Max-Age=0" in out.headers["set-cookie"]
    assert browser("GET", "/v1/session").status_code == 401
    # The old token is dead server-side too (a copied cookie is useless after log-out).
    stale = browser("GET", "/v1/tenants/acme/agents",
                    headers={"Authorization": f"Bearer {token}"})
    assert stale.status_code == 401


def test_sessions_expire_after_the_idle_limit(world: Any) -> None:
    browser, _, clock = world
    browser.log_in("acme", "sam")
    clock[0] += 8 * 3600 + 1
    assert browser("GET", "/v1/session").status_code == 401
    assert browser("GET", "/v1/tenants/acme/agents").status_code == 401


def test_an_operator_sees_the_tenants_of_its_scope(world: Any) -> None:
    browser, _, _ = world
    me = browser.log_in("", "olga").json()
    assert me["tenant_id"] == "" and me["tenants"] == ["acme"] and not me["all_tenants"]
    assert browser("GET", "/v1/tenants/acme/agents").status_code == 200
    assert browser("GET", "/v1/tenants/globex/agents").status_code == 403


def test_delegations_verify_and_expire() -> None:
    d = identity.Delegation(KEY, ttl_s=60)
    token = d.issue("acme", "ana", 1_000)
    assert d.user_of(token, 1_000) == ("acme", "ana")
    assert d.user_of(token, 61_000) is None  # expired
    assert identity.Delegation(b"another key of 16+ bytes").user_of(token, 1_000) is None
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert d.user_of(forged, 1_000) is None



def test_sessions_end_12_hours_after_log_in_however_busy(world: Any) -> None:
    browser, _, clock = world
    browser.log_in("acme", "sam")
    for _ in range(11):  # a request every hour keeps it from idling out...
        clock[0] += 3600
        assert browser("GET", "/v1/tenants/acme/agents").status_code == 200
    clock[0] += 3600  # ...but not past the absolute limit
    assert browser("GET", "/v1/tenants/acme/agents").status_code == 401


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"\x80abc", "application/json"), (b'{"tenant": "\xff"}', "application/json"),
     (b"\xff\xfe\x00garbage", "application/json"), (b"tenant=acme", "text/plain"),
     (b"{not json", "application/json"), (b"", "application/json")],
)
def test_a_body_that_is_not_json_gets_a_documented_problem(
    world: Any, content: bytes, content_type: str
) -> None:
    # schemathesis sent a non-JSON body: the 400 it got was not in the OpenAPI document.
    browser, _, _ = world
    reply = browser("POST", "/v1/session", content=content,
                    headers={**XRW, "Content-Type": content_type})
    assert reply.status_code in (400, 422), reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    assert "set-cookie" not in reply.headers
    document = browser("GET", "/v1/openapi.json").json()
    documented = document["paths"]["/v1/session"]["post"]["responses"]
    assert str(reply.status_code) in documented, (reply.status_code, sorted(documented))
