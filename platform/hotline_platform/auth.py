"""Who is calling a gRPC service, and may they do this? hotline_platform.policy decides.

A call carries ``authorization: Bearer <token>``: an API key (``hk_...``), a browser session
(``hs_...``) or a legacy tenant credential of the tenancy config (hotline_platform.identity).
Credentials are stored hashed (hotline_platform.credentials): a token seen before is found by
its keyed fingerprint; a new one costs one scrypt (about 50 ms), which `authorize_grpc` runs on
a worker thread so the server's event loop keeps serving meanwhile.

Servicers name the method they serve; its permission comes from policy.GRPC_METHODS (one
table for the platform), e.g.::

    await authorize_call(tenancy, context, tenant_id, rule_of(SERVICE, "LogIn"),
                         agent_id=request.agent_id)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import grpc

from hotline_platform import policy
from hotline_platform.grpc_server import abort
from hotline_platform.identity import (
    ApiKey,
    ApiKeyVerifier,
    CallerResolver,
    Principal,
    SessionLookup,
    Unauthenticated,
    User,
)
from hotline_platform.tenancy import TenancyConfig


class AuthError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def bearer(metadata: Sequence[tuple[str, str | bytes]] | None) -> str:
    for key, value in metadata or ():
        if key.lower() == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            if text.lower().startswith("bearer "):
                return text[7:].strip()
    return ""


def tenancy_resolver(config: TenancyConfig) -> CallerResolver:
    """A resolver that knows the tenancy config's (legacy) tenant credentials only."""

    def tenant_of(token: str) -> str | None:
        tenant = config.tenant_for_credential(token)
        return tenant.id if tenant is not None else None

    return CallerResolver(tenant_of=tenant_of, tenant_credential_cached=config.credential_is_cached)


def live_resolver(
    current: Callable[[], TenancyConfig],
    *,
    sessions: SessionLookup | None = None,
    delegation: SessionLookup | None = None,
) -> CallerResolver:
    """A resolver over the live tenancy (`current()`: the directory's view, or a fixed
    config): its tenant credentials, its API keys (one scrypt per key and process, then an HMAC
    lookup; a revoked key fails at once), its users for browser sessions (`sessions`, the
    gateway) and the gateway's delegations (`delegation`, the backends). Long-lived: build
    one per server, not per call (it keeps the verified API keys)."""

    class _Keys:
        def api_key(self, key_id: str) -> ApiKey | None:
            return current().api_key(key_id)

    class _Users:
        def user(self, tenant_id: str, user_id: str) -> User | None:
            return current().user(tenant_id, user_id)

    def tenant_of(token: str) -> str | None:
        tenant = current().tenant_for_credential(token)
        return tenant.id if tenant is not None else None

    return CallerResolver(
        tenant_of=tenant_of,
        tenant_credential_cached=lambda token: current().credential_is_cached(token),
        api_keys=ApiKeyVerifier(_Keys()),
        sessions=sessions,
        users=_Users(),
        delegation=delegation,
    )


def rule_of(service: str, method: str) -> policy.Rule:
    """The rule of `method` of `service` ("hotline.router.v1.AgentService", "LogIn")."""
    return policy.grpc_rule(f"/{service}/{method}")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _check(
    resolver: CallerResolver, token: str, tenant_id: str, permission: str | None,
    agent_id: str | None,
) -> Principal:
    principal = resolver.resolve(token, _now_ms())
    if permission is None:
        return policy.authorize_tenant(principal, tenant_id)
    policy.authorize(principal, tenant_id, permission, agent_id=agent_id)
    return principal


def authorize(
    config: TenancyConfig,
    metadata: Sequence[tuple[str, str | bytes]] | None,
    tenant_id: str,
    permission: str | None = None,
    *,
    agent_id: str | None = None,
    resolver: CallerResolver | None = None,
) -> Principal:
    """The caller, or AuthError (UNAUTHENTICATED / PERMISSION_DENIED) unless it may act on
    `tenant_id` (and use `permission`, when given). Blocking: may run one scrypt."""
    token = bearer(metadata)
    if not token:
        raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "missing 'authorization: Bearer' metadata")
    try:
        return _check(resolver or tenancy_resolver(config), token, tenant_id, permission, agent_id)
    except Unauthenticated as exc:
        raise AuthError(grpc.StatusCode.UNAUTHENTICATED, str(exc)) from None
    except policy.Forbidden as exc:
        raise AuthError(grpc.StatusCode.PERMISSION_DENIED, str(exc)) from None


async def authorize_grpc(
    context: grpc.aio.ServicerContext,
    tenant_id: str,
    permission: str | policy.Rule | None,
    *,
    agent_id: str | None = None,
    resolver: CallerResolver,
) -> Principal:
    """For gRPC servicers: the caller, or the call aborted (UNAUTHENTICATED or
    PERMISSION_DENIED). `permission` None checks the tenant only. Hashing runs on a worker
    thread unless the token is already known."""
    name = permission.permission if isinstance(permission, policy.Rule) else permission
    metadata = tuple(context.invocation_metadata() or ())
    token = bearer(metadata)
    if not token:
        await abort(
            context, grpc.StatusCode.UNAUTHENTICATED, "missing 'authorization: Bearer' metadata"
        )
    try:
        if resolver.cached(token):
            return _check(resolver, token, tenant_id, name, agent_id)
        return await asyncio.to_thread(_check, resolver, token, tenant_id, name, agent_id)
    except Unauthenticated as exc:
        await abort(context, grpc.StatusCode.UNAUTHENTICATED, str(exc))
    except policy.Forbidden as exc:
        await abort(context, grpc.StatusCode.PERMISSION_DENIED, str(exc))


async def authorize_call(
    config: TenancyConfig,
    context: grpc.aio.ServicerContext,
    tenant_id: str,
    permission: str | policy.Rule | None = None,
    *,
    agent_id: str | None = None,
    resolver: CallerResolver | None = None,
) -> Principal:
    """authorize_grpc with the tenancy config's credentials (unless `resolver` is given), then
    NOT_FOUND when the tenant does not exist."""
    principal = await authorize_grpc(
        context, tenant_id, permission, agent_id=agent_id,
        resolver=resolver or tenancy_resolver(config),
    )
    if tenant_id not in config.tenants:
        await abort(context, grpc.StatusCode.NOT_FOUND, f"no tenant {tenant_id!r}")
    return principal
