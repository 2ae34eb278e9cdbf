"""gRPC over TLS and mutual TLS: grpc_server.start with the HOTLINE_TLS_* settings, probed by
is_serving and the grpc_probe module the Helm chart runs. Certificates are made here: a
throwaway CA, a server certificate, a client certificate, and a client of another CA."""

from __future__ import annotations

import asyncio
import datetime
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hotline_cli.embedded import find_free_port
from hotline_platform import grpc_probe, grpc_server
from hotline_platform.settings import ServiceSettings

SERVER_NAME = "hotline-router"  # as the chart names the Service (and the probe expects)


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path

    @property
    def cert_pem(self) -> bytes:
        return self.cert.read_bytes()

    @property
    def key_pem(self) -> bytes:
        return self.key.read_bytes()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> Issued:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Issued(cert_path, key_path)


class Authority:
    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )
        self.issued = _write(directory, name, self.cert, self.key)

    def issue(self, name: str, dns_names: list[str], usage: ExtendedKeyUsageOID) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if dns_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False
            )
        return _write(self.directory, name, builder.sign(self.key, hashes.SHA256()), key)


@dataclass(frozen=True)
class Pki:
    ca: Issued
    server: Issued
    client: Issued
    stranger: Issued  # a client certificate of another CA


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = Authority(directory, "hotline-test-ca")
    other = Authority(directory, "other-ca")
    server = ca.issue("server", [SERVER_NAME, "localhost"], ExtendedKeyUsageOID.SERVER_AUTH)
    client = ca.issue("client", [], ExtendedKeyUsageOID.CLIENT_AUTH)
    stranger = other.issue("stranger", [], ExtendedKeyUsageOID.CLIENT_AUTH)
    return Pki(ca.issued, server, client, stranger)


class Served:
    """grpc_server.start on its own event loop in a thread, so blocking clients can call it."""

    def __init__(self, settings: ServiceSettings, port: int) -> None:
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            grpc_server.start(port, lambda _s: None, credentials=settings.grpc_credentials()),
            self.loop,
        ).result(timeout=10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(0), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def tls_server(pki: Pki) -> Iterator[Served]:
    settings = ServiceSettings(
        tls_cert_file=str(pki.server.cert), tls_key_file=str(pki.server.key)
    )
    served = Served(settings, find_free_port())
    yield served
    served.stop()


@pytest.fixture
def mtls_server(pki: Pki) -> Iterator[Served]:
    settings = ServiceSettings(
        tls_cert_file=str(pki.server.cert),
        tls_key_file=str(pki.server.key),
        tls_client_ca_file=str(pki.ca.cert),
    )
    served = Served(settings, find_free_port())
    yield served
    served.stop()


def health_over(channel: grpc.Channel) -> int:
    reply = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=""), timeout=3
    )
    return int(reply.status)


def test_tls_client_is_served(pki: Pki, tls_server: Served) -> None:
    address = f"localhost:{tls_server.port}"
    credentials = grpc_server.channel_credentials(pki.ca.cert_pem)
    with grpc.secure_channel(address, credentials) as channel:
        assert health_over(channel) == health_pb2.HealthCheckResponse.SERVING
    assert grpc_server.is_serving(address, 3, root_cert=pki.ca.cert_pem)
    # Probing the loopback address, as the chart's probe does: the name comes from the cert.
    assert grpc_server.is_serving(
        f"127.0.0.1:{tls_server.port}", 3, root_cert=pki.ca.cert_pem, server_name=SERVER_NAME
    )


def test_plaintext_client_fails_against_tls(tls_server: Served) -> None:
    assert not grpc_server.is_serving(f"127.0.0.1:{tls_server.port}", 2)
    with (
        grpc.insecure_channel(f"127.0.0.1:{tls_server.port}") as channel,
        pytest.raises(grpc.RpcError) as failed,
    ):
        health_over(channel)
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_client_trusting_another_ca_fails(pki: Pki, tls_server: Served) -> None:
    other_ca = (pki.stranger.cert.parent / "other-ca.crt").read_bytes()
    assert not grpc_server.is_serving(f"localhost:{tls_server.port}", 2, root_cert=other_ca)


def test_mutual_tls_requires_a_client_certificate_of_the_ca(
    pki: Pki, mtls_server: Served
) -> None:
    address = f"localhost:{mtls_server.port}"
    ca = pki.ca.cert_pem
    assert grpc_server.is_serving(
        address, 3, root_cert=ca, client_cert=pki.client.cert_pem, client_key=pki.client.key_pem
    )
    # No client certificate: refused in the handshake.
    with (
        grpc.secure_channel(address, grpc_server.channel_credentials(ca)) as channel,
        pytest.raises(grpc.RpcError) as refused,
    ):
        health_over(channel)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    # A certificate of another CA: refused too. Plaintext: refused.
    assert not grpc_server.is_serving(
        address, 2, root_cert=ca, client_cert=pki.stranger.cert_pem,
        client_key=pki.stranger.key_pem,
    )
    assert not grpc_server.is_serving(f"127.0.0.1:{mtls_server.port}", 2)


def test_the_chart_probe_command(pki: Pki, mtls_server: Served) -> None:
    """What the Helm chart's exec probe runs when TLS (here mutual) is on."""
    # The service's own certificate is its client certificate in the chart; here the client's.
    common = ["--port", str(mtls_server.port), "--ca", str(pki.ca.cert)]
    assert grpc_probe.main(
        [*common, "--cert", str(pki.client.cert), "--key", str(pki.client.key),
         "--server-name", SERVER_NAME]
    ) == 0
    assert grpc_probe.main([*common, "--server-name", SERVER_NAME, "--timeout", "1"]) == 1
    assert grpc_probe.main(["--port", str(mtls_server.port), "--timeout", "1"]) == 1


def test_plaintext_stays_the_default() -> None:
    settings = ServiceSettings()
    assert settings.grpc_credentials() is None
    served = Served(settings, find_free_port())
    try:
        assert grpc_server.is_serving(f"127.0.0.1:{served.port}", 3)
        assert grpc_probe.main(["--port", str(served.port)]) == 0
    finally:
        served.stop()


def test_incomplete_tls_settings_are_refused(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="set together"):
        ServiceSettings(tls_cert_file=str(pki.server.cert))
    with pytest.raises(ValueError, match="needs tls_cert_file"):
        ServiceSettings(tls_client_ca_file=str(pki.ca.cert))
    missing = ServiceSettings(
        tls_cert_file=str(tmp_path / "none.crt"), tls_key_file=str(pki.server.key)
    )
    with pytest.raises(ValueError, match="cannot read TLS files"):
        missing.grpc_credentials()


def test_a_renewed_certificate_is_served_without_a_restart(pki: Pki, tmp_path: Path) -> None:
    """As when cert-manager renews the Secret the pod mounts: new connections get the new
    certificate (here from another CA, so a client can tell which one it got)."""
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_bytes(pki.server.cert_pem)
    key.write_bytes(pki.server.key_pem)
    settings = ServiceSettings(tls_cert_file=str(cert), tls_key_file=str(key))
    served = Served(settings, find_free_port())
    try:
        address = f"localhost:{served.port}"
        assert grpc_server.is_serving(address, 3, root_cert=pki.ca.cert_pem)
        renewed_ca = Authority(tmp_path, "renewed-ca")
        renewed = renewed_ca.issue("renewed", ["localhost"], ExtendedKeyUsageOID.SERVER_AUTH)
        # Replace key and certificate (mtime moves on even on coarse-grained file systems).
        key.write_bytes(renewed.key_pem)
        cert.write_bytes(renewed.cert_pem)
        for path in (cert, key):
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert grpc_server.is_serving(address, 3, root_cert=renewed_ca.issued.cert_pem)
        assert not grpc_server.is_serving(address, 2, root_cert=pki.ca.cert_pem)
    finally:
        served.stop()
