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
from hotline_platform import auth, identity, policy
from hotline_platform.tenancy import TenancyConfig


def _now_ms() -> int:
    return int(time.time() * 1000)


def tenancy_resolver(
    config: TenancyConfig | Callable[[], TenancyConfig],
    sessions: identity.SessionLookup | None = None,
) -> identity.CallerResolver:
    """Tenant credentials, API keys and users of the tenancy config (a fixed one, or a
    function giving the live directory's current one), and browser sessions of `sessions`."""
    current = config if callable(config) else (lambda: config)
    return auth.live_resolver(current, sessions=sessions)


class LiveUsers:
    """identity.UserLookup over the current tenancy (the live directory's users)."""

    def __init__(self, current: Callable[[], TenancyConfig]) -> None:
        self._current = current

    def user(self, tenant_id: str, user_id: str) -> identity.User | None:
        return self._current().user(tenant_id, user_id)


class PolicyIdentity:
    def __init__(
        self, resolver: identity.CallerResolver, now_ms: Callable[[], int] = _now_ms,
        delegation: identity.Delegation | None = None,
    ) -> None:
        self._resolver = resolver
        self._now_ms = now_ms
        self._delegation = delegation
        self._delegated: dict[tuple[str, str], tuple[str, int]] = {}  # user -> (token, until)

    def backend_credential(self, principal: Principal, token: str) -> str:
        """What backends get for this caller: its own token, except for a browser session
        (whose store only the gateway has): a delegation signed with the key the backends
        share (HOTLINE_DELEGATION_KEY), reused for half its life."""
        subject = principal.subject
        if (
            self._delegation is None or not token.startswith(identity.SESSION_PREFIX)
            or not isinstance(subject, identity.Principal)
        ):
            return token
        user = (subject.tenant_id, subject.id)
        now = self._now_ms()
        found = self._delegated.get(user)
        if found is not None and found[1] > now:
            return found[0]
        if len(self._delegated) >= 10_000:
            self._delegated.clear()
        issued = self._delegation.issue(subject.tenant_id, subject.id, now)
        self._delegated[user] = (issued, now + self._delegation.ttl_s * 500)
        return issued

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
