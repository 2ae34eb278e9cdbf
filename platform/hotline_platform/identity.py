"""Who may call Hotline: users with roles, machine API keys, and the principal a request acts as.

Pure (standard library and `cryptography`; no FastAPI, gRPC or broker): the REST gateway, the
gRPC servicers and the directory all build on it. The permission table lives in
hotline_platform.policy; browser sessions in hotline_platform.sessions; docs/identity.md says
how the pieces fit.

- **Users** belong to one tenant, or (BPO operator staff, role ``operator``) to the operator
  with a scope of all tenants or a listed set. Roles apply in every tenant of the scope.
- **Passwords** are hashed with argon2id (RFC 9106) at OWASP's first recommended setting,
  m=19 MiB, t=2, p=1: one verification takes about 25 ms (median, 22-31 ms p10-p90) on our
  2-core test machine at load 1.4-3.9, 37-58 ms at load 7 (docs/identity.md). The implementation is
  `cryptography`'s (already pinned and in every image), which writes and reads the same PHC
  strings as argon2-cffi at the same speed; argon2-cffi would add two distributions to every
  service image, since each image carries the whole platform package. The parameters travel in
  the hash string (``$argon2id$v=19$m=19456,t=2,p=1$...``), so they can be raised later;
  `needs_rehash` says when to re-hash at the next successful log-in.
- **Log-in** (`PasswordLogin`) gives the same error, after the same argon2 work, for an unknown
  tenant, an unknown user, a disabled user and a wrong password (a dummy hash is verified when
  there is no user), so neither the message nor the time tells whether a user exists. Repeated
  failures lock the (tenant, user name) pair — whether or not the user exists, so the lock-out
  does not reveal existence either: `LockoutPolicy` defaults to 5 failures within 15 minutes →
  locked for 15 minutes, over a clock the caller passes.
- **API keys** read ``hk_<key id>_<secret>``: the key id (12 characters of [a-z0-9]) names the
  one stored hash to check, the secret is 256 random bits. The stored hash is the platform's
  scrypt (hotline_platform.credentials), as for tenant credentials: a 256-bit random secret
  cannot be guessed offline whatever the hash, so what matters is the cost per request, and
  credentials' scheme already pays one scrypt per key and process, then one HMAC lookup
  (`ApiKeyVerifier` keeps the keyed fingerprints); argon2id's memory cost is kept for the
  low-entropy secrets people choose. Scopes are permission names (policy.PERMISSIONS).
- **Tokens** a caller presents (``authorization: Bearer ...``, or the session cookie): ``hk_``
  an API key, ``hs_`` a browser session (hotline_platform.sessions), anything else a legacy
  tenant credential of the tenancy config, which acts as its tenant's ``tenant_admin``.
  `CallerResolver` turns any of them into a `Principal`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from hotline_platform import credentials as creds


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    QA_EVALUATOR = "qa_evaluator"
    TENANT_ADMIN = "tenant_admin"
    OPERATOR = "operator"  # BPO operator staff: acts on the tenants of its scope


LOCALES = ("en", "zh-CN")
API_KEY_PREFIX = "hk_"
SESSION_PREFIX = "hs_"
DELEGATION_PREFIX = "hd_"


class IdentityError(ValueError):
    """A user or API key that breaks a rule (the message names it)."""


# --------------------------------------------------------------------------- scopes and users


@dataclass(frozen=True)
class Scope:
    """The tenants a principal may act on: one tenant, a listed set, or all of them."""

    tenants: frozenset[str] = frozenset()
    all_tenants: bool = False

    @classmethod
    def tenant(cls, tenant_id: str) -> Scope:
        return cls(frozenset({tenant_id}))

    @classmethod
    def everything(cls) -> Scope:
        return cls(frozenset(), True)

    def covers(self, tenant_id: str) -> bool:
        return self.all_tenants or tenant_id in self.tenants

    def describe(self) -> str:
        return "all tenants" if self.all_tenants else ", ".join(sorted(self.tenants)) or "none"


@dataclass(frozen=True)
class User:
    """A person who logs in. `tenant_id` is "" for operator staff, whose `scope` lists the
    tenants they act on (or all); a tenant's user acts on its own tenant only."""

    id: str
    tenant_id: str
    roles: frozenset[Role]
    display_name: str = ""
    locale: str = "en"
    agent_id: str = ""  # the agent this user is, when it holds the role agent
    password_hash: str = ""  # argon2id hash string; "" = cannot log in with a password
    disabled: bool = False
    operator_scope: Scope = Scope()

    def __post_init__(self) -> None:
        who = f"user {self.tenant_id or 'operator'}/{self.id}"
        if not self.id:
            raise IdentityError("a user needs an id")
        if not self.roles:
            raise IdentityError(f"{who}: needs at least one role")
        if self.locale not in LOCALES:
            raise IdentityError(f"{who}: locale {self.locale!r} is not one of {LOCALES}")
        if self.tenant_id:
            if Role.OPERATOR in self.roles:
                raise IdentityError(f"{who}: role operator is for operator staff (no tenant)")
            if self.operator_scope != Scope():
                raise IdentityError(f"{who}: a tenant's user has no operator scope")
        else:
            if Role.OPERATOR not in self.roles:
                raise IdentityError(f"{who}: a user without a tenant needs the role operator")
            if self.operator_scope == Scope():
                raise IdentityError(f"{who}: an operator needs a scope (all or listed tenants)")
            if Role.AGENT in self.roles:
                raise IdentityError(f"{who}: an agent belongs to one tenant")
        if (Role.AGENT in self.roles) != bool(self.agent_id):
            raise IdentityError(f"{who}: the role agent and an agent_id go together")

    @property
    def scope(self) -> Scope:
        return Scope.tenant(self.tenant_id) if self.tenant_id else self.operator_scope


@dataclass(frozen=True)
class ApiKey:
    """A machine credential of one tenant. `hash` is the scrypt hash of the whole token."""

    id: str
    tenant_id: str
    scopes: frozenset[str]
    hash: str
    created_by: str = ""
    expires_ms: int | None = None  # None: does not expire
    name: str = ""

    def expired(self, now_ms: int) -> bool:
        return self.expires_ms is not None and now_ms >= self.expires_ms


@dataclass(frozen=True)
class Principal:
    """Who is calling. `kind` is "user", "api_key" or "tenant_credential" (a legacy tenant
    credential, acting as that tenant's tenant_admin). Roles for users and tenant credentials,
    scopes (permission names) for API keys; policy.permissions_of turns them into permissions."""

    kind: str
    id: str
    tenant_id: str  # "" for operator staff
    scope: Scope
    roles: frozenset[Role] = frozenset()
    scopes: frozenset[str] = frozenset()
    agent_id: str = ""
    display_name: str = ""
    locale: str = "en"

    @classmethod
    def of_user(cls, user: User) -> Principal:
        return cls(
            "user", user.id, user.tenant_id, user.scope, user.roles, frozenset(),
            user.agent_id, user.display_name or user.id, user.locale,
        )

    @classmethod
    def of_api_key(cls, key: ApiKey) -> Principal:
        return cls(
            "api_key", key.id, key.tenant_id, Scope.tenant(key.tenant_id), frozenset(),
            key.scopes, "", key.name or key.id,
        )

    @classmethod
    def of_tenant_credential(cls, tenant_id: str) -> Principal:
        return cls(
            "tenant_credential", tenant_id, tenant_id, Scope.tenant(tenant_id),
            frozenset({Role.TENANT_ADMIN}), frozenset(), "", tenant_id,
        )

    def describe(self) -> str:
        """e.g. "user acme/ana (agent)", "API key k3x9... of acme", "tenant credential of acme"."""
        if self.kind == "api_key":
            return f"API key {self.id} of tenant {self.tenant_id!r}"
        if self.kind == "tenant_credential":
            return f"the tenant credential of {self.tenant_id!r}"
        roles = ", ".join(sorted(self.roles))
        return f"user {self.tenant_id or 'operator'}/{self.id} ({roles})"


# --------------------------------------------------------------------------- passwords

# OWASP Password Storage Cheat Sheet, first argon2id option (m=19 MiB, t=2, p=1).
PASSWORD_TIME_COST = 2
PASSWORD_MEMORY_KIB = 19_456
PASSWORD_PARALLELISM = 1
PASSWORD_SALT_BYTES = 16
PASSWORD_HASH_BYTES = 32
MIN_PASSWORD_LENGTH = 8
_PHC_PARAMS = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$")


def _argon2id(
    salt: bytes, memory_kib: int = PASSWORD_MEMORY_KIB, time_cost: int = PASSWORD_TIME_COST,
    parallelism: int = PASSWORD_PARALLELISM,
) -> Argon2id:
    return Argon2id(
        salt=salt, length=PASSWORD_HASH_BYTES, iterations=time_cost, lanes=parallelism,
        memory_cost=memory_kib,
    )


def hash_password(password: str) -> str:
    """The argon2id PHC string of `password` (fresh salt)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise IdentityError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _argon2id(os.urandom(PASSWORD_SALT_BYTES)).derive_phc_encoded(password.encode())


def verify_password(encoded: str, password: str) -> bool:
    """Does `password` match the PHC string? The final comparison is constant-time; a
    malformed string is False."""
    try:
        Argon2id.verify_phc_encoded(password.encode(), encoded)
    except (InvalidKey, ValueError, TypeError):
        return False
    return True


def needs_rehash(encoded: str) -> bool:
    """True when the hash was made with other parameters than today's (or is not argon2id)."""
    match = _PHC_PARAMS.match(encoded)
    wanted = (PASSWORD_MEMORY_KIB, PASSWORD_TIME_COST, PASSWORD_PARALLELISM)
    return match is None or tuple(int(x) for x in match.groups()) != wanted


def check_password_hash(encoded: str) -> None:
    """IdentityError unless `encoded` is an argon2id PHC string (never a plaintext password)."""
    if not encoded.startswith("$argon2id$") or encoded.count("$") != 5:
        raise IdentityError(
            "password_hash must be an argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$"
            "<salt>$<hash>)"
        )


# Verified when there is no user (or no hash), so an unknown user costs the same argon2 work.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(24))


# --------------------------------------------------------------------------- lock-out


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    window_s: float = 15 * 60
    lock_s: float = 15 * 60


class Lockout:
    """Failed log-ins per key (tenant, user name as typed), over a clock the caller passes
    (seconds). `max_failures` failures within `window_s` lock the key for `lock_s`; a success
    clears it. Bounded: at most `max_keys` keys are tracked (the oldest are forgotten).
    Thread-safe."""

    def __init__(self, policy: LockoutPolicy = LockoutPolicy(), max_keys: int = 100_000) -> None:
        self.policy = policy
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._locked_until: dict[tuple[str, str], float] = {}
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def retry_after(self, key: tuple[str, str], now: float) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        with self._lock:
            until = self._locked_until.get(key, 0.0)
            if until <= now:
                self._locked_until.pop(key, None)
                return 0.0
            return until - now

    def failed(self, key: tuple[str, str], now: float) -> float:
        """Record a failure; returns the lock's length when this failure locks the key."""
        p = self.policy
        with self._lock:
            times = self._failures.get(key)
            if times is None:
                if len(self._failures) >= self._max_keys:
                    self._failures.pop(next(iter(self._failures)))
                times = self._failures[key] = deque()
            times.append(now)
            while times and times[0] <= now - p.window_s:
                times.popleft()
            if len(times) >= p.max_failures:
                self._failures.pop(key, None)
                if len(self._locked_until) >= self._max_keys:
                    self._locked_until.pop(next(iter(self._locked_until)))
                self._locked_until[key] = now + p.lock_s
                return p.lock_s
            return 0.0

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)


# --------------------------------------------------------------------------- log-in


class LoginFailed(Exception):
    """One message for every cause (unknown tenant or user, wrong password, disabled)."""

    MESSAGE = "unknown tenant, user or password"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class LoginLocked(Exception):
    """Too many failures for this tenant and user name (existing or not)."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = max(1, int(retry_after_s + 0.999))
        super().__init__(
            f"too many failed log-ins for this user; try again in {self.retry_after_s} s"
        )


class UserLookup(Protocol):
    def user(self, tenant_id: str, user_id: str) -> User | None:
        """The user `user_id` of `tenant_id` ("" = operator staff), or None."""
        ...


class PasswordLogin:
    """tenant + user name + password -> User, or LoginFailed / LoginLocked.

    The user name is matched as given (ids are case-sensitive, like every id in Hotline);
    `now` is seconds on any monotonic-enough clock the caller owns."""

    def __init__(self, users: UserLookup, lockout: Lockout | None = None) -> None:
        self._users = users
        self.lockout = lockout or Lockout()

    def login(self, tenant_id: str, user_id: str, password: str, now: float) -> User:
        key = (tenant_id, user_id)
        wait = self.lockout.retry_after(key, now)
        if wait > 0:
            raise LoginLocked(wait)
        user = self._users.user(tenant_id, user_id) if user_id else None
        encoded = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
        ok = verify_password(encoded, password) and encoded is not _DUMMY_HASH
        if not ok or user is None or user.disabled:
            locked_for = self.lockout.failed(key, now)
            if locked_for:
                raise LoginLocked(locked_for)
            raise LoginFailed()
        self.lockout.succeeded(key)
        return user


# --------------------------------------------------------------------------- API keys

_KEY_ID = re.compile(r"^[a-z0-9]{12}$")
_KEY_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class InvalidApiKey(Exception):
    """A token that is not a valid, live API key (the message never says which part failed)."""


def new_api_key_token() -> tuple[str, str]:
    """(key id, token ``hk_<key id>_<secret>``) with a fresh random id and 256-bit secret."""
    key_id = "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(12))
    return key_id, f"{API_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def parse_api_key(token: str) -> str:
    """The key id of an API key token, or "" when `token` is not shaped like one."""
    if not token.startswith(API_KEY_PREFIX):
        return ""
    key_id, sep, secret = token[len(API_KEY_PREFIX):].partition("_")
    if not sep or not _KEY_ID.match(key_id) or len(secret) < 32:
        return ""
    return key_id


def check_scopes(scopes: Iterable[str], known_permissions: Iterable[str] | None = None) -> None:
    """IdentityError unless `scopes` is a non-empty set of known, tenant-wide permissions."""
    wanted = frozenset(scopes)
    if not wanted:
        raise IdentityError("an API key needs at least one scope")
    own = sorted(s for s in wanted if s.endswith("_own"))
    if own:
        raise IdentityError(f"scope(s) {', '.join(own)} act for one agent; a key is no agent")
    if known_permissions is not None:
        unknown = sorted(wanted - frozenset(known_permissions))
        if unknown:
            raise IdentityError(f"unknown scope(s): {', '.join(unknown)}")


def check_api_key(key: ApiKey, known_permissions: Iterable[str] | None = None) -> None:
    """IdentityError unless `key` is well formed (id, tenant, scopes)."""
    if not _KEY_ID.match(key.id):
        raise IdentityError(f"API key id {key.id!r} must be 12 characters [a-z0-9]")
    if not key.tenant_id:
        raise IdentityError("an API key belongs to one tenant")
    check_scopes(key.scopes, known_permissions)


def new_api_key(
    tenant_id: str, scopes: Iterable[str], created_by: str, *, expires_ms: int | None = None,
    name: str = "", known_permissions: Iterable[str] | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its token (shown once; only its hash is kept). Scopes must be known
    permissions when `known_permissions` is given (policy.PERMISSIONS), and not per-agent
    ``*_own`` ones: a key is no agent."""
    wanted = frozenset(scopes)
    if not tenant_id:
        raise IdentityError("an API key belongs to one tenant")
    check_scopes(wanted, known_permissions)
    key_id, token = new_api_key_token()
    key = ApiKey(key_id, tenant_id, wanted, creds.hash_secret(token), created_by, expires_ms, name)
    return key, token


class ApiKeyLookup(Protocol):
    def api_key(self, key_id: str) -> ApiKey | None: ...


class ApiKeyVerifier:
    """token -> live ApiKey. One scrypt the first time a token is seen (at most `max_parallel`
    at once), then an HMAC fingerprint lookup; the key is looked up again on every call, so a
    removed, re-hashed or expired key stops working at once."""

    def __init__(self, keys: ApiKeyLookup, max_parallel: int = 2, max_cached: int = 10_000):
        self._keys = keys
        self._secret = secrets.token_bytes(32)
        self._verified: dict[bytes, str] = {}  # fingerprint -> the hash string it matched
        self._max_cached = max_cached
        self._gate = threading.BoundedSemaphore(max_parallel)

    def _fingerprint(self, token: str) -> bytes:
        return hmac.digest(self._secret, token.encode(), "sha256")

    def cached(self, token: str) -> bool:
        return self._fingerprint(token) in self._verified

    def verify(self, token: str, now_ms: int) -> ApiKey:
        key_id = parse_api_key(token)
        key = self._keys.api_key(key_id) if key_id else None
        if key is None or key.expired(now_ms):
            raise InvalidApiKey("unknown or expired API key")
        fingerprint = self._fingerprint(token)
        known = self._verified.get(fingerprint)
        if known is not None and hmac.compare_digest(known, key.hash):
            return key
        with self._gate:
            try:
                ok = creds.verify(token, key.hash)
            except creds.CredentialHashError:
                ok = False
        if not ok:
            raise InvalidApiKey("unknown or expired API key")
        if len(self._verified) >= self._max_cached:
            self._verified.clear()
        self._verified[fingerprint] = key.hash
        return key


# --------------------------------------------------------------------------- delegation


class Delegation:
    """The gateway's signed statement "this call acts for user <tenant>/<user>", valid for
    `ttl_s`: what it forwards to the gRPC backends for a browser session, whose store only the
    gateway holds. ``hd_<base64url(tenant \x1f user \x1f expiry ms)>.<base64url(HMAC-SHA256)>``
    under a key the gateway and the backends share (HOTLINE_DELEGATION_KEY). A backend then
    acts for the user *as the directory says now* (roles, disabled), exactly as for a session.
    Implements SessionLookup. Pure; thread-safe."""

    def __init__(self, key: bytes, ttl_s: int = 120) -> None:
        if len(key) < 16:
            raise IdentityError("a delegation key needs at least 16 bytes")
        self._key = key
        self.ttl_s = ttl_s

    @classmethod
    def from_setting(cls, text: str) -> Delegation | None:
        """The setting's key (any string of 16+ characters; empty: none)."""
        text = text.strip()
        return cls(text.encode()) if text else None

    def issue(self, tenant_id: str, user_id: str, now_ms: int) -> str:
        payload = f"{tenant_id}\x1f{user_id}\x1f{now_ms + self.ttl_s * 1000}".encode()
        mac = hmac.digest(self._key, payload, "sha256")
        return f"{DELEGATION_PREFIX}{_b64(payload)}.{_b64(mac)}"

    def user_of(self, token: str, now_ms: int) -> tuple[str, str] | None:
        if not token.startswith(DELEGATION_PREFIX) or len(token) > 1024:
            return None
        body, _, signature = token[len(DELEGATION_PREFIX):].partition(".")
        try:
            payload, mac = _unb64(body), _unb64(signature)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, hmac.digest(self._key, payload, "sha256")):
            return None
        parts = payload.decode(errors="replace").split("\x1f")
        if len(parts) != 3 or not parts[2].isdigit() or int(parts[2]) <= now_ms:
            return None
        return parts[0], parts[1]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


# --------------------------------------------------------------------------- callers


class AccessDenied(Exception):
    """Base of Unauthenticated and policy.Forbidden: the message is safe to show the caller."""


class Unauthenticated(AccessDenied):
    """No credential, or one that is not (or no longer) valid. gRPC UNAUTHENTICATED, HTTP 401."""


class SessionLookup(Protocol):
    def user_of(self, token: str, now_ms: int) -> tuple[str, str] | None:
        """(tenant id, user id) of a live session token, or None."""
        ...


@dataclass
class CallerResolver:
    """Any bearer token -> Principal, or Unauthenticated.

    - ``hk_...``: an API key (`api_keys`), within its tenant and scopes;
    - ``hs_...``: a browser session (`sessions`), acting as its user as the user is *now*
      (`users`: a role removed or a user disabled takes effect at the next request);
    - ``hd_...``: the gateway's delegation for a session (`delegation`), likewise;
    - anything else: a legacy tenant credential (`tenant_of`: token -> tenant id or None).

    A source left None refuses its kind of token. `cached(token)` is True when resolving costs
    no hashing (callers on an event loop run the others on a worker thread)."""

    tenant_of: Callable[[str], str | None] = lambda token: None
    tenant_credential_cached: Callable[[str], bool] = lambda token: False
    api_keys: ApiKeyVerifier | None = None
    sessions: SessionLookup | None = None
    users: UserLookup | None = None
    delegation: SessionLookup | None = None

    def cached(self, token: str) -> bool:
        if token.startswith(API_KEY_PREFIX):
            return self.api_keys is None or self.api_keys.cached(token)
        if token.startswith((SESSION_PREFIX, DELEGATION_PREFIX)):
            return True
        return not token or self.tenant_credential_cached(token)

    def resolve(self, token: str, now_ms: int) -> Principal:
        if not token:
            raise Unauthenticated("missing credential ('authorization: Bearer <token>')")
        if token.startswith(API_KEY_PREFIX):
            if self.api_keys is None:
                raise Unauthenticated("API keys are not accepted here")
            try:
                return Principal.of_api_key(self.api_keys.verify(token, now_ms))
            except InvalidApiKey as exc:
                raise Unauthenticated(str(exc)) from None
        if token.startswith(SESSION_PREFIX):
            if self.sessions is None or self.users is None:
                raise Unauthenticated("session tokens are not accepted here")
            ref = self.sessions.user_of(token, now_ms)
            user = self.users.user(*ref) if ref is not None else None
            if user is None or user.disabled:
                raise Unauthenticated("no such session, or it has expired: log in again")
            return Principal.of_user(user)
        if token.startswith(DELEGATION_PREFIX):
            if self.delegation is None or self.users is None:
                raise Unauthenticated("delegated sessions are not accepted here")
            ref = self.delegation.user_of(token, now_ms)
            user = self.users.user(*ref) if ref is not None else None
            if user is None or user.disabled:
                raise Unauthenticated("invalid or expired delegation: log in again")
            return Principal.of_user(user)
        tenant_id = self.tenant_of(token)
        if tenant_id is None:
            raise Unauthenticated("unknown credential")
        return Principal.of_tenant_credential(tenant_id)
