"""The platform's tenancy config -> the router's routing config."""

from __future__ import annotations

from hotline_platform.tenancy import FlowOut, Queue, SkillLevel, TenancyConfig
from hotline_router.domain.model import (
    AgentProfile,
    EntryPointConfig,
    ExpansionStep,
    QueueConfig,
    RoutingConfig,
    Skill,
    Strategy,
    TenantConfig,
)
from hotline_router.domain.treatment import FlowOutTarget, Treatment


def _skills(levels: tuple[SkillLevel, ...]) -> tuple[Skill, ...]:
    return tuple(Skill(s.name, s.level) for s in levels)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _queue(q: Queue) -> QueueConfig:
    return QueueConfig(
        queue_id=q.id,
        required_skills=_skills(q.required_skills),
        language=q.language,
        priority=q.priority,
        service_level_threshold_s=q.service_level_threshold_s,
        ring_timeout_ms=_ms(q.ring_timeout_s),
        wrap_up_timeout_ms=_ms(q.wrap_up_timeout_s),
        strategy=Strategy(q.strategy),
        any_language=q.any_language,
        priority_aging_ms=_ms(q.priority_aging_s),
        home_site=q.home_site,
        site_overflow_ms=_ms(q.site_overflow_s),
        expansions=tuple(
            ExpansionStep(
                _ms(x.after_s), x.relax_levels_by, _skills(x.add_skills), x.add_sites,
                x.add_queue,
            )
            for x in q.expansions
        ),
        preferred_agent_timeout_ms=_ms(q.preferred_agent_timeout_s),
        prefer_last_agent=q.prefer_last_agent,
        treatment=_treatment(q),
    )


def _treatment(q: Queue) -> Treatment | None:
    """None when the queue has none (the common case costs the router nothing)."""
    if not (q.max_wait_s or q.when_no_agents or q.hours or q.callback_after_s):
        return None
    return Treatment(
        max_wait_ms=_ms(q.max_wait_s), when_no_agents=q.when_no_agents,
        flow_out=_target(q.flow_out), hours=q.hours, closed=_target(q.closed),
        closed_prompt=q.closed_prompt, callback_after_ms=_ms(q.callback_after_s),
    )


def _target(flow: FlowOut) -> FlowOutTarget:
    return FlowOutTarget(flow.kind, flow.queue)


def routing_config(
    tenancy: TenancyConfig, *, offer_grace_ms: int = 5_000, ingress_lost_after_ms: int = 25_000
) -> RoutingConfig:
    tenants = {}
    for tid, tenant in tenancy.tenants.items():
        queues = {q.id: _queue(q) for q in tenant.queues.values()}
        entry_points = {
            ep.address: EntryPointConfig(
                ep.address, ep.queue_id if ep.kind == "queue" else "", ep.site_id, ep.priority
            )
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
        tenants=tenants, offer_grace_ms=offer_grace_ms, ingress_lost_after_ms=ingress_lost_after_ms,
        drained_sites=tenancy.drained_sites,
    )
