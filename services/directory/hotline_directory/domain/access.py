"""Who may make which change: pure rules, no gRPC, no broker.

A caller is the operator (the operator credential) or one tenant (its credential). Tenants and
sites are the operator's: only the operator defines or removes them. A tenant changes its own
queues, agents and entry points; the operator changes anyone's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

OPERATOR = "_operator"  # same value as hotline_platform.directory.OPERATOR


@dataclass(frozen=True)
class Caller:
    """The operator (tenant_id empty) or the holder of one tenant's credential."""

    tenant_id: str = ""

    @property
    def is_operator(self) -> bool:
        return not self.tenant_id

    @property
    def actor(self) -> str:
        """What facts record as `changed_by`."""
        return "operator" if self.is_operator else f"tenant:{self.tenant_id}"


def refusals(caller: Caller, scopes: Iterable[tuple[str, str]]) -> list[str]:
    """Why `caller` may not make changes needing these (scope, entity description) pairs:
    scope OPERATOR (operator only) or a tenant id. Empty: allowed."""
    if caller.is_operator:
        return []
    out = []
    for scope, what in scopes:
        if scope == OPERATOR:
            out.append(f"{what}: only the operator may change tenants and sites")
        elif scope != caller.tenant_id:
            out.append(
                f"{what}: credential of tenant {caller.tenant_id!r} may not change tenant "
                f"{scope!r}"
            )
    return out


def may_read(caller: Caller, scope: str) -> bool:
    """The operator reads everything; a tenant its own entities and the sites."""
    return caller.is_operator or scope in (caller.tenant_id, OPERATOR)
