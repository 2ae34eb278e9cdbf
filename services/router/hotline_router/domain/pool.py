"""The routing pool of a tenant: the contacts waiting in each queue and the agents READY or
logged in, kept up to date from what the fold marks (index.pool_contacts / pool_agents).

A routing pass then looks only at the waiting contacts some free agent could take (by
skills, at the widest step of the contact's queue) instead of every contact and agent of
the tenant; languages, sites and the strategy are judged on those few (domain/matching.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline_router.domain.model import Agent, Interaction, Placement, Skill, TenantState

# Waiting contacts are grouped by (queue id, required skills): the skills are the queue's, or
# what self-service asked for.
Group = tuple[str, tuple["Skill", ...]]
Skills = tuple["Skill", ...]
Profile = tuple[Skills, tuple[str, ...]]  # an agent's skills and languages


@dataclass
class RoutingPool:
    # group -> interaction id -> placement: waiting in its current leg (ringing included)
    waiting: dict[Group, dict[str, Placement]] = field(default_factory=dict)
    listed: dict[str, Group] = field(default_factory=dict)  # interaction id -> its group
    ringing: set[str] = field(default_factory=set)  # waiting, an offer ringing
    named: set[str] = field(default_factory=set)  # waiting for an agent a transfer named
    ready: set[str] = field(default_factory=set)
    logged_in: dict[str, tuple[str, Profile]] = field(default_factory=dict)  # -> site, profile
    sites: Counter[str] = field(default_factory=Counter)  # agents logged in per site
    profiles: Counter[Profile] = field(default_factory=Counter)  # agents logged in per profile
    # Skills -> the groups an agent with them could take at the widest step, under `_config`
    # (groups are never dropped from `_known`: few, and they come back).
    _config: object | None = None
    _known: set[Group] = field(default_factory=set)
    _fits: dict[Skills, set[Group]] = field(default_factory=dict)
    _new: list[Group] = field(default_factory=list)

    def __getstate__(self) -> dict[str, object]:
        # A snapshot (pickle) leaves the configuration and what was judged under it out.
        return {**self.__dict__, "_config": None, "_fits": {}, "_new": []}

    def refresh(self, tenant: TenantState) -> None:
        """List again the contacts and agents a fact changed since the last refresh."""
        index = tenant.index
        if index.pool_contacts:
            for iid in index.pool_contacts:
                self._contact(iid, tenant.interactions.get(iid))
            index.pool_contacts.clear()
        if index.pool_agents:
            for agent_id in index.pool_agents:
                self._agent(agent_id, tenant.agents.get(agent_id))
            index.pool_agents.clear()

    def _contact(self, iid: str, it: Interaction | None) -> None:
        old = self.listed.pop(iid, None)
        if old is not None:
            members = self.waiting[old]
            del members[iid]
            if not members:
                del self.waiting[old]
        self.ringing.discard(iid)
        self.named.discard(iid)
        placement = it.current_placement if it is not None else None
        if it is None or placement is None or not it.waiting:
            return
        group = (placement.queue_id, placement.required_skills)
        self.waiting.setdefault(group, {})[iid] = placement
        self.listed[iid] = group
        if group not in self._known:
            self._known.add(group)
            self._new.append(group)
        if it.open_offer() is not None:
            self.ringing.add(iid)
        last = it.last_transfer
        if last is not None and last.to_agent_id:
            self.named.add(iid)

    def _agent(self, agent_id: str, agent: Agent | None) -> None:
        from hotline_router.domain.model import AgentState  # a cycle at import time

        old = self.logged_in.pop(agent_id, None)
        if old is not None:
            self.sites[old[0]] -= 1
            self.profiles[old[1]] -= 1
        self.ready.discard(agent_id)
        if agent is None or agent.state is AgentState.LOGGED_OUT:
            return
        profile = (agent.skills, agent.languages)
        self.logged_in[agent_id] = (agent.site_id, profile)
        self.sites[agent.site_id] += 1
        self.profiles[profile] += 1
        if agent.state is AgentState.READY:
            self.ready.add(agent_id)

    def offerable(
        self,
        skill_sets: Iterable[Skills] | None,
        fits: Callable[[Skills, Group], bool],
        config: object,
    ) -> Iterator[tuple[str, Placement]]:
        """Waiting contacts with no offer ringing that an agent with one of `skill_sets` could
        take by `fits` (None: every one), and those a transfer named an agent for."""
        if skill_sets is None:
            groups: Iterable[Group] = list(self.waiting)
        else:
            if config is not self._config:
                self._config, self._fits, self._new = config, {}, []
            elif self._new:
                for skills, groups_fitting in self._fits.items():
                    groups_fitting.update(g for g in self._new if fits(skills, g))
                self._new = []
            chosen: set[Group] = set()
            for skills in set(skill_sets):
                fitting = self._fits.get(skills)
                if fitting is None:
                    fitting = self._fits[skills] = {g for g in self._known if fits(skills, g)}
                chosen |= fitting
            groups = [g for g in chosen if g in self.waiting]
        seen: set[str] = set()
        for group in groups:
            for iid, placement in self.waiting[group].items():
                if iid not in self.ringing:
                    seen.add(iid)
                    yield iid, placement
        for iid in self.named - self.ringing - seen:
            yield iid, self.waiting[self.listed[iid]][iid]

    def in_queue(self, queue_id: str) -> Iterator[tuple[str, Placement]]:
        """Every contact waiting in the queue, ringing ones included."""
        for (qid, _), members in self.waiting.items():
            if qid == queue_id:
                yield from members.items()
