"""The FastAPI app, built from the route table (ROUTES below: routes.py's, then each resource
module's): admission by each route's
permission (deps.use), Idempotency-Key on POSTs, problem+json for every error, the request
context middleware, OpenAPI 3.1 at /v1/openapi.json."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from hotline_gateway.adapters.http import (
    openapi,
    pages,
    problems,
    routes_calls,
    routes_directory,
    routes_identity,
    routes_interactions,
    routes_live,
    routes_prompts,
    session_routes,
    stream,
)
from hotline_gateway.adapters.http.context import current_request_id
from hotline_gateway.adapters.http.deps import Admission, Components, Replay, idempotency_key
from hotline_gateway.adapters.http.middleware import RequestContext
from hotline_gateway.adapters.http.routes import ROUTES as CORE_ROUTES
from hotline_gateway.adapters.http.routes import Route
from hotline_gateway.adapters.http.schemas import Health
from hotline_gateway.domain.errors import GatewayError
from hotline_platform.policy import Rule

log = logging.getLogger(__name__)

OPENAPI_PATH = "/v1/openapi.json"
MAX_BODY_BYTES = 64 * 1024

# THE route table: routes.py's, then each resource module's (one line each). The app, the
# permissions, the OpenAPI document and the authorization test matrix all come from it.
ROUTES: tuple[Route, ...] = (
    *CORE_ROUTES,
    *routes_directory.ROUTES,
    *routes_interactions.ROUTES,
    *routes_live.ROUTES,
    *routes_identity.ROUTES,
    *routes_calls.ROUTES,
    *routes_prompts.ROUTES,
)


def rules() -> dict[str, Rule]:
    """operationId -> the route's policy rule (what tests/support/authz_matrix.py takes)."""
    return {route.name: route.rule for route in ROUTES}


async def healthz() -> Health:
    """The HTTP server answers (liveness). Readiness is the gRPC health service."""
    return Health(status="ok")


async def problem_type(slug: str) -> JSONResponse:
    """What a problem `type` means (the URI a problem's `type` names)."""
    kind = problems.TYPES.get(slug)
    if kind is None:
        raise HTTPException(404, f"no problem type {slug!r}")
    return JSONResponse(
        {"type": kind.uri, "title": kind.title, "status": kind.status,
         "description": kind.description}
    )


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    issues = [
        {"location": _location(tuple(err.get("loc", ()))), "message": str(err.get("msg", ""))}
        for err in exc.errors()
    ]
    return problems.problem(
        problems.TYPES["invalid-request"],
        "; ".join(f"{i['location']}: {i['message']}" for i in issues) or "invalid request",
        request.url.path, current_request_id(), errors=issues,
    )


async def _on_gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return problems.from_error(exc, request.url.path, current_request_id())


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = problems.for_status(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else kind.title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route {request.url.path}"
    return problems.problem(
        kind, detail, request.url.path, current_request_id(), dict(exc.headers or {})
    )


async def _on_replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    stored = exc.response
    response = Response(content=stored.body, status_code=stored.status)
    for name, value in stored.headers:
        response.headers.append(name, value)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def create_app(
    components: Components | None = None, *, access_log: str = "errors",
    session_cookie_secure: bool | None = None,
) -> FastAPI:
    """The app; `components` None builds it for its OpenAPI document only.
    `session_cookie_secure` None: the session cookie is Secure when the request is HTTPS."""
    app = FastAPI(
        title=openapi.TITLE,
        version=openapi.VERSION,
        openapi_url=OPENAPI_PATH,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.components = components
    app.state.routes = ROUTES
    app.add_api_route("/healthz", healthz, methods=["GET"], operation_id="healthz",
                      summary="Liveness of the HTTP server", tags=["health"])
    # Admission (deps.use, which every tenant route's endpoint takes) finds its rule here.
    app.state.admission = {
        route.endpoint: Admission(route.permission, route.agent_field) for route in ROUTES
    }
    for route in ROUTES:
        dependencies = [Depends(idempotency_key)] if route.idempotent_post else []
        app.add_api_route(
            route.path,
            route.endpoint,
            methods=[route.method],
            operation_id=route.name,
            summary=route.summary,
            response_model=route.response_model,
            status_code=route.status_code,
            dependencies=dependencies,
            tags=[route.tag],
            responses={status: {"description": "error"} for status in route.errors},
            max_body_size=route.max_body_bytes if route.method in ("POST", "PUT") else None,
            openapi_extra=route.openapi_extra,
        )
    session_routes.register(app, cookie_secure=session_cookie_secure)
    stream.include(app)  # the pages' push stream (WebSocket)
    pages.include(app)  # /login/, /desk/, /wallboard/ and /web/
    app.add_api_route("/v1/problems/{slug}", problem_type, methods=["GET"],
                      include_in_schema=False)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(GatewayError, _on_gateway_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Replay, _on_replay)
    app.add_middleware(RequestContext, access_log=access_log)  # type: ignore[arg-type]
    document: dict[str, Any] = {}

    def cached_openapi() -> dict[str, Any]:
        if not document:
            document.update(openapi.document(app))
        return document

    app.openapi = cached_openapi  # type: ignore[method-assign]
    return app
