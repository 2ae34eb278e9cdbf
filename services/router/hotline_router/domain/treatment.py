"""Treatment of a waiting contact beyond routing (issue 16 items 8 and 9).

Flow-out: a contact flows out of its queue after the queue's maximum wait, at once when no
agent able to take it is logged in (`when_no_agents`), and at once outside the queue's
business hours (a `BusinessHours` calendar with time zone and holidays, the IVR's). It goes
to a target: another queue (a new placement caused by the `flowed_out`, exactly like a blind
transfer's: the fold records it as a transfer from no agent, `place_transfers` places it), a
callback, or a closed message (the caller hears the queue's closed prompt and is released:
the contact ends). Recorded as `flowed_out`; never an abandon.

Callbacks: a voice caller whose estimated wait (stated in its `queued`) reached the queue's
`callback_after_ms` may ask to be called back (`request_callback`): `callback_requested` is
written, ingress releases the caller, and the contact keeps its place as a callback. When it
is offered, the `offered` carries the address to call, and ingress dials it once the agent
answers. A callback is not judged by the flow-out rules (nobody is waiting on the line), nor
by the lost-ingress rule (no ingress holds it).

Driven like every decision step (domain/index.py): the contacts a fact changed
(`index.treat`), the timers that came due (`index.treat_due`: a contact's maximum wait; a
queue's hours, judged each minute, as windows and holidays change on minute boundaries), and
when an agent logged in or out (`index.roster`) the waiting contacts of the queues that flow
out when nobody is there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hotline_platform.ivr import BusinessHours
from hotline_router.domain import matching
from hotline_router.domain.facts import CallbackRequested, FlowedOut
from hotline_router.domain.index import scan_marked

if TYPE_CHECKING:
    from hotline_router.domain.index import TenantIndex
    from hotline_router.domain.model import (
        Interaction,
        Placement,
        QueueConfig,
        RouterState,
        TenantConfig,
        TenantState,
    )

# FlowOutTarget.kind
TO_QUEUE = "queue"
TO_CALLBACK = "callback"
TO_CLOSED = "closed"
# FlowedOut.reason
MAX_WAIT = "max_wait"
NO_AGENTS = "no_agents"
CLOSED = "closed"

MINUTE_MS = 60_000


@dataclass(frozen=True)
class FlowOutTarget:
    kind: str = TO_CLOSED  # TO_QUEUE | TO_CALLBACK | TO_CLOSED
    queue_id: str = ""  # TO_QUEUE


@dataclass(frozen=True)
class Treatment:
    """A queue's treatment (QueueConfig.treatment; None: none of it)."""

    max_wait_ms: int = 0  # 0: no maximum
    when_no_agents: bool = False  # flow out at once when nobody able is logged in
    flow_out: FlowOutTarget = FlowOutTarget()  # after the max wait, or with no agents
    hours: BusinessHours | None = None  # None: always open
    closed: FlowOutTarget = FlowOutTarget()  # outside the hours
    closed_prompt: str = ""  # what a caller flowing out to a closed message hears
    callback_after_ms: int = 0  # callbacks offered from this estimated wait (0: never)


class CallbackRefused(Exception):
    """A callback cannot be requested for this contact now (FAILED_PRECONDITION)."""


@dataclass(frozen=True)
class FlowOut:
    """A waiting contact leaves its queue (`reason`) for `target`."""

    tenant_id: str
    interaction_id: str
    queue_id: str
    placement_event_id: str
    reason: str
    target: FlowOutTarget
    waited_ms: int
    prompt: str = ""
    callback_address: str = ""


# --------------------------------------------------------------------------- the fold


def fold(it: Interaction, fact: FlowedOut | CallbackRequested) -> None:
    """Merge a treatment fact into the contact (order-insensitive: per placement, earliest
    callback). A flow-out to a queue is the next leg's transfer, from no agent."""
    from hotline_router.domain.model import Transfer  # model imports this module's types

    if isinstance(fact, CallbackRequested):
        if it.callback is None or fact.at_ms < it.callback[0]:
            it.callback = (fact.at_ms, fact.callback_address)
        return
    it.flow_outs.setdefault(fact.causation_id, fact.target)
    if fact.target == TO_QUEUE:
        it.transfers.setdefault(
            fact.event_id,
            Transfer(event_id=fact.event_id, at_ms=fact.at_ms, from_agent_id="",
                     to_queue_id=fact.to_queue_id),
        )
    elif fact.target == TO_CALLBACK and (it.callback is None or fact.at_ms < it.callback[0]):
        it.callback = (fact.at_ms, fact.callback_address)


def offers_callback(queue: QueueConfig, channel: str, estimated_wait_ms: int) -> bool:
    """A caller of `queue` waiting this long may ask to be called back (stated in `queued`,
    where ingress-sip reads it to offer the key)."""
    tr = queue.treatment
    return (
        channel in ("", "voice") and tr is not None and tr.callback_after_ms > 0
        and estimated_wait_ms >= tr.callback_after_ms
    )


def callback_address(tenant: TenantState, interaction_id: str) -> str:
    """The address to call back for a callback contact ("" for any other): for `offered`."""
    it = tenant.interactions.get(interaction_id)
    return it.callback[1] if it is not None and it.callback is not None else ""


# --------------------------------------------------------------------------- deciding


def decide(tenant_id: str, tenant: TenantState, tc: TenantConfig, now_ms: int) -> list[FlowOut]:
    """Waiting contacts that flow out now (see the module's docstring for what is looked at)."""

    index = tenant.index
    due = index.treat_due.due(now_ms)
    pool = tenant.pool
    if index.roster or any(key.startswith("@") for key in due):
        pool.refresh(tenant)
        # A queue's hours: its contacts are judged again only when it is closed now.
        queues = {key[1:] for key in due if key.startswith("@") and _closed(tc, key[1:], now_ms)}
        if index.roster:
            queues |= {
                qid for qid, q in tc.queues.items()
                if q.treatment is not None and q.treatment.when_no_agents
            }
            index.roster = False
        for qid in queues:
            due.update(iid for iid, _ in pool.in_queue(qid))
    _arm_hours(index, tc, now_ms)

    def able_logged_in(queue: QueueConfig, placement: Placement) -> int:
        pool.refresh(tenant)  # a no-op unless a fact changed an agent since
        t = matching.target(
            queue, tc, placement.required_skills, placement.language, len(queue.expansions),
            "", True,
        )
        first = placement.required_skills[0].name if placement.required_skills else ""
        return pool.count_logged_in(
            ("treatment", t), lambda p: matching.fits(p[0], p[1], "", t, any_site=True), first
        )

    def rule(iid: str) -> FlowOut | None:
        it = tenant.interactions.get(iid)
        if it is None or not it.waiting or it.callback is not None:
            return None
        placement = it.current_placement
        queue = tc.queues.get(placement.queue_id) if placement is not None else None
        if placement is None or queue is None or queue.treatment is None:
            return None
        if placement.event_id in it.flow_outs or it.open_offer() is not None:
            return None  # flowing already; ringing: judged again once the offer is answered
        tr = queue.treatment
        waited = max(0, now_ms - placement.queued_at_ms)
        if _closed(tc, queue.queue_id, now_ms):
            reason, target = CLOSED, tr.closed
        elif tr.when_no_agents and able_logged_in(queue, placement) == 0:
            reason, target = NO_AGENTS, tr.flow_out
        elif tr.max_wait_ms and waited >= tr.max_wait_ms:
            reason, target = MAX_WAIT, tr.flow_out
        else:
            if tr.max_wait_ms:
                index.treat_due.arm(iid, placement.queued_at_ms + tr.max_wait_ms)
            return None
        target = _reachable(target, it, tc)
        return FlowOut(
            tenant_id, iid, queue.queue_id, placement.event_id, reason, target, waited,
            prompt=tr.closed_prompt if target.kind == TO_CLOSED else "",
            callback_address=it.customer if target.kind == TO_CALLBACK else "",
        )

    return scan_marked(index.treat, due, rule)


def _closed(tc: TenantConfig, queue_id: str, now_ms: int) -> bool:
    queue = tc.queues.get(queue_id)
    hours = queue.treatment.hours if queue is not None and queue.treatment is not None else None
    return hours is not None and not hours.is_open(hours.local_time(now_ms))


def _reachable(target: FlowOutTarget, it: Interaction, tc: TenantConfig) -> FlowOutTarget:
    """The target, or a closed message when it cannot be reached: an unknown queue or one
    the contact already waited in (no loops), a callback with no address to call."""
    if target.kind == TO_QUEUE and (
        target.queue_id not in tc.queues
        or any(p.queue_id == target.queue_id for p in it.placements.values())
    ):
        return FlowOutTarget(TO_CLOSED)
    if target.kind == TO_CALLBACK and (not it.customer or it.channel not in ("", "voice")):
        return FlowOutTarget(TO_CLOSED)
    return target


def _arm_hours(index: TenantIndex, tc: TenantConfig, now_ms: int) -> None:
    """Each queue with hours judged again at the next minute (its key: "@" + queue id)."""
    timers = index.treat_due
    if index.treat_config is not tc:
        index.treat_config = tc
        index.hours_queues = tuple(
            qid for qid, q in tc.queues.items()
            if q.treatment is not None and q.treatment.hours is not None
        )
    for qid in index.hours_queues:
        key = "@" + qid
        if key not in timers.at:
            timers.arm(key, (now_ms // MINUTE_MS + 1) * MINUTE_MS)


# --------------------------------------------------------------------------- realising


def realize(decision: FlowOut, now_ms: int, new_id: Callable[[], str]) -> list[FlowedOut]:
    return [
        FlowedOut(
            event_id=new_id(), tenant_id=decision.tenant_id, at_ms=now_ms,
            causation_id=decision.placement_event_id, interaction_id=decision.interaction_id,
            from_queue_id=decision.queue_id, to_queue_id=decision.target.queue_id,
            waited_ms=decision.waited_ms, reason=decision.reason, target=decision.target.kind,
            prompt=decision.prompt, callback_address=decision.callback_address,
        )
    ]


# --------------------------------------------------------------------------- commands


def request_callback(
    state: RouterState, tc: TenantConfig, tenant_id: str,
    interaction_id: str, address: str, now_ms: int, new_id: Callable[[], str],
) -> list[CallbackRequested]:
    """The caller asks to be called back at `address` (empty: the number it called from).
    Allowed for a voice contact waiting in a queue with callbacks whose estimated wait,
    stated when it was queued, reached the queue's threshold. Asking again: no fact."""
    tenant = state.tenants.get(tenant_id)
    it = tenant.interactions.get(interaction_id) if tenant is not None else None
    if it is not None and it.callback is not None and not it.ended:
        return []
    placement = it.current_placement if it is not None else None
    if it is None or placement is None or not it.waiting:
        raise CallbackRefused(f"{interaction_id!r} is not waiting in a queue")
    if it.channel not in ("", "voice"):
        raise CallbackRefused(f"{interaction_id!r} is not a call")
    if it.open_offer() is not None:
        raise CallbackRefused(f"{interaction_id!r} is being offered to an agent")
    queue = tc.queues.get(placement.queue_id)
    tr = queue.treatment if queue is not None else None
    if queue is None or tr is None or not tr.callback_after_ms:
        raise CallbackRefused(f"queue {placement.queue_id!r} offers no callbacks")
    if not offers_callback(queue, it.channel, placement.estimated_wait_ms):
        raise CallbackRefused(
            f"estimated wait {placement.estimated_wait_ms} ms is below the queue's "
            f"callback threshold {tr.callback_after_ms} ms"
        )
    to = address or it.customer
    if not to:
        raise CallbackRefused("no address to call back (the caller's number is withheld)")
    return [
        CallbackRequested(
            event_id=new_id(), tenant_id=tenant_id, at_ms=now_ms,
            causation_id=placement.event_id, interaction_id=interaction_id,
            queue_id=placement.queue_id, callback_address=to,
            waited_ms=max(0, now_ms - (it.arrived_at_ms or placement.queued_at_ms)),
        )
    ]
