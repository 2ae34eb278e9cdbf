"""In-memory adapters of the identity ports (tests only), and the callers of the authz matrix.

- `MemorySessionStore`: hotline_platform.sessions.SessionStore in a dict.
- `MemoryIdentities`: users and API keys (identity.UserLookup, identity.ApiKeyLookup).
- `MatrixIdentities`: makes a real token (session, API key, tenant credential) for each
  authz_matrix.Caller of a home tenant, and the CallerResolver that accepts them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from support.authz_matrix import OTHER, Caller

from hotline_platform import credentials as creds
from hotline_platform.identity import (
    ApiKey,
    ApiKeyVerifier,
    CallerResolver,
    Role,
    Scope,
    User,
    new_api_key_token,
)
from hotline_platform.sessions import Session, Sessions

# Tests hash API keys with light scrypt parameters (the format and the check are the same).
FAST_SCRYPT = creds.ScryptParams(n=2**10)


class MemorySessionStore:
    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.writes = 0
        self._lock = threading.Lock()

    def put(self, session: Session) -> None:
        with self._lock:
            self.sessions[session.id_hash] = session
            self.writes += 1

    def get(self, id_hash: str) -> Session | None:
        with self._lock:
            return self.sessions.get(id_hash)

    def delete(self, id_hash: str) -> None:
        with self._lock:
            self.sessions.pop(id_hash, None)

    def delete_user(self, tenant_id: str, user_id: str) -> int:
        with self._lock:
            gone = [
                h for h, s in self.sessions.items()
                if (s.tenant_id, s.user_id) == (tenant_id, user_id)
            ]
            for h in gone:
                del self.sessions[h]
            return len(gone)


class MemoryIdentities:
    def __init__(self) -> None:
        self.users: dict[tuple[str, str], User] = {}
        self.keys: dict[str, ApiKey] = {}

    def add_user(self, user: User) -> User:
        self.users[(user.tenant_id, user.id)] = user
        return user

    def user(self, tenant_id: str, user_id: str) -> User | None:
        return self.users.get((tenant_id, user_id))

    def add_key(
        self, tenant_id: str, scopes: frozenset[str], expires_ms: int | None = None
    ) -> tuple[ApiKey, str]:
        key_id, token = new_api_key_token()
        key = ApiKey(
            key_id, tenant_id, scopes, creds.hash_secret(token, FAST_SCRYPT), "test", expires_ms
        )
        self.keys[key_id] = key
        return key, token

    def api_key(self, key_id: str) -> ApiKey | None:
        return self.keys.get(key_id)


def _now_ms() -> int:
    return int(time.time() * 1000)


class MatrixIdentities:
    """Tokens for the matrix's callers of `home`; `other` is the tenant they must not reach.
    `tenant_credentials`: tenant id -> its (plaintext) credential in the tenancy config."""

    def __init__(
        self, home: str, other: str, own_agent: str, other_agent: str,
        tenant_credentials: Mapping[str, str],
    ) -> None:
        self.home, self.other = home, other
        self.own_agent, self.other_agent = own_agent, other_agent
        self.store = MemorySessionStore()
        self.sessions = Sessions(self.store)
        self.directory = MemoryIdentities()
        self.verifier = ApiKeyVerifier(self.directory)
        self._credentials = dict(tenant_credentials)
        self._tokens: dict[Caller, str] = {}

    def resolver(
        self, tenant_of: Callable[[str], str | None],
        tenant_credential_cached: Callable[[str], bool] = lambda token: False,
    ) -> CallerResolver:
        return CallerResolver(
            tenant_of=tenant_of, tenant_credential_cached=tenant_credential_cached,
            api_keys=self.verifier, sessions=self.sessions, users=self.directory,
        )

    def tenant(self, which: str) -> str:
        return self.other if which == OTHER else self.home

    def agent(self, which: str) -> str:
        return self.other_agent if which == OTHER else self.own_agent

    def token(self, caller: Caller) -> str:
        if caller not in self._tokens:
            self._tokens[caller] = self._make(caller)
        return self._tokens[caller]

    def _make(self, caller: Caller) -> str:
        if caller.kind == "tenant_credential":
            return self._credentials[self.home]
        if caller.kind == "api_key":
            return self.directory.add_key(self.home, caller.scopes)[1]
        if Role.OPERATOR in caller.roles:
            scope = Scope.everything() if caller.all_tenants else Scope.tenant(self.home)
            user = User(caller.name, "", caller.roles, operator_scope=scope)
        else:
            agent_id = self.own_agent if Role.AGENT in caller.roles else ""
            user = User(caller.name, self.home, caller.roles, agent_id=agent_id)
        self.directory.add_user(user)
        return self.sessions.start(user, _now_ms())[0]
