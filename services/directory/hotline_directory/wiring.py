"""Hand wiring: settings -> a running directory service (start/stop)."""

from __future__ import annotations

import asyncio
import logging
import time

import grpc

from hotline_directory.adapters import grpc_api
from hotline_directory.adapters.kafka import SERVICE, KafkaFacts, replay
from hotline_directory.application.service import DirectoryWriter
from hotline_directory.settings import DirectorySettings
from hotline_platform import credentials, grpc_server, identity
from hotline_platform.bus import DeadLetters, EventPublisher, ensure_topics

log = logging.getLogger(__name__)


def operator_index(token: str) -> credentials.CredentialIndex:
    """The operator credential, hashed (a `scrypt$...` hash is taken as it is)."""
    index = credentials.CredentialIndex()
    token = token.strip()
    if token.startswith(f"{credentials.SCHEME}$"):
        index.add_hash(grpc_api.OPERATOR_OWNER, token)
    elif token:
        index.add_plaintext(grpc_api.OPERATOR_OWNER, token)
    return index


class Directory:
    """The directory service: `await start()` replays the topic, then serves gRPC;
    `await stop()` stops it. Several can run in one process (tests)."""

    def __init__(self, settings: DirectorySettings) -> None:
        self.settings = settings
        self._events = EventPublisher(
            settings.kafka_bootstrap, client_id=f"{SERVICE}-{settings.instance_id}"
        )
        self.dead_letters = DeadLetters(self._events, SERVICE)
        self.writer = DirectoryWriter(
            KafkaFacts(self._events, settings.flush_timeout_s),
            producer=f"{SERVICE}/{settings.instance_id}",
        )
        self._operator = operator_index(settings.directory_admin_token)
        self._server: grpc.aio.Server | None = None

    async def start(self) -> None:
        await asyncio.to_thread(ensure_topics, self.settings.kafka_bootstrap)
        started = time.monotonic()
        await asyncio.to_thread(self.dead_letters.remember_sent, self.settings.kafka_bootstrap)
        facts = await asyncio.to_thread(
            replay, self.settings.kafka_bootstrap, self.dead_letters, self.settings.instance_id
        )
        self.writer.replayed(facts)
        log.info(
            "replayed %d directory facts in %.2fs; serving gRPC on %d",
            len(facts), time.monotonic() - started, self.settings.grpc_port,
        )
        self._server = await grpc_server.start(
            self.settings.grpc_port,
            lambda server: grpc_api.register(
                server, self.writer, self._operator,
                identity.Delegation.from_setting(self.settings.delegation_key),
            ),
            grpc_api.SERVICE_NAMES,
            credentials=self.settings.grpc_credentials(),
        )

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=2)
        try:
            await asyncio.to_thread(self._events.flush, 5)
        except RuntimeError:
            log.exception("facts not delivered at shutdown")
