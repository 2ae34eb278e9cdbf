"""What the gRPC backends' adapters share: channels (plaintext or TLS), call metadata, and
the one mapping of gRPC status codes to the gateway's errors."""

from __future__ import annotations

from pathlib import Path

import grpc

from hotline_gateway.application.ports import Caller
from hotline_gateway.domain.errors import (
    BadGateway,
    Conflict,
    Forbidden,
    GatewayError,
    Invalid,
    NotFound,
    Unauthenticated,
    Unavailable,
)

# Keep connections warm and notice a dead peer; gRPC reconnects by itself.
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
]


def open_channel(
    address: str, ca_file: str = "", cert_file: str = "", key_file: str = ""
) -> grpc.aio.Channel:
    """A channel to a backend: TLS when a CA is given (presenting cert/key when set: mutual
    TLS), plaintext otherwise (the embedded stack, on loopback)."""
    if not ca_file:
        return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=Path(ca_file).read_bytes(),
        private_key=Path(key_file).read_bytes() if key_file else None,
        certificate_chain=Path(cert_file).read_bytes() if cert_file else None,
    )
    return grpc.aio.secure_channel(address, credentials, options=CHANNEL_OPTIONS)


def metadata(caller: Caller) -> tuple[tuple[str, str], ...]:
    """The caller's credential (the backend checks it again) and the request id."""
    pairs = [("authorization", f"Bearer {caller.credential}")]
    if caller.request_id:
        pairs.append(("x-request-id", caller.request_id))
    return tuple(pairs)


def map_rpc_error(exc: grpc.aio.AioRpcError, backend: str, retry_after_s: float) -> GatewayError:
    """A backend's gRPC status in the gateway's terms (README: "Errors")."""
    code = exc.code()
    detail = exc.details() or code.name
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(detail)
    if code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED,
                grpc.StatusCode.ALREADY_EXISTS):
        return Conflict(detail)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return Invalid(detail)
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return Forbidden(detail)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return Unauthenticated(f"{backend} refused the credential: {detail}", invalid_token=True)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED):
        return Unavailable(f"{backend} is unavailable: {detail}", retry_after_s)
    if code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
        return Unavailable(f"{backend} did not answer in time", retry_after_s)
    return BadGateway(f"{backend} failed: {code.name}: {detail}")
