"""Who may make which change: pure rules, no gRPC, no broker.

A caller is the operator (the operator credential), one tenant (its legacy credential), or a
principal of the platform's identity (a user, e.g. through the gateway's delegation for a
browser session, or an API key), checked against the one permission table
(hotline_platform.policy). Tenants, sites and operator staff are the operator's: only the
operator credential defines or removes them, except sites, which operator staff of every
tenant holding tenant.write change too (a site is shared by all tenants; draining one is a
BPO operator's job, over REST). A tenant's credential changes its own queues,
agents, users, API keys and entry points; the operator changes anyone's. A user or API key
changes the entities of the tenants in its scope when it holds the permission: directory.write
for queues, agents and entry points, identity.write for users and API keys; it reads them with
directory.read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hotline_platform import policy
from hotline_platform.identity import AccessDenied, Principal

OPERATOR = "_operator"  # same value as hotline_platform.directory.OPERATOR


@dataclass(frozen=True)
class Caller:
    """The operator (no tenant, no principal), the holder of one tenant's credential, or a
    user / API key (`principal`)."""

    tenant_id: str = ""
    principal: Principal | None = None

    @property
    def is_operator(self) -> bool:
        return not self.tenant_id and self.principal is None

    @property
    def actor(self) -> str:
        """What facts record as `changed_by`: "operator", "tenant:<id>",
        "user:<tenant or _operator>/<id>" or "api_key:<key id>"."""
        p = self.principal
        if p is not None:
            if p.kind == "api_key":
                return f"api_key:{p.id}"
            return f"user:{p.tenant_id or OPERATOR}/{p.id}"
        return "operator" if self.is_operator else f"tenant:{self.tenant_id}"


def refusals(caller: Caller, scopes: Iterable[tuple[str, ...]]) -> list[str]:
    """Why `caller` may not make changes needing these (scope, entity description[,
    permission]) tuples: scope OPERATOR (operator only; a site, permission tenant.write, also
    operator staff of every tenant holding it) or a tenant id; the permission (default
    directory.write) matters for users and API keys. Empty: allowed."""
    if caller.is_operator:
        return []
    out = []
    for scope, what, *rest in scopes:
        if scope == OPERATOR:
            if rest and rest[0] == "tenant.write" and _changes_sites(caller.principal):
                continue
            out.append(
                f"{what}: only the operator may change tenants and sites (and operator staff)"
            )
        elif caller.principal is not None:
            try:
                policy.authorize(caller.principal, scope, rest[0] if rest else "directory.write")
            except AccessDenied as exc:
                out.append(f"{what}: {exc}")
        elif scope != caller.tenant_id:
            out.append(
                f"{what}: credential of tenant {caller.tenant_id!r} may not change tenant "
                f"{scope!r}"
            )
    return out


def _changes_sites(principal: Principal | None) -> bool:
    return (
        principal is not None and principal.scope.all_tenants
        and "tenant.write" in policy.permissions_of(principal)
    )


def may_read(caller: Caller, scope: str) -> bool:
    """The operator reads everything; a tenant its own entities and the sites; a user or API
    key with directory.read the entities of the tenants in its scope, and the sites."""
    if caller.is_operator:
        return True
    p = caller.principal
    if p is None:
        return scope in (caller.tenant_id, OPERATOR)
    if scope == OPERATOR:
        return "directory.read" in policy.permissions_of(p)
    try:
        policy.authorize(p, scope, "directory.read")
    except AccessDenied:
        return False
    return True
