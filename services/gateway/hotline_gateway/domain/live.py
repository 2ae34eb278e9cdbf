"""The live board behind the pages' push stream: agents, queues and offers of every tenant,
folded from the event topics, and a bounded, numbered history of changes for resuming.

Pure (standard library). The events adapter (adapters/events_feed.py) turns each event into a
`Fact` (its kind, envelope fields and body as plain values); `LiveBoard.apply` folds it and
returns the changes it caused, each an *upsert* of a whole entity (an agent, a queue, an
offer) with a sequence number. Because changes are whole entities, a client that missed some
is repaired by any later change of the same entity, and a catch-up is the changes after the
client's last number; when those are no longer kept, the client gets a snapshot instead.

Numbers: one counter per board (a gateway process), `epoch` names the process's board, so a
number from another process (a restart, another replica) is never mistaken for one of this.
Each tenant keeps its last `ring_size` changes (numbers of other tenants interleave); a
catch-up for a set of tenants is possible while none of them has dropped a change after it.

Today's figures (service level against target, abandonment rate, ASA, and each agent's own)
count the contacts that entered a queue since 00:00 UTC, by the tenant's KPI definitions
(tenancy `kpi`), as shared/KPI.md words them and the analytics report computes them; the report
(analytics Reports API) stays the authority, these are its live approximation for the day (a
contact's outcome counts when it happens, on the day its queueing happened).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DAY_MS = 86_400_000
STATES = ("logged_out", "ready", "not_ready", "reserved", "busy", "wrap_up")
LOGGED_IN = frozenset(STATES[1:])
MAX_CONTACTS = 50_000  # open contacts kept per tenant (the oldest are forgotten beyond)


# --------------------------------------------------------------------------- setup


@dataclass(frozen=True)
class QueueSetup:
    id: str
    required_skills: tuple[tuple[str, int], ...] = ()
    threshold_s: float = 20.0
    target: float = 0.8
    wrap_up_codes: tuple[tuple[str, str], ...] = ()  # (code, label)
    language: str = ""


@dataclass(frozen=True)
class AgentSetup:
    id: str
    name: str = ""
    site_id: str = ""
    skills: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class TenantSetup:
    """What the board needs of a tenant's configuration (the live directory's)."""

    id: str
    name: str = ""
    queues: Mapping[str, QueueSetup] = field(default_factory=dict)
    agents: Mapping[str, AgentSetup] = field(default_factory=dict)
    not_ready_reasons: tuple[tuple[str, str], ...] = ()
    service_level: str = "exclude"  # exclude | missed | met_if_within_T | removed_within_T
    short_abandon_s: float = 5.0
    abandonment_denominator: str = "offered"  # offered | queued | handled_plus_abandoned


def satisfies(skills: Iterable[tuple[str, int]], required: Iterable[tuple[str, int]]) -> bool:
    """The router's rule: every required skill at the required level or above."""
    levels = dict(skills)
    return all(name in levels and levels[name] >= level for name, level in required)


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Fact:
    """One event as plain values: `kind` is the event's oneof name (e.g. "state_changed",
    "offered"), `body` its fields (enums as lower-case names without prefix)."""

    kind: str
    tenant_id: str
    at_ms: int
    interaction_id: str = ""
    agent_id: str = ""
    site_id: str = ""
    body: Mapping[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- state


@dataclass
class Tally:
    queued: int = 0
    short_abandoned: int = 0
    short_abandoned_within: int = 0
    answered: int = 0
    answered_within: int = 0
    answer_wait_ms: int = 0
    abandoned: int = 0
    abandoned_within: int = 0
    callbacks_within: int = 0
    flowed_out_within: int = 0
    handled: int = 0


def service_level(t: Tally, definition: str) -> float | None:
    """Share (0..1) served within T, by the tenant's definition (shared/KPI.md)."""
    if definition == "missed":
        return _ratio(t.answered_within, t.answered + t.abandoned)
    if definition == "met_if_within_T":
        return _ratio(t.answered_within + t.abandoned_within, t.answered + t.abandoned)
    if definition == "removed_within_T":
        removed = (t.answered_within + t.abandoned_within + t.short_abandoned_within
                   + t.callbacks_within + t.flowed_out_within)
        return _ratio(removed, t.queued)
    return _ratio(t.answered_within, t.answered)


def abandonment_rate(t: Tally, denominator: str) -> float | None:
    base = {"queued": t.queued, "handled_plus_abandoned": t.handled + t.abandoned}.get(
        denominator, t.queued - t.short_abandoned
    )
    return _ratio(t.abandoned, base)


def _ratio(a: int, b: int) -> float | None:
    return a / b if b > 0 else None


@dataclass
class AgentLive:
    id: str
    state: str = "logged_out"
    reason_code: str = ""
    interaction_id: str = ""
    since_ms: int = 0
    site_id: str = ""
    skills: tuple[tuple[str, int], ...] | None = None  # None: the configured ones
    # Today (UTC): ms per state left today, contacts answered and handled, talk and wrap-up.
    day: int = -1
    state_ms: dict[str, int] = field(default_factory=dict)
    answered: int = 0
    handled: int = 0
    talk_ms: int = 0
    wrap_up_ms: int = 0


@dataclass
class Contact:
    id: str
    arrived_ms: int = 0
    channel: str = ""
    from_address: str = ""
    to_address: str = ""
    entry_point_id: str = ""
    language: str = ""
    subject: str = ""
    hints: tuple[tuple[str, str], ...] = ()
    intent: str = ""  # chosen in self-service (IVR)
    self_service_ms: int = 0
    queue_id: str = ""
    queued_ms: int = 0
    queued_day: int = -1
    waiting: bool = False
    offer_id: str = ""
    offer_agent: str = ""
    offered_ms: int = 0
    ring_timeout_ms: int = 0
    offer_status: str = ""  # ringing | connected | wrap_up | ended
    answered_ms: int = 0
    held: bool = False  # connected, the caller on hold (ingress-sip's held / resumed)
    done: bool = False  # ended: forgotten once its last change is out


@dataclass
class TenantLive:
    agents: dict[str, AgentLive] = field(default_factory=dict)
    contacts: OrderedDict[str, Contact] = field(default_factory=OrderedDict)
    # queue -> contacts waiting in it (id -> queued at): kept with Contact.waiting
    waiting: dict[str, dict[str, int]] = field(default_factory=dict)
    skills_version: int = 0  # bumped when an agent's skills change (log-in, log-out)
    # (setup, skills_version) it was computed for, queue -> agents able, agent -> queues
    eligible: tuple[object, int, dict[str, list[str]], dict[str, list[str]]] | None = None
    day: int = -1
    tallies: dict[str, Tally] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """One numbered upsert: `kind` agent | queue | offer, `key` the entity's id, `data` its
    whole current view. `agent_id` / `queue_id` say who may see it (see `Viewer`)."""

    seq: int
    tenant_id: str
    kind: str
    key: str
    data: Mapping[str, Any]
    agent_id: str = ""
    queue_id: str = ""

    def message(self) -> dict[str, Any]:
        return {"seq": self.seq, "type": self.kind, "tenant_id": self.tenant_id,
                "key": self.key, "data": dict(self.data)}


@dataclass(frozen=True)
class Viewer:
    """What one stream may see of one tenant: everything (`wide`: a supervisor, an admin, an
    operator), or (an agent) its own agent and offers and the queues it serves."""

    tenant_id: str
    wide: bool
    agent_id: str = ""
    queues: frozenset[str] = frozenset()
    see_agents: bool = True  # False: queue figures only (e.g. an API key for queue stats)

    def sees(self, change: Change) -> bool:
        if change.tenant_id != self.tenant_id:
            return False
        if change.kind == "queue":
            return self.wide or change.queue_id in self.queues
        if not self.see_agents:
            return False
        return self.wide or (bool(self.agent_id) and change.agent_id == self.agent_id)


class _Ring:
    def __init__(self, size: int) -> None:
        self.items: deque[Change] = deque(maxlen=size)
        self.dropped_upto = 0  # every change of this tenant numbered above it is kept

    def add(self, change: Change) -> None:
        if len(self.items) == self.items.maxlen:
            self.dropped_upto = self.items[0].seq
        self.items.append(change)


# --------------------------------------------------------------------------- the board


class LiveBoard:
    """Fold facts into per-tenant live state; number and keep the changes; answer snapshots
    and catch-ups. Not thread-safe: one owner (the gateway's event loop) calls it."""

    def __init__(
        self,
        setup: Callable[[str], TenantSetup | None],
        now_ms: Callable[[], int],
        ring_size: int = 2_000,
        epoch: str = "board",
    ) -> None:
        self._setup = setup
        self._now_ms = now_ms
        self._ring_size = ring_size
        self.epoch = epoch  # a new one per process (live_wiring: random)
        self.seq = 0
        self._tenants: dict[str, TenantLive] = {}
        self._rings: dict[str, _Ring] = {}

    # ---- queries

    def setup(self, tenant_id: str) -> TenantSetup:
        return self._setup(tenant_id) or TenantSetup(tenant_id)

    def snapshot(self, viewer: Viewer) -> dict[str, Any]:
        """The tenant as `viewer` may see it: configuration the pages need, then every agent,
        queue and open offer."""
        setup = self.setup(viewer.tenant_id)
        live = self._tenants.get(viewer.tenant_id) or TenantLive()
        agent_ids = self._agent_ids(setup, live)
        changes = [
            *(self._agent_change(viewer.tenant_id, setup, live, a) for a in agent_ids),
            *(self._queue_change(viewer.tenant_id, setup, live, q) for q in sorted(setup.queues)),
            *(self._offer_change(viewer.tenant_id, live, c) for c in live.contacts.values()
              if c.offer_agent and c.offer_status in ("ringing", "connected", "wrap_up")),
        ]
        seen = [c for c in changes if viewer.sees(c)]
        return {
            "tenant_id": viewer.tenant_id,
            "name": setup.name or viewer.tenant_id,
            "not_ready_reasons": [{"code": c, "label": lbl} for c, lbl in setup.not_ready_reasons],
            # Every queue of the tenant (ids only): where a call may be transferred.
            "queue_ids": sorted(setup.queues),
            "agents": [c.data for c in seen if c.kind == "agent"],
            "queues": [c.data for c in seen if c.kind == "queue"],
            "offers": [c.data for c in seen if c.kind == "offer"],
        }

    def since(self, viewers: Iterable[Viewer], after: int) -> list[Change] | None:
        """Changes numbered above `after` that the viewers may see, in order; None when some
        are no longer kept (the client needs a snapshot)."""
        if after > self.seq:
            return None
        out: list[Change] = []
        for viewer in viewers:
            ring = self._rings.get(viewer.tenant_id)
            if ring is None:
                continue
            if after < ring.dropped_upto:
                return None
            out.extend(c for c in ring.items if c.seq > after and viewer.sees(c))
        out.sort(key=lambda c: c.seq)
        return out

    def queues_of_agent(self, tenant_id: str, agent_id: str) -> frozenset[str]:
        """The queues whose required skills the agent has (configured or logged-in skills)."""
        setup = self.setup(tenant_id)
        live = self._tenants.get(tenant_id) or TenantLive()
        return frozenset(self._eligible(setup, live)[1].get(agent_id, ()))

    def connected_agent(self, tenant_id: str, interaction_id: str) -> str | None:
        """The agent the interaction is connected to now (None: not connected, or unknown):
        whom hold, resume and transfer of the call act for."""
        live = self._tenants.get(tenant_id)
        contact = live.contacts.get(interaction_id) if live else None
        if contact is None or contact.offer_status != "connected" or not contact.offer_agent:
            return None
        return contact.offer_agent

    def agent_today(self, tenant_id: str, agent_id: str) -> dict[str, Any]:
        live = self._tenants.get(tenant_id)
        agent = live.agents.get(agent_id) if live else None
        return self._agent_view(self.setup(tenant_id), agent_id, agent)

    # ---- the fold

    def apply(self, fact: Fact, emit: bool = True) -> list[Change]:
        """Fold one fact; the numbered changes it caused (kept for catch-ups). `emit` False
        folds only (replaying the log before any client: nobody needs the changes)."""
        tenant_id = fact.tenant_id
        if not tenant_id:
            return []
        live = self._tenants.setdefault(tenant_id, TenantLive())
        setup = self.setup(tenant_id)
        self._roll_day(live)
        agents: set[str] = set()
        queues: set[str] = set()
        offers: set[str] = set()
        handler = _HANDLERS.get(fact.kind)
        if handler is None:
            return []
        handler(self, live, setup, fact, agents, queues, offers)
        if not emit:
            self._forget_if_done(live, fact.interaction_id)
            return []
        # An agent's state moves the "agents by state" of the queues it serves.
        if agents:
            by_agent = self._eligible(setup, live)[1]
            for agent_id in agents:
                queues.update(by_agent.get(agent_id, ()))
        out: list[Change] = []
        for agent_id in sorted(agents):
            out.append(self._numbered(self._agent_change(tenant_id, setup, live, agent_id)))
        for queue_id in sorted(queues):
            out.append(self._numbered(self._queue_change(tenant_id, setup, live, queue_id)))
        for iid in sorted(offers):
            contact = live.contacts.get(iid)
            if contact is not None and contact.offer_agent:
                out.append(self._numbered(self._offer_change(tenant_id, live, contact)))
        self._forget_if_done(live, fact.interaction_id)
        return out

    @staticmethod
    def _forget_if_done(live: TenantLive, interaction_id: str) -> None:
        done = live.contacts.get(interaction_id)
        if done is not None and done.done:
            _set_waiting(live, done, False)
            del live.contacts[interaction_id]

    def tick(self) -> list[Change]:
        """Call now and then (e.g. every second): at 00:00 UTC today's figures restart."""
        out: list[Change] = []
        day = self._now_ms() // DAY_MS
        for tenant_id, live in self._tenants.items():
            if live.day != day:
                self._roll_day(live)
                setup = self.setup(tenant_id)
                for queue_id in sorted(set(setup.queues) | set(live.tallies)):
                    out.append(self._numbered(self._queue_change(tenant_id, setup, live, queue_id)))
        return out

    # ---- helpers

    def _roll_day(self, live: TenantLive) -> None:
        day = self._now_ms() // DAY_MS
        if live.day != day:
            live.day = day
            live.tallies.clear()

    def _numbered(self, change: Change) -> Change:
        self.seq += 1
        numbered = Change(self.seq, change.tenant_id, change.kind, change.key, change.data,
                          change.agent_id, change.queue_id)
        ring = self._rings.get(change.tenant_id)
        if ring is None:
            ring = self._rings[change.tenant_id] = _Ring(self._ring_size)
        ring.add(numbered)
        return numbered

    @staticmethod
    def _skills(
        setup: TenantSetup, agent_id: str, agent: AgentLive | None
    ) -> tuple[tuple[str, int], ...]:
        if agent is not None and agent.skills is not None:
            return agent.skills
        configured = setup.agents.get(agent_id)
        return configured.skills if configured else ()

    @staticmethod
    def _agent_ids(setup: TenantSetup, live: TenantLive) -> list[str]:
        return sorted(set(setup.agents) | set(live.agents))

    def _eligible(
        self, setup: TenantSetup, live: TenantLive
    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """(queue -> agents whose skills serve it, agent -> queues it serves), recomputed
        only when the setup or an agent's skills changed."""
        cached = live.eligible
        if cached is not None and cached[0] is setup and cached[1] == live.skills_version:
            return cached[2], cached[3]
        by_queue: dict[str, list[str]] = {q: [] for q in setup.queues}
        by_agent: dict[str, list[str]] = {}
        for agent_id in self._agent_ids(setup, live):
            skills = self._skills(setup, agent_id, live.agents.get(agent_id))
            served = [q.id for q in setup.queues.values() if satisfies(skills, q.required_skills)]
            by_agent[agent_id] = served
            for queue_id in served:
                by_queue[queue_id].append(agent_id)
        live.eligible = (setup, live.skills_version, by_queue, by_agent)
        return by_queue, by_agent

    def _agent_view(
        self, setup: TenantSetup, agent_id: str, agent: AgentLive | None
    ) -> dict[str, Any]:
        configured = setup.agents.get(agent_id) or AgentSetup(agent_id)
        a = agent or AgentLive(agent_id)
        today = a.day == self._now_ms() // DAY_MS
        return {
            "agent_id": agent_id,
            "name": configured.name or agent_id,
            "site_id": a.site_id or configured.site_id,
            "state": a.state,
            "reason_code": a.reason_code,
            "interaction_id": a.interaction_id,
            "since_ms": a.since_ms,
            "today": {
                "state_ms": dict(a.state_ms) if today else {},
                "answered": a.answered if today else 0,
                "handled": a.handled if today else 0,
                "talk_ms": a.talk_ms if today else 0,
                "wrap_up_ms": a.wrap_up_ms if today else 0,
            },
        }

    def _agent_change(
        self, tenant_id: str, setup: TenantSetup, live: TenantLive, agent_id: str
    ) -> Change:
        view = self._agent_view(setup, agent_id, live.agents.get(agent_id))
        return Change(0, tenant_id, "agent", agent_id, view, agent_id=agent_id)

    def _queue_change(
        self, tenant_id: str, setup: TenantSetup, live: TenantLive, queue_id: str
    ) -> Change:
        q = setup.queues.get(queue_id) or QueueSetup(queue_id)
        waiting = list(live.waiting.get(queue_id, {}).values())
        by_state = dict.fromkeys(STATES[1:], 0)
        sites: dict[str, int] = {}
        for agent_id in self._eligible(setup, live)[0].get(queue_id, ()):
            agent = live.agents.get(agent_id)
            if agent is None or agent.state not in LOGGED_IN:
                continue
            by_state[agent.state] += 1
            site = agent.site_id or (setup.agents.get(agent_id) or AgentSetup("")).site_id
            sites[site] = sites.get(site, 0) + 1
        t = live.tallies.get(queue_id) or Tally()
        sl = service_level(t, setup.service_level)
        view = {
            "queue_id": queue_id,
            "waiting": len(waiting),
            "oldest_queued_ms": min(waiting) if waiting else 0,
            "agents": by_state,
            "agents_by_site": sites,
            "threshold_s": q.threshold_s,
            "target": q.target,
            "wrap_up_codes": [{"code": c, "label": lbl} for c, lbl in q.wrap_up_codes],
            "today": {
                "queued": t.queued,
                "answered": t.answered,
                "abandoned": t.abandoned,
                "handled": t.handled,
                "service_level": sl,
                "abandonment_rate": abandonment_rate(t, setup.abandonment_denominator),
                "asa_s": t.answer_wait_ms / t.answered / 1000 if t.answered else None,
                "definition": setup.service_level,
            },
            "missed_target": sl is not None and sl < q.target,
        }
        return Change(0, tenant_id, "queue", queue_id, view, queue_id=queue_id)

    def _offer_change(self, tenant_id: str, live: TenantLive, c: Contact) -> Change:
        view = {
            "interaction_id": c.id,
            "offer_id": c.offer_id,
            "agent_id": c.offer_agent,
            "status": c.offer_status,
            "channel": c.channel,
            "queue_id": c.queue_id,
            "from_address": c.from_address,
            "to_address": c.to_address,
            "entry_point_id": c.entry_point_id,
            "language": c.language,
            "subject": c.subject,
            "identity_hints": [{"kind": k, "value": v} for k, v in c.hints],
            "intent": c.intent,
            "self_service_ms": c.self_service_ms,
            "arrived_ms": c.arrived_ms,
            "queued_ms": c.queued_ms,
            "offered_ms": c.offered_ms,
            "answered_ms": c.answered_ms,
            "ring_timeout_ms": c.ring_timeout_ms,
            "held": c.held,
        }
        return Change(0, tenant_id, "offer", c.id, view, agent_id=c.offer_agent,
                      queue_id=c.queue_id)

    # ---- fact handlers (each notes which entities changed)

    def _agent(self, live: TenantLive, agent_id: str) -> AgentLive:
        agent = live.agents.get(agent_id)
        if agent is None:
            agent = live.agents[agent_id] = AgentLive(agent_id)
        day = self._now_ms() // DAY_MS
        if agent.day != day:
            agent.day = day
            agent.state_ms.clear()
            agent.answered = agent.handled = agent.talk_ms = agent.wrap_up_ms = 0
        return agent

    def _contact(self, live: TenantLive, iid: str) -> Contact:
        contact = live.contacts.get(iid)
        if contact is None:
            contact = live.contacts[iid] = Contact(iid)
            while len(live.contacts) > MAX_CONTACTS:
                _, oldest = live.contacts.popitem(last=False)
                _set_waiting(live, oldest, False)
        return contact

    def _today(self, at_ms: int) -> bool:
        return at_ms // DAY_MS == self._now_ms() // DAY_MS

    def _tally(self, live: TenantLive, c: Contact) -> Tally | None:
        """The tally of the contact's queue when it was queued today."""
        if not c.queue_id or c.queued_day != self._now_ms() // DAY_MS:
            return None
        return live.tallies.setdefault(c.queue_id, Tally())


def _logged_in(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    agent = b._agent(live, f.agent_id)
    agent.site_id = str(f.body.get("site_id") or f.site_id or agent.site_id)
    skills = f.body.get("skills") or []
    agent.skills = tuple((str(s.get("name", "")), int(s.get("level", 0))) for s in skills) or None
    live.skills_version += 1
    agents.add(f.agent_id)


def _state_changed(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    agent = b._agent(live, f.agent_id)
    previous = str(f.body.get("previous_state") or agent.state)
    if b._today(f.at_ms) and previous in STATES:
        start_of_day = (f.at_ms // DAY_MS) * DAY_MS
        spent = min(int(f.body.get("previous_state_ms") or 0), f.at_ms - start_of_day)
        if spent > 0:
            agent.state_ms[previous] = agent.state_ms.get(previous, 0) + spent
    agent.state = str(f.body.get("state") or "logged_out")
    agent.reason_code = str(f.body.get("reason_code") or "")
    agent.interaction_id = str(f.body.get("interaction_id") or "")
    agent.since_ms = f.at_ms
    if agent.state == "logged_out":
        _drop_skills(live, agent)
    agents.add(f.agent_id)


def _drop_skills(live: TenantLive, agent: AgentLive) -> None:
    """A logged-out agent serves no queue until it logs in again with its skills."""
    if agent.skills is not None:
        agent.skills = None
        live.skills_version += 1


def _logged_out(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    agent = b._agent(live, f.agent_id)
    if agent.state != "logged_out":
        agent.state, agent.reason_code, agent.interaction_id = "logged_out", "", ""
        agent.since_ms = f.at_ms
    _drop_skills(live, agent)
    agents.add(f.agent_id)


def _arrived(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    c = b._contact(live, f.interaction_id)
    body = f.body
    c.arrived_ms = f.at_ms
    c.channel = str(body.get("channel") or "")
    c.from_address = str(body.get("from_address") or "")
    c.to_address = str(body.get("to_address") or "")
    c.entry_point_id = str(body.get("entry_point_id") or "")
    c.language = str(body.get("language") or "")
    c.subject = str(body.get("subject") or "")
    c.hints = tuple((str(h.get("kind", "")), str(h.get("value", "")))
                    for h in body.get("identity_hints") or [])
    if c.offer_agent:  # topics are not ordered with each other: the offer came first
        offers.add(c.id)


def _self_service(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    c = b._contact(live, f.interaction_id)
    c.intent = str(f.body.get("intent") or "")
    c.self_service_ms = int(f.body.get("duration_ms") or 0)
    if f.body.get("outcome") in ("contained", "customer_left"):  # ends in self-service
        c.done = True
    if f.body.get("language"):
        c.language = str(f.body["language"])
    if c.offer_agent:
        offers.add(c.id)


def _queued(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    c = b._contact(live, f.interaction_id)
    _set_waiting(live, c, False)  # queued again (e.g. after a flow-out): leaves the old queue
    c.queue_id = str(f.body.get("queue_id") or "")
    c.queued_ms = f.at_ms
    c.queued_day = f.at_ms // DAY_MS
    _set_waiting(live, c, True)
    if not c.channel:
        c.channel = str(f.body.get("channel") or "")
    tally = b._tally(live, c)
    if tally is not None:
        tally.queued += 1
    queues.add(c.queue_id)


def _set_waiting(live: TenantLive, c: Contact, waiting: bool) -> None:
    """Contact.waiting and the per-queue index of waiting contacts, together."""
    if waiting:
        live.waiting.setdefault(c.queue_id, {})[c.id] = c.queued_ms
    elif c.waiting:
        found = live.waiting.get(c.queue_id)
        if found is not None:
            found.pop(c.id, None)
    c.waiting = waiting


def _threshold_ms(setup: TenantSetup, queue_id: str) -> float:
    q = setup.queues.get(queue_id)
    return (q.threshold_s if q else 20.0) * 1000


def _offered(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    c = b._contact(live, f.interaction_id)
    c.offer_id = str(f.body.get("offer_id") or "")
    c.offer_agent = str(f.body.get("agent_id") or f.agent_id)
    c.offered_ms = f.at_ms
    c.ring_timeout_ms = int(f.body.get("ring_timeout_ms") or 0)
    c.offer_status = "ringing"
    if not c.queue_id:
        c.queue_id = str(f.body.get("queue_id") or "")
    offers.add(c.id)


def _accepted(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    c = b._contact(live, f.interaction_id)
    agent_id = str(f.body.get("agent_id") or c.offer_agent)
    was_waiting = c.waiting
    _set_waiting(live, c, False)
    c.offer_agent = agent_id
    c.offer_status = "connected"
    c.answered_ms = f.at_ms
    c.held = False
    if was_waiting:
        tally = b._tally(live, c)
        if tally is not None and c.queued_ms:
            wait = max(0, f.at_ms - c.queued_ms)
            tally.answered += 1
            tally.answer_wait_ms += wait
            tally.answered_within += wait <= _threshold_ms(setup, c.queue_id)
        if b._today(f.at_ms) and agent_id:
            b._agent(live, agent_id).answered += 1
            agents.add(agent_id)
    queues.add(c.queue_id)
    offers.add(c.id)


def _offer_ended(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    c = live.contacts.get(f.interaction_id)
    if c is None or c.offer_id != str(f.body.get("offer_id") or c.offer_id):
        return
    c.offer_status = "ended"
    offers.add(c.id)


def _left(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    """Abandoned, callback requested, flowed out: the contact stops waiting in its queue."""
    c = live.contacts.get(f.interaction_id)
    if c is None:
        return
    if c.waiting:
        _set_waiting(live, c, False)
        tally = b._tally(live, c)
        wait = max(0, f.at_ms - c.queued_ms) if c.queued_ms else 0
        within = wait <= _threshold_ms(setup, c.queue_id)
        if tally is not None:
            if f.kind == "abandoned":
                if wait < setup.short_abandon_s * 1000:
                    tally.short_abandoned += 1
                    tally.short_abandoned_within += within
                else:
                    tally.abandoned += 1
                    tally.abandoned_within += within
            elif f.kind == "callback_requested":
                tally.callbacks_within += within
            elif f.kind == "flowed_out":
                tally.flowed_out_within += within
        queues.add(c.queue_id)
    if c.offer_agent and c.offer_status in ("ringing", "connected"):
        c.offer_status = "ended"
        offers.add(c.id)
    if f.kind == "abandoned":
        c.done = True


def _completed(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    c = live.contacts.get(f.interaction_id)
    agent_id = str(f.body.get("agent_id") or (c.offer_agent if c else ""))
    if agent_id and b._today(f.at_ms):
        b._agent(live, agent_id).talk_ms += int(f.body.get("talk_ms") or 0)
        agents.add(agent_id)
    if c is not None:
        if c.waiting:  # ended while waiting (ingress lost): leaves the queue
            _set_waiting(live, c, False)
            queues.add(c.queue_id)
        if c.offer_status in ("ringing", "connected"):
            c.offer_status = "wrap_up" if c.offer_status == "connected" else "ended"
            offers.add(c.id)
        if not c.answered_ms:  # never reached an agent (an announcement, a lost ingress)
            c.done = True


def _hold_changed(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    c = live.contacts.get(f.interaction_id)
    if c is not None and c.offer_status == "connected":
        c.held = f.kind == "held"  # held / resumed
        offers.add(c.id)


def _transferred(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    """The agent's leg ended (blind transfer): its offer ends; the router queues the contact
    again (`queued`), and a later offer names the next agent."""
    c = live.contacts.get(f.interaction_id)
    from_agent = str(f.body.get("from_agent_id") or f.agent_id)
    # Topics are not ordered with each other: a later offer may be folded already.
    if c is not None and c.offer_status == "connected" and c.offer_agent == from_agent:
        c.offer_status = "ended"
        c.held = False
        offers.add(c.id)


def _wrap_up_started(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    c = live.contacts.get(f.interaction_id)
    if c is not None and c.offer_agent:
        c.offer_status = "wrap_up"
        offers.add(c.id)


def _wrap_up_ended(
    b: LiveBoard, live: TenantLive, setup: TenantSetup, f: Fact,
    agents: set[str], queues: set[str], offers: set[str],
) -> None:
    c = live.contacts.get(f.interaction_id)
    agent_id = str(f.body.get("agent_id") or (c.offer_agent if c else ""))
    if agent_id and b._today(f.at_ms):
        agent = b._agent(live, agent_id)
        agent.handled += 1
        agent.wrap_up_ms += int(f.body.get("wrap_up_ms") or 0)
        agents.add(agent_id)
    if c is None:
        return
    tally = b._tally(live, c)
    if tally is not None and c.answered_ms:
        tally.handled += 1
        queues.add(c.queue_id)
    if c.offer_agent:
        c.offer_status = "ended"
        offers.add(c.id)
    c.done = True


_Handler = Callable[
    [LiveBoard, TenantLive, TenantSetup, Fact, set[str], set[str], set[str]], None
]
_HANDLERS: dict[str, _Handler] = {
    "logged_in": _logged_in,
    "state_changed": _state_changed,
    "logged_out": _logged_out,
    "arrived": _arrived,
    "self_service_finished": _self_service,
    "queued": _queued,
    "offered": _offered,
    "offer_accepted": _accepted,
    "offer_rejected": _offer_ended,
    "offer_timed_out": _offer_ended,
    "abandoned": _left,
    "callback_requested": _left,
    "flowed_out": _left,
    "completed": _completed,
    "held": _hold_changed,
    "resumed": _hold_changed,
    "transferred": _transferred,
    "wrap_up_started": _wrap_up_started,
    "wrap_up_ended": _wrap_up_ended,
}
