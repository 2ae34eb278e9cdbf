"""Registered phones in the router: an agent is offered at its newest live registered contact,
else its static endpoint; bindings end by time, by unregistration, and fold in any order; the
contract events map to the facts."""

from __future__ import annotations

from router_world import T, World

from hotline.ingress.v1.registrations_pb2 import RegistrationEvent
from hotline_platform.envelope import new_envelope
from hotline_router.adapters.mapping import to_fact
from hotline_router.domain.facts import ContactRegistered, ContactUnregistered
from hotline_router.domain.fold import apply


def _registered(world: World, contact: str, reachable: str, expires_in_ms: int,
                agent_id: str = "a1", at_ms: int | None = None) -> ContactRegistered:
    at = world.now if at_ms is None else at_ms
    return ContactRegistered(
        event_id=world.new_id(), tenant_id=T, at_ms=at, agent_id=agent_id,
        contact_uri=contact, reachable_uri=reachable, expires_at_ms=at + expires_in_ms,
    )


def _unregistered(world: World, contact: str, at_ms: int | None = None) -> ContactUnregistered:
    return ContactUnregistered(
        event_id=world.new_id(), tenant_id=T, at_ms=world.now if at_ms is None else at_ms,
        agent_id="a1", contact_uri=contact, reason="unregistered",
    )


def test_an_agent_is_offered_at_its_newest_registered_contact_then_its_static_one() -> None:
    world = World()
    natted = _registered(world, "sip:a1@10.0.0.5:5062", "sip:a1@203.0.113.7:4000", 60_000)
    apply(world.state, natted)
    world.now += 1_000
    apply(world.state, _registered(world, "sip:a1@10.0.0.6:5062", "sip:a1@10.0.0.6:5062", 60_000))
    world.ready("a1")
    world.arrive("i1")
    assert world.open_offer("i1").endpoint == "sip:a1@10.0.0.6:5062"
    world.complete("i1")
    # The newest unregisters: the older one is used; once both expire, the static URI.
    apply(world.state, _unregistered(world, "sip:a1@10.0.0.6:5062"))
    registrations = world.state.tenant(T).registrations
    assert registrations.endpoint("a1", "sip:a1@x", world.now) == "sip:a1@203.0.113.7:4000"
    assert registrations.endpoint("a1", "sip:a1@x", world.now + 61_000) == "sip:a1@x"


def test_bindings_fold_in_any_order() -> None:
    world = World()
    registered = _registered(world, "sip:a1@h", "sip:a1@h", 3_600_000, at_ms=1_000)
    unregistered = _unregistered(world, "sip:a1@h", at_ms=2_000)
    for order in ([registered, unregistered], [unregistered, registered]):
        fresh = World()
        for fact in order:
            apply(fresh.state, fact)
        assert fresh.state.tenant(T).registrations.contacts("a1", 1_500) == []


def test_registration_events_map_to_facts() -> None:
    event = RegistrationEvent(
        envelope=new_envelope(tenant_id=T, producer="ingress-sip/i0", agent_id="a1",
                              occurred_at_ms=5_000)
    )
    event.registered.agent_id = "a1"
    event.registered.contact_uri = "sip:a1@10.0.0.5"
    event.registered.reachable_uri = "sip:a1@203.0.113.7:4000"
    event.registered.expires_at_ms = 65_000
    fact = to_fact(event)
    assert isinstance(fact, ContactRegistered)
    assert (fact.agent_id, fact.reachable_uri, fact.expires_at_ms, fact.at_ms) == (
        "a1", "sip:a1@203.0.113.7:4000", 65_000, 5_000
    )
    gone = RegistrationEvent(envelope=event.envelope)
    gone.unregistered.agent_id = "a1"
    gone.unregistered.contact_uri = "sip:a1@10.0.0.5"
    gone.unregistered.reason = "expired"
    assert isinstance(to_fact(gone), ContactUnregistered)
