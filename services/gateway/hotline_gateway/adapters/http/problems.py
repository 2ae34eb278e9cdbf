"""RFC 9457 problem details: every error of every route is `application/problem+json`.

`type` is a relative URI, `/v1/problems/<slug>`, which the gateway serves (a short JSON
description), so clients branch on `type` and humans can look it up. Members: `type`, `title`
(the same for every occurrence of the type), `status`, `detail` (this occurrence), `instance`
(the request path), and the extensions `request_id` (also in the X-Request-Id header) and, for
invalid requests, `errors` (one per field: `location` like `query.limit`, `message`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse

from hotline_gateway.domain import errors as e

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "/v1/problems/"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str

    @property
    def uri(self) -> str:
        return TYPE_PREFIX + self.slug


_TYPES = (
    ProblemType("bad-request", 400, "Bad request", "The request could not be read."),
    ProblemType("unauthenticated", 401, "Authentication required",
                "No bearer token, or one the platform does not know. Send "
                "'Authorization: Bearer <token>'."),
    ProblemType("forbidden", 403, "Forbidden",
                "The credential is valid but may not do this: another tenant's resource, or a "
                "role without the route's permission."),
    ProblemType("not-found", 404, "Not found", "No such tenant, resource or route."),
    ProblemType("method-not-allowed", 405, "Method not allowed",
                "The resource exists but not with this method; see the Allow header."),
    ProblemType("conflict", 409, "Conflict with the resource's state",
                "The command is not valid in the resource's current state (e.g. setting an "
                "agent not ready while it wraps up)."),
    ProblemType("idempotency-in-progress", 409, "Request with this Idempotency-Key in progress",
                "The first request with this key has not finished; retry later."),
    ProblemType("precondition-failed", 412, "Precondition failed",
                "If-Match named a version the resource no longer has; the ETag header gives "
                "the current one."),
    ProblemType("unsupported-media-type", 415, "Unsupported media type",
                "Send request bodies as application/json."),
    ProblemType("invalid-request", 422, "Invalid request",
                "A parameter or body member is missing or cannot be used; see `errors`."),
    ProblemType("idempotency-key-reused", 422, "Idempotency-Key reused",
                "This Idempotency-Key was used with another request (method, path or body)."),
    ProblemType("rate-limited", 429, "Too many requests",
                "The credential's rate limit is spent; retry after Retry-After seconds."),
    ProblemType("internal", 500, "Internal error",
                "The gateway failed; the request id identifies it in the logs."),
    ProblemType("bad-gateway", 502, "Bad gateway", "A backend answered something unusable."),
    ProblemType("unavailable", 503, "Service unavailable",
                "A backend cannot answer now; retry after Retry-After seconds."),
)
TYPES: dict[str, ProblemType] = {t.slug: t for t in _TYPES}
_BY_STATUS: dict[int, ProblemType] = {}
for _t in _TYPES:
    _BY_STATUS.setdefault(_t.status, _t)


def for_status(status: int) -> ProblemType:
    return _BY_STATUS.get(status) or ProblemType(
        f"http-{status}", status, f"HTTP {status}", f"The HTTP status {status}."
    )


def problem(
    kind: ProblemType,
    detail: str,
    instance: str,
    request_id: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": kind.uri,
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
        "instance": instance,
        "request_id": request_id,
        **extensions,
    }
    return JSONResponse(body, status_code=kind.status, headers=headers, media_type=MEDIA_TYPE)


def retry_after(seconds: float) -> str:
    """Retry-After in whole seconds (RFC 9110 10.2.3), at least 1."""
    return str(max(1, int(-(-seconds // 1))))


def from_error(exc: e.GatewayError, instance: str, request_id: str) -> JSONResponse:
    """The problem response of a gateway error."""
    detail = str(exc)
    if isinstance(exc, e.Unauthenticated):
        challenge = 'Bearer realm="hotline"'
        if exc.invalid_token:
            challenge += ', error="invalid_token"'
        return problem(TYPES["unauthenticated"], detail, instance, request_id,
                       {"WWW-Authenticate": challenge})
    if isinstance(exc, e.Forbidden):
        return problem(TYPES["forbidden"], detail, instance, request_id)
    if isinstance(exc, e.NotFound):
        return problem(TYPES["not-found"], detail, instance, request_id)
    if isinstance(exc, e.IdempotencyInProgress):
        return problem(TYPES["idempotency-in-progress"], detail, instance, request_id,
                       {"Retry-After": "1"})
    if isinstance(exc, e.Conflict):
        return problem(TYPES["conflict"], detail, instance, request_id)
    if isinstance(exc, e.PreconditionFailed):
        return problem(TYPES["precondition-failed"], detail, instance, request_id,
                       {"ETag": exc.current_etag})
    if isinstance(exc, e.IdempotencyMismatch):
        return problem(TYPES["idempotency-key-reused"], detail, instance, request_id)
    if isinstance(exc, e.Invalid):
        issues = [{"location": loc, "message": msg} for loc, msg in exc.errors]
        return problem(TYPES["invalid-request"], detail, instance, request_id, errors=issues)
    if isinstance(exc, e.RateLimited):
        return problem(TYPES["rate-limited"], detail, instance, request_id,
                       {"Retry-After": retry_after(exc.retry_after_s)})
    if isinstance(exc, e.Unavailable):
        return problem(TYPES["unavailable"], detail, instance, request_id,
                       {"Retry-After": retry_after(exc.retry_after_s)})
    if isinstance(exc, e.BadGateway):
        return problem(TYPES["bad-gateway"], detail, instance, request_id)
    return problem(TYPES["internal"], "internal error", instance, request_id)
