"""Domain facts <-> `hotline.interaction.v1.InteractionEvent`, and the Kafka publisher adapter
(the InteractionEvents port) writing to hotline.voice.interactions.v1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

from hotline.common.v1.envelope_pb2 import CHANNEL_VOICE, DIRECTION_INBOUND
from hotline.interaction.v1.events_pb2 import (
    IDENTITY_KIND_ACCOUNT,
    IDENTITY_KIND_PHONE,
    InteractionAbandoned,
    InteractionCompleted,
    InteractionEvent,
    InteractionFlowedOut,
    InteractionTransferred,
    SelfServiceFinished,
)
from hotline.voice.v1.commands_pb2 import CallCommand
from hotline_ingress_sip.domain import events as facts
from hotline_platform.bus import EventPublisher
from hotline_platform.envelope import ContractViolation, new_envelope
from hotline_platform.metrics import EVENTS_PUBLISHED
from hotline_platform.topics import VOICE_INTERACTIONS

SERVICE = "ingress-sip"

_ENDED_BY = {
    facts.EndedBy.CUSTOMER: InteractionCompleted.ENDED_BY_CUSTOMER,
    facts.EndedBy.AGENT: InteractionCompleted.ENDED_BY_AGENT,
    facts.EndedBy.SYSTEM: InteractionCompleted.ENDED_BY_SYSTEM,
}
_STAGE = {
    facts.AbandonStage.IN_QUEUE: InteractionAbandoned.STAGE_IN_QUEUE,
    facts.AbandonStage.WHILE_OFFERED: InteractionAbandoned.STAGE_WHILE_OFFERED,
}
_OUTCOME = {
    facts.SelfServiceOutcome.ROUTE_TO_QUEUE: SelfServiceFinished.OUTCOME_ROUTE_TO_QUEUE,
    facts.SelfServiceOutcome.CONTAINED: SelfServiceFinished.OUTCOME_CONTAINED,
    facts.SelfServiceOutcome.CUSTOMER_LEFT: SelfServiceFinished.OUTCOME_CUSTOMER_LEFT,
}


def to_event(fact: facts.Fact, producer: str) -> InteractionEvent:
    """The contract event for one domain fact."""
    event = InteractionEvent(
        envelope=new_envelope(
            tenant_id=fact.tenant_id,
            producer=producer,
            interaction_id=fact.interaction_id,
            agent_id=fact.agent_id,
            occurred_at_ms=fact.at_ms,
            causation_id=fact.causation_id,
            site_id=fact.site_id,
        )
    )
    if isinstance(fact, facts.CallArrived):
        body = event.arrived
        body.channel = CHANNEL_VOICE
        body.direction = DIRECTION_INBOUND
        body.from_address = fact.from_address
        body.to_address = fact.to_address
        body.entry_point_id = fact.entry_point_id
        body.session_ref = fact.session_ref
        if fact.caller_id:
            body.identity_hints.add(kind=IDENTITY_KIND_PHONE, value=fact.caller_id)
    elif isinstance(fact, facts.OfferAccepted):
        accepted = event.offer_accepted
        accepted.offer_id = fact.offer_id
        accepted.agent_id = fact.agent_id
        accepted.queue_id = fact.queue_id
        accepted.since_arrival_ms = fact.since_arrival_ms
    elif isinstance(fact, facts.OfferRejected):
        rejected = event.offer_rejected
        rejected.offer_id = fact.offer_id
        rejected.agent_id = fact.agent_id
        rejected.queue_id = fact.queue_id
        rejected.reason = fact.reason
    elif isinstance(fact, facts.OfferTimedOut):
        timed_out = event.offer_timed_out
        timed_out.offer_id = fact.offer_id
        timed_out.agent_id = fact.agent_id
        timed_out.queue_id = fact.queue_id
        timed_out.rang_ms = fact.rang_ms
    elif isinstance(fact, facts.CallCompleted):
        completed = event.completed
        completed.ended_by = _ENDED_BY[fact.ended_by]
        completed.agent_id = fact.agent_id
        completed.talk_ms = fact.talk_ms
        completed.hold_ms = fact.hold_ms
        completed.reason = fact.reason
    elif isinstance(fact, facts.CallAbandoned):
        abandoned = event.abandoned
        abandoned.stage = _STAGE[fact.stage]
        abandoned.waited_ms = fact.waited_ms
        abandoned.reason = fact.reason
    elif isinstance(fact, facts.CallbackRequested):
        requested = event.callback_requested
        requested.queue_id = fact.queue_id
        requested.callback_address = fact.callback_address
        requested.waited_ms = fact.waited_ms
    elif isinstance(fact, facts.SelfServiceFinished):
        finished = event.self_service_finished
        finished.outcome = _OUTCOME[fact.outcome]
        finished.duration_ms = fact.duration_ms
        finished.queue_id = fact.queue_id
        finished.language = fact.language
        for skill, level in fact.skills:
            finished.required_skills.add(name=skill, level=level)
        finished.intent = fact.intent
        finished.priority = fact.priority
        if fact.account:
            finished.identity_hints.add(kind=IDENTITY_KIND_ACCOUNT, value=fact.account)
    elif isinstance(fact, facts.CallHeld):
        event.held.agent_id = fact.agent_id
    elif isinstance(fact, facts.CallResumed):
        event.resumed.agent_id = fact.agent_id
        event.resumed.held_ms = fact.held_ms
    elif isinstance(fact, facts.CallTransferred):
        transferred = event.transferred
        transferred.kind = InteractionTransferred.KIND_BLIND
        transferred.from_agent_id = fact.agent_id
        transferred.to_queue_id = fact.to_queue_id
        transferred.to_agent_id = fact.to_agent_id
        transferred.to_address = fact.to_address
    else:
        raise TypeError(f"no event for fact {type(fact).__name__}")
    return event


def offer_from_event(event: InteractionEvent) -> facts.Offer | None:
    """The offer in an `offered` event (None for any other kind, or another channel)."""
    if event.WhichOneof("event") != "offered":
        return None
    offered = event.offered
    if offered.channel not in (0, CHANNEL_VOICE):  # unspecified is taken as voice
        return None
    env = event.envelope
    return facts.Offer(
        interaction_id=env.interaction_id,
        tenant_id=env.tenant_id,
        offer_id=offered.offer_id,
        agent_id=offered.agent_id or env.agent_id,
        queue_id=offered.queue_id,
        agent_endpoint=offered.agent_endpoint,
        ring_timeout_ms=offered.ring_timeout_ms,
        attempt=offered.attempt,
        causation_id=env.event_id,
    )


def withdrawal_from_event(event: InteractionEvent) -> facts.OfferWithdrawn | None:
    """The router's own `offer_timed_out` (None for any other kind). Only the router writes
    the routing topic, so such an event is always the router giving up on an offer."""
    if event.WhichOneof("event") != "offer_timed_out":
        return None
    timed_out = event.offer_timed_out
    env = event.envelope
    return facts.OfferWithdrawn(
        interaction_id=env.interaction_id,
        tenant_id=env.tenant_id,
        offer_id=timed_out.offer_id,
        agent_id=timed_out.agent_id or env.agent_id,
    )


_RELEASING_FLOW_OUTS = (
    InteractionFlowedOut.TARGET_CLOSED, InteractionFlowedOut.TARGET_CALLBACK,
)


def ending_from_event(event: InteractionEvent) -> facts.EndedByRouter | None:
    """The router's own `abandoned` / `completed` (it writes them only for contacts whose
    ingress it took for lost), a `flowed_out` to a closed message or a callback, and a
    `callback_requested`: the caller is released. None for any other kind (a flow-out to
    another queue keeps the caller waiting)."""
    kind = event.WhichOneof("event")
    prompt = ""
    if kind in ("abandoned", "completed"):
        why = "lost"
    elif kind == "flowed_out" and event.flowed_out.target in _RELEASING_FLOW_OUTS:
        why = "flowed_out"
        if event.flowed_out.target == InteractionFlowedOut.TARGET_CLOSED:
            prompt = event.flowed_out.prompt
    elif kind == "callback_requested":
        why = "callback"
    else:
        return None
    env = event.envelope
    return facts.EndedByRouter(
        interaction_id=env.interaction_id, tenant_id=env.tenant_id, why=why, prompt=prompt
    )


def placement_from_event(event: InteractionEvent) -> facts.QueuePlacement | None:
    """The router's `queued` (None for any other kind, or another channel)."""
    if event.WhichOneof("event") != "queued":
        return None
    queued = event.queued
    if queued.channel not in (0, CHANNEL_VOICE):
        return None
    env = event.envelope
    return facts.QueuePlacement(
        interaction_id=env.interaction_id,
        tenant_id=env.tenant_id,
        queue_id=queued.queue_id,
        position=queued.position,
        estimated_wait_ms=queued.estimated_wait_ms,
        callback_offered=queued.callback_offered,
    )


def instruction_from_event(event: InteractionEvent) -> facts.RoutingInstruction | None:
    """What a routing event asks of ingress-sip: ring (`offered`), stop ringing (the router's
    `offer_timed_out`), end the call (the router's `abandoned` / `completed`), or nothing
    (None: every other kind is skipped)."""
    return (
        offer_from_event(event) or withdrawal_from_event(event) or ending_from_event(event)
        or placement_from_event(event)
    )


_ACTIONS = {
    "hold": facts.CallAction.HOLD,
    "resume": facts.CallAction.RESUME,
    "transfer": facts.CallAction.TRANSFER,
}


def command_from_message(command: CallCommand) -> facts.CallCommand:
    """The domain command of a (decoded, envelope-checked) `CallCommand`; raises
    ContractViolation when it does not say which call, whose, or (a transfer) where to."""
    env = command.envelope
    kind = command.WhichOneof("event")
    if kind not in _ACTIONS:
        raise ContractViolation(f"unknown call command {kind!r}")
    if not env.interaction_id or not env.agent_id:
        raise ContractViolation("a call command names its interaction and its agent")
    to_queue_id = command.transfer.to_queue_id if kind == "transfer" else ""
    if kind == "transfer" and not to_queue_id:
        raise ContractViolation("a transfer names its queue (to_queue_id)")
    return facts.CallCommand(
        interaction_id=env.interaction_id,
        tenant_id=env.tenant_id,
        agent_id=env.agent_id,
        action=_ACTIONS[kind],
        to_queue_id=to_queue_id,
        command_id=env.event_id,
    )


class KafkaInteractionEvents:
    """Publishes facts to hotline.voice.interactions.v1 (non-blocking; flush on shutdown)."""

    def __init__(self, publisher: EventPublisher, instance_id: str) -> None:
        self._publisher = publisher
        self.producer = f"{SERVICE}/{instance_id}"
        self._published = EVENTS_PUBLISHED.labels(SERVICE, VOICE_INTERACTIONS.name)
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop `on_recorded` callbacks run on (delivery reports come from another thread)."""
        self._loop = loop

    def publish(self, fact: facts.Fact, on_recorded: Callable[[], None] | None = None) -> None:
        callback: Callable[[], object] | None = None
        if on_recorded is not None:
            loop = self._loop
            if loop is None:
                raise RuntimeError("bind() the event loop before asking for on_recorded")
            callback = partial(loop.call_soon_threadsafe, on_recorded)
        self._publisher.publish(VOICE_INTERACTIONS, to_event(fact, self.producer), callback)
        self._published.inc()
