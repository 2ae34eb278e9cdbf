"""Agents' registered phones (hotline.voice.registrations.v1, from ingress-sip's registrar):
where an agent's calls are offered when its phone registers instead of having a static URI.

Folded order-insensitively (the registrations topic and the others replay in no common
order): per agent and contact, the latest fact (time, then event id) wins; an unregistration
is kept as a tombstone so an older `registered` read after it cannot revive the contact.
Bindings also end by time: a contact is live until its expiry, whatever the log says later.

Several registered devices: the call is offered to the most recently registered live contact
(one leg; parallel forking and ringing devices in turn are not built), else to the agent's
static endpoint (trunks and tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# A tombstone or an expired binding is forgotten this long after its time (well beyond any
# registrar's maximum expiry, so an older fact replayed late is still recognised as older).
FORGET_AFTER_MS = 2 * 3600 * 1000


@dataclass(frozen=True)
class RegisteredContact:
    reachable_uri: str
    expires_at_ms: int  # 0: unregistered (tombstone)
    at_ms: int  # when the fact happened
    event_id: str

    def live(self, now_ms: int) -> bool:
        return self.expires_at_ms > now_ms


@dataclass
class Registrations:
    """agent id -> contact URI -> latest binding."""

    by_agent: dict[str, dict[str, RegisteredContact]] = field(default_factory=dict)

    def apply(self, agent_id: str, contact_uri: str, binding: RegisteredContact) -> None:
        contacts = self.by_agent.setdefault(agent_id, {})
        old = contacts.get(contact_uri)
        if old is None or (binding.at_ms, binding.event_id) > (old.at_ms, old.event_id):
            contacts[contact_uri] = binding
        horizon = binding.at_ms - FORGET_AFTER_MS
        for uri in [u for u, b in contacts.items() if max(b.expires_at_ms, b.at_ms) < horizon]:
            del contacts[uri]

    def contacts(self, agent_id: str, now_ms: int) -> list[str]:
        """The agent's live reachable URIs, most recently registered first."""
        live = [b for b in self.by_agent.get(agent_id, {}).values() if b.live(now_ms)]
        live.sort(key=lambda b: (b.at_ms, b.event_id), reverse=True)
        return [b.reachable_uri for b in live]

    def endpoint(self, agent_id: str, static_endpoint: str, now_ms: int) -> str:
        """Where to offer the agent a call now: its newest live registered contact, else its
        static endpoint."""
        contacts = self.contacts(agent_id, now_ms)
        return contacts[0] if contacts else static_endpoint
