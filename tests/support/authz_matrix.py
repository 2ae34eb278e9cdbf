"""The tenant x role test matrix, generated from a route table (route -> policy.Rule).

For every route, every kind of caller (a user of each role, an operator scoped to the home
tenant only and one scoped to all tenants, an API key holding exactly the route's permission
and one holding every other permission, the legacy tenant credential), acting on its own tenant
and on another one, and for per-agent (``*_own``) routes on its own agent and on another agent,
`cases()` says whether the call must be allowed or refused. The expectation is computed here
from the data of policy.ROLE_PERMISSIONS only, independently of policy.authorize, so the matrix
also checks the decision code. `unauthenticated_tokens()` gives what every route must refuse
as UNAUTHENTICATED.

Tests import it as ``from support.authz_matrix import ...`` (tests/ is on sys.path through
tests/conftest.py, as for the other helpers), build the callers with `MatrixIdentities`
(support.identity_fakes), call each route and compare:

    for case in cases(ROUTES):
        token = identities.token(case.caller)
        outcome = call(case.route, tenant=identities.tenant(case.tenant),
                       agent=identities.agent(case.agent), token=token)
        assert outcome == case.expected, case.id

"allow" means "not refused by authorization": the call may still fail for another reason
(NOT_FOUND, FAILED_PRECONDITION, ...), which the test accepts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from hotline_platform.identity import Role
from hotline_platform.policy import PERMISSIONS, ROLE_PERMISSIONS, Rule, own_variant_of

ALLOW = "allow"
FORBIDDEN = "forbidden"
UNAUTHENTICATED = "unauthenticated"

OWN = "own"
OTHER = "other"


@dataclass(frozen=True)
class Caller:
    """A kind of caller of the home tenant. `kind`: user, api_key or tenant_credential."""

    name: str
    kind: str
    roles: frozenset[Role] = frozenset()
    scopes: frozenset[str] = frozenset()
    all_tenants: bool = False  # an operator scoped to every tenant

    @property
    def is_agent(self) -> bool:
        return Role.AGENT in self.roles


def callers(rule: Rule) -> list[Caller]:
    """Every kind of caller worth trying on a route with `rule`."""
    out = [Caller(role.value, "user", frozenset({role})) for role in Role if role != Role.OPERATOR]
    out.append(Caller("operator_listed", "user", frozenset({Role.OPERATOR})))
    out.append(Caller("operator_all", "user", frozenset({Role.OPERATOR}), all_tenants=True))
    needed = own_variant_of(rule.permission) or rule.permission
    others = frozenset(
        p for p in PERMISSIONS if not p.endswith("_own") and p not in (needed, rule.permission)
    )
    out.append(Caller("api_key_scoped", "api_key", scopes=frozenset({needed})))
    out.append(Caller("api_key_other_scopes", "api_key", scopes=others))
    out.append(Caller("tenant_credential", "tenant_credential", frozenset({Role.TENANT_ADMIN})))
    return out


@dataclass(frozen=True)
class Case:
    route: str
    rule: Rule
    caller: Caller
    tenant: str  # OWN or OTHER
    agent: str  # OWN or OTHER for per-agent routes, "" otherwise
    expected: str  # ALLOW or FORBIDDEN

    @property
    def id(self) -> str:
        agent = f",agent={self.agent}" if self.agent else ""
        return f"{self.route}[{self.caller.name},tenant={self.tenant}{agent}]->{self.expected}"


def expected(rule: Rule, caller: Caller, tenant: str, agent: str) -> str:
    """The oracle: the policy in words, over the role table's data."""
    if tenant != OWN and not caller.all_tenants:
        return FORBIDDEN
    if caller.kind == "api_key":
        held = caller.scopes & frozenset(PERMISSIONS)
    else:
        held = frozenset(p for role in caller.roles for p in ROLE_PERMISSIONS[role])
    wide = own_variant_of(rule.permission)
    if wide:
        if wide in held:
            return ALLOW
        own_agent = caller.is_agent and agent == OWN
        return ALLOW if rule.permission in held and own_agent else FORBIDDEN
    return ALLOW if rule.permission in held else FORBIDDEN


def cases(table: Mapping[str, Rule]) -> list[Case]:
    """Every route x caller x tenant (x agent for per-agent routes), with the expectation."""
    out = []
    for route, rule in sorted(table.items()):
        agents = (OWN, OTHER) if rule.agent_field else ("",)
        for caller in callers(rule):
            for tenant in (OWN, OTHER):
                for agent in agents:
                    out.append(
                        Case(route, rule, caller, tenant, agent,
                             expected(rule, caller, tenant, agent))
                    )
    return out


def unauthenticated_tokens() -> Iterator[tuple[str, str]]:
    """(name, bearer token) pairs every route refuses as UNAUTHENTICATED."""
    yield "no credential", ""
    yield "unknown tenant credential", "not-a-credential"
    yield "unknown API key", "hk_000000000000_" + "A" * 43
    yield "malformed API key", "hk_short"
    yield "unknown session", "hs_" + "A" * 43
    yield "forged delegation", "hd_YWNtZR9hbmEfOTk5OTk5OTk5OTk5OQ." + "A" * 43


# Routes outside the tenant x role matrix (no tenant in the path, no permission), each with
# why. tests/unit/gateway/test_gateway_authz.py fails for a route of the gateway that is neither
# in its route table (so in the matrix) nor here.
UNTENANTED_ROUTES: Mapping[str, str] = {
    "GET /healthz": "liveness of the HTTP server; answers nothing about anyone",
    "GET /v1/openapi.json": "the public description of the API",
    "GET /v1/problems/{slug}": "public descriptions of the error types",
    "POST /v1/session": "log-in: there is no credential yet, the password is the check "
                        "(one answer for every failure, lock-out, per-address limit, CSRF "
                        "header)",
    "GET /v1/session": "who am I: describes only the caller's own credential (401 without one)",
    "DELETE /v1/session": "log-out: ends only the caller's own session (CSRF header)",
    # The web pages (static files; they show nothing until GET /v1/session and the stream
    # admit the user). The stream itself (a WebSocket) has its matrix in
    # tests/unit/gateway/test_gateway_stream.py.
    "GET /": "redirects to the sign-in page",
    "GET /login/": "the sign-in form",
    "GET /desk/": "the agent desktop's page (no data in it)",
    "GET /wallboard/": "the wallboard's page (no data in it)",
}
