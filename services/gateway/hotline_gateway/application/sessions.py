"""Browser sessions: log in (tenant, user name, password -> a session token for the cookie),
who am I, log out. The rules are the platform's (hotline_platform.identity: argon2id, the same
answer for an unknown user and a wrong password, lock-out; hotline_platform.sessions: the token,
its hash in the store, idle and absolute expiry); this module orders them for the gateway:

1. the client address spends a token of the "new credentials" bucket (a log-in costs one
   argon2id verification, ~25 ms of CPU), so one address cannot burn the CPU;
2. the lock-out is checked (a locked (tenant, user name) is refused without hashing);
3. the password is verified on a worker thread (the event loop keeps serving);
4. a new session is started (a new token at every log-in: no fixation).

The session store is a port (hotline_platform.sessions.SessionStore): the compacted topic
hotline.gateway.sessions.v1 (adapters/kafka_sessions.py), or memory only; `sync` makes a
log-in and a log-out durable before the answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hotline_gateway.application.ports import RateLimiter
from hotline_gateway.domain.errors import RateLimited, Unauthenticated
from hotline_gateway.domain.ratelimit import Limit
from hotline_platform import identity, policy
from hotline_platform.sessions import Session, Sessions


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Me:
    """Who a session (or a bearer token) is, for the pages: the principal, its permissions
    and the tenants it may act on."""

    principal: identity.Principal
    tenants: tuple[str, ...]
    permissions: tuple[str, ...]
    session: Session | None = None  # None: authenticated by a bearer token


class SessionService:
    def __init__(
        self,
        sessions: Sessions,
        login: identity.PasswordLogin,
        resolver: identity.CallerResolver,
        tenant_ids: Callable[[], Iterable[str]],
        limiter: RateLimiter,
        per_client: Limit,
        now_ms: Callable[[], int] = _now_ms,
        sync: Callable[[], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self._login = login
        self._resolver = resolver
        self._tenant_ids = tenant_ids
        self._limiter = limiter
        self._per_client = per_client
        self._now_ms = now_ms
        self._sync = sync  # waits until the store's changes are durable (blocking)

    async def log_in(
        self, tenant_id: str, user_id: str, password: str, client: str
    ) -> tuple[str, Me]:
        """(token for the cookie, who it is); raises Unauthenticated (one message for every
        cause) or RateLimited (this address, or this user name locked: Retry-After)."""
        await self._spend(client)
        now_ms = self._now_ms()
        try:
            user = await asyncio.to_thread(
                self._login.login, tenant_id, user_id, password, now_ms / 1000
            )
        except identity.LoginLocked as exc:
            raise RateLimited(str(exc), exc.retry_after_s) from None
        except identity.LoginFailed as exc:
            raise Unauthenticated(str(exc)) from None
        token, session = self.sessions.start(user, now_ms)
        if self._sync is not None:  # on the broker before the cookie is handed out
            await asyncio.to_thread(self._sync)
        return token, self._me(identity.Principal.of_user(user), session)

    async def who(self, token: str, client: str) -> Me:
        """The live session of `token` (or whoever any bearer token the gateway accepts is;
        a token never seen costs a hash on a worker thread and this address's bucket);
        raises Unauthenticated or RateLimited."""
        now_ms = self._now_ms()
        try:
            if self._resolver.cached(token):
                principal = self._resolver.resolve(token, now_ms)
            else:
                await self._spend(client)
                principal = await asyncio.to_thread(self._resolver.resolve, token, now_ms)
        except identity.Unauthenticated as exc:
            raise Unauthenticated(str(exc), invalid_token=True) from None
        session = self.sessions.session(token, now_ms) if principal.kind == "user" else None
        return self._me(principal, session)

    async def _spend(self, client: str) -> None:
        decision = await self._limiter.take(f"unverified:{client}", self._per_client)
        if not decision.allowed:
            raise RateLimited("too many log-in attempts or new credentials from this address",
                              decision.retry_after_s)

    async def log_out(self, token: str) -> None:
        self.sessions.end(token)
        if self._sync is not None:
            await asyncio.to_thread(self._sync)

    def _me(self, principal: identity.Principal, session: Session | None) -> Me:
        scope = principal.scope
        tenants = sorted(self._tenant_ids()) if scope.all_tenants else sorted(scope.tenants)
        return Me(principal, tuple(tenants), tuple(sorted(policy.permissions_of(principal))),
                  session)
