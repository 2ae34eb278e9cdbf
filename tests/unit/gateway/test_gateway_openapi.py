"""The OpenAPI document: committed copy = code, 3.1, served, and complete from the route
table (every route admitted by its permission, every error documented as problem+json)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.routing import APIRoute
from gateway_fakes import make_world

from hotline_gateway.adapters.http import session_routes
from hotline_gateway.adapters.http.app import OPENAPI_PATH, ROUTES, create_app
from hotline_gateway.adapters.http.deps import idempotency_key, use
from hotline_gateway.adapters.http.openapi import document, render

COMMITTED = Path(__file__).resolve().parents[3] / "services" / "gateway" / "openapi.json"
REGENERATE = ".venv/bin/python -m hotline_gateway --write-openapi"
PUBLIC = {("GET", "/healthz"), ("GET", "/v1/problems/{slug}"), *session_routes.OPERATIONS}


def test_committed_openapi_matches_the_code() -> None:
    current = render(create_app())
    assert COMMITTED.read_text() == current, (
        f"services/gateway/openapi.json differs from the code: run `{REGENERATE}` and commit it"
    )


def test_openapi_is_3_1_and_served_under_v1() -> None:
    world = make_world()
    served = world.client.get(OPENAPI_PATH)
    assert served.status_code == 200
    assert served.json()["openapi"] == "3.1.0"
    assert served.json() == json.loads(COMMITTED.read_text())
    world.client.close()


def test_every_route_comes_from_the_route_table() -> None:
    app = create_app()
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    table = {(r.method, r.path) for r in ROUTES}
    assert served == table | PUBLIC
    assert len({r.name for r in ROUTES}) == len(ROUTES)
    for route in ROUTES:
        assert (route.path + "/").startswith("/v1/tenants/{tenant_id}/"), route.path
        assert route.permission, route.name


def test_every_route_is_admitted() -> None:
    """Every route's endpoint takes deps.use (admission by the route's permission), and
    POSTs the Idempotency-Key dependency after it."""
    app = create_app()
    table = {(r.method, r.path): r for r in ROUTES}
    for api_route in app.routes:
        if not isinstance(api_route, APIRoute) or api_route.path not in {p for _, p in table}:
            continue
        calls = [d.call for d in api_route.dependant.dependencies]
        assert use in calls, api_route.path
        if "POST" in api_route.methods:
            assert idempotency_key in calls, api_route.path
    assert set(app.state.admission) == {r.endpoint for r in ROUTES}


def test_every_operation_documents_permission_security_and_problems() -> None:
    schema = document(create_app())
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for route in ROUTES:
        operation = schema["paths"][route.path][route.method.lower()]
        assert operation["x-permission"] == route.permission
        assert operation["security"] == [{"bearer": []}, {"session": []}]
        responses = operation["responses"]
        for status in (401, 403, 422, 429):
            content = responses[str(status)]["content"]
            assert list(content) == ["application/problem+json"], (route.name, status)
        assert "Retry-After" in responses["429"]["headers"]
        assert "WWW-Authenticate" in responses["401"]["headers"]
        success = responses[str(route.status_code)]
        if route.status_code == 204:  # no body
            assert "content" not in success, route.name
        else:  # JSON unless the route declares another media type (a prompt's audio)
            declared = (route.openapi_extra or {}).get("responses", {}).get(
                str(route.status_code), {}
            )
            assert list(success["content"]) == list(declared.get("content", ["application/json"]))
        assert ("ETag" in success["headers"]) == route.etag
        assert ("Location" in success["headers"]) == (route.status_code == 201)
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if route.method == "POST":
            assert "Idempotency-Key" in names
        if route.method in ("PUT", "DELETE") or (
            route.method == "POST" and route.etag and route.status_code != 201
        ):  # changes of an existing resource (not creations, not batches)
            assert "If-Match" in names, route.name
