"""The routing pool of a tenant: the contacts waiting in each queue and the agents READY or
logged in, kept up to date from what the fold marks (index.pool_contacts / pool_agents).

A routing pass then looks only at the waiting contacts some free agent could take (by
skills, at the widest step of the contact's queue: the sieve) instead of every contact and
agent of the tenant; languages, sites and the strategy are judged on those few
(domain/matching.py). Skill sets and groups are interned as small ints: a tuple of Skill
dataclasses hashes in Python, an int in C.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hotline_router.domain.model import Agent, Interaction, Placement, Skill, TenantState

# Waiting contacts are grouped by (queue id, required skills): the skills are the queue's, or
# what self-service asked for.
Group = tuple[str, tuple["Skill", ...]]
Skills = tuple["Skill", ...]
Profile = tuple[Skills, tuple[str, ...]]  # an agent's skills and languages
Keyed = tuple[Any, str, "Placement"]  # (routing key, interaction id, placement)


@dataclass
class RoutingPool:
    # group id -> interaction id -> placement: waiting in its current leg (ringing included)
    waiting: dict[int, dict[str, Placement]] = field(default_factory=dict)
    listed: dict[str, int] = field(default_factory=dict)  # interaction id -> its group id
    ringing: set[str] = field(default_factory=set)  # waiting, an offer ringing
    named: set[str] = field(default_factory=set)  # waiting for an agent a transfer named
    # READY agents as (idle since, agent id), longest idle first, and by skill set id.
    ready: list[tuple[int, str]] = field(default_factory=list)
    ready_by_skills: dict[int, set[str]] = field(default_factory=dict)
    ready_by_name: dict[str, set[str]] = field(default_factory=dict)  # skill name -> READY
    # agent id -> (site, profile, skill set id, its `ready` entry or None): agents logged in
    logged_in: dict[str, tuple[str, Profile, int, tuple[int, str] | None]] = field(
        default_factory=dict
    )
    sites: Counter[str] = field(default_factory=Counter)  # agents logged in per site
    # skill name -> agents logged in per profile, of the profiles with that skill
    by_skill: dict[str, Counter[Profile]] = field(default_factory=dict)
    # Interned skill sets and groups (never dropped: few, and they come back).
    skill_sets: list[Skills] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    queue_groups: dict[str, list[int]] = field(default_factory=dict)  # queue id -> group ids
    _skill_id: dict[Skills, int] = field(default_factory=dict)
    _group_id: dict[Group, int] = field(default_factory=dict)
    # The sieve (sift), under `_config`: skill set id -> the group ids an agent with it
    # could take at the widest step, and back.
    _config: object | None = None
    _new: list[int] = field(default_factory=list)  # groups not sifted yet
    _fits: dict[int, set[int]] = field(default_factory=dict)
    _takers: dict[int, set[int]] = field(default_factory=dict)
    _by_name: dict[str, set[int]] = field(default_factory=dict)  # a name one must hold
    _anyone: set[int] = field(default_factory=set)  # groups any skills may take
    _sets_by_name: dict[str, set[int]] = field(default_factory=dict)  # sifted skill sets
    # group id -> READY skill sets that could take it (the sifted ones), and the READY skill
    # sets not sifted yet.
    _chosen: Counter[int] = field(default_factory=Counter)
    _unsifted: set[int] = field(default_factory=set)
    # Queues with bullseye steps, under `_config`.
    expanding: frozenset[str] = frozenset()
    # count_logged_in's answers, until an agent logs in or out or its profile changes.
    _counts: dict[object, int] = field(default_factory=dict)
    # group id -> (from, until or None: for ever, its members in routing order), and the
    # members come since, not in it yet: in_order.
    _order: dict[int, tuple[int, int | None, list[Keyed]]] = field(default_factory=dict)
    _unordered: dict[int, set[str]] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, object]:
        # A snapshot (pickle) leaves the configuration and what was judged under it out.
        return {**self.__dict__, "_config": None, "_fits": {}, "_takers": {}, "_by_name": {},
                "_anyone": set(), "_sets_by_name": {}, "_new": [], "_counts": {}, "_order": {},
                "_unordered": {}, "_chosen": Counter(), "_unsifted": set(),
                "expanding": frozenset()}

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
                self._order.pop(old, None)
                self._unordered.pop(old, None)
            else:
                self._unorder(old, iid)
        self.ringing.discard(iid)
        self.named.discard(iid)
        placement = it.current_placement if it is not None else None
        if it is None or placement is None or not it.waiting:
            return
        group = (placement.queue_id, placement.required_skills)
        gid = self._group_id.get(group)
        if gid is None:
            gid = self._group_id[group] = len(self.groups)
            self.groups.append(group)
            self.queue_groups.setdefault(placement.queue_id, []).append(gid)
            self._new.append(gid)
        self.waiting.setdefault(gid, {})[iid] = placement
        if gid in self._order:
            self._unordered.setdefault(gid, set()).add(iid)
        self.listed[iid] = gid
        if it.open_offer() is not None:
            self.ringing.add(iid)
        last = it.last_transfer
        if last is not None and last.to_agent_id:
            self.named.add(iid)

    def _agent(self, agent_id: str, agent: Agent | None) -> None:
        from hotline_router.domain.model import AgentState  # a cycle at import time

        old = self.logged_in.pop(agent_id, None)
        here: tuple[str, Profile] | None = None  # site and profile, if logged in
        if agent is not None and agent.state is not AgentState.LOGGED_OUT:
            here = (agent.site_id, (agent.skills, agent.languages))
        # Still logged in at the same site with the same profile (a state change): the
        # counts per site and per profile stay.
        same = old is not None and old[:2] == here
        if old is not None:
            site, profile, sid, entry = old
            if not same:
                _less(self.sites, site)
                for skill in profile[0]:
                    _less(self.by_skill[skill.name], profile)
            if entry is not None:
                del self.ready[bisect.bisect_left(self.ready, entry)]
                if _leave(self.ready_by_skills, sid, agent_id):
                    for gid in self._fits.get(sid, ()):
                        _less(self._chosen, gid)
                for skill in profile[0]:
                    _leave(self.ready_by_name, skill.name, agent_id)
        if agent is None or here is None:
            if old is not None:
                self._counts.clear()
            return
        profile = here[1]
        sid = self._skill_id.setdefault(agent.skills, len(self.skill_sets))
        if sid == len(self.skill_sets):
            self.skill_sets.append(agent.skills)
        entry = None
        if agent.state is AgentState.READY:
            entry = (agent.idle_since_ms, agent_id)
            bisect.insort(self.ready, entry)
            readies = self.ready_by_skills.get(sid)
            if readies is None:
                readies = self.ready_by_skills[sid] = set()
                self._unsifted.add(sid)
                self._chosen.update(self._fits.get(sid, ()))
            readies.add(agent_id)
            for skill in agent.skills:
                self.ready_by_name.setdefault(skill.name, set()).add(agent_id)
        self.logged_in[agent_id] = (agent.site_id, profile, sid, entry)
        if not same:
            self.sites[agent.site_id] += 1
            for skill in agent.skills:
                self.by_skill.setdefault(skill.name, Counter())[profile] += 1
            self._counts.clear()

    def count_logged_in(
        self, key: object, fits: Callable[[Profile], bool], skill: str = ""
    ) -> int:
        """Agents logged in whose (skills, languages) `fits`, among those with `skill` if
        given: judged once per distinct profile, and remembered under `key` until an agent
        logs in or out or changes."""
        found = self._counts.get(key)
        if found is None:
            profiles = self.by_skill.get(skill, Counter()) if skill else Counter(
                entry[1] for entry in self.logged_in.values()
            )
            found = self._counts[key] = sum(n for p, n in profiles.items() if fits(p))
        return found

    def count_ready(
        self, fits: Callable[[Profile], bool], enough: int, skip: Container[str] = (),
        skill: str = "",
    ) -> int:
        """READY agents whose (skills, languages) `fits`, not in `skip`, among those with
        `skill` if given, counted up to `enough` (the caller only needs to know whether
        there are that many)."""
        found = 0
        groups = (
            (self.ready_by_name.get(skill, ()),) if skill else self.ready_by_skills.values()
        )
        for agents in groups:
            for agent_id in agents:
                if agent_id not in skip and fits(self.logged_in[agent_id][1]):
                    found += 1
                    if found >= enough:
                        return found
        return found

    def sift(
        self,
        fits: Callable[[Skills, Group], bool],
        names: Callable[[Group], frozenset[str] | None],
        config: object,
    ) -> None:
        """Bring the sieve up to date under `config`: for the skill set of every READY agent,
        the groups `fits` says an agent with it could take. `names(group)`: skill names one
        of which such an agent must hold (None: any skills may do), so a new skill set is
        tried against a few groups, not all."""
        self.configure(config)
        for gid in self._new:
            group = self.groups[gid]
            must = names(group)
            if must is None:
                self._anyone.add(gid)
                sifted: Iterable[int] = list(self._fits)
            else:
                for name in must:
                    self._by_name.setdefault(name, set()).add(gid)
                sifted = set().union(*(self._sets_by_name.get(n, ()) for n in must))
            takers = self._takers.setdefault(gid, set())
            for sid in sifted:
                if fits(self.skill_sets[sid], group):
                    self._fits[sid].add(gid)
                    takers.add(sid)
                    if sid in self.ready_by_skills:
                        self._chosen[gid] += 1
        self._new = []
        for sid in self._unsifted:
            if sid in self._fits or sid not in self.ready_by_skills:
                continue
            skills = self.skill_sets[sid]
            tried = set(self._anyone).union(*(self._by_name.get(s.name, ()) for s in skills))
            fitting = self._fits[sid] = {g for g in tried if fits(skills, self.groups[g])}
            for gid in fitting:
                self._takers[gid].add(sid)
            self._chosen.update(fitting)
            for skill in skills:
                self._sets_by_name.setdefault(skill.name, set()).add(sid)
        self._unsifted = set()

    def configure(self, config: Any) -> None:
        """Forget what was judged under another configuration (`config`: a TenantConfig)."""
        if config is not self._config:
            self._config, self._fits, self._takers = config, {}, {}
            self._order, self._unordered = {}, {}
            self._by_name, self._anyone, self._sets_by_name = {}, set(), {}
            self._chosen, self._unsifted = Counter(), set(self.ready_by_skills)
            self._new = list(range(len(self.groups)))
            self.expanding = frozenset(q for q, c in config.queues.items() if c.expansions)

    def offerable(self, sifted: bool) -> tuple[list[int], list[str]]:
        """Where the waiting contacts with no offer ringing are: the groups (ringing ones
        included), and the contacts outside them a transfer named an agent for (not
        ringing). `sifted`: only the groups a READY agent could take (by the last sift)."""
        if not sifted:
            return list(self.waiting), []
        chosen, listed = self._chosen, self.listed
        named = [i for i in self.named - self.ringing if listed[i] not in chosen]
        return [g for g in chosen if g in self.waiting], named

    def in_order(
        self, gid: int, now_ms: int, aging_ms: int, key: Callable[[str, Placement], Any]
    ) -> list[Keyed]:
        """The group's waiting contacts (ringing ones included) by `key(iid, placement)`
        at `now_ms`. Kept between calls while no member's aged priority went up (`aging_ms`:
        the rate of the group's queue), when every key is the same: a member who left was
        taken out, one who came is put in its place (bisect). Else sorted again."""
        members = self.waiting[gid]
        cached = self._order.get(gid)
        came: Iterable[str] = self._unordered.pop(gid, ())
        if cached is not None and cached[0] <= now_ms and (cached[1] is None or now_ms < cached[1]):
            since, until, ordered = cached
            if not came:
                return ordered
            for iid in came:
                p = members[iid]
                bisect.insort(ordered, (key(iid, p), iid, p))
            # The new keys hold from now on (the clock may have gone back since).
            since = max(since, now_ms)
        else:
            since, until = now_ms, None
            ordered = sorted([(key(iid, p), iid, p) for iid, p in members.items()])
            came = members
        if aging_ms > 0:  # the first next step up of a member's aged priority
            for iid in came:
                p = members[iid]
                step = p.queued_at_ms + (max(0, now_ms - p.queued_at_ms) // aging_ms + 1) * aging_ms
                until = step if until is None else min(until, step)
        self._order[gid] = (since, until, ordered)
        return ordered

    def _unorder(self, gid: int, iid: str) -> None:
        """The member leaves the group's order kept by in_order."""
        came = self._unordered.get(gid)
        if came is not None and iid in came:
            came.discard(iid)  # never put in
            return
        cached = self._order.get(gid)
        if cached is not None:
            ordered = cached[2]
            for n, entry in enumerate(ordered):
                if entry[1] == iid:
                    del ordered[n]
                    return

    def takers(self, gid: int) -> Iterator[str]:
        """READY agents who could take the group's contacts (by the last sift)."""
        for sid in self._takers.get(gid, ()):
            yield from self.ready_by_skills.get(sid, ())

    def in_queue(self, queue_id: str) -> Iterator[tuple[str, Placement]]:
        """Every contact waiting in the queue, ringing ones included."""
        for gid in self.queue_groups.get(queue_id, ()):
            members = self.waiting.get(gid)
            if members:
                yield from members.items()


def _leave(members: dict[Any, set[str]], key: object, member: str) -> bool:
    """`member` leaves the set under `key`; an empty set leaves (the dicts are iterated):
    then True."""
    left = members[key]
    left.discard(member)
    if left:
        return False
    del members[key]
    return True


def _less(counter: Counter[Any], key: object) -> None:
    """One fewer; a key at zero leaves (the counters are iterated)."""
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
