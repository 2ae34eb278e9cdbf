"""Contacts of an IVR entry point: queued only when self-service routes them, with the
priority self-service chose (0: the queue's)."""

from __future__ import annotations

from router_world import T, World

from hotline_platform.tenancy import EntryPoint, TenancyConfig, Tenant
from hotline_router.adapters.config import routing_config
from hotline_router.domain.facts import Queued, SelfServiceFinished
from hotline_router.domain.model import Skill


def _finish(w: World, iid: str, queue_id: str, priority: int) -> list[object]:
    return list(
        w.ingress(
            SelfServiceFinished(
                event_id=w.new_id(), tenant_id=T, at_ms=w.now, interaction_id=iid,
                outcome="route_to_queue", queue_id=queue_id, language="de",
                required_skills=(Skill("support", 1),), priority=priority,
            )
        )
    )


def test_ivr_contact_waits_for_self_service_then_takes_its_priority() -> None:
    w = World()
    assert w.arrive("c1", entry="999") == []  # entry point without a queue: the IVR's turn
    w.now += 4_000
    out = _finish(w, "c1", "support", 7)
    queued = [f for f in out if isinstance(f, Queued)]
    assert [(q.queue_id, q.priority, q.language, q.at_ms) for q in queued] == [
        ("support", 7, "de", w.now)
    ]
    assert queued[0].required_skills == (Skill("support", 1),)


def test_self_service_without_priority_keeps_the_queue_priority() -> None:
    w = World()
    w.arrive("c1", entry="999")
    queued = [f for f in _finish(w, "c1", "vip", 0) if isinstance(f, Queued)]
    assert [(q.queue_id, q.priority) for q in queued] == [("vip", 5)]


def test_an_ivr_entry_point_has_no_queue_for_the_router() -> None:
    tenancy = TenancyConfig(
        sites=("s",),
        tenants={T: Tenant(T, T, "")},
        entry_points={"1": EntryPoint("1", T, "", "ivr", "s")},
    )
    config = routing_config(tenancy)
    assert config.tenants[T].entry_points["1"].queue_id == ""
