"""What `decide` must look at again: per decision step, the agents or contacts a fact changed
since that step last found nothing to do for them, plus the timers that came due.

Every per-item rule of `decisions` depends only on the item's own record (an agent and the
contact it holds; a contact and the agents it was offered to), the configuration and the
time. So an item the step found nothing for stays that way until a fact about it is folded
(the fold marks it here), the configuration changes (everything is marked) or its timer
comes due. An item the step did decide for stays marked until a fact changes it, so calling
`decide` again without acting gives the same answer. Pure bookkeeping: ids only, no I/O.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

D = TypeVar("D")


@dataclass
class Timers:
    """Due times by id; `due(now)` pops those that came due. Each id has one live entry:
    re-arming with another time leaves a stale heap entry, skipped when popped."""

    at: dict[str, int] = field(default_factory=dict)
    _heap: list[tuple[int, str]] = field(default_factory=list)

    def arm(self, key: str, due_ms: int) -> None:
        if self.at.get(key) != due_ms:
            self.at[key] = due_ms
            heapq.heappush(self._heap, (due_ms, key))

    def cancel(self, key: str) -> None:
        self.at.pop(key, None)

    def due(self, now_ms: int) -> set[str]:
        out: set[str] = set()
        heap = self._heap
        while heap and heap[0][0] <= now_ms:
            due_ms, key = heapq.heappop(heap)
            if self.at.get(key) == due_ms:
                del self.at[key]
                out.add(key)
        if len(heap) > 2 * len(self.at) + 64:  # mostly stale: rebuild
            self._heap = [(due, key) for key, due in self.at.items()]
            heapq.heapify(self._heap)
        return out


@dataclass
class TenantIndex:
    # The configuration the marks below were last evaluated under (None: never): another
    # one marks everything.
    config: object | None = None
    live_since_ms: int = -1
    # Marked per decision step.
    agents: set[str] = field(default_factory=set)  # reconcile: an agent and its contact
    contacts: set[str] = field(default_factory=set)  # reconcile: a contact and its agents
    lost: set[str] = field(default_factory=set)  # end_lost_contacts
    to_queue: set[str] = field(default_factory=set)  # queue_arrivals
    to_place: set[str] = field(default_factory=set)  # place_transfers
    offers: set[str] = field(default_factory=set)  # expire_offers
    compact: set[str] = field(default_factory=set)  # fold.compact
    # treatment.decide: contacts; their max waits and queues' hours ("@" + queue id); an
    # agent logged in or out; the configuration its queues with hours were listed under.
    treat: set[str] = field(default_factory=set)
    treat_due: Timers = field(default_factory=Timers)
    roster: bool = False
    treat_config: object | None = None
    hours_queues: tuple[str, ...] = ()
    # Ingress instances whose start moved (their contacts' "restarted" judgement changes).
    restarted: set[str] = field(default_factory=set)
    wrap_ups: Timers = field(default_factory=Timers)  # agent id -> wrap-up time-out
    offer_expiry: Timers = field(default_factory=Timers)  # interaction id -> offer time-out
    # interaction id -> agents whose `interaction_id` it is
    holders: dict[str, set[str]] = field(default_factory=dict)
    # agent id -> interactions with an offer to it or an answer by it
    links: dict[str, set[str]] = field(default_factory=dict)
    # ingress instance (arrived producer) -> its interactions in memory
    by_owner: dict[str, set[str]] = field(default_factory=dict)
    # The routing pool's (domain/pool.py): contacts and agents whose listing may have
    # changed; marked during a replay too (the pool is not judged against a configuration).
    pool_contacts: set[str] = field(default_factory=set)
    pool_agents: set[str] = field(default_factory=set)

    def __getstate__(self) -> dict[str, object]:
        # A snapshot (pickle) leaves the configuration out: restored, the index marks
        # everything at its first decide, as after a replay.
        return {**self.__dict__, "config": None, "treat_config": None}

    def interaction_changed(self, iid: str, agent_id: str = "") -> None:
        """A fact about the interaction was folded (`agent_id`: the agent it names)."""
        self.pool_contacts.add(iid)
        if agent_id:
            self.links.setdefault(agent_id, set()).add(iid)
        if self.config is None:
            return  # never evaluated (a replay): the first decide marks everything
        self.contacts.add(iid)
        self.lost.add(iid)
        self.to_queue.add(iid)
        self.to_place.add(iid)
        self.offers.add(iid)
        self.compact.add(iid)
        self.treat.add(iid)
        holders = self.holders.get(iid)
        if holders:
            self.agents.update(holders)

    def owner_changed(self, iid: str, old: str, new: str) -> None:
        """The interaction's ingress instance (its earliest `arrived`'s producer) is `new`."""
        if old:
            self._discard(self.by_owner, old, iid)
        if new:
            self.by_owner.setdefault(new, set()).add(iid)

    def agent_changed(self, agent_id: str, old_iid: str, new_iid: str) -> None:
        """A fact about the agent was folded; it held `old_iid`, now `new_iid`."""
        self.pool_agents.add(agent_id)
        if old_iid != new_iid:
            if old_iid:
                self._discard(self.holders, old_iid, agent_id)
                if self.config is not None:
                    self.compact.add(old_iid)  # may leave memory now
            if new_iid:
                self.holders.setdefault(new_iid, set()).add(agent_id)
        if self.config is None:
            return  # never evaluated (a replay): the first decide marks everything
        self.agents.add(agent_id)
        linked = self.links.get(agent_id)
        if linked:
            self.contacts.update(linked)

    def mark_all(
        self, config: object, agent_ids: Iterable[str], interaction_ids: Iterable[str]
    ) -> None:
        """Evaluate everything under `config` (another configuration, or never evaluated)."""
        self.config = config
        self.agents.update(agent_ids)
        self.pool_agents.update(self.agents)
        for iid in interaction_ids:
            self.interaction_changed(iid)

    def forget(self, iid: str, owner: str, agent_ids: Iterable[str]) -> None:
        """The interaction left memory (compaction)."""
        self.pool_contacts.add(iid)  # the pool drops it
        for marks in (
            self.contacts, self.lost, self.to_queue, self.to_place, self.offers, self.compact,
            self.treat,
        ):
            marks.discard(iid)
        self.offer_expiry.cancel(iid)
        self.treat_due.cancel(iid)
        self.holders.pop(iid, None)
        self._discard(self.by_owner, owner, iid)
        for agent_id in agent_ids:
            self._discard(self.links, agent_id, iid)

    @staticmethod
    def _discard(sets: dict[str, set[str]], key: str, item: str) -> None:
        found = sets.get(key)
        if found is not None:
            found.discard(item)
            if not found:
                del sets[key]


def scan_marked(
    marks: set[str], due: set[str], rule: Callable[[str], D | None], *, in_order: bool = False
) -> list[D]:
    """Apply a decision step's per-item `rule` to the items marked for it (tenant.index) and
    those whose timer came due; the decisions come in id order (that of a scan of them all),
    and with `in_order` the rule is applied in that order too (it depends on what it decided
    for the items before). An item the rule finds nothing for is unmarked: it finds nothing
    for it until a fact about it is folded. One it decides for stays marked, so deciding
    again without acting gives the same answer."""
    if not marks and not due:
        return []  # most steps of most passes
    keys = marks | due if due else marks
    found: list[tuple[str, D]] = []
    for key in sorted(keys) if in_order else list(keys):
        decision = rule(key)
        if decision is not None:
            found.append((key, decision))
    # Cleared, not discarded one by one: a set keeps the table of its largest size (all
    # marked after a replay), and going over it costs that size however few it holds.
    marks.clear()
    marks.update(key for key, _ in found)
    if not in_order:
        found.sort(key=lambda kd: kd[0])
    return [decision for _, decision in found]
