"""gRPC server with the standard health service (what `hotline up` and Kubernetes probe).

TLS: `start` serves TLS when given server credentials (`server_credentials`, built from the
HOTLINE_TLS_* settings of ServiceSettings), mutual TLS when a client CA is given too, and
plaintext otherwise (the embedded stack: loopback only). The files are read again when they
change (checked before each new connection's handshake), so a renewed certificate (e.g. a
Kubernetes Secret updated by cert-manager) is served without a restart.
`python -m hotline_platform.grpc_probe` is the health probe for TLS servers (Kubernetes'
built-in gRPC probe speaks plaintext only).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import NoReturn, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

T = TypeVar("T")
# An exception a use case may raise, the status it answers, and a prefix for its message.
ErrorStatus = tuple[type[BaseException], grpc.StatusCode, str]


async def abort(context: grpc.aio.ServicerContext, code: grpc.StatusCode, text: str) -> NoReturn:
    """End the call with `code` (context.abort raises; typed so callers need no return)."""
    await context.abort(code, text)
    raise AssertionError("unreachable")  # pragma: no cover - abort raises


async def run_use_case(
    context: grpc.aio.ServicerContext,
    call: Callable[[], T],
    errors: Sequence[ErrorStatus],
    executor: Executor | None = None,
) -> T:
    """Run a blocking use case off the event loop (on `executor`, else a worker thread as
    asyncio.to_thread does);
    the first entry of `errors` the exception is an instance of ends the call with its
    status (checked in order, as except clauses are); any other exception propagates."""
    try:
        if executor is None:
            return await asyncio.to_thread(call)
        return await asyncio.get_running_loop().run_in_executor(executor, call)
    except Exception as exc:
        for kind, code, prefix in errors:
            if isinstance(exc, kind):
                await abort(context, code, f"{prefix}{exc}")
        raise


def server_credentials(
    cert_file: str, key_file: str, client_ca_file: str = ""
) -> grpc.ServerCredentials | None:
    """TLS credentials from PEM files, or None (plaintext) when no certificate is given.
    With `client_ca_file`, clients must present a certificate signed by that CA."""
    if not cert_file and not key_file:
        if client_ca_file:
            raise ValueError("a TLS client CA needs a server certificate and key too")
        return None
    if not cert_file or not key_file:
        raise ValueError("TLS needs both a certificate file and a key file")
    files = _TlsFiles(cert_file, key_file, client_ca_file)
    try:
        initial = files.load()
    except OSError as exc:
        raise ValueError(f"cannot read TLS files: {exc}") from exc
    return grpc.dynamic_ssl_server_credentials(
        initial, files.fetch_if_changed, require_client_authentication=bool(client_ca_file)
    )


class _TlsFiles:
    """The PEM files of a TLS server, re-read when their modification times change."""

    def __init__(self, cert_file: str, key_file: str, client_ca_file: str) -> None:
        self.paths = tuple(p for p in (cert_file, key_file, client_ca_file) if p)
        self.cert_file, self.key_file, self.client_ca_file = cert_file, key_file, client_ca_file
        self.stamp: tuple[tuple[int, int], ...] = ()

    def _stamp(self) -> tuple[tuple[int, int], ...]:
        return tuple((st.st_mtime_ns, st.st_size) for st in map(os.stat, self.paths))

    def _read(self) -> grpc.ServerCertificateConfiguration | None:
        """The files' configuration; None when they changed while being read."""
        before = self._stamp()
        pair = (Path(self.key_file).read_bytes(), Path(self.cert_file).read_bytes())
        client_ca = Path(self.client_ca_file).read_bytes() if self.client_ca_file else None
        if self._stamp() != before:
            return None
        self.stamp = before
        return grpc.ssl_server_certificate_configuration([pair], root_certificates=client_ca)

    def load(self) -> grpc.ServerCertificateConfiguration:
        for _ in range(10):
            configuration = self._read()
            if configuration is not None:
                return configuration
        raise OSError(f"TLS files keep changing: {', '.join(self.paths)}")

    def fetch_if_changed(self) -> grpc.ServerCertificateConfiguration | None:
        """grpc's fetcher (before each handshake): a new configuration, or None to keep the
        current one (also while the files are being replaced: the next handshake retries)."""
        try:
            return None if self._stamp() == self.stamp else self._read()
        except OSError:
            return None


async def start(
    port: int,
    register: Callable[[grpc.aio.Server], None],
    service_names: tuple[str, ...] = (),
    credentials: grpc.ServerCredentials | None = None,
) -> grpc.aio.Server:
    """Serve on `port` (all interfaces): TLS with `credentials`, plaintext without."""
    # No SO_REUSEPORT: a second server on a taken port must fail, not share it silently.
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    register(server)
    checker = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    address = f"0.0.0.0:{port}"
    if credentials is None:
        bound = server.add_insecure_port(address)
    else:
        bound = server.add_secure_port(address, credentials)
    if not bound:
        raise RuntimeError(f"cannot listen for gRPC on port {port}")
    await server.start()
    for name in ("", *service_names):
        await checker.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server


def channel_credentials(
    root_cert: bytes | None = None,
    client_cert: bytes | None = None,
    client_key: bytes | None = None,
) -> grpc.ChannelCredentials:
    """Client TLS credentials: trust `root_cert` (default: the system roots); present
    `client_cert`/`client_key` to a mutual-TLS server."""
    return grpc.ssl_channel_credentials(
        root_certificates=root_cert, private_key=client_key, certificate_chain=client_cert
    )


def is_serving(
    address: str,
    timeout: float = 1.0,
    *,
    root_cert: bytes | None = None,
    client_cert: bytes | None = None,
    client_key: bytes | None = None,
    server_name: str = "",
) -> bool:
    """Does the health service at `address` answer SERVING? Plaintext unless a `root_cert`
    (or client certificate) is given; `server_name` is the name the server's certificate
    must carry when it differs from the address's host (e.g. probing 127.0.0.1)."""
    try:
        if root_cert is None and client_cert is None:
            channel = grpc.insecure_channel(address)
        else:
            options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
            channel = grpc.secure_channel(
                address, channel_credentials(root_cert, client_cert, client_key), options
            )
        with channel:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
    except grpc.RpcError:
        return False
