"""Every Kafka topic of the contract, declared once: value type, key, partitions, single writer.

All event topics are keyed by tenant id and partitioned with `partition_for`, so all events
of one tenant (hence of one interaction) are in one partition, in order, and the partition
number of a tenant is the same on every topic. A router instance that owns partition P of
its input topics therefore owns every tenant hashing to P (see services/router/README.md).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from google.protobuf.message import Message

from hotline.agent.v1.events_pb2 import AgentEvent
from hotline.audit.v1.events_pb2 import AuditEvent
from hotline.directory.v1.events_pb2 import DirectoryEvent
from hotline.gateway.v1.sessions_pb2 import SessionEvent
from hotline.ingress.v1.events_pb2 import IngressEvent
from hotline.ingress.v1.registrations_pb2 import RegistrationEvent
from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline.voice.v1.commands_pb2 import CallCommand

EVENT_PARTITIONS = 12
DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    value_type: type[Message] | None  # None: raw bytes (dead letters)
    writer: str
    partitions: int = EVENT_PARTITIONS
    key: str = "tenant_id"
    retention_ms: int = -1  # -1: keep forever (event store of record)
    description: str = ""
    # Events name the interaction or agent they are about (envelope check). False for topics
    # whose subject is the producing instance itself (liveness).
    requires_subject: bool = True
    # Kafka's cleanup.policy: "delete" (by retention), or "compact,delete" for a key -> latest
    # table (records without a value, tombstones, remove a key).
    cleanup_policy: str = "delete"


VOICE_INTERACTIONS = Topic(
    "hotline.voice.interactions.v1",
    InteractionEvent,
    writer="ingress-sip",
    description="What ingress-sip observes on the wire: arrivals, answers, rejections, "
    "time-outs, hang-ups of voice interactions.",
)
ROUTING_INTERACTIONS = Topic(
    "hotline.routing.interactions.v1",
    InteractionEvent,
    writer="router",
    description="The router's decisions about interactions: queued, offered, wrap-up.",
)
AGENTS = Topic(
    "hotline.agents.v1",
    AgentEvent,
    writer="router",
    description="Agent sessions and states, derived from desktop API calls and contacts.",
)

INGRESS_LIVENESS = Topic(
    "hotline.ingress.liveness.v1",
    IngressEvent,
    writer="ingress-sip",
    retention_ms=3600 * 1000,  # only the latest start/heartbeat per instance matters
    description="Ingress instances' process starts and heartbeats, one per tenant served; "
    "the router ends the interactions of an instance that restarted or fell silent.",
    requires_subject=False,
)

VOICE_REGISTRATIONS = Topic(
    "hotline.voice.registrations.v1",
    RegistrationEvent,
    writer="ingress-sip",
    # A binding lives an hour at most (registrar max expires); a day covers any reader's lag.
    retention_ms=DAY_MS,
    description="Agents' phones that registered (contact, reachable address, expiry) and "
    "unregistered or expired, from ingress-sip's registrar; the router offers calls to them.",
)

DIRECTORY = Topic(
    "hotline.directory.v1",
    DirectoryEvent,
    writer="directory",
    # One partition: one total order for the whole (small) directory, folded by every service.
    partitions=1,
    description="The live directory: tenants, sites, queues, agents and entry points, each "
    "fact the entity's whole state after a change, who made it and the entity's version.",
    # The subject is a directory entity, neither an interaction nor an agent's session.
    requires_subject=False,
)


GATEWAY_SESSIONS = Topic(
    "hotline.gateway.sessions.v1",
    SessionEvent,
    writer="gateway",
    partitions=1,
    key="id_hash",  # the SHA-256 of the session token; a tombstone (no value) ends the session
    # A session ends 12 h after log-in at the latest, so a day of records is always enough.
    retention_ms=DAY_MS,
    cleanup_policy="compact,delete",
    description="Browser sessions by the hash of their token (never the token): started, "
    "activity, ended (tombstone); every gateway replica follows it.",
    requires_subject=False,
)

VOICE_COMMANDS = Topic(
    "hotline.voice.commands.v1",
    CallCommand,
    writer="gateway",
    # A command is done at once or never (every ingress reads from its end at start-up).
    retention_ms=DAY_MS,
    description="Hold, resume and blind transfer of a call connected to an agent, asked for "
    "from the desktop or the REST API; done by the ingress-sip instance holding the call.",
)


def dead_letter_topic(service: str) -> Topic:
    return Topic(
        f"hotline.deadletter.{service}.v1",
        None,
        writer=service,
        partitions=1,
        key="source topic",
        retention_ms=30 * DAY_MS,
        description=f"Messages {service} could not decode or that broke the contract, with "
        "the reason in headers.",
    )


def audit_topic(service: str) -> Topic:
    """Where `service` records who stored and read tenant content (hotline_platform.content)."""
    return Topic(
        f"hotline.audit.{service}.v1",
        AuditEvent,
        writer=service,
        description=f"Content {service} stored and every read it asked for (who, why, "
        "outcome), with references, never content.",
        # The subject is a content reference; the interaction is named only when known.
        requires_subject=False,
    )


CONSUMERS = ("ingress-sip", "router", "analytics-sink", "directory", "gateway", "wfm")
# Services that may store or read tenant content, hence write an audit topic each.
CONTENT_SERVICES = ("ingress-sip", "router", "wfm", "analytics-sink", "gateway")
EVENT_TOPICS: tuple[Topic, ...] = (VOICE_INTERACTIONS, ROUTING_INTERACTIONS, AGENTS)
# Operational, not business facts: not stored by the analytics sink.
LIVENESS_TOPICS: tuple[Topic, ...] = (INGRESS_LIVENESS, VOICE_REGISTRATIONS)
DEAD_LETTER_TOPICS: tuple[Topic, ...] = tuple(dead_letter_topic(s) for s in CONSUMERS)
AUDIT_TOPICS: tuple[Topic, ...] = tuple(audit_topic(s) for s in CONTENT_SERVICES)
ALL_TOPICS: tuple[Topic, ...] = EVENT_TOPICS + LIVENESS_TOPICS + DEAD_LETTER_TOPICS + AUDIT_TOPICS
# The live directory (hotline_platform.directory): configuration, not interaction facts.
DIRECTORY_TOPICS: tuple[Topic, ...] = (DIRECTORY,)
ALL_TOPICS += DIRECTORY_TOPICS
# The gateway's browser sessions (docs/identity.md): state, not business facts.
SESSION_TOPICS: tuple[Topic, ...] = (GATEWAY_SESSIONS,)
ALL_TOPICS += SESSION_TOPICS
# Commands to the voice ingress (proto/hotline/voice/v1/commands.proto): not facts.
COMMAND_TOPICS: tuple[Topic, ...] = (VOICE_COMMANDS,)
ALL_TOPICS += COMMAND_TOPICS
BY_NAME = {t.name: t for t in ALL_TOPICS}


def partition_for(key: str, partitions: int = EVENT_PARTITIONS) -> int:
    """Stable partition of a key, independent of the Kafka client's own partitioner."""
    return zlib.crc32(key.encode()) % partitions
