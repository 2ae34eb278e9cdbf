"""What can go wrong, in the gateway's words. The HTTP adapter maps each to a status and an
RFC 9457 problem type (adapters/http/problems.py); backends' adapters map their own errors to
these, so no route ever sees a gRPC status."""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error a route may answer with."""


class Unauthenticated(GatewayError):
    """No credential, or one nobody issued (401)."""

    def __init__(self, detail: str, *, invalid_token: bool = False) -> None:
        super().__init__(detail)
        self.invalid_token = invalid_token


class Forbidden(GatewayError):
    """The caller is known but may not do this (another tenant, a role without the
    permission) (403)."""


class NotFound(GatewayError):
    """No such tenant or resource (404)."""


class Conflict(GatewayError):
    """The command is not valid in the resource's current state (409)."""


class PreconditionFailed(GatewayError):
    """If-Match named another version of the resource (412)."""

    def __init__(self, detail: str, current_etag: str) -> None:
        super().__init__(detail)
        self.current_etag = current_etag


class Invalid(GatewayError):
    """The request is well-formed but its values cannot be used (422)."""

    def __init__(self, detail: str, errors: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(detail)
        self.errors = errors  # (location, message): e.g. ("query.cursor", "not a cursor")


class IdempotencyMismatch(GatewayError):
    """An Idempotency-Key reused with another request (422)."""


class IdempotencyInProgress(GatewayError):
    """The first request with this Idempotency-Key has not finished yet (409)."""


class RateLimited(GatewayError):
    """The caller's token bucket is empty (429)."""

    def __init__(self, detail: str, retry_after_s: float) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class Unavailable(GatewayError):
    """A backend cannot answer now; retry later (503)."""

    def __init__(self, detail: str, retry_after_s: float = 1.0) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class BadGateway(GatewayError):
    """A backend answered something the gateway cannot use (502)."""
