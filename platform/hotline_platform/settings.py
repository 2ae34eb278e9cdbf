"""Settings common to every service, from environment variables (HOTLINE_*)."""

from __future__ import annotations

import socket

import grpc
from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline_platform import grpc_server


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:19092"
    config_path: str = "config/hotline.yaml"
    # "on": tenants, queues, agents and entry points come from the live directory
    # (hotline.directory.v1, followed live); "off": from config_path, read once at start.
    directory: str = "off"
    instance_id: str = socket.gethostname()
    log_level: str = "INFO"
    # Prometheus /metrics port; 0 disables it.
    metrics_port: int = 0
    # gRPC over TLS: PEM certificate (chain) and key of this service. Both empty: plaintext,
    # as in the embedded stack, which listens on loopback only.
    tls_cert_file: str = ""
    tls_key_file: str = ""
    # Mutual TLS: PEM CA that clients' certificates must be signed by; empty: no client
    # certificate asked for.
    tls_client_ca_file: str = ""
    # Shared by the gateway and the gRPC services it calls: the gateway signs "this call acts
    # for user T/U" with it for browser sessions (identity.Delegation). Empty: backends refuse
    # delegations, so session-authenticated REST calls that reach a backend answer 401.
    delegation_key: str = ""

    @model_validator(mode="after")
    def _tls_complete(self) -> ServiceSettings:
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("tls_cert_file and tls_key_file are set together (or neither)")
        if self.tls_client_ca_file and not self.tls_cert_file:
            raise ValueError("tls_client_ca_file (mutual TLS) needs tls_cert_file/tls_key_file")
        return self

    def grpc_credentials(self) -> grpc.ServerCredentials | None:
        """What grpc_server.start serves with: TLS (mutual with a client CA) or None."""
        return grpc_server.server_credentials(
            self.tls_cert_file, self.tls_key_file, self.tls_client_ca_file
        )
