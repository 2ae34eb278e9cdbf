"""Settings of ingress-sip (environment variables HOTLINE_*, see ServiceSettings)."""

from __future__ import annotations

import socket

from hotline_platform.settings import ServiceSettings


class IngressSipSettings(ServiceSettings):
    # UDP address SIP is served on.
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    # An open, bound UDP socket handed over by a supervisor (socket activation; -1: bind
    # sip_host:sip_port here). SIP that arrives while this process restarts waits in it.
    sip_fd: int = -1
    # Host written in Via, Contact and SDP; empty: sip_host, or this machine's address when
    # sip_host is a wildcard (in Kubernetes: the pod IP, or the node/LB address phones reach).
    sip_advertised_host: str = ""
    # gRPC port of the standard health service (nothing else is served over gRPC).
    grpc_port: int = 50051
    # RFC 3261 timers: T1 (RTT estimate) and T2 (retransmission cap).
    sip_t1_ms: int = 500
    sip_t2_ms: int = 4000
    # Used when an `offered` event carries ring_timeout_ms = 0.
    default_ring_timeout_ms: int = 15_000
    # Audio port announced in the SDP of announcement answers (no media is played yet).
    media_port: int = 4000
    # rtpengine's ng address (host:port) that anchors every queue call's audio; empty: no
    # anchoring (callers wait in early dialog, media flows end to end: labs and trunk tests).
    media_relay_ng: str = ""
    # Where rtpengine's `dtmf-log-dest` sends the digits callers press (host:port).
    media_dtmf_listen: str = ""
    # Folder of the prompt WAV files (generated at setup; `<language>/<name>.wav`).
    prompts_dir: str = ""
    # While a caller waits, music is interrupted by an announcement this often (0: never).
    announce_every_ms: int = 30_000
    # How often the relay is asked whether each anchored call still has media (a call it
    # dropped after its `timeout` without audio ends as media_timeout).
    media_check_every_ms: int = 10_000
    # How often this process says it is alive (hotline.ingress.liveness.v1). The router's
    # HOTLINE_INGRESS_LOST_AFTER_MS must be several intervals.
    heartbeat_interval_ms: int = 2000
    # An event not recorded within this time is a failed delivery (the process exits and is
    # restarted, crash-only). A caller is answered only once its `arrived` is recorded, and
    # retransmits its INVITE for 32 s (64*T1): a delivery stuck for longer than this, for
    # whatever reason, becomes a restart that still serves the caller's retransmission
    # (librdkafka's default would keep the caller waiting for 300 s).
    event_delivery_timeout_ms: int = 10_000
    # On SIGTERM, live calls are ended; wait this long for the far ends' answers.
    shutdown_grace_s: float = 1.0
    # Registrar: agents' phones REGISTER as sip:<sip_username>@<tenant id> with digest auth
    # (realm = tenant id). Key of the HMAC signing nonces: the same on every replica, so that
    # any replica verifies another's nonces; empty: a random key per process (a phone then
    # answers one more challenge after a restart or on another replica).
    registrar_secret: str = ""
    registrar_nonce_lifetime_s: int = 300
    # Expiry of a binding when the phone asks none; shorter asks get 423 (Min-Expires);
    # longer ones are cut to the maximum.
    registrar_default_expires_s: int = 3600
    registrar_min_expires_s: int = 60
    registrar_max_expires_s: int = 3600
    registrar_max_contacts: int = 5  # per agent
    # Digest challenges offered, preferred first (SHA-256, MD5). Phones on libre before 2.x
    # (Debian's baresip 1.0.0) fail on any SHA-256 challenge: "MD5" alone serves them.
    registrar_digest_algorithms: str = "SHA-256,MD5"
    # This many failed digest responses within the window, from one source IP or for one
    # address of record, block it (403 at once) for registrar_block_s.
    registrar_max_failures: int = 5
    registrar_failure_window_s: int = 60
    registrar_block_s: int = 300

    def advertised_host(self) -> str:
        if self.sip_advertised_host:
            return self.sip_advertised_host
        if self.sip_host in ("0.0.0.0", "", "::"):
            try:
                return socket.gethostbyname(socket.gethostname())
            except OSError:
                return "127.0.0.1"
        return self.sip_host
