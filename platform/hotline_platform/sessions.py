"""Browser sessions: an opaque random token in a cookie, kept server-side by its hash.

Pure (standard library) over a `SessionStore` port; the gateway supplies the store (see
docs/identity.md: a compacted topic it alone writes, read into memory by each replica) and the
clock. Tests use an in-memory store (tests/support/identity_fakes.py).

- The token is ``hs_`` + 256 random bits (base64url). It is made here at log-in, never taken
  from the client (no session fixation), and a new log-in always makes a new one.
- The store keeps SHA-256(token), not the token: whoever reads the store (or the topic) cannot
  replay a session. A fast hash is right for a 256-bit random value; there is nothing to guess.
  Lookup is by that hash, so no secret is compared byte by byte.
- Expiry: 8 h without a request (idle) or 12 h after log-in (absolute), whichever comes first.
  A contact-centre shift is up to about 10 h with breaks, and wallboards run unattended, so a
  shorter idle limit would log people out mid-shift; the absolute limit bounds a stolen cookie
  to one shift. Activity is written back at most every 5 minutes per session, so a store write
  does not follow every request (idle expiry is exact to within that).
- Log-out deletes the session; `end_all` deletes every session of a user (password changed,
  user disabled or removed).
- The cookie: ``HttpOnly; SameSite=Lax; Path=/``, plus ``Secure`` and the ``__Host-`` name
  prefix when the gateway serves TLS; no Max-Age (the browser forgets it when it closes; the
  server's limits apply either way).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from typing import Protocol

from hotline_platform.identity import SESSION_PREFIX, User

IDLE_S = 8 * 3600
ABSOLUTE_S = 12 * 3600
TOUCH_EVERY_S = 300
COOKIE_NAME = "hotline_session"


@dataclass(frozen=True)
class SessionPolicy:
    idle_s: int = IDLE_S
    absolute_s: int = ABSOLUTE_S
    touch_every_s: int = TOUCH_EVERY_S


@dataclass(frozen=True)
class Session:
    id_hash: str  # SHA-256 of the token, hex
    tenant_id: str  # "" for operator staff
    user_id: str
    created_ms: int
    last_seen_ms: int

    def expires_ms(self, policy: SessionPolicy) -> int:
        return min(
            self.last_seen_ms + policy.idle_s * 1000, self.created_ms + policy.absolute_s * 1000
        )


class SessionStore(Protocol):
    """Where sessions live. put() creates or replaces by id_hash."""

    def put(self, session: Session) -> None: ...

    def get(self, id_hash: str) -> Session | None: ...

    def delete(self, id_hash: str) -> None: ...

    def delete_user(self, tenant_id: str, user_id: str) -> int:
        """Delete every session of the user; how many there were."""
        ...


def new_session_token() -> str:
    return SESSION_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    """Start, resolve and end sessions. Implements identity.SessionLookup."""

    def __init__(self, store: SessionStore, policy: SessionPolicy = SessionPolicy()) -> None:
        self.store = store
        self.policy = policy

    def start(self, user: User, now_ms: int) -> tuple[str, Session]:
        """A new session for a user who just logged in: (token for the cookie, session)."""
        token = new_session_token()
        session = Session(hash_token(token), user.tenant_id, user.id, now_ms, now_ms)
        self.store.put(session)
        return token, session

    def session(self, token: str, now_ms: int) -> Session | None:
        """The live session of `token` (activity recorded), or None; an expired one is
        deleted."""
        if not token.startswith(SESSION_PREFIX):
            return None
        id_hash = hash_token(token)
        session = self.store.get(id_hash)
        if session is None:
            return None
        if now_ms >= session.expires_ms(self.policy):
            self.store.delete(id_hash)
            return None
        if now_ms - session.last_seen_ms >= self.policy.touch_every_s * 1000:
            session = replace(session, last_seen_ms=now_ms)
            self.store.put(session)
        return session

    def user_of(self, token: str, now_ms: int) -> tuple[str, str] | None:
        session = self.session(token, now_ms)
        return (session.tenant_id, session.user_id) if session is not None else None

    def end(self, token: str) -> None:
        """Log-out (idempotent)."""
        if token.startswith(SESSION_PREFIX):
            self.store.delete(hash_token(token))

    def end_all(self, tenant_id: str, user_id: str) -> int:
        return self.store.delete_user(tenant_id, user_id)


@dataclass(frozen=True)
class SessionCookie:
    """The Set-Cookie values the gateway sends. `secure`: the gateway serves TLS."""

    secure: bool

    @property
    def name(self) -> str:
        return f"__Host-{COOKIE_NAME}" if self.secure else COOKIE_NAME

    def set_value(self, token: str) -> str:
        return f"{self.name}={token}; {self._attributes()}"

    def clear_value(self) -> str:
        return f"{self.name}=; Max-Age=0; {self._attributes()}"

    def _attributes(self) -> str:
        return "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure else "")
