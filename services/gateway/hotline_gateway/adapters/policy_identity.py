"""Identity and permissions from the platform (hotline_platform.identity and .policy): any
bearer token the platform issues (a tenant credential of the tenancy config, an API key, a
browser session) resolves to a Principal through a CallerResolver, and policy.authorize
decides per route permission, tenant and agent: the same rules the gRPC servicers apply."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hotline_gateway.application.ports import Principal
from hotline_gateway.domain.errors import Forbidden, Unauthenticated
from hotline_platform import identity, policy
from hotline_platform.tenancy import TenancyConfig


def _now_ms() -> int:
    return int(time.time() * 1000)


def tenancy_resolver(
    config: TenancyConfig | Callable[[], TenancyConfig],
) -> identity.CallerResolver:
    """Tenant credentials of the tenancy config (a fixed one, or a function giving the live
    directory's current one); API keys and sessions: none yet."""
    current = config if callable(config) else (lambda: config)

    def tenant_of(token: str) -> str | None:
        tenant = current().tenant_for_credential(token)
        return tenant.id if tenant is not None else None

    def cached(token: str) -> bool:
        return current().credential_is_cached(token)

    return identity.CallerResolver(tenant_of=tenant_of, tenant_credential_cached=cached)


class PolicyIdentity:
    def __init__(
        self, resolver: identity.CallerResolver, now_ms: Callable[[], int] = _now_ms
    ) -> None:
        self._resolver = resolver
        self._now_ms = now_ms

    def verification_is_cheap(self, token: str) -> bool:
        return self._resolver.cached(token)

    async def authenticate(self, token: str) -> Principal:
        try:
            if self._resolver.cached(token):
                found = self._resolver.resolve(token, self._now_ms())
            else:  # a password-grade hash (scrypt): off the event loop
                found = await asyncio.to_thread(self._resolver.resolve, token, self._now_ms())
        except identity.Unauthenticated as exc:
            raise Unauthenticated(str(exc), invalid_token=True) from None
        return Principal(
            id=f"{found.kind}:{found.tenant_id}/{found.id}", kind=found.kind, subject=found
        )

    async def authorize(
        self, principal: Principal, tenant_id: str, permission: str, agent_id: str | None
    ) -> None:
        subject = principal.subject
        assert isinstance(subject, identity.Principal)
        try:
            policy.authorize(subject, tenant_id, permission, agent_id=agent_id)
        except identity.Unauthenticated as exc:
            raise Unauthenticated(str(exc)) from None
        except identity.AccessDenied as exc:
            raise Forbidden(str(exc)) from None
