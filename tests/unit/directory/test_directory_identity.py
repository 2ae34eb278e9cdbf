"""Users and API keys as directory facts: fold, validation, diff, and who may change them."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from directory_world import loaded, plan_apply

from hotline.directory.v1 import events_pb2 as pb
from hotline.directory.v1.directory_pb2 import Change
from hotline_directory.application.service import DirectoryWriter, NotAllowed
from hotline_directory.domain.access import Caller
from hotline_platform import auth, directory, identity, tenancy

PASSWORD = "correct horse battery"


@functools.cache
def password_hash() -> str:
    return identity.hash_password(PASSWORD)


def user(uid: str = "nina", tenant: str = "acme", roles: tuple[str, ...] = ("agent",),
         agent: str = "acme-a1", **extra: Any) -> Change:
    return Change(define_user=pb.UserDefined(
        tenant_id=tenant, user_id=uid, display_name=uid.title(), roles=list(roles),
        locale=extra.pop("locale", "en"), agent_id=agent,
        password_hash=extra.pop("password_hash", password_hash()), **extra,
    ))


def api_key(tenant: str = "acme", scopes: tuple[str, ...] = ("queue.stats.read",),
            key_id: str = "") -> tuple[Change, str]:
    key, token = identity.new_api_key(tenant, scopes, "")
    body = directory.api_key_definition(key)
    if key_id:
        body.key_id = key_id
    return Change(define_api_key=body), token


def _refused(view: directory.View, *changes: Change) -> str:
    with pytest.raises(directory.Refused) as caught:
        plan_apply(view, *changes)
    return str(caught.value)


def test_users_and_keys_fold_into_the_tenancy_and_authenticate() -> None:
    view = loaded()
    key_change, token = api_key(scopes=("queue.stats.read", "report.read"))
    plan_apply(view, user(), user("sam", roles=("supervisor",), agent="", locale="zh-CN"),
               key_change)
    config = view.config()
    nina = config.user("acme", "nina")
    assert nina is not None and nina.roles == {identity.Role.AGENT}
    assert nina.agent_id == "acme-a1" and identity.verify_password(nina.password_hash, PASSWORD)
    assert config.user("acme", "sam").locale == "zh-CN"  # type: ignore[union-attr]
    resolver = auth.live_resolver(view.config)
    principal = resolver.resolve(token, 0)
    assert principal.kind == "api_key" and principal.scopes == {"queue.stats.read",
                                                                "report.read"}
    with pytest.raises(identity.Unauthenticated):
        resolver.resolve(token[:-3] + "xyz", 0)
    # Revoked: refused at once, by the same resolver.
    plan_apply(view, Change(revoke_api_key=pb.ApiKeyRevoked(
        tenant_id="acme", key_id=key_change.define_api_key.key_id)))
    with pytest.raises(identity.Unauthenticated):
        resolver.resolve(token, 0)
    assert PASSWORD not in str(list(view.events.values()))
    assert token not in str(list(view.events.values()))


def test_an_unknown_role_an_unknown_agent_and_a_plaintext_password_are_refused() -> None:
    view = loaded()
    assert "unknown role 'janitor'" in _refused(view, user(roles=("janitor",), agent=""))
    assert "agent 'acme-a7' of tenant acme does not exist" in _refused(
        view, user(agent="acme-a7"))
    assert "the role agent and an agent_id go together" in _refused(
        view, user(roles=("supervisor",)))
    assert "argon2id" in _refused(view, user(password_hash="hunter22-plaintext"))
    assert "locale 'fr'" in _refused(view, user(locale="fr"))
    assert "tenant 'initech' does not exist" in _refused(view, user(tenant="initech", agent=""))


def test_an_agent_belongs_to_one_user_and_cannot_be_removed_under_it() -> None:
    view = loaded()
    plan_apply(view, user())
    assert "agent 'acme-a1' is already user acme/nina" in _refused(view, user("other"))
    removal = Change(remove_agent=pb.AgentRemoved(tenant_id="acme", agent_id="acme-a1"))
    assert "user acme/nina: agent 'acme-a1' of tenant acme does not exist" in _refused(
        view, removal)
    # Removing both in one request is fine.
    plan_apply(view, removal,
               Change(remove_user=pb.UserRemoved(tenant_id="acme", user_id="nina")))
    assert view.config().user("acme", "nina") is None


def test_api_key_ids_are_unique_across_tenants_and_scopes_are_checked() -> None:
    view = loaded()
    first, _ = api_key(key_id="k0000000000a")
    plan_apply(view, first)
    again, _ = api_key(tenant="haier", key_id="k0000000000a")
    assert "key id 'k0000000000a' already used by api key acme/k0000000000a" in _refused(
        view, again)
    assert "unknown scope(s): queue.write" in _refused(view, api_key(scopes=("queue.write",))[0])
    own, _ = api_key()
    own.define_api_key.scopes.append("agent.state.write_own")
    assert "a key is no agent" in _refused(view, own)


def test_operators_scope_must_name_tenants_and_tenants_keep_their_users() -> None:
    view = loaded()
    scope = pb.OperatorScope(tenant_ids=["acme", "initech"])
    staff = user("olga", tenant="", roles=("operator",), agent="", operator_scope=scope)
    assert "operator scope names unknown tenant(s) initech" in _refused(view, staff)
    staff.define_user.operator_scope.tenant_ids[:] = ["acme"]
    [event] = plan_apply(view, staff)
    assert directory.key_of(event.user_defined) == "user/_operator/olga"
    assert event.envelope.tenant_id == directory.OPERATOR
    olga = view.config().user("", "olga")
    assert olga is not None and olga.scope.covers("acme") and not olga.scope.covers("haier")
    removal = Change(remove_tenant=pb.TenantRemoved(tenant_id="acme"))
    assert "user _operator/olga (operator scope)" in _refused(view, removal)


def test_diff_keeps_a_matching_password_hash_and_never_prunes_api_keys() -> None:
    raw = {
        "sites": [{"id": "lisbon"}],
        "tenants": [{
            "id": "acme", "credential": "acme-cred",
            "agents": [{"id": "acme-a1", "phone": "sip:a@127.0.0.1"}],
            "users": [{"id": "nina", "roles": ["agent"], "agent": "acme-a1",
                       "password": PASSWORD}],
        }],
    }
    config = tenancy.parse(raw)
    view = directory.View()
    events, _ = directory.plan(view, directory.diff({}, config), actor="operator",
                               producer="test")
    for event in events:
        view.apply(event)
    key_change, _ = api_key()
    plan_apply(view, key_change)
    again = tenancy.parse(raw)  # a new salt for the same password
    changes = directory.diff(view.definitions, again, directory.plaintext_credentials(raw),
                             directory.plaintext_passwords(raw))
    assert changes == []  # same password, and the issued key is left alone
    raw["tenants"][0]["users"][0]["password"] = "another password!"  # type: ignore[index]
    changes = directory.diff(view.definitions, tenancy.parse(raw),
                             directory.plaintext_credentials(raw),
                             directory.plaintext_passwords(raw))
    assert [directory.describe_change(c) for c in changes] == ["+ user acme/nina"]
    del raw["tenants"][0]["users"]  # type: ignore[attr-defined]
    changes = directory.diff(view.definitions, tenancy.parse(raw),
                             directory.plaintext_credentials(raw))
    assert [directory.describe_change(c) for c in changes] == ["- user acme/nina"]


class _Facts:
    def __init__(self) -> None:
        self.durable: list[pb.DirectoryEvent] = []

    def publish(self, event: pb.DirectoryEvent) -> None:
        self.durable.append(event)

    def flush(self) -> None:
        pass


def test_who_may_define_users_and_keys() -> None:
    writer = DirectoryWriter(_Facts(), producer="directory/test")
    writer.replayed(loaded().events.values())
    config = writer.config()
    # A tenant's credential: its own tenant's users, not another's, not operator staff.
    writer.apply(Caller("acme"), [user()])
    with pytest.raises(NotAllowed, match="may not change tenant 'acme'"):
        writer.apply(Caller("haier"), [user("x", agent="")])
    staff = user("olga", tenant="", roles=("operator",), agent="",
                 operator_scope=pb.OperatorScope(all_tenants=True))
    with pytest.raises(NotAllowed, match="only the operator"):
        writer.apply(Caller("acme"), [staff])
    # Users by their permissions: a tenant_admin may (identity.write), a supervisor may not.
    admin = identity.Principal.of_user(identity.User(
        "ada", "acme", frozenset({identity.Role.TENANT_ADMIN})))
    boss = identity.Principal.of_user(identity.User(
        "sam", "acme", frozenset({identity.Role.SUPERVISOR})))
    key_change, _ = api_key()
    result = writer.apply(Caller(principal=admin), [key_change])
    [event] = result.events
    assert event.changed_by == "user:acme/ada"
    assert event.api_key_defined.created_by == "user:acme/ada"  # filled by the writer
    with pytest.raises(NotAllowed, match="may not use identity.write"):
        writer.apply(Caller(principal=boss), [user("x", agent="")])
    with pytest.raises(NotAllowed, match="not on tenant 'haier'"):
        writer.apply(Caller(principal=admin), [user("x", tenant="haier", agent="")])
    # An API key with identity.write only: users yes, queues no (directory.write).
    key = identity.Principal.of_api_key(identity.ApiKey(
        "k0000000000b", "acme", frozenset({"identity.write"}), "x"))
    writer.apply(Caller(principal=key), [user("zoe", roles=("qa_evaluator",), agent="")])
    assert writer.config().user("acme", "zoe") is not None
    remove_queue = Change(remove_queue=pb.QueueRemoved(tenant_id="acme", queue_id="support-en"))
    with pytest.raises(NotAllowed, match="lacks the scope directory.write"):
        writer.apply(Caller(principal=key), [remove_queue])
    # Reads: operator staff are not listed to tenants.
    writer.apply(Caller(), [staff])
    listed = {e.key for e in writer.list(Caller("acme"), "acme")}
    assert "user/acme/nina" in listed and "site/lisbon" in listed
    assert not any(k.startswith("user/_operator/") for k in listed)
    assert config.user("acme", "nina") is None  # configs are values: the old one is unchanged


def test_a_user_written_back_without_its_hash_keeps_its_password() -> None:
    # Only the operator sees password hashes: a tenant admin (the gateway's PUT
    # /users/{id}) reads a user with the hash blank, and writing that back must not remove
    # the password. The operator's empty hash still means "no password".
    writer = DirectoryWriter(_Facts(), producer="directory/test")
    writer.replayed(loaded().events.values())
    writer.apply(Caller("acme"), [user()])
    admin = identity.Principal.of_user(identity.User(
        "ada", "acme", frozenset({identity.Role.TENANT_ADMIN})))
    [shown] = [e for e in writer.list(Caller(principal=admin), "acme")
               if e.key == "user/acme/nina"]
    assert shown.definition.user_defined.password_hash  # the writer's view; the API blanks it
    writer.apply(Caller(principal=admin), [user(locale="zh-CN", password_hash="")])
    kept = writer.config().user("acme", "nina")
    assert kept is not None and kept.locale == "zh-CN"
    assert identity.verify_password(kept.password_hash, PASSWORD)
    other = identity.hash_password("another long password")
    writer.apply(Caller(principal=admin), [user(password_hash=other)])
    changed = writer.config().user("acme", "nina")
    assert changed is not None and changed.password_hash == other
    writer.apply(Caller(), [user(password_hash="")])
    cleared = writer.config().user("acme", "nina")
    assert cleared is not None and cleared.password_hash == ""


def test_a_user_or_key_cannot_issue_a_key_wider_than_itself() -> None:
    writer = DirectoryWriter(_Facts(), producer="directory/test")
    writer.replayed(loaded().events.values())
    admin = identity.Principal.of_user(identity.User(
        "ada", "acme", frozenset({identity.Role.TENANT_ADMIN})))
    wide, _ = api_key(scopes=("queue.stats.read", "tenant.write"))  # tenant.write: operator's
    with pytest.raises(NotAllowed, match="scope\\(s\\) it lacks: tenant.write"):
        writer.apply(Caller(principal=admin), [wide])
    narrow, _ = api_key(scopes=("queue.stats.read", "identity.write"))
    writer.apply(Caller(principal=admin), [narrow])
    # A key holding identity.write only may issue keys, but none wider than itself.
    key = identity.Principal.of_api_key(identity.ApiKey(
        "k0000000000c", "acme", frozenset({"identity.write"}), "x"))
    with pytest.raises(NotAllowed, match="lacks: queue.stats.read"):
        writer.apply(Caller(principal=key), [api_key(scopes=("queue.stats.read",))[0]])
    writer.apply(Caller("acme"), [wide])  # the operator-issued tenant credential: unchanged
