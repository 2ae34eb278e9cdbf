"""The permission table and authorize(): tenants, roles, per-agent permissions, API key
scopes, operators, legacy tenant credentials; the authz matrix generator against authorize()."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from support import authz_matrix
from support.authz_matrix import ALLOW, FORBIDDEN, OTHER, OWN, Caller

import hotline
from hotline_platform import policy
from hotline_platform.identity import Principal, Role, Scope, User
from hotline_platform.policy import Forbidden, Rule, Unauthenticated, authorize


def _user(roles: set[Role], agent_id: str = "", tenant: str = "acme") -> Principal:
    if Role.AGENT in roles and not agent_id:
        agent_id = "a1"
    return Principal.of_user(User("u1", tenant, frozenset(roles), agent_id=agent_id))


def _operator(scope: Scope, *extra: Role) -> Principal:
    return Principal.of_user(
        User("ops", "", frozenset({Role.OPERATOR, *extra}), operator_scope=scope)
    )


def _key(*scopes: str) -> Principal:
    return Principal("api_key", "k1", "acme", Scope.tenant("acme"), scopes=frozenset(scopes))


def test_the_table_is_consistent() -> None:
    assert set(policy.ROLE_PERMISSIONS) == set(Role)
    for role, held in policy.ROLE_PERMISSIONS.items():
        assert held <= set(policy.PERMISSIONS), role
    for name in policy.PERMISSIONS:
        wide = policy.own_variant_of(name)
        assert not wide or wide in policy.PERMISSIONS, name
        assert policy.holders_of(name), f"{name}: no role holds it"
    for method, rule in policy.GRPC_METHODS.items():
        assert method.count("/") == 2 and method.startswith("/hotline."), method
        assert rule.permission in policy.PERMISSIONS
    with pytest.raises(ValueError, match="unknown permission"):
        Rule("nope")
    with pytest.raises(ValueError, match="agent field"):
        Rule("agent.state.write_own")
    with pytest.raises(KeyError, match="GRPC_METHODS"):
        policy.grpc_rule("/hotline.x.v1.Nope/Nope")


def _contract_methods() -> set[str]:
    methods = set()
    for info in pkgutil.walk_packages(hotline.__path__, "hotline."):
        if info.name.endswith("_pb2"):
            module = importlib.import_module(info.name)
            for service in module.DESCRIPTOR.services_by_name.values():
                methods |= {f"/{service.full_name}/{m.name}" for m in service.methods}
    return methods


def test_every_grpc_method_of_the_contract_declares_its_permission() -> None:
    methods = _contract_methods()
    assert "/hotline.router.v1.AgentService/LogIn" in methods
    missing = sorted(methods - set(policy.GRPC_METHODS))
    assert not missing, f"add these to hotline_platform.policy.GRPC_METHODS: {missing}"


def test_agents_change_only_their_own_state() -> None:
    agent = _user({Role.AGENT}, "a1")
    authorize(agent, "acme", "agent.state.write_own", agent_id="a1")
    authorize(agent, "acme", "agent.state.read_own", agent_id="a1")
    authorize(agent, "acme", "queue.stats.read")
    with pytest.raises(Forbidden, match="only on its own agent 'a1', not on agent 'a2'"):
        authorize(agent, "acme", "agent.state.write_own", agent_id="a2")
    with pytest.raises(Forbidden, match="'\\(none given\\)'"):
        authorize(agent, "acme", "agent.state.write_own")
    with pytest.raises(Forbidden, match="may not use agent.state.read .*held by: supervisor"):
        authorize(agent, "acme", "agent.state.read")  # list every agent
    with pytest.raises(Forbidden, match="may act on acme, not on tenant 'beta'"):
        authorize(agent, "beta", "agent.state.write_own", agent_id="a1")
    for permission in ("report.read", "directory.write", "content.read", "staffing.read"):
        with pytest.raises(Forbidden):
            authorize(agent, "acme", permission)


def test_supervisors_qa_and_admins() -> None:
    supervisor = _user({Role.SUPERVISOR})
    authorize(supervisor, "acme", "agent.state.write_own", agent_id="a2")  # force a log-out
    authorize(supervisor, "acme", "agent.state.read")
    authorize(supervisor, "acme", "staffing.read")
    with pytest.raises(Forbidden, match="held by: tenant_admin, operator"):
        authorize(supervisor, "acme", "directory.write")
    qa = _user({Role.QA_EVALUATOR})
    authorize(qa, "acme", "content.read")
    authorize(qa, "acme", "interaction.read")
    with pytest.raises(Forbidden):
        authorize(qa, "acme", "agent.state.write_own", agent_id="a1")
    admin = _user({Role.TENANT_ADMIN})
    for permission in ("directory.write", "identity.write", "content.read", "agent.state.write"):
        authorize(admin, "acme", permission)
    with pytest.raises(Forbidden, match="held by: operator"):
        authorize(admin, "acme", "tenant.write")
    multi = _user({Role.AGENT, Role.QA_EVALUATOR}, "a7")
    authorize(multi, "acme", "content.read")
    authorize(multi, "acme", "agent.state.write_own", agent_id="a7")


def test_operators_act_on_the_tenants_in_their_scope() -> None:
    listed = _operator(Scope(frozenset({"acme", "beta"})))
    for tenant in ("acme", "beta"):
        authorize(listed, tenant, "directory.write")
        authorize(listed, tenant, "agent.state.read")
    with pytest.raises(Forbidden, match="may act on acme, beta, not on tenant 'gamma'"):
        authorize(listed, "gamma", "agent.state.read")
    with pytest.raises(Forbidden, match="content.read"):
        authorize(listed, "acme", "content.read")
    everyone = _operator(Scope.everything(), Role.QA_EVALUATOR)
    authorize(everyone, "gamma", "tenant.write")
    authorize(everyone, "gamma", "content.read")


def test_api_keys_act_only_within_their_scopes_and_tenant() -> None:
    key = _key("report.read", "agent.state.write")
    authorize(key, "acme", "report.read")
    authorize(key, "acme", "agent.state.write_own", agent_id="any-agent")  # tenant-wide scope
    with pytest.raises(Forbidden, match="lacks the scope queue.stats.read .*its scopes: "
                                        "agent.state.write, report.read"):
        authorize(key, "acme", "queue.stats.read")
    with pytest.raises(Forbidden, match="API key k1 of tenant 'acme' may act on acme"):
        authorize(key, "beta", "report.read")
    with pytest.raises(Forbidden):  # a per-agent scope grants nothing to a key
        authorize(_key("agent.state.write_own"), "acme", "agent.state.write_own", agent_id="")


def test_legacy_tenant_credentials_act_as_their_tenants_admin() -> None:
    legacy = Principal.of_tenant_credential("acme")
    for permission in sorted(policy.ROLE_PERMISSIONS[Role.TENANT_ADMIN]):
        authorize(legacy, "acme", permission)
    authorize(legacy, "acme", "agent.state.write_own", agent_id="a1")  # the demo desktops
    with pytest.raises(Forbidden, match="^credential of tenant 'acme' may not act on tenant "):
        authorize(legacy, "beta", "agent.state.read")


def test_no_principal_and_unknown_permissions() -> None:
    with pytest.raises(Unauthenticated):
        authorize(None, "acme", "report.read")
    with pytest.raises(ValueError, match="unknown permission"):
        authorize(_user({Role.SUPERVISOR}), "acme", "reports.read")


# --------------------------------------------------------------------------- the matrix


def _principal_of(caller: Caller, home: str) -> Principal:
    if caller.kind == "tenant_credential":
        return Principal.of_tenant_credential(home)
    if caller.kind == "api_key":
        return Principal("api_key", "k", home, Scope.tenant(home), scopes=caller.scopes)
    if Role.OPERATOR in caller.roles:
        scope = Scope.everything() if caller.all_tenants else Scope.tenant(home)
        return Principal.of_user(User(caller.name, "", caller.roles, operator_scope=scope))
    agent = "own-agent" if caller.is_agent else ""
    return Principal.of_user(User(caller.name, home, caller.roles, agent_id=agent))


def test_matrix_oracle_agrees_with_authorize_on_every_grpc_method() -> None:
    cases = authz_matrix.cases(policy.GRPC_METHODS)
    assert len({c.id for c in cases}) == len(cases)
    for case in cases:
        principal = _principal_of(case.caller, "home")
        tenant = "away" if case.tenant == OTHER else "home"
        agent = "other-agent" if case.agent == OTHER else "own-agent"
        try:
            authorize(principal, tenant, case.rule.permission,
                      agent_id=agent if case.rule.agent_field else None)
            outcome = ALLOW
        except Forbidden:
            outcome = FORBIDDEN
        assert outcome == case.expected, case.id


def test_matrix_covers_every_route_with_refusals_and_permissions() -> None:
    table = {
        "/x.v1.S/Own": Rule("agent.state.write_own", "agent_id"),
        "/x.v1.S/Wide": Rule("tenant.write"),
    }
    cases = authz_matrix.cases(table)
    assert {c.route for c in cases} == set(table)
    # 9 callers (4 tenant roles, 2 operators, 2 API keys, the tenant credential) x own and
    # other tenant (x own and other agent for the per-agent route).
    assert len([c for c in cases if c.route == "/x.v1.S/Own"]) == 9 * 2 * 2
    assert len([c for c in cases if c.route == "/x.v1.S/Wide"]) == 9 * 2
    for route in table:
        mine = [c for c in cases if c.route == route]
        assert {c.expected for c in mine} == {ALLOW, FORBIDDEN}
        for c in mine:
            if c.tenant == OTHER and not c.caller.all_tenants:
                assert c.expected == FORBIDDEN, c.id
            if c.caller.name == "api_key_other_scopes":
                assert c.expected == FORBIDDEN, c.id
            if c.caller.name == "api_key_scoped" and c.tenant == OWN:
                assert c.expected == ALLOW, c.id
    agent_cases = {(c.agent, c.tenant): c.expected for c in cases
                   if c.route == "/x.v1.S/Own" and c.caller.name == "agent"}
    assert agent_cases == {(OWN, OWN): ALLOW, (OTHER, OWN): FORBIDDEN,
                           (OWN, OTHER): FORBIDDEN, (OTHER, OTHER): FORBIDDEN}
    wide = {c.caller.name for c in cases if c.route == "/x.v1.S/Wide" and c.expected == ALLOW}
    assert wide == {"operator_listed", "operator_all", "api_key_scoped"}
    assert [name for name, _ in authz_matrix.unauthenticated_tokens()][0] == "no credential"
