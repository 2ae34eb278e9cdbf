"""The push stream's use cases: who may see what of the live board, subscriptions, and the
start of a stream (a catch-up after the client's last sequence number, or a snapshot).

Everything here runs on the gateway's event loop (the board is folded there too), so taking a
snapshot and subscribing happen with no change in between.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hotline_gateway.application.ports import Identity, Principal
from hotline_gateway.domain.errors import Forbidden
from hotline_gateway.domain.live import Change, Fact, LiveBoard, Viewer

log = logging.getLogger(__name__)

# A stream may read the live board of a tenant with this permission (agents and supervisors
# hold it); what it sees beyond the queues depends on the agent permissions (viewer_for).
STREAM_PERMISSION = "queue.stats.read"
AGENTS_WIDE = "agent.state.read"
AGENT_OWN = "agent.state.read_own"
QUEUE_BOUND = 10_000  # changes waiting for one client; beyond, the client is dropped


class SlowClient(Exception):
    """A client that did not read its changes in time (it reconnects and catches up)."""


@dataclass(eq=False)  # hashed by identity (a set of subscriptions)
class Subscription:
    viewers: tuple[Viewer, ...]
    queue: asyncio.Queue[Change] = field(default_factory=lambda: asyncio.Queue(QUEUE_BOUND))
    overflowed: bool = False

    def offer(self, change: Change) -> None:
        if self.overflowed or not any(v.sees(change) for v in self.viewers):
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.overflowed = True

    async def next(self) -> Change:
        if self.overflowed:
            raise SlowClient("too many changes waiting: reconnect with ?after=")
        change = await self.queue.get()
        if self.overflowed:
            raise SlowClient("too many changes waiting: reconnect with ?after=")
        return change


@dataclass(frozen=True)
class Start:
    """The first messages of a stream: `resumed` (catch-up changes follow) or a snapshot."""

    hello: dict[str, Any]
    changes: tuple[Change, ...] = ()
    snapshot: dict[str, Any] | None = None


class LiveHub:
    def __init__(
        self,
        board: LiveBoard,
        identity: Identity,
        tenant_ids: Callable[[], Iterable[str]],
        now_ms: Callable[[], int],
    ) -> None:
        self.board = board
        self._identity = identity
        self._tenant_ids = tenant_ids
        self._now_ms = now_ms
        self._subscriptions: set[Subscription] = set()
        self.replayed = asyncio.Event()
        self.skipped = 0  # facts the board could not fold

    def now_ms(self) -> int:
        return self._now_ms()

    # ---- fed by the events adapter (on the loop)

    def apply(self, facts: Sequence[Fact]) -> None:
        emit = self.replayed.is_set()  # while replaying the log no client is listening
        for fact in facts:
            try:
                changes = self.board.apply(fact, emit=emit)
            except (ValueError, TypeError, KeyError, AttributeError):
                # A fact the fold cannot use (a contract bug) is skipped, not fatal: the rest
                # of the board stays live. The record is in the log for whoever looks.
                self.skipped += 1
                log.exception("live board: skipped %s of tenant %r at %d", fact.kind,
                              fact.tenant_id, fact.at_ms)
                continue
            for change in changes:
                self._publish(change)

    def tick(self) -> None:
        for change in self.board.tick():
            self._publish(change)

    def mark_replayed(self) -> None:
        if not self.replayed.is_set():
            log.info("live board replayed to seq %d", self.board.seq)
        self.replayed.set()

    def _publish(self, change: Change) -> None:
        for sub in self._subscriptions:
            sub.offer(change)

    # ---- streams

    def tenants_of(self, principal: Principal) -> list[str]:
        """Every tenant the principal's scope covers (an operator's listed tenants, or all)."""
        scope = getattr(principal.subject, "scope", None)
        known = sorted(self._tenant_ids())
        if scope is None:
            return []
        return [t for t in known if scope.covers(t)]

    async def viewer_for(self, principal: Principal, tenant_id: str) -> Viewer:
        """What `principal` may see of `tenant_id`; raises Forbidden without the stream's
        permission."""
        await self._identity.authorize(principal, tenant_id, STREAM_PERMISSION, None)
        if await self._allowed(principal, tenant_id, AGENTS_WIDE, None):
            return Viewer(tenant_id, wide=True)
        agent_id = str(getattr(principal.subject, "agent_id", "") or "")
        if agent_id and await self._allowed(principal, tenant_id, AGENT_OWN, agent_id):
            return Viewer(tenant_id, wide=False, agent_id=agent_id,
                          queues=self.board.queues_of_agent(tenant_id, agent_id))
        return Viewer(tenant_id, wide=True, see_agents=False)

    async def _allowed(
        self, principal: Principal, tenant_id: str, permission: str, agent_id: str | None
    ) -> bool:
        try:
            await self._identity.authorize(principal, tenant_id, permission, agent_id)
        except Forbidden:
            return False
        return True

    def open(
        self, viewers: Sequence[Viewer], after: int | None, epoch: str | None
    ) -> tuple[Start, Subscription]:
        """Subscribe and say how the stream starts. Synchronous on purpose: no change can be
        folded between the catch-up (or snapshot) and the subscription."""
        board = self.board
        hello: dict[str, Any] = {
            "type": "hello", "epoch": board.epoch, "seq": board.seq,
            "server_ms": self._now_ms(), "tenants": [v.tenant_id for v in viewers],
        }
        sub = Subscription(tuple(viewers))
        self._subscriptions.add(sub)
        if after is not None and epoch == board.epoch:
            changes = board.since(viewers, after)
            if changes is not None:
                return Start({**hello, "resumed": True, "after": after}, tuple(changes)), sub
            reason = "too_old"
        elif after is not None:
            reason = "other_epoch"  # the gateway restarted, or another replica answers
        else:
            reason = "start"
        snapshot = {
            "type": "snapshot", "seq": board.seq, "reason": reason, "server_ms": self._now_ms(),
            "tenants": [board.snapshot(v) for v in viewers],
        }
        return Start({**hello, "resumed": False, "reason": reason}, (), snapshot), sub

    def close(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)
