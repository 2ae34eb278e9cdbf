"""The registrar's adapters: agents' SIP accounts from the live directory (SipAccounts), and
registration facts -> hotline.voice.registrations.v1 (RegistrationEvents)."""

from __future__ import annotations

from hotline.ingress.v1.registrations_pb2 import RegistrationEvent
from hotline_ingress_sip.domain.registration import (
    Registered,
    RegistrationFact,
    SipAccount,
)
from hotline_platform.bus import EventPublisher
from hotline_platform.envelope import new_envelope
from hotline_platform.tenancy import TenancyConfig
from hotline_platform.topics import VOICE_REGISTRATIONS

SERVICE = "ingress-sip"


def sip_accounts_from(config: TenancyConfig) -> dict[tuple[str, str], SipAccount]:
    """(realm = tenant id, sip username) -> account, for every agent with SIP credentials."""
    return {
        (tenant.id, agent.sip_username): SipAccount(
            tenant.id,
            agent.id,
            agent.sip_username,
            {"MD5": agent.sip_ha1_md5, "SHA-256": agent.sip_ha1_sha256},
        )
        for tenant in config.tenants.values()
        for agent in tenant.agents.values()
        if agent.sip_username
    }


class LiveSipAccounts:
    """The accounts of the live directory, replaced whole on a change (one assignment)."""

    def __init__(self) -> None:
        self._accounts: dict[tuple[str, str], SipAccount] = {}

    def replace(self, config: TenancyConfig) -> None:
        self._accounts = sip_accounts_from(config)

    def account(self, realm: str, username: str) -> SipAccount | None:
        return self._accounts.get((realm, username))


def to_event(fact: RegistrationFact, instance_id: str) -> RegistrationEvent:
    binding = fact.binding
    event = RegistrationEvent(
        envelope=new_envelope(
            tenant_id=binding.tenant_id,
            producer=f"{SERVICE}/{instance_id}",
            agent_id=binding.agent_id,
            occurred_at_ms=fact.occurred_at_ms,
        )
    )
    if isinstance(fact, Registered):
        registered = event.registered
        registered.agent_id = binding.agent_id
        registered.sip_username = binding.username
        registered.contact_uri = binding.contact_uri
        registered.reachable_uri = binding.reachable_uri
        registered.expires_at_ms = binding.expires_at_ms
        registered.instance_id = instance_id
        registered.user_agent = binding.user_agent
    else:
        unregistered = event.unregistered
        unregistered.agent_id = binding.agent_id
        unregistered.sip_username = binding.username
        unregistered.contact_uri = binding.contact_uri
        unregistered.reason = fact.reason
        unregistered.instance_id = instance_id
    return event


class KafkaRegistrationEvents:
    """RegistrationEvents over Kafka. Not awaited: a lost binding fact is repaired by the
    phone's next refresh, and the router expires bindings by time anyway."""

    def __init__(self, publisher: EventPublisher, instance_id: str) -> None:
        self._publisher = publisher
        self._instance_id = instance_id

    def publish(self, fact: RegistrationFact) -> None:
        self._publisher.publish(VOICE_REGISTRATIONS, to_event(fact, self._instance_id))
