"""Per-tenant API credentials: who is calling, and may they touch this tenant?

Credentials are stored hashed (hotline_platform.credentials). A token seen before is found by
its keyed fingerprint; a new one costs one scrypt (about 50 ms), which authorize_call runs on
a worker thread so the server's event loop keeps serving meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc

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


def authorize(
    config: TenancyConfig, metadata: Sequence[tuple[str, str | bytes]] | None, tenant_id: str
) -> None:
    """Raise AuthError unless the caller's credential belongs to `tenant_id`."""
    token = bearer(metadata)
    if not token:
        raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "missing 'authorization: Bearer' metadata")
    tenant = config.tenant_for_credential(token)
    if tenant is None:
        raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "unknown credential")
    if tenant.id != tenant_id:
        raise AuthError(
            grpc.StatusCode.PERMISSION_DENIED,
            f"credential of tenant {tenant.id!r} may not act on tenant {tenant_id!r}",
        )


async def authorize_call(
    config: TenancyConfig, context: grpc.aio.ServicerContext, tenant_id: str
) -> None:
    """For gRPC servicers: abort the call unless its credential may act on `tenant_id`, and
    the tenant exists (UNAUTHENTICATED, PERMISSION_DENIED or NOT_FOUND)."""
    metadata = tuple(context.invocation_metadata() or ())
    try:
        if config.credential_is_cached(bearer(metadata)):
            authorize(config, metadata, tenant_id)
        else:
            await asyncio.to_thread(authorize, config, metadata, tenant_id)
    except AuthError as exc:
        await context.abort(exc.code, str(exc))
    if tenant_id not in config.tenants:
        await context.abort(grpc.StatusCode.NOT_FOUND, f"no tenant {tenant_id!r}")
