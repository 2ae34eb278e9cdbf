"""Hand wiring: settings + tenancy config -> a running gateway (start/stop).

Concurrency: one asyncio event loop runs everything: uvicorn (HTTP), the gRPC clients to the
backends (grpc.aio, one channel each, shared by all requests), and the gRPC health server.
The only blocking work, verifying a credential never seen before (scrypt), runs on a worker
thread (asyncio.to_thread). In-process state (rate-limit buckets, idempotency records) is
touched only from the loop, so it needs no lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import grpc
import uvicorn

from hotline_gateway.adapters.content_store import ContentStoreClient
from hotline_gateway.adapters.directory_grpc import DirectoryClient
from hotline_gateway.adapters.grpc_backend import open_channel
from hotline_gateway.adapters.http.app import create_app
from hotline_gateway.adapters.http.deps import Components
from hotline_gateway.adapters.inprocess import InProcessIdempotencyStore, InProcessRateLimiter
from hotline_gateway.adapters.inprocess_sessions import InProcessSessionStore
from hotline_gateway.adapters.kafka_calls import KafkaCallCommands
from hotline_gateway.adapters.kafka_sessions import KafkaSessionStore
from hotline_gateway.adapters.live_wiring import LiveStream
from hotline_gateway.adapters.policy_identity import (
    LiveUsers,
    PolicyIdentity,
    tenancy_resolver,
)
from hotline_gateway.adapters.reports_grpc import ReportsClient
from hotline_gateway.adapters.router_grpc import RouterClient
from hotline_gateway.adapters.wfm_grpc import WfmClient
from hotline_gateway.application.access import AccessControl, Limits
from hotline_gateway.application.calls import CallControl
from hotline_gateway.application.service import GatewayService
from hotline_gateway.application.sessions import SessionService
from hotline_gateway.domain.ratelimit import Limit
from hotline_gateway.settings import GatewaySettings
from hotline_platform import directory, grpc_server, identity, tenancy
from hotline_platform.bus import EventPublisher
from hotline_platform.content import ContentSettings, ContentStore
from hotline_platform.sessions import Sessions

log = logging.getLogger(__name__)

SERVICE = "gateway"


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: __main__ owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Gateway:
    """`await start()` serves HTTP, then gRPC health (SERVING once HTTP listens);
    `await stop()` stops both. Backends are dialled lazily: the gateway starts without them
    and answers 503 while one is unreachable."""

    def __init__(
        self,
        settings: GatewaySettings,
        tenancy_config: tenancy.TenancyConfig | None = None,
        resolver: identity.CallerResolver | None = None,
    ) -> None:
        self.settings = settings
        # Tenants and their credentials: the live directory (HOTLINE_DIRECTORY=on: a tenant
        # added over the directory API is admitted at once) or the YAML file, read once (off).
        self.directory = (
            directory.StaticTenancy(tenancy_config)
            if tenancy_config is not None
            else directory.tenancy_source(
                settings.directory, settings.config_path, settings.kafka_bootstrap, SERVICE,
                settings.instance_id,
            )
        )
        # Browser sessions: on the compacted topic every replica follows (kafka_sessions.py),
        # or in this process's memory only; who a bearer token or session is: tenant
        # credentials, API keys and users of the current tenancy, and these sessions.
        self.session_store: KafkaSessionStore | InProcessSessionStore = (
            KafkaSessionStore(settings.kafka_bootstrap, settings.instance_id)
            if settings.session_store == "kafka" else InProcessSessionStore()
        )
        self.sessions = Sessions(self.session_store)
        self.resolver = resolver or tenancy_resolver(self.directory.current, self.sessions)
        self.delegation = identity.Delegation.from_setting(settings.delegation_key)
        self.live = LiveStream(settings, self.directory.current)  # the pages' push stream
        # Hold, resume and transfer: commands to the voice ingress (hotline.voice.commands.v1).
        self.call_commands = KafkaCallCommands(
            settings.kafka_bootstrap, settings.instance_id, settings.backend_timeout_s,
            settings.backend_retry_after_s,
        )
        # Tenants' prompts are stored in the encrypted content store (HOTLINE_OBJECT_STORE_*,
        # HOTLINE_KEYRING_PATH); its audit events go to hotline.audit.gateway.v1.
        self.audit = EventPublisher(
            settings.kafka_bootstrap, f"{SERVICE}-content-{settings.instance_id}"
        )
        self.content = ContentStore.from_settings(
            ContentSettings(), self.audit, SERVICE, instance_id=settings.instance_id
        )
        self._channels: list[grpc.aio.Channel] = []
        self._http: _Server | None = None
        self._http_task: asyncio.Task[None] | None = None
        self._grpc: grpc.aio.Server | None = None

    def _channel(self, address: str) -> grpc.aio.Channel:
        s = self.settings
        mutual = bool(s.backend_ca_file and s.tls_cert_file)
        channel = open_channel(
            address, s.backend_ca_file,
            s.tls_cert_file if mutual else "", s.tls_key_file if mutual else "",
        )
        self._channels.append(channel)
        return channel

    def components(self) -> Components:
        s = self.settings
        router = RouterClient(
            s.router_address, self._channel, s.backend_timeout_s, s.backend_retry_after_s
        )
        wfm = WfmClient(self._channel(s.wfm_address), s.backend_timeout_s, s.backend_retry_after_s)
        timing = (s.backend_timeout_s, s.backend_retry_after_s)
        limits = Limits(
            per_principal=Limit(s.rate_limit_per_s, s.rate_limit_burst),
            unverified_per_client=Limit(s.new_credentials_per_s, s.new_credentials_burst),
        )
        limiter = InProcessRateLimiter()
        identity_ = PolicyIdentity(self.resolver, delegation=self.delegation)
        return Components(
            gateway=GatewayService(
                agents=router, queues=router, staffing=wfm,
                directory=DirectoryClient(self._channel(s.directory_address), *timing),
                reports=ReportsClient(self._channel(s.analytics_address), *timing),
                content=ContentStoreClient(self.content, s.backend_retry_after_s),
            ),
            access=AccessControl(identity_, limiter, limits),
            idempotency=InProcessIdempotencyStore(s.idempotency_ttl_s, s.idempotency_max_keys),
            calls=CallControl(self.live, self.call_commands),
            sessions=SessionService(
                self.sessions,
                identity.PasswordLogin(LiveUsers(self.directory.current)),
                self.resolver,
                lambda: self.directory.current().tenants,
                limiter,
                limits.unverified_per_client,
                sync=(
                    self.session_store.sync
                    if isinstance(self.session_store, KafkaSessionStore) else None
                ),
            ),
        )

    async def start(self) -> None:
        s = self.settings
        await asyncio.to_thread(self.directory.start)  # replays the directory (when on)
        if isinstance(self.session_store, KafkaSessionStore):
            await asyncio.to_thread(self.session_store.start)  # replays the sessions
        app = create_app(
            self.components(), access_log=s.access_log,
            session_cookie_secure=s.session_cookie_secure,
        )
        self.live.attach(app)
        config = uvicorn.Config(
            app, host=s.http_host, port=s.http_port, log_config=None, access_log=False,
            lifespan="off", server_header=False, timeout_graceful_shutdown=5, http="httptools",
            proxy_headers=True, forwarded_allow_ips=s.forwarded_allow_ips,
        )
        self._http = _Server(config)
        self._http_task = asyncio.create_task(self._http.serve(), name="gateway-http")
        while not self._http.started:
            if self._http_task.done():
                raise RuntimeError(f"cannot serve HTTP on port {s.http_port}")
            await asyncio.sleep(0.01)
        self._grpc = await grpc_server.start(
            s.grpc_port, lambda server: None, (), credentials=s.grpc_credentials()
        )
        log.info("serving HTTP on %s:%d, gRPC health on %d; router %s, WFM %s, directory %s, "
                 "analytics %s", s.http_host, s.http_port, s.grpc_port, s.router_address,
                 s.wfm_address, s.directory_address, s.analytics_address)

    async def wait_failed(self) -> BaseException:
        """Return when the HTTP server stopped by itself (the process should exit)."""
        assert self._http_task is not None
        with contextlib.suppress(BaseException):
            await asyncio.shield(self._http_task)
        return RuntimeError("the HTTP server stopped")

    async def stop(self) -> None:
        if self._grpc is not None:
            await self._grpc.stop(grace=2)
        if self._http is not None and self._http_task is not None:
            self._http.should_exit = True
            with contextlib.suppress(BaseException):
                await self._http_task
        await self.live.stop()
        try:
            await asyncio.to_thread(self.call_commands.close)
        except RuntimeError:
            log.exception("call commands not delivered")
        for channel in self._channels:
            await channel.close()
        await asyncio.to_thread(self.directory.stop)
        try:
            await asyncio.to_thread(self.audit.flush, 5)
        except RuntimeError:
            log.exception("content audit events not delivered")
        if isinstance(self.session_store, KafkaSessionStore):
            await asyncio.to_thread(self.session_store.stop)
