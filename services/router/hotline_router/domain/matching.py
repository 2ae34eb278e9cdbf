"""Matching and selection, as pure rules: the order contacts are served in (aged priority),
which agents may take a contact at its bullseye step (skills, language, sites), which of
them the queue's strategy picks, and a contact's preferred agent. decisions.py applies them.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass

from hotline_router.domain.model import (
    ANY_SITE,
    Agent,
    Interaction,
    Placement,
    QueueConfig,
    Skill,
    Strategy,
    TenantConfig,
    satisfies,
)

# --------------------------------------------------------------------------- contacts

RoutingKey = tuple[int, int, str]


def aged_priority(priority: int, queued_at_ms: int, now_ms: int, aging_ms: int) -> int:
    """The contact's priority after its wait: +1 every `aging_ms` waited (0: no aging), so an
    old low-priority contact eventually goes before a new high-priority one."""
    if aging_ms <= 0:
        return priority
    return priority + max(0, now_ms - queued_at_ms) // aging_ms


def routing_key(priority: int, queued_at_ms: int, interaction_id: str) -> RoutingKey:
    """Routing order: higher (aged) priority first, then earliest queued, then a stable
    tie-break."""
    return (-priority, queued_at_ms, interaction_id)


def steps_due(queue: QueueConfig, waited_ms: int) -> int:
    """How many of the queue's bullseye steps a contact that waited `waited_ms` has reached
    (steps are in increasing `after_ms`, checked when the config is loaded)."""
    return sum(1 for step in queue.expansions if step.after_ms <= waited_ms)


# --------------------------------------------------------------------------- agents


def speaks(languages: Iterable[str], language: str) -> bool:
    """One of `languages` fits the BCP-47 tag `language`: the same tag, or one a prefix of
    the other at a subtag boundary ("de" serves "de-AT"; "pt-BR" serves a bare "pt");
    case-insensitive."""
    if language in languages:
        return True
    want = language.lower()
    for lang in languages:
        have = lang.lower()
        if have == want or want.startswith(have + "-") or have.startswith(want + "-"):
            return True
    return False


@dataclass(frozen=True)
class Target:
    """Who may take a contact now. Hashable: a target no free agent fits is skipped for
    every other contact with the same target in one routing pass."""

    queue_id: str
    strategy: Strategy
    # Any one of these skill sets qualifies (the first is the queue's, relaxed; bullseye
    # steps add skill groups and overflow queues' skills).
    requirements: tuple[tuple[Skill, ...], ...]
    language: str  # "" = any
    sites: frozenset[str] | None  # None = any site
    step: int = 0


def target(
    queue: QueueConfig,
    tc: TenantConfig,
    required: tuple[Skill, ...],
    language: str,
    step: int,
    home_site: str,
    site_open: bool,
) -> Target:
    """The target of a contact of `queue` needing `required` in `language`, at bullseye
    `step` (steps 1..step applied). `home_site` ("" = none) restricts the sites until
    `site_open` (the wait passed the queue's site overflow, or nobody is logged in there)."""
    relax = 0
    groups: list[tuple[Skill, ...]] = []
    sites: set[str] | None = None if site_open or not home_site else {home_site}
    for expansion in queue.expansions[:step]:
        relax += expansion.relax_levels_by
        if expansion.add_skills:
            groups.append(expansion.add_skills)
        overflow = tc.queues.get(expansion.add_queue) if expansion.add_queue else None
        if overflow is not None:
            groups.append(overflow.required_skills)
        if sites is not None and expansion.add_sites:
            sites = None if ANY_SITE in expansion.add_sites else sites | set(expansion.add_sites)
    base = tuple(Skill(s.name, max(0, s.level - relax)) for s in required) if relax else required
    return Target(
        queue_id=queue.queue_id,
        strategy=queue.strategy,
        requirements=(base, *groups),
        language="" if queue.any_language else language,
        sites=None if sites is None else frozenset(sites),
        step=step,
    )


def fits(
    skills: tuple[Skill, ...], languages: tuple[str, ...], site: str, t: Target,
    *, any_site: bool = False,
) -> bool:
    """An agent with these skills, languages and site fits the target: at one of its sites,
    speaking its language, with one of its skill sets. An agent with no languages listed is
    not language-routed (a configuration from before languages were matched)."""
    if not any_site and t.sites is not None and site not in t.sites:
        return False
    if t.language and languages and not speaks(languages, t.language):
        return False
    return any(satisfies(skills, req) for req in t.requirements)


def eligible(agent: Agent, t: Target, *, any_site: bool = False) -> bool:
    return fits(agent.skills, agent.languages, agent.site_id, t, any_site=any_site)


def widest(
    queue: QueueConfig | None, tc: TenantConfig, required: tuple[Skill, ...]
) -> tuple[tuple[Skill, ...], ...]:
    """The skill sets that may take a contact of `queue` requiring `required` at the queue's
    widest bullseye step: the routing pool's sieve (languages and sites come later)."""
    if queue is None:
        return (required,)
    return target(queue, tc, required, "", len(queue.expansions), "", True).requirements


def proficiency(agent: Agent, required: tuple[Skill, ...]) -> int:
    """The agent's summed level on the required skills (most-skilled routing)."""
    names = {r.name for r in required}
    return sum(s.level for s in agent.skills if s.name in names)


def occupancy_ppm(agent: Agent, now_ms: int) -> int:
    """Share of the agent's session (since log-in) spent busy or wrapping up, per million."""
    return agent.occupied_ms * 1_000_000 // max(1, now_ms - agent.logged_in_at_ms)


AgentKey = tuple[int, int, str]


def agent_key(agent: Agent, t: Target, now_ms: int, last_offered: str) -> AgentKey:
    """The strategy's order among able agents (lowest first), ending on the agent id so that
    ties break the same way on every replay. Ties of most skilled and least occupied go to
    the longest idle. Round robin: the agents after the queue's last offered one in id
    order, then from the start again."""
    idle = agent.idle_since_ms
    match t.strategy:
        case Strategy.MOST_SKILLED:
            return (-proficiency(agent, t.requirements[0]), idle, agent.agent_id)
        case Strategy.LEAST_OCCUPIED:
            return (occupancy_ppm(agent, now_ms), idle, agent.agent_id)
        case Strategy.ROUND_ROBIN:
            return (int(agent.agent_id <= last_offered), 0, agent.agent_id)
    return (0, idle, agent.agent_id)


def best_agent(
    free: Iterable[Agent],
    t: Target,
    now_ms: int,
    *,
    excluded: Container[str] = (),
    last_offered: str = "",
) -> Agent | None:
    """The agent the strategy picks among the `free` ones fitting `t` (not `excluded`).
    `free` is in longest-idle order, so longest idle stops at the first that fits."""
    fits = (a for a in free if a.agent_id not in excluded and eligible(a, t))
    if t.strategy is Strategy.LONGEST_IDLE:
        return next(fits, None)
    return min(fits, key=lambda a: agent_key(a, t, now_ms, last_offered), default=None)


# --------------------------------------------------------------------------- preferred agent


@dataclass(frozen=True)
class Preference:
    """An agent the contact goes to first: only to them until `until_ms`, then to them if
    free, else to anyone able."""

    agent_id: str
    until_ms: int
    # Chosen by a colleague (a transfer to an agent): skills and language do not apply.
    by_name: bool = False


def preference(
    it: Interaction,
    placement: Placement,
    queue: QueueConfig | None,
    ring_ms: int,
    last_agents: Mapping[str, tuple[int, str]],
) -> Preference | None:
    """A transfer to an agent (for one ring time-out from the placement); else, in the first
    leg, the agent named by self-service or the API, else the last agent who served this
    customer when the queue prefers it (for the queue's preferred-agent time-out). Never an
    agent who already wrapped up this contact."""
    last = it.last_transfer
    chosen: Preference | None = None
    if last is not None:
        if last.to_agent_id:
            chosen = Preference(last.to_agent_id, placement.queued_at_ms + ring_ms, by_name=True)
    elif queue is not None:
        until = placement.queued_at_ms + queue.preferred_agent_timeout_ms
        named = it.self_service.preferred_agent_id if it.self_service else ""
        if not named and queue.prefer_last_agent and it.customer in last_agents:
            named = last_agents[it.customer][1]
        if named:
            chosen = Preference(named, until)
    if chosen is None or chosen.agent_id in it.wrap_ups_started:
        return None
    return chosen
