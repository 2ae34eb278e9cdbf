"""Admission of a request, the same for every route: authenticate the bearer token, spend a
token of the principal's rate limit, authorise the route's permission on the tenant."""

from __future__ import annotations

from dataclasses import dataclass

from hotline_gateway.application.ports import Caller, Identity, RateLimiter
from hotline_gateway.domain.errors import RateLimited, Unauthenticated
from hotline_gateway.domain.ratelimit import Limit

MAX_TOKEN_CHARS = 4096


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header (RFC 6750); raise
    Unauthenticated when there is none."""
    if not authorization:
        raise Unauthenticated("missing 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    if len(token) > MAX_TOKEN_CHARS or any(ord(c) < 0x21 or ord(c) > 0x7E for c in token):
        raise Unauthenticated("malformed bearer token", invalid_token=True)
    return token


@dataclass(frozen=True)
class Limits:
    per_principal: Limit
    # Tokens not seen before cost a password-hash verification each (~50 ms of CPU): they
    # are limited per client address before being verified.
    unverified_per_client: Limit


class AccessControl:
    def __init__(self, identity: Identity, limiter: RateLimiter, limits: Limits) -> None:
        self.identity = identity
        self.limiter = limiter
        self.limits = limits

    async def admit(
        self,
        authorization: str | None,
        tenant_id: str,
        permission: str,
        agent_id: str | None = None,
        client: str = "",
        request_id: str = "",
    ) -> Caller:
        token = bearer_token(authorization)
        if not self.identity.verification_is_cheap(token):
            await self._spend(f"unverified:{client}", self.limits.unverified_per_client,
                              "too many new credentials from this address")
        principal = await self.identity.authenticate(token)
        await self._spend(f"principal:{principal.id}", self.limits.per_principal,
                          "rate limit of this credential exceeded")
        await self.identity.authorize(principal, tenant_id, permission, agent_id)
        credential = self.identity.backend_credential(principal, token)
        return Caller(principal, tenant_id, credential, request_id)

    async def _spend(self, key: str, limit: Limit, message: str) -> None:
        decision = await self.limiter.take(key, limit)
        if not decision.allowed:
            raise RateLimited(message, decision.retry_after_s)
