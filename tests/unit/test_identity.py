"""Identity: argon2id passwords, log-in without user enumeration, lock-out over a controlled
clock, API keys, users' rules, browser sessions, and token -> principal."""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import replace

import pytest
from support.identity_fakes import MemoryIdentities, MemorySessionStore

from hotline_platform import credentials as creds
from hotline_platform import identity
from hotline_platform.identity import (
    CallerResolver,
    IdentityError,
    Lockout,
    LockoutPolicy,
    LoginFailed,
    LoginLocked,
    PasswordLogin,
    Principal,
    Role,
    Scope,
    Unauthenticated,
    User,
)
from hotline_platform.sessions import Session, SessionCookie, SessionPolicy, Sessions, hash_token

PASSWORD = "correct horse battery"
HASH = identity.hash_password(PASSWORD)  # once: each costs an argon2id


def _user(**kw: object) -> User:
    fields: dict[str, object] = {
        "id": "ana", "tenant_id": "acme", "roles": frozenset({Role.AGENT}), "agent_id": "a1",
        "password_hash": HASH,
    }
    fields.update(kw)
    return User(**fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- passwords


def test_argon2id_round_trip_with_the_measured_parameters() -> None:
    assert HASH.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert identity.verify_password(HASH, PASSWORD)
    assert not identity.verify_password(HASH, PASSWORD + "!")
    assert not identity.verify_password("$argon2id$garbage", PASSWORD)
    assert not identity.verify_password("", PASSWORD)
    assert not identity.needs_rehash(HASH)
    weaker = identity._argon2id(b"0123456789abcdef", memory_kib=8192, time_cost=1)
    old = weaker.derive_phc_encoded(PASSWORD.encode())
    assert old.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert identity.needs_rehash(old) and identity.needs_rehash("scrypt$...")
    assert identity.verify_password(old, PASSWORD)  # old hashes still work
    assert identity.hash_password(PASSWORD) != HASH  # salted
    with pytest.raises(IdentityError, match="at least 8"):
        identity.hash_password("short")


# --------------------------------------------------------------------------- log-in


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0


def _login(users: MemoryIdentities, policy: LockoutPolicy | None = None) -> PasswordLogin:
    return PasswordLogin(users, Lockout(policy or LockoutPolicy()))


def test_login_and_no_user_enumeration(monkeypatch: pytest.MonkeyPatch) -> None:
    users = MemoryIdentities()
    users.add_user(_user())
    users.add_user(_user(id="gone", disabled=True))
    users.add_user(_user(id="nopw", password_hash=""))
    login = _login(users)
    assert login.login("acme", "ana", PASSWORD, 0).id == "ana"

    checked: list[str] = []
    real = identity.verify_password

    def counting(encoded: str, password: str) -> bool:
        checked.append(encoded.rsplit("$", 2)[0])  # the parameters, not salt or hash
        return real(encoded, password)

    monkeypatch.setattr(identity, "verify_password", counting)
    attempts = [
        ("acme", "ana", "wrong password"),  # wrong password
        ("acme", "nobody", PASSWORD),  # unknown user
        ("globex", "ana", PASSWORD),  # unknown tenant
        ("acme", "gone", PASSWORD),  # disabled, right password
        ("acme", "nopw", PASSWORD),  # no password set
        ("acme", "", PASSWORD),  # empty user name
    ]
    messages = set()
    for tenant, user, password in attempts:
        with pytest.raises(LoginFailed) as failed:
            login.login(tenant, user, password, 1)
        messages.add(str(failed.value))
    assert messages == {"unknown tenant, user or password"}
    # Every attempt costs exactly one argon2id verification with the same parameters.
    assert len(checked) == len(attempts)
    assert set(checked) == {"$argon2id$v=19$m=19456,t=2,p=1"}


def test_unknown_user_and_wrong_password_take_similar_time() -> None:
    users = MemoryIdentities()
    users.add_user(_user())
    login = PasswordLogin(users, Lockout(LockoutPolicy(max_failures=1000)))
    times: dict[str, list[float]] = {"ana": [], "nobody": []}
    for _ in range(9):  # interleaved, so load from other processes hits both alike
        for user in times:
            start = time.perf_counter()
            with pytest.raises(LoginFailed):
                login.login("acme", user, "wrong password", 0)
            times[user].append(time.perf_counter() - start)
    known, unknown = (statistics.median(t) for t in times.values())
    assert 0.5 < known / unknown < 2.0, (known, unknown)


def test_lockout_after_five_failures_in_fifteen_minutes_for_fifteen_minutes() -> None:
    users = MemoryIdentities()
    users.add_user(_user())
    clock = Clock()
    login = _login(users)
    for _ in range(4):
        with pytest.raises(LoginFailed):
            login.login("acme", "ana", "wrong password", clock.now)
        clock.now += 60
    with pytest.raises(LoginLocked) as locked:
        login.login("acme", "ana", "wrong password", clock.now)
    assert locked.value.retry_after_s == 900
    clock.now += 899
    with pytest.raises(LoginLocked) as still:  # the right password does not help while locked
        login.login("acme", "ana", PASSWORD, clock.now)
    assert still.value.retry_after_s == 1
    clock.now += 1
    assert login.login("acme", "ana", PASSWORD, clock.now).id == "ana"


def test_lockout_counts_only_failures_within_the_window_and_success_clears() -> None:
    users = MemoryIdentities()
    users.add_user(_user())
    clock = Clock()
    login = _login(users, LockoutPolicy(max_failures=3, window_s=100, lock_s=50))
    for _ in range(10):  # one failure every 60 s: never 3 within 100 s
        with pytest.raises(LoginFailed):
            login.login("acme", "ana", "wrong password", clock.now)
        clock.now += 60
    clock.now += 100  # the earlier failures leave the window
    for _ in range(2):
        with pytest.raises(LoginFailed):
            login.login("acme", "ana", "wrong password", clock.now)
    login.login("acme", "ana", PASSWORD, clock.now)  # clears the count
    with pytest.raises(LoginFailed):
        login.login("acme", "ana", "wrong password", clock.now)


def test_unknown_users_lock_out_the_same_way() -> None:
    login = _login(MemoryIdentities(), LockoutPolicy(max_failures=2, window_s=100, lock_s=30))
    with pytest.raises(LoginFailed):
        login.login("acme", "nobody", "x" * 8, 0)
    with pytest.raises(LoginLocked) as locked:
        login.login("acme", "nobody", "x" * 8, 1)
    assert locked.value.retry_after_s == 30
    # Another user name of the tenant is not affected.
    with pytest.raises(LoginFailed):
        login.login("acme", "ana", "x" * 8, 2)


def test_lockout_state_is_bounded() -> None:
    lockout = Lockout(LockoutPolicy(max_failures=1), max_keys=3)
    for i in range(10):
        lockout.failed(("t", f"u{i}"), 0)
    assert len(lockout._locked_until) <= 3


# --------------------------------------------------------------------------- users


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"roles": frozenset()}, "at least one role"),
        ({"locale": "fr"}, "locale"),
        ({"roles": frozenset({Role.OPERATOR}), "agent_id": ""}, "operator staff"),
        ({"tenant_id": "", "roles": frozenset({Role.SUPERVISOR}), "agent_id": ""}, "operator"),
        ({"tenant_id": "", "roles": frozenset({Role.OPERATOR}), "agent_id": ""}, "needs a scope"),
        ({"tenant_id": "", "roles": frozenset({Role.OPERATOR, Role.AGENT}),
          "operator_scope": Scope.everything()}, "one tenant"),
        ({"agent_id": ""}, "agent_id go together"),
        ({"roles": frozenset({Role.SUPERVISOR})}, "agent_id go together"),
        ({"operator_scope": Scope.everything()}, "no operator scope"),
    ],
)
def test_user_rules(fields: dict[str, object], message: str) -> None:
    with pytest.raises(IdentityError, match=message):
        _user(**fields)


def test_operator_and_user_scopes() -> None:
    ops = User("ops", "", frozenset({Role.OPERATOR, Role.QA_EVALUATOR}),
               operator_scope=Scope(frozenset({"acme", "beta"})), locale="zh-CN")
    assert ops.scope.covers("acme") and ops.scope.covers("beta") and not ops.scope.covers("x")
    assert User("all", "", frozenset({Role.OPERATOR}), operator_scope=Scope.everything()
                ).scope.covers("anything")
    assert _user().scope == Scope.tenant("acme")
    p = Principal.of_user(ops)
    assert p.locale == "zh-CN" and p.describe() == "user operator/ops (operator, qa_evaluator)"


# --------------------------------------------------------------------------- API keys


def test_api_key_format_parse_and_scopes() -> None:
    key, token = identity.new_api_key(
        "acme", {"queue.stats.read"}, "admin1", known_permissions=["queue.stats.read"]
    )
    assert re.fullmatch(r"hk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}", token)
    assert identity.parse_api_key(token) == key.id
    assert key.hash.startswith("scrypt$") and token not in repr(key)
    assert creds.verify(token, key.hash)
    for bad in ("", "hk_", "hk_short_x", "acme.secret", "hk_ABCDEFGHIJKL_" + "x" * 43,
                token[:-20]):
        assert identity.parse_api_key(bad) == "", bad
    with pytest.raises(IdentityError, match="one agent"):
        identity.new_api_key("acme", {"agent.state.write_own"}, "admin1")
    with pytest.raises(IdentityError, match="unknown scope"):
        identity.new_api_key("acme", {"nope"}, "admin1", known_permissions=["queue.stats.read"])
    with pytest.raises(IdentityError, match="at least one scope"):
        identity.new_api_key("acme", set(), "admin1")


def test_api_key_verify_caches_and_follows_removal_and_expiry() -> None:
    keys = MemoryIdentities()
    key, token = keys.add_key("acme", frozenset({"report.read"}), expires_ms=10_000)
    verifier = identity.ApiKeyVerifier(keys)
    assert not verifier.cached(token)
    assert verifier.verify(token, 0) == key
    assert verifier.cached(token)
    assert verifier.verify(token, 1) == key
    wrong_secret = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(identity.InvalidApiKey):
        verifier.verify(wrong_secret, 0)
    with pytest.raises(identity.InvalidApiKey):
        verifier.verify(token, 10_000)  # expired
    keys.keys[key.id] = replace(key, hash=creds.hash_secret("other", creds.ScryptParams(n=2**10)))
    with pytest.raises(identity.InvalidApiKey):  # re-hashed (rotated): the cache does not help
        verifier.verify(token, 0)
    del keys.keys[key.id]
    with pytest.raises(identity.InvalidApiKey):  # removed
        verifier.verify(token, 0)


# --------------------------------------------------------------------------- sessions


def test_sessions_expire_idle_and_absolute_and_store_only_the_hash() -> None:
    store = MemorySessionStore()
    sessions = Sessions(store)
    assert SessionPolicy() == SessionPolicy(idle_s=8 * 3600, absolute_s=12 * 3600)
    user = _user()
    token, session = sessions.start(user, 0)
    assert token.startswith("hs_") and len(token) == 3 + 43  # 256 random bits
    assert list(store.sessions) == [hash_token(token)] and token not in repr(store.sessions)
    assert sessions.user_of(token, 1) == ("acme", "ana")
    assert sessions.start(user, 0)[0] != token  # every log-in: a new token
    # Activity is written back at most every 5 minutes.
    writes = store.writes
    sessions.user_of(token, 299_999)
    assert store.writes == writes
    sessions.user_of(token, 300_000)
    assert store.writes == writes + 1
    # Idle: 8 h after the last recorded activity.
    h = 3_600_000
    assert sessions.user_of(token, 300_000 + 8 * h - 1) is not None
    assert sessions.user_of(token, 300_000 + 8 * h - 1 + 8 * h) is None
    assert hash_token(token) not in store.sessions  # an expired session is deleted
    # Absolute: 12 h after log-in, however active.
    token2, _ = sessions.start(user, 0)
    for t in range(0, 12 * h, h):
        assert sessions.user_of(token2, t) is not None
    assert sessions.user_of(token2, 12 * h) is None


def test_logout_and_end_all() -> None:
    sessions = Sessions(MemorySessionStore())
    t1, _ = sessions.start(_user(), 0)
    t2, _ = sessions.start(_user(), 0)
    t3, _ = sessions.start(_user(id="bo", agent_id="a2"), 0)
    sessions.end(t1)
    sessions.end(t1)  # idempotent
    assert sessions.user_of(t1, 1) is None and sessions.user_of(t2, 1) is not None
    assert sessions.end_all("acme", "ana") == 1
    assert sessions.user_of(t2, 1) is None and sessions.user_of(t3, 1) == ("acme", "bo")
    assert sessions.user_of("not-a-session", 1) is None
    assert isinstance(Session("h", "acme", "ana", 0, 0).expires_ms(SessionPolicy()), int)


def test_session_cookie_attributes() -> None:
    plain, tls = SessionCookie(secure=False), SessionCookie(secure=True)
    assert plain.set_value("hs_x") == "hotline_session=hs_x; Path=/; HttpOnly; SameSite=Lax"
    assert tls.set_value("hs_x") == (
        "__Host-hotline_session=hs_x; Path=/; HttpOnly; SameSite=Lax; Secure"
    )
    assert tls.clear_value().startswith("__Host-hotline_session=; Max-Age=0;")


# --------------------------------------------------------------------------- token -> principal


def test_resolver_turns_every_kind_of_token_into_a_principal() -> None:
    directory = MemoryIdentities()
    user = directory.add_user(_user())
    sessions = Sessions(MemorySessionStore())
    session_token, _ = sessions.start(user, 0)
    key, key_token = directory.add_key("acme", frozenset({"report.read"}))
    resolver = CallerResolver(
        tenant_of=lambda t: "acme" if t == "acme-secret" else None,
        api_keys=identity.ApiKeyVerifier(directory), sessions=sessions, users=directory,
    )
    legacy = resolver.resolve("acme-secret", 0)
    assert legacy.kind == "tenant_credential" and legacy.roles == {Role.TENANT_ADMIN}
    by_key = resolver.resolve(key_token, 0)
    assert (by_key.kind, by_key.id, by_key.scopes) == ("api_key", key.id, {"report.read"})
    by_session = resolver.resolve(session_token, 0)
    assert (by_session.kind, by_session.agent_id, by_session.roles) == (
        "user", "a1", {Role.AGENT}
    )
    assert resolver.cached(session_token) and resolver.cached(key_token)
    # The user as they are now: a changed role applies at once, a disabled user is refused.
    directory.add_user(replace(user, roles=frozenset({Role.SUPERVISOR}), agent_id=""))
    assert resolver.resolve(session_token, 0).roles == {Role.SUPERVISOR}
    directory.add_user(replace(user, disabled=True))
    for token in (session_token, "", "wrong", "hk_000000000000_" + "A" * 43, "hs_nope"):
        with pytest.raises(Unauthenticated):
            resolver.resolve(token, 0)
    bare = CallerResolver()
    for token in (key_token, session_token, "acme-secret"):
        with pytest.raises(Unauthenticated):
            bare.resolve(token, 0)
