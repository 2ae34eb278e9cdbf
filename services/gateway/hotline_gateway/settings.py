"""Gateway settings (environment variables HOTLINE_*)."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from hotline_platform.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    # gRPC health only (what `hotline up` and Kubernetes probe); the API is HTTP.
    grpc_port: int = 50057
    http_port: int = 8080
    http_host: str = "0.0.0.0"
    # Backends (host:port of their gRPC APIs).
    # The router: one address, a comma-separated list, or a name resolving to every instance
    # (a headless Service); each tenant's calls go to the instance owning it.
    router_address: str = "127.0.0.1:50052"
    wfm_address: str = "127.0.0.1:50054"
    directory_address: str = "127.0.0.1:50056"
    analytics_address: str = "127.0.0.1:50053"
    # TLS to the backends: the CA their certificates are signed by (empty: plaintext). With
    # tls_cert_file/tls_key_file set too, the gateway presents them (mutual TLS).
    backend_ca_file: str = ""
    backend_timeout_s: float = 5.0
    # Retry-After of a 503 when a backend is unavailable.
    backend_retry_after_s: float = 1.0
    # Per principal (credential): sustained requests/s and burst. rate 0: unlimited.
    rate_limit_per_s: float = 50.0
    rate_limit_burst: int = 100
    # Tokens never seen before cost a password-hash check each (~50 ms of CPU): per client
    # address (behind a proxy, set forwarded_allow_ips so the address is the client's).
    new_credentials_per_s: float = 5.0
    new_credentials_burst: int = 40
    # Proxies whose X-Forwarded-For / -Proto are trusted (comma-separated addresses, or "*").
    forwarded_allow_ips: str = "127.0.0.1"
    # Idempotency-Key: how long a key is remembered, and at most how many (in-process store).
    idempotency_ttl_s: float = 86_400.0
    idempotency_max_keys: int = 100_000
    # Access log lines (with the request id): "all" requests, only "errors" (status >= 400, or
    # slower than 1 s), or "off". Successes are counted in the metrics either way; a line per
    # request costs about a third of a cached GET's CPU.
    access_log: Literal["all", "errors", "off"] = "errors"
    # The session cookie's Secure attribute (and __Host- name): None (unset) = when the
    # request is HTTPS (its scheme, or X-Forwarded-Proto from a trusted proxy); true/false
    # forces it (true behind a TLS-terminating proxy that does not send X-Forwarded-Proto).
    session_cookie_secure: bool | None = None
    # Where browser sessions live: "kafka" (the compacted topic hotline.gateway.sessions.v1,
    # followed by every replica: sessions survive restarts and work on any replica) or
    # "memory" (this process only).
    session_store: Literal["kafka", "memory"] = "kafka"

    @model_validator(mode="after")
    def _positive(self) -> GatewaySettings:
        if self.rate_limit_per_s > 0 and self.rate_limit_burst < 1:
            raise ValueError("rate_limit_burst must be at least 1")
        if self.new_credentials_per_s > 0 and self.new_credentials_burst < 1:
            raise ValueError("new_credentials_burst must be at least 1")
        if self.backend_timeout_s <= 0 or self.idempotency_ttl_s <= 0:
            raise ValueError("backend_timeout_s and idempotency_ttl_s must be positive")
        return self
