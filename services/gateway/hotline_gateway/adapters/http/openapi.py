"""The OpenAPI 3.1 document: FastAPI's, completed from the route table with what FastAPI
does not know: problem+json error responses per route, the bearer security scheme, each
route's permission (`x-permission`), and response headers (X-Request-Id, ETag, Link,
Retry-After, WWW-Authenticate)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from hotline_gateway.adapters.http import problems, session_routes
from hotline_gateway.adapters.http.routes import Route
from hotline_gateway.adapters.http.schemas import Problem
from hotline_platform.sessions import COOKIE_NAME

TITLE = "Hotline API"
VERSION = "1"
DESCRIPTION = (
    "The REST API of Hotline, a multi-tenant contact-center platform. Every tenant route "
    "needs `Authorization: Bearer <token>` or the browser session cookie of `POST /v1/session` "
    "(then state-changing requests also need the header `X-Requested-With`); errors are RFC "
    "9457 problem details "
    "(`application/problem+json`); lists are cursor-paginated (`limit`, `next`); single "
    "resources carry an ETag and commands honour `If-Match`; POSTs accept `Idempotency-Key`; "
    "each credential has a rate limit (429 with Retry-After). See services/gateway/README.md."
)

_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {
        "description": "The request's id (the client's X-Request-Id when given): in logs",
        "required": True,
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": "Strong entity tag of the resource's version (for If-Match)",
        "required": True,
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'The next page: <URL>; rel="next" (absent on the last page)',
        "required": False,
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "The URL of the resource created",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "WWW-Authenticate": {
        "description": "The Bearer challenge (RFC 6750)",
        "required": True,
        "schema": {"type": "string"},
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _error_headers(status: int) -> dict[str, Any]:
    headers = {"X-Request-Id": _ref("X-Request-Id")}
    if status == 401:
        headers["WWW-Authenticate"] = _ref("WWW-Authenticate")
    if status in (429, 503):
        headers["Retry-After"] = _ref("Retry-After")
    if status == 412:
        headers["ETag"] = _ref("ETag")
    return headers


def _error_description(status: int) -> str:
    titles = sorted({t.title for t in problems.TYPES.values() if t.status == status})
    return " / ".join(titles) or problems.for_status(status).title


def document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=TITLE, version=VERSION, openapi_version="3.1.0", description=DESCRIPTION,
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    components["headers"] = _HEADERS
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (hk_...), or a tenant's API credential",
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": COOKIE_NAME,
            "description": "The browser session of POST /v1/session (__Host-hotline_session "
                           "over HTTPS); state-changing requests also need X-Requested-With",
        },
    }
    problem_content = {problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    table: tuple[Route, ...] = app.state.routes  # app.ROUTES
    for route in table:
        operation = schema["paths"][route.path][route.method.lower()]
        operation["security"] = [{"bearer": []}, {"session": []}]
        operation["x-permission"] = route.permission
        responses = operation["responses"]
        success = responses[str(route.status_code)]
        declared = (route.openapi_extra or {}).get("responses", {}).get(str(route.status_code))
        if declared and "content" in declared:  # e.g. audio/wav alone, not FastAPI's JSON
            success["content"] = declared["content"]
        headers = {"X-Request-Id": _ref("X-Request-Id")}
        if route.etag:
            headers["ETag"] = _ref("ETag")
        if route.paginated:
            headers["Link"] = _ref("Link")
        if route.status_code == 201:
            headers["Location"] = _ref("Location")
        success["headers"] = headers
        for status in sorted(route.errors):
            responses[str(status)] = {
                "description": _error_description(status),
                "headers": _error_headers(status),
                "content": problem_content,
            }
    for (method, path), (statuses, authenticated) in session_routes.OPERATIONS.items():
        operation = schema["paths"][path][method.lower()]
        if authenticated:
            operation["security"] = [{"bearer": []}, {"session": []}]
        for status in statuses:
            operation["responses"][str(status)] = {
                "description": _error_description(status),
                "headers": _error_headers(status),
                "content": problem_content,
            }
    for path_item in schema["paths"].values():  # public routes (health)
        for operation in path_item.values():
            for response in operation["responses"].values():
                response.setdefault("headers", {"X-Request-Id": _ref("X-Request-Id")})
    return schema


def render(app: FastAPI) -> str:
    """The document as committed in services/gateway/openapi.json."""
    return json.dumps(document(app), indent=2, ensure_ascii=False) + "\n"
