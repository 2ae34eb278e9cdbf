"""Every REST route against the tenant x role matrix (tests/support/authz_matrix.py),
generated from the gateway's one route table: each kind of caller (users of every role,
operators, API keys with and without the permission, the tenant credential) on its own tenant
and another, and on its own agent and another for per-agent routes. A route added to the
table is in the matrix with no further work."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from gateway_fakes import CREDENTIALS, World, agent, make_world, tenancy_config
from starlette.routing import Route as StarletteRoute
from support.authz_matrix import (
    ALLOW,
    FORBIDDEN,
    UNAUTHENTICATED,
    UNTENANTED_ROUTES,
    Case,
    cases,
    unauthenticated_tokens,
)
from support.identity_fakes import MatrixIdentities

from hotline_gateway.adapters.http.app import ROUTES, create_app, rules
from hotline_gateway.adapters.http.routes import Route

HOME, OTHER_TENANT = "acme", "globex"
BY_NAME = {route.name: route for route in ROUTES}


@pytest.fixture(scope="module")
def identities() -> MatrixIdentities:
    return MatrixIdentities(HOME, OTHER_TENANT, "acme-a1", "acme-a2", CREDENTIALS)


@pytest.fixture(scope="module")
def world(identities: MatrixIdentities) -> Iterator[World]:
    config = tenancy_config()

    def tenant_of(token: str) -> str | None:
        found = config.tenant_for_credential(token)
        return found.id if found else None

    w = make_world(resolver=identities.resolver(tenant_of, config.credential_is_cached))
    for tenant in (HOME, OTHER_TENANT):
        for name in ("acme-a1", "acme-a2"):
            w.router.add(agent(tenant, name))
            w.calls.connect(tenant, call_of(name), name)  # per-agent routes on a call
    yield w
    w.client.close()


# Other path parameters: values of the right shape (the resource need not exist: a refusal
# comes first, and an allowed call may answer 404).
_SAMPLE_PARAMS = {
    "queue_id": "q1", "site_id": "lisbon", "address": "ep-1", "interaction_id": "i-1",
    "identity": "phone:+351910000001", "user_id": "u1", "key_id": "k0000000000a",
    "language": "en", "name": "welcome",
}


def call_of(agent_id: str) -> str:
    """The call connected to the agent (routes whose agent is the call's: `agent_in`)."""
    return f"call-of-{agent_id}"


def url(route: Route, tenant_id: str, agent_id: str) -> str:
    params = dict(_SAMPLE_PARAMS)
    if route.agent_in == "interaction_id":
        params["interaction_id"] = call_of(agent_id)
    return route.path.format(tenant_id=tenant_id, agent_id=agent_id, **params)


def outcome(world: World, route: Route, path: str, token: str) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status = world.client.request(route.method, path, headers=headers).status_code
    if status == 401:
        return UNAUTHENTICATED
    if status == 403:
        return FORBIDDEN
    assert status < 500, f"{route.name}: {status}"
    return ALLOW  # answered, or refused for another reason (404, 409, 422)


MATRIX = cases(rules())


def test_the_matrix_covers_every_route() -> None:
    assert {c.route for c in MATRIX} == {r.name for r in ROUTES}
    served = {
        f"{method} {route.path}"
        for route in create_app().routes
        if isinstance(route, APIRoute | StarletteRoute)
        for method in (route.methods or ()) if method != "HEAD"
    }
    in_table = {f"{r.method} {r.path}" for r in ROUTES}
    forgotten = sorted(served - in_table - set(UNTENANTED_ROUTES))
    assert not forgotten, (
        f"routes in neither the route table nor authz_matrix.UNTENANTED_ROUTES: {forgotten}"
    )
    assert any(c.expected == FORBIDDEN for c in MATRIX)
    assert any(c.expected == ALLOW for c in MATRIX)


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.id)
def test_route_refuses_whom_the_policy_refuses(
    world: World, identities: MatrixIdentities, case: Case
) -> None:
    route = BY_NAME[case.route]
    path = url(route, identities.tenant(case.tenant), identities.agent(case.agent or "own"))
    assert outcome(world, route, path, identities.token(case.caller)) == case.expected, case.id


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_route_refuses_unknown_credentials(world: World, route: Route) -> None:
    for name, token in unauthenticated_tokens():
        path = url(route, HOME, "acme-a1")
        assert outcome(world, route, path, token) == UNAUTHENTICATED, name
