"""The platform's tenancy config -> the router's routing config."""

from __future__ import annotations

from hotline_platform.tenancy import SkillLevel, TenancyConfig
from hotline_router.domain.model import (
    AgentProfile,
    EntryPointConfig,
    QueueConfig,
    RoutingConfig,
    Skill,
    TenantConfig,
)


def _skills(levels: tuple[SkillLevel, ...]) -> tuple[Skill, ...]:
    return tuple(Skill(s.name, s.level) for s in levels)


def routing_config(
    tenancy: TenancyConfig, *, offer_grace_ms: int = 5_000, ingress_lost_after_ms: int = 25_000
) -> RoutingConfig:
    tenants = {}
    for tid, tenant in tenancy.tenants.items():
        queues = {
            q.id: QueueConfig(
                queue_id=q.id,
                required_skills=_skills(q.required_skills),
                language=q.language,
                priority=q.priority,
                service_level_threshold_s=q.service_level_threshold_s,
                ring_timeout_ms=round(q.ring_timeout_s * 1000),
                wrap_up_timeout_ms=round(q.wrap_up_timeout_s * 1000),
            )
            for q in tenant.queues.values()
        }
        entry_points = {
            ep.address: EntryPointConfig(ep.address, ep.queue_id if ep.kind == "queue" else "")
            for ep in tenancy.entry_points.values()
            if ep.tenant_id == tid
        }
        agents = {
            a.id: AgentProfile(
                agent_id=a.id,
                display_name=a.name,
                site_id=a.site_id,
                skills=_skills(a.skills),
                languages=a.languages,
                endpoint=a.phone,
            )
            for a in tenant.agents.values()
        }
        tenants[tid] = TenantConfig(tid, queues, entry_points, agents)
    return RoutingConfig(
        tenants=tenants, offer_grace_ms=offer_grace_ms, ingress_lost_after_ms=ingress_lost_after_ms
    )
