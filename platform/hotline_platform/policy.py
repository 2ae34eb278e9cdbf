"""The platform's one permission table: named permissions, which roles hold them, which gRPC
method needs which, and `authorize`.

Pure (standard library). Every REST route and every gRPC method declares one permission; a
principal (hotline_platform.identity) may use it on a tenant when

1. the tenant is in the principal's scope (its own tenant; an operator's listed tenants or all;
   an API key's tenant), and
2. the principal holds the permission: through its roles (users, tenant credentials) or its
   scopes (API keys, which hold exactly the permissions named), and
3. for a per-agent permission (``*_own``), the agent acted on is the principal's own agent,
   unless it holds the tenant-wide permission of the same name without ``_own``
   (``agent.state.write`` covers ``agent.state.write_own`` for every agent).

Refusals raise `Unauthenticated` (no or an invalid credential: gRPC UNAUTHENTICATED, HTTP 401)
or `Forbidden` (gRPC PERMISSION_DENIED, HTTP 403) with a message naming who, what and why.

A new route or method adds one line to `GRPC_METHODS` (or the gateway's route table) naming
its permission; tests/support/authz_matrix.py generates the tenant x role cases from these
tables, and a test fails for a method of the contract that is missing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from hotline_platform.identity import AccessDenied, Principal, Role, Unauthenticated

__all__ = [
    "AccessDenied", "Forbidden", "Unauthenticated", "PERMISSIONS", "ROLE_PERMISSIONS",
    "GRPC_METHODS", "Rule", "authorize", "permissions_of", "holders_of", "grpc_rule",
]


class Forbidden(AccessDenied):
    """The caller is known but may not do this (another tenant, a role without the
    permission, another agent's state)."""


# name -> what it allows. `*_own`: on the caller's own agent only.
PERMISSIONS: Mapping[str, str] = MappingProxyType({
    "agent.state.read_own": "read one's own agent state and live feed",
    "agent.state.read": "read every agent's state in the tenant",
    "agent.state.write_own": "log in/out, ready, not ready, finish wrap-up: one's own agent",
    "agent.state.write": "change any agent's state in the tenant (e.g. force a log-out)",
    "queue.stats.read": "real-time queue statistics",
    "interaction.read_own": "the contacts offered to or handled by one's own agent, with "
                            "their customer's recent contacts (screen-pop)",
    "interaction.read": "every interaction of the tenant and its events",
    "report.read": "KPI reports and data-quality checks",
    "staffing.read": "workforce forecasts and staffing plans",
    "content.read": "recordings, messages and documents (every read audited)",
    "directory.read": "queues, agents, sites, entry points of the tenant",
    "directory.write": "change queues, agents and entry points of the tenant",
    "identity.read": "users, their roles, API keys (never secrets)",
    "identity.write": "create/change users and roles, issue/revoke API keys",
    "tenant.write": "create/remove tenants and sites (the operator's own entities)",
    "call.control_own": "hold, resume and transfer the call one's own agent is connected to",
    "call.control": "hold, resume and transfer any connected call of the tenant",
})

_SUPERVISION = frozenset({
    "agent.state.read", "agent.state.write", "queue.stats.read", "interaction.read",
    "report.read", "staffing.read", "directory.read",
})

ROLE_PERMISSIONS: Mapping[Role, frozenset[str]] = MappingProxyType({
    Role.AGENT: frozenset({
        "agent.state.read_own", "agent.state.write_own", "queue.stats.read",
        "interaction.read_own", "call.control_own",
    }),
    Role.SUPERVISOR: _SUPERVISION | {"content.read", "call.control"},
    Role.QA_EVALUATOR: frozenset({
        "interaction.read", "content.read", "report.read", "directory.read",
    }),
    Role.TENANT_ADMIN: _SUPERVISION | {
        "content.read", "directory.write", "identity.read", "identity.write", "call.control",
    },
    # BPO operator staff: supervision and administration of the tenants in scope; a tenant's
    # content only with another role held as well (e.g. qa_evaluator across the scope).
    Role.OPERATOR: _SUPERVISION | {
        "directory.write", "identity.read", "identity.write", "tenant.write",
    },
})


def own_variant_of(permission: str) -> str:
    """``agent.state.write_own`` -> ``agent.state.write``; "" when not per-agent."""
    return permission[: -len("_own")] if permission.endswith("_own") else ""


@dataclass(frozen=True)
class Rule:
    """What a route or method needs: a permission and, for ``*_own`` permissions, the request
    field holding the agent acted on."""

    permission: str
    agent_field: str = ""

    def __post_init__(self) -> None:
        if self.permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {self.permission!r}")
        if bool(own_variant_of(self.permission)) != bool(self.agent_field):
            raise ValueError(f"{self.permission}: a *_own permission needs an agent field")


_W_OWN = Rule("agent.state.write_own", "agent_id")
_R_OWN = Rule("agent.state.read_own", "agent_id")

# Full gRPC method name -> rule. Every method of every service in contract/ is here
# (tests/unit/test_policy_grpc.py checks).
GRPC_METHODS: Mapping[str, Rule] = MappingProxyType({
    "/hotline.router.v1.AgentService/LogIn": _W_OWN,
    "/hotline.router.v1.AgentService/LogOut": _W_OWN,
    "/hotline.router.v1.AgentService/SetReady": _W_OWN,
    "/hotline.router.v1.AgentService/SetNotReady": _W_OWN,
    "/hotline.router.v1.AgentService/FinishWrapUp": _W_OWN,
    "/hotline.router.v1.AgentService/GetAgent": _R_OWN,
    "/hotline.router.v1.AgentService/WatchAgent": _R_OWN,
    "/hotline.router.v1.AgentService/ListAgents": Rule("agent.state.read"),
    "/hotline.router.v1.QueueService/ListQueues": Rule("queue.stats.read"),
    "/hotline.router.v1.QueueService/RequestCallback": Rule("call.control"),
    "/hotline.wfm.v1.StaffingService/ComputeStaffing": Rule("staffing.read"),
    "/hotline.wfm.v1.StaffingService/PlanStaffing": Rule("staffing.read"),
    "/hotline.wfm.v1.StaffingService/Forecast": Rule("staffing.read"),
    "/hotline.analytics.v1.Reports/GetKpiReport": Rule("report.read"),
    # An agent: only the customer of a contact offered to its agent (the servicer checks the
    # offer in the store); `interaction.read` covers every agent and customer.
    "/hotline.analytics.v1.Reports/ListCustomerContacts": Rule(
        "interaction.read_own", "for_agent_id"
    ),
    "/hotline.analytics.v1.Reports/CheckLifecycle": Rule("report.read"),
    "/hotline.analytics.v1.Reports/ListInteractions": Rule("interaction.read"),
    "/hotline.analytics.v1.Reports/GetInteraction": Rule("interaction.read"),
    # Per change: directory.write for a tenant's entities, tenant.write for tenants and sites.
    "/hotline.directory.v1.DirectoryService/Apply": Rule("directory.write"),
    "/hotline.directory.v1.DirectoryService/Get": Rule("directory.read"),
    "/hotline.directory.v1.DirectoryService/List": Rule("directory.read"),
})


def grpc_rule(method: str) -> Rule:
    """The rule of a full method name ("/package.Service/Method"); KeyError naming the table
    when the method was not declared (a method cannot be served unguarded by mistake)."""
    try:
        return GRPC_METHODS[method]
    except KeyError:
        raise KeyError(
            f"gRPC method {method} has no permission: add it to hotline_platform.policy."
            "GRPC_METHODS"
        ) from None


def permissions_of(principal: Principal) -> frozenset[str]:
    if principal.kind == "api_key":
        return principal.scopes & frozenset(PERMISSIONS)
    out: frozenset[str] = frozenset()
    for role in principal.roles:
        out |= ROLE_PERMISSIONS.get(role, frozenset())
    return out


def holders_of(permission: str) -> list[Role]:
    """The roles that hold `permission` (directly or through its tenant-wide form)."""
    wide = own_variant_of(permission)
    return [r for r, held in ROLE_PERMISSIONS.items() if permission in held or wide in held]


def authorize_tenant(principal: Principal | None, tenant_id: str) -> Principal:
    """The tenant check alone (step 1)."""
    if principal is None:
        raise Unauthenticated("missing credential ('authorization: Bearer <token>')")
    if not principal.scope.covers(tenant_id):
        if principal.kind == "tenant_credential":  # the message tests and clients know
            raise Forbidden(
                f"credential of tenant {principal.tenant_id!r} may not act on tenant "
                f"{tenant_id!r}"
            )
        raise Forbidden(
            f"{principal.describe()} may act on {principal.scope.describe()}, "
            f"not on tenant {tenant_id!r}"
        )
    return principal


def authorize(
    principal: Principal | None, tenant_id: str, permission: str, *, agent_id: str | None = None
) -> None:
    """Return when `principal` may use `permission` on `tenant_id` (and, for ``*_own``,
    on agent `agent_id`); raise Unauthenticated or Forbidden otherwise."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    principal = authorize_tenant(principal, tenant_id)
    held = permissions_of(principal)
    wide = own_variant_of(permission)
    if permission in held and not wide:
        return
    if wide and wide in held:
        return
    if wide and permission in held:
        if agent_id and principal.agent_id == agent_id:
            return
        raise Forbidden(
            f"{principal.describe()} may use {permission} only on its own agent "
            f"{principal.agent_id!r}, not on agent {agent_id or '(none given)'!r}"
        )
    owners = ", ".join(holders_of(permission)) or "no role"
    if principal.kind == "api_key":
        raise Forbidden(
            f"{principal.describe()} lacks the scope {permission} "
            f"(its scopes: {', '.join(sorted(principal.scopes)) or 'none'})"
        )
    raise Forbidden(
        f"{principal.describe()} may not use {permission} ({PERMISSIONS[permission]}); "
        f"held by: {owners}"
    )
