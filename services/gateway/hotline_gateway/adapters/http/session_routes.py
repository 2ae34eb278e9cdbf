"""Browser log-in: `POST /v1/session` (tenant, user name, password -> the session cookie),
`GET /v1/session` (who am I), `DELETE /v1/session` (log out).

These routes are not tenant-scoped, so they are not in the route table (routes.ROUTES) and
its tenant x role matrix; tests/support/authz_matrix.UNTENANTED_ROUTES lists them with the
reason each needs no permission.

The cookie: ``hotline_session=<token>; Path=/; HttpOnly; SameSite=Lax``, and over HTTPS (the
request's scheme, X-Forwarded-Proto from a trusted proxy, or HOTLINE_SESSION_COOKIE_SECURE)
``__Host-hotline_session=...; ...; Secure`` (hotline_platform.sessions.SessionCookie).

CSRF: a request authenticated by the cookie that changes state (any method but GET, HEAD,
OPTIONS), and the log-in and log-out themselves, must carry the header `X-Requested-With`
(any value; the pages send `fetch`). A cross-site form cannot set a header, and a cross-site
script can only with a CORS preflight, which the gateway never grants; SameSite=Lax already
keeps the cookie off cross-site POSTs in current browsers, so this is the second layer.
Requests with `Authorization: Bearer` need no such header (a cross-site page cannot send the
token).
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from hotline_gateway.application.access import bearer_token
from hotline_gateway.application.sessions import Me, SessionService
from hotline_gateway.domain.errors import Forbidden, Unauthenticated
from hotline_platform.sessions import COOKIE_NAME, SessionCookie

CSRF_HEADER = "X-Requested-With"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE_NAMES = (f"__Host-{COOKIE_NAME}", COOKIE_NAME)
SESSION_PATH = "/v1/session"
MAX_TOKEN_CHARS = 256


def cookie_token(request: Request) -> str:
    """The session token of the request's cookie, or ""."""
    for name in COOKIE_NAMES:
        value = request.cookies.get(name, "")
        if value and len(value) <= MAX_TOKEN_CHARS:
            return value
    return ""


def check_csrf(request: Request) -> None:
    """Forbidden unless a cookie-authenticated state-changing request carries X-Requested-With."""
    if request.method not in SAFE_METHODS and not request.headers.get(CSRF_HEADER):
        raise Forbidden(
            f"a request authenticated by the session cookie that changes state needs the "
            f"header {CSRF_HEADER} (cross-site request forgery defence)"
        )


def session_authorization(request: Request) -> str | None:
    """What admission reads as the credential: the Authorization header when there is one,
    else "Bearer <session token>" from the cookie (after the CSRF check), else None."""
    header = request.headers.get("authorization")
    if header:
        return header
    token = cookie_token(request)
    if not token:
        return None
    check_csrf(request)
    return f"Bearer {token}"


class LogInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(
        "", max_length=128, description="The user's tenant; empty for BPO operator staff"
    )
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class SessionOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="user (a browser session), api_key or tenant_credential")
    id: str = Field(description="The user id (or key id, or tenant id)")
    tenant_id: str = Field(description="The user's tenant; empty for BPO operator staff")
    display_name: str
    roles: list[str]
    locale: str = Field(description="Language of the pages: en or zh-CN")
    agent_id: str = Field(description="The agent this user is (role agent), else empty")
    tenants: list[str] = Field(description="The tenants this principal may act on")
    all_tenants: bool = Field(description="An operator who sees every tenant (also future ones)")
    permissions: list[str]
    expires_at_ms: int | None = Field(
        None, description="UTC ms at which the session ends unless used (idle) or at the latest"
    )

    @classmethod
    def of(cls, me: Me, service: SessionService) -> SessionOut:
        p = me.principal
        expires = me.session.expires_ms(service.sessions.policy) if me.session else None
        return cls(
            kind=p.kind, id=p.id, tenant_id=p.tenant_id, display_name=p.display_name,
            roles=sorted(p.roles), locale=p.locale, agent_id=p.agent_id,
            tenants=list(me.tenants), all_tenants=p.scope.all_tenants,
            permissions=list(me.permissions), expires_at_ms=expires,
        )


def _service(request: Request) -> SessionService:
    service: SessionService | None = request.app.state.components.sessions
    if service is None:
        raise Unauthenticated("browser sessions are not enabled on this gateway")
    return service


def _cookie(request: Request) -> SessionCookie:
    forced = request.app.state.session_cookie_secure
    secure = request.url.scheme == "https" if forced is None else forced
    return SessionCookie(secure)


CsrfHeader = Annotated[
    str | None,
    Header(alias=CSRF_HEADER, max_length=128,
           description="Required (any value): cross-site request forgery defence"),
]


async def log_in(
    request: Request, response: Response, body: LogInIn, csrf: CsrfHeader = None
) -> SessionOut:
    """Log in with a password: sets the session cookie (a new token every time). The same
    401 for an unknown tenant, an unknown user and a wrong password; 429 with Retry-After
    after 5 failures for this user name within 15 minutes (for 15 minutes)."""
    if not csrf:
        check_csrf(request)
    service = _service(request)
    client = request.client.host if request.client else ""
    token, me = await service.log_in(body.tenant, body.username, body.password, client)
    response.headers.append("Set-Cookie", _cookie(request).set_value(token))
    response.headers["Cache-Control"] = "no-store"
    return SessionOut.of(me, service)


async def who_am_i(request: Request, response: Response) -> SessionOut:
    """Who the session cookie (or the bearer token) is: roles, language, tenants, permissions."""
    service = _service(request)
    header = request.headers.get("authorization")
    token = bearer_token(header) if header else cookie_token(request)
    if not token:
        raise Unauthenticated("not logged in (no session cookie, no bearer token)")
    client = request.client.host if request.client else ""
    me = await service.who(token, client)
    response.headers["Cache-Control"] = "no-store"
    return SessionOut.of(me, service)


async def log_out(request: Request, csrf: CsrfHeader = None) -> Response:
    """End the session of the cookie and clear it (idempotent: 204 without a session too)."""
    if not csrf:
        check_csrf(request)
    service = _service(request)
    token = cookie_token(request)
    if token:
        await service.log_out(token)
    response = Response(status_code=204)
    response.headers.append("Set-Cookie", _cookie(request).clear_value())
    return response


# (method, path) -> (error statuses as problem+json, authenticated): for the OpenAPI document.
# POST's 400: a body FastAPI cannot even parse (as for every other route with a body).
OPERATIONS: dict[tuple[str, str], tuple[tuple[int, ...], bool]] = {
    ("POST", SESSION_PATH): ((400, 401, 403, 422, 429), False),
    ("GET", SESSION_PATH): ((401, 422, 429), True),
    ("DELETE", SESSION_PATH): ((403, 422), False),
}


def _errors(method: str) -> dict[int | str, dict[str, Any]]:
    """Declared here so that FastAPI adds no default 422 schema; openapi.py completes them."""
    return {status: {"description": "error"} for status in OPERATIONS[(method, SESSION_PATH)][0]}


def register(app: FastAPI, *, cookie_secure: bool | None = None) -> None:
    """Add the session routes. `cookie_secure` None: Secure when the request is HTTPS."""
    app.state.session_cookie_secure = cookie_secure
    tags: list[str | Enum] = ["session"]
    app.add_api_route(
        SESSION_PATH, log_in, methods=["POST"], operation_id="logIn",
        summary="Log in (browser): sets the session cookie", response_model=SessionOut,
        tags=tags, max_body_size=8 * 1024, responses=_errors("POST"),
    )
    app.add_api_route(
        SESSION_PATH, who_am_i, methods=["GET"], operation_id="getSession",
        summary="Who am I: the session's user, roles, language and tenants",
        response_model=SessionOut, tags=tags, responses=_errors("GET"),
    )
    app.add_api_route(
        SESSION_PATH, log_out, methods=["DELETE"], operation_id="logOut",
        summary="Log out: ends the session and clears the cookie", status_code=204,
        tags=tags, responses=_errors("DELETE"),
    )
