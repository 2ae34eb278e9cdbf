"""The router's use cases. One lock serialises every change of state: ingress facts (consumer
thread), timers (tick thread) and agent commands (gRPC, via worker threads).

State is held per partition of the event topics (a tenant's partition: `partition_of`): a
partition is adopted (empty, or from a snapshot), folded while it replays, then goes live
(decisions), and may be released (another instance owns it now)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from hotline_router.application.ports import Clock, FactPublisher, IdGenerator
from hotline_router.domain import commands, treatment
from hotline_router.domain.decisions import decide, realize, transfer_queue
from hotline_router.domain.facts import AgentFact, Disposition, Fact, Transferred
from hotline_router.domain.fold import apply, compact
from hotline_router.domain.model import AgentProfile, RouterState, RoutingConfig, TenantState
from hotline_router.domain.views import (
    AgentSnapshot,
    QueueSnapshot,
    agent_snapshot,
    queue_snapshot,
)

log = logging.getLogger(__name__)

# decide() converges in a handful of passes; more means a bug (log it, do not spin).
MAX_PASSES = 1000

Listener = Callable[[AgentSnapshot], None]
T = TypeVar("T")


class NotLive(Exception):
    """The router is still replaying its events (UNAVAILABLE)."""


class UnknownAgent(Exception):
    """No such agent in the tenant's configuration (NOT_FOUND)."""


@dataclass
class Stats:
    replayed: int = 0
    ingress_facts: int = 0
    published: int = 0
    late_own_facts: int = 0
    non_converging: int = 0


class RouterService:
    def __init__(
        self,
        config: RoutingConfig,
        publisher: FactPublisher,
        clock: Clock,
        new_id: IdGenerator,
        owns_tenant: Callable[[str], bool] = lambda _tenant: True,
        partition_of: Callable[[str], int] = lambda _tenant: 0,
    ) -> None:
        self.config = config
        self._publisher = publisher
        self._clock = clock
        self._new_id = new_id
        self._owns = owns_tenant
        self._partition_of = partition_of
        self._state = RouterState()
        self._lock = threading.RLock()
        # Partitions whose tenants this instance decides for (replayed, claimed).
        self._live: set[int] = set()
        # Ids of facts this process published and has not read back yet (they are applied
        # when published; reading them back must not apply them twice), with their tenant.
        self._in_flight: dict[str, str] = {}
        self._watchers: dict[tuple[str, str], list[Listener]] = {}
        self.stats = Stats()

    def reconfigure(self, config: RoutingConfig) -> None:
        """The directory changed (a queue, agent, entry point or tenant added, changed or
        removed): route with the new config from now on, and decide at once for every owned
        tenant (contacts waiting for a queue that now has agents are offered)."""
        with self._lock:
            self.config = config
            for tenant_id in sorted(set(self._state.tenants) | set(config.tenants)):
                if tenant_id in config.tenants and self._deciding(tenant_id):
                    self._settle(tenant_id)

    # ------------------------------------------------------------------ event input

    @property
    def live(self) -> bool:
        """Some partition is live."""
        return bool(self._live)

    def is_live(self, tenant_id: str) -> bool:
        return self._deciding(tenant_id)

    def _deciding(self, tenant_id: str) -> bool:
        return self._owns(tenant_id) and self._partition_of(tenant_id) in self._live

    def caught_up(self) -> None:
        """The consumer found nothing more to read: the router's view is current."""
        self._state.read_up_to_ms = self._clock.now_ms()

    def on_fact(self, fact: Fact, *, own_topic: bool) -> None:
        """A fact read from a topic. During replay: fold only. Live: fold and decide."""
        read = self._state.read_up_to_ms
        if read is not None and not own_topic and fact.at_ms > read:
            # An ingress's fact read this far: a router busy with a backlog advances with it
            # (not with its own facts: the topics ingresses write may lag behind those).
            self._state.read_up_to_ms = min(fact.at_ms, self._clock.now_ms())
        if fact.tenant_id not in self.config.tenants:
            return  # not a configured tenant (or a tenant removed from the config)
        if not self._owns(fact.tenant_id):
            log.warning("fact for tenant %s outside this instance's partitions", fact.tenant_id)
            return
        with self._lock:
            if own_topic and self._in_flight.pop(fact.event_id, None) is not None:
                return
            if self._partition_of(fact.tenant_id) not in self._live:
                apply(self._state, fact)
                self.stats.replayed += 1
                return
            if own_topic:
                # Written by an earlier incarnation but read after replay ended: fold it
                # anyway (it is the truth), then let decide() reconcile.
                self.stats.late_own_facts += 1
                log.warning("late own fact %s folded after replay", fact.event_id)
            else:
                self.stats.ingress_facts += 1
            apply(self._state, fact)
            if isinstance(fact, Transferred):
                self._check_transfer(fact)
            self._notify(fact)
            self._settle(fact.tenant_id)

    def go_live(self, partitions: Iterable[int] | None = None) -> None:
        """Replay of `partitions` (None: of every known tenant's) is complete: reconcile their
        tenants, then decide on every new fact."""
        with self._lock:
            known = sorted(set(self._state.tenants) | set(self.config.tenants))
            wanted = (
                {self._partition_of(t) for t in known} if partitions is None else set(partitions)
            )
            self._live |= wanted
            # An ingress with no liveness record counts as seen now (never earlier than the
            # newest take-over: its facts were not being judged before).
            self._state.live_since_ms = self._clock.now_ms()
            for tenant_id in known:
                if self._partition_of(tenant_id) in wanted and self._owns(tenant_id):
                    self._settle(tenant_id)
            waiting = sum(
                1
                for t in self._state.tenants.values()
                for it in t.interactions.values()
                if it.waiting
            )
            log.info(
                "live: replayed %d facts, %d contacts waiting, %d facts published in reconcile",
                self.stats.replayed, waiting, self.stats.published,
            )

    def tick(self) -> None:
        """Time-driven decisions: router-side offer time-outs, wrap-up time-outs, silent
        ingress instances."""
        with self._lock:
            for tenant_id in list(self._state.tenants):
                if tenant_id in self.config.tenants and self._deciding(tenant_id):
                    self._settle(tenant_id)

    # ------------------------------------------------------------------ partitions

    def adopt(
        self,
        partition: int,
        tenants: Mapping[str, TenantState] | None = None,
        in_flight: Mapping[str, str] | None = None,
    ) -> None:
        """Start holding `partition`: empty (it is replayed from its start), or from a
        snapshot's tenants and the ids of facts published then and not yet read back."""
        with self._lock:
            self._drop(partition)
            for tenant_id, tenant in (tenants or {}).items():
                if self._partition_of(tenant_id) == partition:
                    self._state.tenants[tenant_id] = tenant
            self._in_flight.update(in_flight or {})

    def pause(self, partition: int) -> None:
        """Stop deciding for `partition` (its state is kept: it may come back)."""
        with self._lock:
            self._live.discard(partition)

    def release(self, partition: int) -> None:
        """Another instance owns `partition` now: forget its state."""
        with self._lock:
            self._drop(partition)

    def _drop(self, partition: int) -> None:
        self._live.discard(partition)
        for tenant_id in [t for t in self._state.tenants if self._partition_of(t) == partition]:
            del self._state.tenants[tenant_id]
        for event_id, tenant_id in list(self._in_flight.items()):
            if self._partition_of(tenant_id) == partition:
                del self._in_flight[event_id]

    def capture(
        self, partition: int, encode: Callable[[dict[str, TenantState], dict[str, str]], T]
    ) -> T:
        """`encode(tenants, in_flight)` of `partition`, run under the state lock (so it sees
        one consistent state: encode must copy what it keeps)."""
        with self._lock:
            mine = self._partition_of
            tenants = {t: s for t, s in self._state.tenants.items() if mine(t) == partition}
            flying = {e: t for e, t in self._in_flight.items() if mine(t) == partition}
            return encode(tenants, flying)

    def in_flight(self, partition: int) -> set[str]:
        with self._lock:
            return {e for e, t in self._in_flight.items() if self._partition_of(t) == partition}

    # ------------------------------------------------------------------ agent commands

    def log_in(self, tenant_id: str, agent_id: str) -> AgentSnapshot:
        profile = self._profile(tenant_id, agent_id)
        return self._command(
            tenant_id, agent_id,
            lambda now: commands.log_in(self._state, tenant_id, profile, now, self._new_id),
        )

    def log_out(self, tenant_id: str, agent_id: str, reason: str) -> AgentSnapshot:
        self._profile(tenant_id, agent_id)
        return self._command(
            tenant_id, agent_id,
            lambda now: commands.log_out(
                self._state, tenant_id, agent_id, reason, now, self._new_id
            ),
        )

    def set_ready(self, tenant_id: str, agent_id: str) -> AgentSnapshot:
        self._profile(tenant_id, agent_id)
        return self._command(
            tenant_id, agent_id,
            lambda now: commands.set_ready(self._state, tenant_id, agent_id, now, self._new_id),
        )

    def set_not_ready(self, tenant_id: str, agent_id: str, reason_code: str) -> AgentSnapshot:
        self._profile(tenant_id, agent_id)
        return self._command(
            tenant_id, agent_id,
            lambda now: commands.set_not_ready(
                self._state, tenant_id, agent_id, reason_code, now, self._new_id
            ),
        )

    def finish_wrap_up(
        self, tenant_id: str, agent_id: str, interaction_id: str, disposition: Disposition | None
    ) -> AgentSnapshot:
        self._profile(tenant_id, agent_id)
        return self._command(
            tenant_id, agent_id,
            lambda now: commands.finish_wrap_up(
                self._state, tenant_id, agent_id, interaction_id, disposition, now, self._new_id
            ),
        )

    def request_callback(
        self, tenant_id: str, interaction_id: str, address: str
    ) -> tuple[str, str]:
        """A waiting caller asks to be called back (domain/treatment.py): the queue and the
        address to call. Raises CallbackRefused; acknowledged once durable."""
        tenant_config = self.config.tenants.get(tenant_id)
        if tenant_config is None:
            raise treatment.CallbackRefused(f"no tenant {tenant_id!r}")
        with self._lock:
            self._require_live(tenant_id)
            facts = treatment.request_callback(
                self._state, tenant_config, tenant_id, interaction_id, address,
                self._clock.now_ms(), self._new_id,
            )
            self._emit(facts)
            self._settle(tenant_id)
            it = self._state.tenant(tenant_id).interactions[interaction_id]
            placement = it.current_placement
            queue_id = placement.queue_id if placement is not None else ""
            answer = (queue_id, it.callback[1] if it.callback is not None else "")
        self._publisher.flush()
        return answer

    # ------------------------------------------------------------------ queries

    def agent(self, tenant_id: str, agent_id: str) -> AgentSnapshot:
        profile = self._profile(tenant_id, agent_id)
        with self._lock:
            self._require_live(tenant_id)
            return agent_snapshot(
                self._state.tenants.get(tenant_id), agent_id, self._clock.now_ms(), profile.skills
            )

    def agents(self, tenant_id: str) -> list[AgentSnapshot]:
        tenant_config = self.config.tenants.get(tenant_id)
        if tenant_config is None:
            return []
        with self._lock:
            self._require_live(tenant_id)
            now = self._clock.now_ms()
            tenant = self._state.tenants.get(tenant_id)
            return [
                agent_snapshot(tenant, aid, now, profile.skills)
                for aid, profile in sorted(tenant_config.agents.items())
            ]

    def queues(self, tenant_id: str) -> list[QueueSnapshot]:
        tenant_config = self.config.tenants.get(tenant_id)
        if tenant_config is None:
            return []
        with self._lock:
            self._require_live(tenant_id)
            now = self._clock.now_ms()
            tenant = self._state.tenants.get(tenant_id)
            return [queue_snapshot(tenant, q, now) for _, q in sorted(tenant_config.queues.items())]

    def watch(
        self, tenant_id: str, agent_id: str, listener: Listener
    ) -> tuple[AgentSnapshot, Callable[[], None]]:
        """The agent's view now, and a subscription: `listener` gets the view after each
        change (called from the thread making the change, under the state lock: it must not
        block). Returns the current view and the function that unsubscribes."""
        key = (tenant_id, agent_id)
        with self._lock:
            current = self.agent(tenant_id, agent_id)  # UnknownAgent: nothing subscribed
            self._watchers.setdefault(key, []).append(listener)

        def unsubscribe() -> None:
            with self._lock:
                listeners = self._watchers.get(key, [])
                if listener in listeners:
                    listeners.remove(listener)
                if not listeners:
                    self._watchers.pop(key, None)

        return current, unsubscribe

    # ------------------------------------------------------------------ internals

    def _check_transfer(self, fact: Transferred) -> None:
        """Ingress refuses a REFER to an unknown target; should one come anyway, the contact
        is routed nowhere (the transferring agent still wraps up): say so."""
        it = self._state.tenant(fact.tenant_id).interactions.get(fact.interaction_id)
        if fact.to_address or it is None or it.ended:
            return
        if transfer_queue(it, self.config.tenants[fact.tenant_id]) is None:
            log.warning(
                "transfer %s of %s to an unknown target (queue %r, agent %r): routed nowhere",
                fact.event_id, fact.interaction_id, fact.to_queue_id, fact.to_agent_id,
            )

    def _require_live(self, tenant_id: str) -> None:
        if not self._deciding(tenant_id):
            raise NotLive("the router is replaying this tenant's events; retry shortly")

    def _profile(self, tenant_id: str, agent_id: str) -> AgentProfile:
        tenant_config = self.config.tenants.get(tenant_id)
        profile = tenant_config.agents.get(agent_id) if tenant_config else None
        if profile is None:
            raise UnknownAgent(f"no agent {agent_id!r} in tenant {tenant_id!r}")
        return profile

    def _command(
        self, tenant_id: str, agent_id: str, run: Callable[[int], list[Fact]]
    ) -> AgentSnapshot:
        with self._lock:
            self._require_live(tenant_id)
            now = self._clock.now_ms()
            self._emit(run(now))  # CommandRefused propagates with no fact emitted
            self._settle(tenant_id)
            snapshot = self.agent(tenant_id, agent_id)
        # Acknowledge only durable commands (outside the lock: flushing waits on the broker).
        self._publisher.flush()
        return snapshot

    def _settle(self, tenant_id: str) -> None:
        """Decide and act until nothing is left to decide."""
        for _ in range(MAX_PASSES):
            now = self._clock.now_ms()
            decisions = decide(self._state, self.config, tenant_id, now)
            if not decisions:
                break
            for decision in decisions:
                self._emit(realize(decision, self._state, now, self._new_id))
        else:
            self.stats.non_converging += 1
            log.error("decisions for tenant %s did not converge", tenant_id)
        tenant = self._state.tenants.get(tenant_id)
        if tenant is not None:
            compact(tenant)

    def _emit(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            apply(self._state, fact)
            self._in_flight[fact.event_id] = fact.tenant_id
            self._publisher.publish(fact)
            self.stats.published += 1
            self._notify(fact)

    def _notify(self, fact: Fact) -> None:
        if not isinstance(fact, AgentFact):
            return
        listeners = self._watchers.get((fact.tenant_id, fact.agent_id))
        if not listeners:
            return
        profile = self.config.tenants[fact.tenant_id].agents.get(fact.agent_id)
        snapshot = agent_snapshot(
            self._state.tenants.get(fact.tenant_id), fact.agent_id, self._clock.now_ms(),
            profile.skills if profile else (),
        )
        for listener in list(listeners):
            listener(snapshot)

    # For tests and diagnostics.
    def state_for_tests(self) -> RouterState:
        return self._state
