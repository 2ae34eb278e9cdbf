"""Hand wiring of ingress-sip: one function builds the service; `start()`/`stop()` run it, so
it can run alone (`python -m hotline_ingress_sip`) or next to other services in one process."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterator, Mapping

from hotline_ingress_sip.adapters.clock import LoopTimers, SystemClock
from hotline_ingress_sip.adapters.kafka_events import SERVICE, KafkaInteractionEvents
from hotline_ingress_sip.adapters.liveness import Liveness
from hotline_ingress_sip.adapters.media import NgMediaRelay, PromptFolder
from hotline_ingress_sip.adapters.offers_consumer import OffersConsumer
from hotline_ingress_sip.adapters.prompt_cache import PromptCache
from hotline_ingress_sip.adapters.registrations import KafkaRegistrationEvents, LiveSipAccounts
from hotline_ingress_sip.adapters.udp import UdpTransport
from hotline_ingress_sip.application.calls import CallHandling
from hotline_ingress_sip.application.ports import Address
from hotline_ingress_sip.application.registrar import Registrar, RegistrarPolicy
from hotline_ingress_sip.application.sip_stack import SipStack
from hotline_ingress_sip.domain.digest import Nonces
from hotline_ingress_sip.domain.events import EntryPoint, RoutingInstruction
from hotline_ingress_sip.domain.registration import FailureLimiter
from hotline_ingress_sip.domain.transactions import Timing
from hotline_ingress_sip.settings import IngressSipSettings
from hotline_platform import directory
from hotline_platform.bus import DeadLetters, EventPublisher
from hotline_platform.content import ContentSettings, ContentStore
from hotline_platform.media_relay import DtmfEvents, NgClient, parse_address
from hotline_platform.tenancy import TenancyConfig

log = logging.getLogger(__name__)


def entry_points_from(config: TenancyConfig) -> dict[str, EntryPoint]:
    return {
        address: EntryPoint(
            address=address,
            tenant_id=ep.tenant_id,
            site_id=ep.site_id,
            queue_id=ep.queue_id,
            announcement=ep.kind == "announcement",
            ivr=ep.ivr,
        )
        for address, ep in config.entry_points.items()
    }


class LiveEntryPoints(Mapping[str, EntryPoint]):
    """The entry points of the live directory, replaced whole on a change (one reference
    assignment): a lookup on the SIP loop sees the old set or the new one, never half."""

    def __init__(self, entries: Mapping[str, EntryPoint] | None = None) -> None:
        self._entries: dict[str, EntryPoint] = dict(entries or {})

    def replace(self, entries: Mapping[str, EntryPoint]) -> None:
        self._entries = dict(entries)

    def __getitem__(self, address: str) -> EntryPoint:
        return self._entries[address]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def announcement_sdp(host: str, media_port: int) -> bytes:
    family = "IP6" if ":" in host else "IP4"
    return (
        "v=0\r\n"
        f"o=hotline 1 1 IN {family} {host}\r\n"
        "s=Hotline announcement\r\n"
        f"c=IN {family} {host}\r\n"
        "t=0 0\r\n"
        f"m=audio {media_port} RTP/AVP 8 0\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=sendonly\r\n"
    ).encode()


class IngressSipService:
    """The running service. `stack` and `calls` exist once `start()` has bound the socket."""

    def __init__(
        self,
        settings: IngressSipSettings,
        source: directory.StaticTenancy | directory.DirectoryFollower,
        publisher: EventPublisher,
        *,
        owns_publisher: bool = True,
    ) -> None:
        self.settings = settings
        # Entry points (and the tenants served) follow the live directory (HOTLINE_DIRECTORY
        # =on) or come from the YAML file (off); filled at start.
        self.directory = source
        self.entry_points = LiveEntryPoints()
        self.publisher = publisher
        self._owns_publisher = owns_publisher
        self.clock = SystemClock()
        self.timers = LoopTimers()
        self.events = KafkaInteractionEvents(publisher, settings.instance_id)
        self.dead_letters = DeadLetters(publisher, SERVICE)
        self.transport = UdpTransport(self._on_datagram)
        self.consumer = OffersConsumer(
            settings.kafka_bootstrap, settings.instance_id, self.dead_letters, self._on_offers
        )
        self.liveness = Liveness(
            publisher,
            settings.instance_id,
            (),
            self.clock,
            interval_ms=settings.heartbeat_interval_ms,
            active_calls=lambda: self.calls.active_calls if self.calls is not None else 0,
        )
        self.ng: NgClient | None = None
        self.dtmf: DtmfEvents | None = None
        if settings.media_relay_ng:
            self.ng = NgClient(parse_address(settings.media_relay_ng))
        if settings.media_dtmf_listen:
            self.dtmf = DtmfEvents(parse_address(settings.media_dtmf_listen), self._on_digit)
        # Agents' phones REGISTER (application/registrar.py) with the live directory's
        # SIP credentials; their bindings go to hotline.voice.registrations.v1.
        self.sip_accounts = LiveSipAccounts()
        self.registrations = KafkaRegistrationEvents(publisher, settings.instance_id)
        # Tenants' own prompts (uploaded over REST, named only by the live directory): fetched
        # from the content store into the prompts folder, whose tenant folders they own.
        self.prompt_cache = (
            PromptCache(
                settings.prompts_dir,
                ContentStore.from_settings(
                    ContentSettings(), publisher, SERVICE, instance_id=settings.instance_id
                ),
                reader=f"{SERVICE}/{settings.instance_id}",
            )
            if settings.prompts_dir and isinstance(source, directory.DirectoryFollower)
            else None
        )
        self.registrar: Registrar | None = None
        self.stack: SipStack | None = None
        self.calls: CallHandling | None = None
        self.sip_address: Address | None = None
        self.events_lost = False

    def _on_datagram(self, data: bytes, addr: Address) -> None:
        if self.stack is not None:
            self.stack.on_datagram(data, addr)

    def _on_digit(self, call_id: str, from_tag: str, digit: str) -> None:
        if self.calls is not None:
            self.calls.on_dtmf(call_id, from_tag, digit)

    def _on_offers(self, offers: list[RoutingInstruction]) -> None:
        if self.calls is not None:
            self.calls.on_offers(offers)

    def _directory_changed(self, config: TenancyConfig) -> None:
        """The directory changed (the follower's thread): announce this process to tenants new
        to it (durably), then route their entry points."""
        entries = entry_points_from(config)
        self.liveness.serve({ep.tenant_id for ep in entries.values()})
        self.entry_points.replace(entries)
        self.sip_accounts.replace(config)
        if self.prompt_cache is not None:
            self.prompt_cache.update(config)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.directory.start)
        if self.prompt_cache is not None:
            self.prompt_cache.start()
        self.directory.subscribe(self._directory_changed)
        self._directory_changed(self.directory.current())
        self.events.bind(loop)
        # Position the offers consumer first: no offer for a call taken later can be missed.
        await asyncio.to_thread(self.consumer.start, loop)
        # Then say that this process started (durably) before taking any call: the router
        # ends whatever an earlier process of this instance held (it is gone with it).
        await asyncio.to_thread(self.liveness.announce_start)
        s = self.settings
        if self.ng is not None:
            await self.ng.start()
        if self.dtmf is not None:
            await self.dtmf.start()
        self.sip_address = await self.transport.open(s.sip_host, s.sip_port, s.sip_fd)
        host = s.advertised_host()
        port = self.sip_address[1]
        self.stack = SipStack(
            self.transport,
            self.timers,
            self.clock,
            advertised_host=host,
            advertised_port=port,
            timing=Timing(s.sip_t1_ms, s.sip_t2_ms),
        )
        self.registrar = Registrar(
            self.stack,
            self.clock,
            self.timers,
            self.sip_accounts,
            self.registrations,
            Nonces(
                s.registrar_secret.encode() or secrets.token_bytes(32),
                s.registrar_nonce_lifetime_s * 1000,
            ),
            policy=RegistrarPolicy(
                s.registrar_default_expires_s,
                s.registrar_min_expires_s,
                s.registrar_max_expires_s,
                s.registrar_max_contacts,
                tuple(a.strip() for a in s.registrar_digest_algorithms.split(",")),
            ),
            limiter=FailureLimiter(
                s.registrar_max_failures,
                s.registrar_failure_window_s * 1000,
                s.registrar_block_s * 1000,
            ),
        )
        self.calls = CallHandling(
            self.stack,
            self.events,
            self.clock,
            self.timers,
            self.entry_points,
            sdp=announcement_sdp(host, s.media_port),
            default_ring_timeout_ms=s.default_ring_timeout_ms,
            registrar=self.registrar,
            media=NgMediaRelay(self.ng) if self.ng is not None else None,
            prompts=PromptFolder(s.prompts_dir) if s.prompts_dir else None,
            announce_every_ms=s.announce_every_ms,
            media_check_every_ms=s.media_check_every_ms,
        )
        self.calls.start_media_checks()
        self.stack.start()
        self.registrar.start()
        self.liveness.start()
        log.info(
            "SIP on udp %s:%s (advertised %s:%s), %d entry points",
            self.sip_address[0], port, host, port, len(self.entry_points),
        )

    async def stop(self) -> None:
        if self.calls is not None:
            self.calls.stop_media_checks()
            ended = self.calls.drain()
            if ended:
                grace = self.settings.shutdown_grace_s
                log.info("ended %d live calls; waiting %.1fs", ended, grace)
                await asyncio.sleep(grace)
        await self.liveness.stop()
        await asyncio.to_thread(self.consumer.stop)
        await asyncio.to_thread(self.directory.stop)
        if self.prompt_cache is not None:
            await asyncio.to_thread(self.prompt_cache.stop)
        if self.registrar is not None:
            self.registrar.stop()
        self.transport.close()
        if self.stack is not None:
            self.stack.stop()
        if self.dtmf is not None:
            await self.dtmf.close()
        if self.ng is not None:
            await self.ng.close()
        if self._owns_publisher:
            try:
                await asyncio.to_thread(self.publisher.flush, 10)
            except RuntimeError as exc:  # events lost: say so, and exit non-zero
                self.events_lost = True
                log.error("events not delivered at shutdown: %s", exc)
        if self.stack is not None:
            log.info("stopped: %s", self.stack.stats)


def build(
    settings: IngressSipSettings,
    *,
    config: TenancyConfig | None = None,
    publisher: EventPublisher | None = None,
) -> IngressSipService:
    """Everything ingress-sip needs, wired by hand. Pass `publisher` to share one producer
    between services in one process (its owner flushes it)."""
    source = (
        directory.StaticTenancy(config)
        if config is not None
        else directory.tenancy_source(
            settings.directory, settings.config_path, settings.kafka_bootstrap, SERVICE,
            settings.instance_id,
        )
    )
    owns = publisher is None
    if publisher is None:
        timeout_ms = settings.event_delivery_timeout_ms
        publisher = EventPublisher(
            settings.kafka_bootstrap,
            f"{SERVICE}-{settings.instance_id}",
            # A request unanswered for a third of it is sent again (idempotent producer).
            extra={"message.timeout.ms": timeout_ms, "request.timeout.ms": timeout_ms // 3},
        )
    return IngressSipService(settings, source, publisher, owns_publisher=owns)
