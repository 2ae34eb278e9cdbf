"""A test harness over the router's pure domain: a fake clock, predictable ids, the three
topic logs (voice written by "ingress", routing and agents written by the router), and the
same decide-until-quiet loop the application runs."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from hotline_router.domain import commands
from hotline_router.domain.decisions import decide, realize
from hotline_router.domain.facts import (
    Abandoned,
    AgentFact,
    Arrived,
    Completed,
    Fact,
    IngressHeartbeat,
    IngressStarted,
    OfferAccepted,
    Offered,
    OfferRejected,
    OfferTimedOut,
)
from hotline_router.domain.fold import apply
from hotline_router.domain.model import (
    AgentProfile,
    AgentState,
    EntryPointConfig,
    Interaction,
    QueueConfig,
    RouterState,
    RoutingConfig,
    Skill,
    TenantConfig,
)

T = "t1"


def make_config(grace_ms: int = 2_000) -> RoutingConfig:
    queues = {
        "sales": QueueConfig("sales", (Skill("sales", 1),), "en", 0, 20, 10_000, 30_000),
        "vip": QueueConfig("vip", (Skill("sales", 5),), "en", 5, 10, 10_000, 30_000),
        "support": QueueConfig("support", (Skill("support", 2),), "en", 0, 20, 10_000, 30_000),
    }
    entry_points = {
        "100": EntryPointConfig("100", "sales"),
        "200": EntryPointConfig("200", "vip"),
        "300": EntryPointConfig("300", "support"),
        "999": EntryPointConfig("999", ""),  # announcement
    }
    agents = {
        "a1": AgentProfile("a1", "Ana", "lisbon", (Skill("sales", 5),), ("en",), "sip:a1@x"),
        "a2": AgentProfile("a2", "Bo", "lisbon", (Skill("sales", 3),), ("en",), "sip:a2@x"),
        "a3": AgentProfile(
            "a3", "Cy", "lisbon", (Skill("sales", 1), Skill("support", 2)), ("en",), "sip:a3@x"
        ),
        "a4": AgentProfile("a4", "Di", "lisbon", (Skill("support", 5),), ("en",), "sip:a4@x"),
    }
    return RoutingConfig({T: TenantConfig(T, queues, entry_points, agents)}, grace_ms)


@dataclass
class World:
    config: RoutingConfig = field(default_factory=make_config)
    now: int = 1_000_000
    state: RouterState = field(default_factory=RouterState)
    voice: list[Fact] = field(default_factory=list)
    routing: list[Fact] = field(default_factory=list)
    agents: list[Fact] = field(default_factory=list)
    liveness: list[Fact] = field(default_factory=list)  # ingress starts and heartbeats
    last_output: list[Fact] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def new_id(self) -> str:
        return f"id-{next(self._ids)}"

    def tick(self, ms: int) -> list[Fact]:
        self.now += ms
        return self.settle()

    # ---------------------------------------------------------------- router side

    def publish(self, facts: list[Fact]) -> None:
        for fact in facts:
            apply(self.state, fact)
            (self.agents if isinstance(fact, AgentFact) else self.routing).append(fact)
            self.last_output.append(fact)

    def settle(self) -> list[Fact]:
        out: list[Fact] = []
        for _ in range(100):
            decisions = decide(self.state, self.config, T, self.now)
            if not decisions:
                return out
            for d in decisions:
                facts = realize(d, self.state, self.now, self.new_id)
                self.publish(facts)
                out.extend(facts)
        raise AssertionError("decisions did not converge")

    def command(self, name: str, agent_id: str, *args: object) -> list[Fact]:
        self.last_output = []
        if name == "log_in":
            profile = self.config.tenants[T].agents[agent_id]
            facts = commands.log_in(self.state, T, profile, self.now, self.new_id)
        else:
            run = getattr(commands, name)
            facts = run(self.state, T, agent_id, *args, self.now, self.new_id)
        self.publish(facts)
        return facts + self.settle()

    def ready(self, *agent_ids: str, gap_ms: int = 1_000) -> None:
        for agent_id in agent_ids:
            self.command("log_in", agent_id)
            self.now += gap_ms
            self.command("set_ready", agent_id)

    # ---------------------------------------------------------------- ingress side

    def ingress(self, fact: Fact) -> list[Fact]:
        self.last_output = []
        self.voice.append(fact)
        apply(self.state, fact)
        return self.settle()

    def _base(self, iid: str) -> dict[str, Any]:
        return {"event_id": self.new_id(), "tenant_id": T, "at_ms": self.now, "interaction_id": iid}

    def arrive(self, iid: str, entry: str = "100", producer: str = "") -> list[Fact]:
        return self.ingress(Arrived(**self._base(iid), producer=producer, entry_point_id=entry))

    def _live(self, fact: Fact) -> list[Fact]:
        self.last_output = []
        self.liveness.append(fact)
        apply(self.state, fact)
        return self.settle()

    def ingress_started(self, producer: str) -> list[Fact]:
        """A process of the ingress instance `producer` starts (now)."""
        return self._live(
            IngressStarted(event_id=self.new_id(), tenant_id=T, at_ms=self.now, producer=producer)
        )

    def heartbeat(self, producer: str, started_at_ms: int) -> list[Fact]:
        return self._live(
            IngressHeartbeat(
                event_id=self.new_id(), tenant_id=T, at_ms=self.now, producer=producer,
                started_at_ms=started_at_ms,
            )
        )

    def open_offer(self, iid: str) -> Offered:
        it = self.interaction(iid)
        offer = it.open_offer()
        assert offer is not None, f"{iid} has no open offer"
        return next(
            f for f in self.routing if isinstance(f, Offered) and f.offer_id == offer.offer_id
        )

    def accept(self, iid: str) -> list[Fact]:
        o = self.open_offer(iid)
        return self.ingress(
            OfferAccepted(
                **self._base(iid), offer_id=o.offer_id, agent_id=o.agent_id, queue_id=o.queue_id
            )
        )

    def reject(self, iid: str) -> list[Fact]:
        o = self.open_offer(iid)
        return self.ingress(
            OfferRejected(
                **self._base(iid), offer_id=o.offer_id, agent_id=o.agent_id, reason="sip:486"
            )
        )

    def time_out(self, iid: str) -> list[Fact]:
        o = self.open_offer(iid)
        return self.ingress(
            OfferTimedOut(**self._base(iid), offer_id=o.offer_id, agent_id=o.agent_id)
        )

    def abandon(self, iid: str) -> list[Fact]:
        return self.ingress(Abandoned(**self._base(iid), stage="in_queue"))

    def complete(self, iid: str) -> list[Fact]:
        agent = self.interaction(iid).connected_agent
        return self.ingress(Completed(**self._base(iid), agent_id=agent))

    # ---------------------------------------------------------------- queries

    def interaction(self, iid: str) -> Interaction:
        return self.state.tenants[T].interactions[iid]

    def agent_state(self, agent_id: str) -> AgentState:
        return self.state.tenants[T].agent(agent_id).state

    def offers(self) -> list[Offered]:
        return [f for f in self.routing if isinstance(f, Offered)]

    def offered_to(self, iid: str) -> list[str]:
        return [o.agent_id for o in self.offers() if o.interaction_id == iid]


def interleave(streams: list[list[Fact]], rng: random.Random) -> list[Fact]:
    """A random merge of the streams that keeps each stream's own order (as Kafka keeps
    a partition's order, but not the order across topics)."""
    cursors = [0] * len(streams)
    out: list[Fact] = []
    while True:
        live = [i for i, s in enumerate(streams) if cursors[i] < len(s)]
        if not live:
            return out
        i = rng.choice(live)
        out.append(streams[i][cursors[i]])
        cursors[i] += 1


def rebuild(world: World, order: list[Fact]) -> World:
    """A new world (as after a restart) whose state is folded from `order`, no decisions."""
    fresh = World(config=world.config, now=world.now)
    fresh._ids = world._ids
    fresh.voice = [f for f in world.voice if f in order]
    fresh.routing = [f for f in world.routing if f in order]
    fresh.agents = [f for f in world.agents if f in order]
    fresh.liveness = [f for f in world.liveness if f in order]
    for fact in order:
        apply(fresh.state, fact)
    return fresh
