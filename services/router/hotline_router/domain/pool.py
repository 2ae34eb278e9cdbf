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
from typing import TYPE_CHECKING, Any

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
    ready_by_skills: dict[Skills, set[str]] = field(default_factory=dict)  # READY agents
    # skill name -> agents logged in per profile, of the profiles with that skill
    by_skill: dict[str, Counter[Profile]] = field(default_factory=dict)
    # The sieve (sift), under `_config`: skills of READY agents -> the groups an agent with
    # them could take at the widest step, and back. Groups are never dropped from `_known`:
    # few, and they come back.
    _config: object | None = None
    _known: set[Group] = field(default_factory=set)
    _new: list[Group] = field(default_factory=list)
    _fits: dict[Skills, set[Group]] = field(default_factory=dict)
    _takers: dict[Group, set[Skills]] = field(default_factory=dict)
    _by_name: dict[str, set[Group]] = field(default_factory=dict)  # a name one must hold
    _anyone: set[Group] = field(default_factory=set)  # groups any skills may take
    # count_logged_in's answers, until an agent logs in or out or its profile changes.
    _counts: dict[object, int] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, object]:
        # A snapshot (pickle) leaves the configuration and what was judged under it out.
        return {**self.__dict__, "_config": None, "_fits": {}, "_takers": {}, "_by_name": {},
                "_anyone": set(), "_new": [], "_counts": {}}

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
            _less(self.sites, old[0])
            _less(self.profiles, old[1])
            for skill in old[1][0]:
                _less(self.by_skill[skill.name], old[1])
            if agent_id in self.ready:
                self.ready.discard(agent_id)
                readies = self.ready_by_skills[old[1][0]]
                readies.discard(agent_id)
                if not readies:
                    del self.ready_by_skills[old[1][0]]
        new = None
        if agent is not None and agent.state is not AgentState.LOGGED_OUT:
            new = (agent.site_id, (agent.skills, agent.languages))
            self.logged_in[agent_id] = new
            self.sites[new[0]] += 1
            self.profiles[new[1]] += 1
            for skill in agent.skills:
                self.by_skill.setdefault(skill.name, Counter())[new[1]] += 1
            if agent.state is AgentState.READY:
                self.ready.add(agent_id)
                self.ready_by_skills.setdefault(agent.skills, set()).add(agent_id)
        if new != old:
            self._counts.clear()

    def count_logged_in(
        self, key: object, fits: Callable[[Profile], bool], skill: str = ""
    ) -> int:
        """Agents logged in whose (skills, languages) `fits`, among those with `skill` if
        given: judged once per distinct profile, and remembered under `key` until an agent
        logs in or out or changes."""
        found = self._counts.get(key)
        if found is None:
            profiles = self.by_skill.get(skill, Counter()) if skill else self.profiles
            found = self._counts[key] = sum(n for p, n in profiles.items() if fits(p))
        return found

    def sift(
        self,
        fits: Callable[[Skills, Group], bool],
        names: Callable[[Group], frozenset[str] | None],
        config: object,
    ) -> None:
        """Bring the sieve up to date under `config`: for the skills of every READY agent, the
        groups `fits` says an agent with them could take. `names(group)`: skill names one of
        which such an agent must hold (None: any skills may do), so a new agent's skills are
        tried against a few groups, not all."""
        if config is not self._config:
            self._config, self._fits, self._takers = config, {}, {}
            self._by_name, self._anyone, self._new = {}, set(), list(self._known)
        for group in self._new:
            must = names(group)
            if must is None:
                self._anyone.add(group)
            for name in must or ():
                self._by_name.setdefault(name, set()).add(group)
            takers = self._takers.setdefault(group, set())
            for skills, fitting in self._fits.items():
                if fits(skills, group):
                    fitting.add(group)
                    takers.add(skills)
        self._new = []
        for skills in self.ready_by_skills:
            if skills in self._fits:
                continue
            tried = set(self._anyone).union(*(self._by_name.get(s.name, ()) for s in skills))
            fitting = self._fits[skills] = {g for g in tried if fits(skills, g)}
            for group in fitting:
                self._takers[group].add(skills)

    def offerable(self, sifted: bool) -> Iterator[tuple[str, Placement]]:
        """Waiting contacts with no offer ringing; `sifted`: only those a READY agent could
        take (by the last sift), and those a transfer named an agent for."""
        if sifted:
            chosen: set[Group] = set().union(*(self._fits[k] for k in self.ready_by_skills))
            groups: Iterable[Group] = [g for g in chosen if g in self.waiting]
        else:
            groups = list(self.waiting)
        seen: set[str] = set()
        for group in groups:
            for iid, placement in self.waiting[group].items():
                if iid not in self.ringing:
                    seen.add(iid)
                    yield iid, placement
        for iid in self.named - self.ringing - seen:
            yield iid, self.waiting[self.listed[iid]][iid]

    def takers(self, group: Group) -> Iterator[str]:
        """READY agents who could take the group's contacts (by the last sift)."""
        for skills in self._takers.get(group, ()):
            yield from self.ready_by_skills.get(skills, ())

    def in_queue(self, queue_id: str) -> Iterator[tuple[str, Placement]]:
        """Every contact waiting in the queue, ringing ones included."""
        for (qid, _), members in self.waiting.items():
            if qid == queue_id:
                yield from members.items()


def _less(counter: Counter[Any], key: object) -> None:
    """One fewer; a key at zero leaves (the counters are iterated)."""
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
