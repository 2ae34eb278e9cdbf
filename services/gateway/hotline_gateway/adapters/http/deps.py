"""FastAPI dependencies shared by every route: the application objects, admission (bearer
token, rate limit, permission on the tenant), and Idempotency-Key on POSTs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request

from hotline_gateway.adapters.http.context import current_request_id
from hotline_gateway.adapters.http.session_routes import session_authorization
from hotline_gateway.application.access import AccessControl
from hotline_gateway.application.calls import CallControl
from hotline_gateway.application.ports import Caller, IdempotencyStore
from hotline_gateway.application.service import GatewayService
from hotline_gateway.application.sessions import SessionService
from hotline_gateway.domain.errors import IdempotencyInProgress, IdempotencyMismatch, Invalid
from hotline_gateway.domain.idempotency import Outcome, StoredResponse, fingerprint, valid_key
from hotline_gateway.domain.pagination import MAX_CURSOR_CHARS

DEFAULT_PAGE = 50
MAX_PAGE = 200
ID_MAX = 128


@dataclass(frozen=True)
class Components:
    """What the routes use, held by the app (app.state.components)."""

    gateway: GatewayService
    access: AccessControl
    idempotency: IdempotencyStore
    sessions: SessionService | None = None  # browser log-in (session_routes); None: off
    calls: CallControl | None = None  # hold, resume, transfer (routes_calls); None: off


def components(request: Request) -> Components:
    found: Components = request.app.state.components
    return found


TenantId = Annotated[
    str, Path(min_length=1, max_length=ID_MAX, description="The tenant (e.g. acme)")
]


@dataclass(frozen=True)
class Use:
    """What a route's endpoint works with: the use cases and the admitted caller."""

    gateway: GatewayService
    caller: Caller
    calls: CallControl | None = None


@dataclass(frozen=True)
class Admission:
    """What admission checks for one route (from the route table, by endpoint)."""

    permission: str
    # Per-agent permission: the path parameter naming the agent (`agent_id`), or the call
    # whose connected agent is acted on (`interaction_id`); "" otherwise.
    agent_field: str


def agent_acted_on(found: Components, request: Request, tenant_id: str, field: str) -> str | None:
    """The agent a per-agent route acts on (None: none, which only tenant-wide holders pass)."""
    named = request.path_params.get(field)
    if field != "interaction_id" or named is None:
        return named
    return found.calls.agent_on(tenant_id, named) if found.calls is not None else None


async def use(request: Request, tenant_id: TenantId) -> Use:
    """Admit the request to its route: authenticate the bearer token (or the session cookie,
    with the CSRF check of session_routes for state-changing requests), spend a token of the
    principal's rate limit, authorise the route's permission (route table, by endpoint) on
    the tenant (and agent). Every tenant route's endpoint takes this dependency; it is the
    only one per request (each FastAPI dependency costs time on every request, and plain
    functions would run on a worker thread)."""
    found = components(request)
    rule: Admission = request.app.state.admission[request.scope["endpoint"]]
    caller = await found.access.admit(
        session_authorization(request),
        tenant_id,
        rule.permission,
        agent_id=(
            agent_acted_on(found, request, tenant_id, rule.agent_field)
            if rule.agent_field else None
        ),
        client=request.client.host if request.client else "",
        request_id=current_request_id(),
    )
    return Use(found.gateway, caller, found.calls)


UseDep = Annotated[Use, Depends(use)]
AgentId = Annotated[str, Path(min_length=1, max_length=ID_MAX, description="The agent's id")]
PageLimit = Annotated[
    int, Query(ge=1, le=MAX_PAGE, description=f"Items per page (default {DEFAULT_PAGE})")
]
PageCursor = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_CHARS, description="Opaque: the `next` link of the last page"),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match", max_length=1024,
        description="Only if the resource still has this ETag (else 412)",
    ),
]


class Replay(Exception):
    """Answer with a stored response (an Idempotency-Key seen before with this request)."""

    def __init__(self, response: StoredResponse) -> None:
        super().__init__("replay")
        self.response = response


IDEMPOTENCY_STATE = "idempotency"


async def idempotency_key(
    request: Request,
    admitted: UseDep,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            pattern=r"^[\x21-\x7e]{1,255}$",
            description="Makes a retry safe: the same key with the same request returns the "
            "first response (for 24 h); with another request, 422.",
        ),
    ] = None,
) -> None:
    if key is None:
        return
    if not valid_key(key):
        raise Invalid("invalid Idempotency-Key",
                      (("header.Idempotency-Key", "1-255 visible ASCII characters"),))
    scope = f"{admitted.caller.principal.id}\x1f{admitted.caller.tenant_id}"
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    body = await request.body()
    store = components(request).idempotency
    outcome, stored = await store.begin(scope, key, fingerprint(request.method, target, body))
    if outcome is Outcome.REPLAY and stored is not None:
        raise Replay(stored)
    if outcome is Outcome.MISMATCH:
        raise IdempotencyMismatch(
            "this Idempotency-Key was already used with another request"
        )
    if outcome is Outcome.IN_PROGRESS:
        raise IdempotencyInProgress("the first request with this Idempotency-Key is running")
    # Held: the request-context middleware keeps the response (or releases the key).
    request.scope.setdefault("state", {})[IDEMPOTENCY_STATE] = (store, scope, key)
