"""Protobuf events <-> domain facts. The only place that knows both."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.protobuf.message import Message

from hotline.agent.v1 import events_pb2 as agent_pb2
from hotline.common.v1 import envelope_pb2 as common_pb2
from hotline.ingress.v1 import events_pb2 as ingress_pb2
from hotline.ingress.v1 import registrations_pb2
from hotline.interaction.v1 import events_pb2 as interaction_pb2
from hotline_platform import topics
from hotline_platform.envelope import new_envelope, occurred_at_ms
from hotline_router.domain import facts as f
from hotline_router.domain.model import AgentState, Skill

CHANNELS = {
    common_pb2.CHANNEL_UNSPECIFIED: "",
    common_pb2.CHANNEL_VOICE: "voice",
    common_pb2.CHANNEL_CHAT: "chat",
    common_pb2.CHANNEL_EMAIL: "email",
    common_pb2.CHANNEL_FAX: "fax",
}
CHANNELS_BACK = {v: k for k, v in CHANNELS.items()}

AGENT_STATES = {
    AgentState.LOGGED_OUT: agent_pb2.AGENT_STATE_LOGGED_OUT,
    AgentState.READY: agent_pb2.AGENT_STATE_READY,
    AgentState.NOT_READY: agent_pb2.AGENT_STATE_NOT_READY,
    AgentState.RESERVED: agent_pb2.AGENT_STATE_RESERVED,
    AgentState.BUSY: agent_pb2.AGENT_STATE_BUSY,
    AgentState.WRAP_UP: agent_pb2.AGENT_STATE_WRAP_UP,
}
AGENT_STATES_BACK = {v: k for k, v in AGENT_STATES.items()}

_SS = interaction_pb2.SelfServiceFinished
SELF_SERVICE_OUTCOMES = {
    _SS.OUTCOME_UNSPECIFIED: "",
    _SS.OUTCOME_ROUTE_TO_QUEUE: "route_to_queue",
    _SS.OUTCOME_CONTAINED: "contained",
    _SS.OUTCOME_CUSTOMER_LEFT: "customer_left",
}
_AB = interaction_pb2.InteractionAbandoned
ABANDON_STAGES = {
    _AB.STAGE_UNSPECIFIED: "",
    _AB.STAGE_BEFORE_QUEUE: "before_queue",
    _AB.STAGE_IN_QUEUE: "in_queue",
    _AB.STAGE_WHILE_OFFERED: "while_offered",
}
ABANDON_STAGES_BACK = {v: k for k, v in ABANDON_STAGES.items()}
_CO = interaction_pb2.InteractionCompleted
_FO = interaction_pb2.InteractionFlowedOut
FLOW_OUT_TARGETS = {
    _FO.TARGET_UNSPECIFIED: "",
    _FO.TARGET_QUEUE: "queue",
    _FO.TARGET_CALLBACK: "callback",
    _FO.TARGET_CLOSED: "closed",
}
FLOW_OUT_TARGETS_BACK = {v: k for k, v in FLOW_OUT_TARGETS.items()}
ENDED_BY = {
    _CO.ENDED_BY_UNSPECIFIED: "",
    _CO.ENDED_BY_CUSTOMER: "customer",
    _CO.ENDED_BY_AGENT: "agent",
    _CO.ENDED_BY_SYSTEM: "system",
}
ENDED_BY_BACK = {v: k for k, v in ENDED_BY.items()}
_TR = interaction_pb2.InteractionTransferred
TRANSFER_KINDS = {_TR.KIND_UNSPECIFIED: "", _TR.KIND_BLIND: "blind", _TR.KIND_CONSULT: "consult"}


def skills_from_proto(skills: Iterable[common_pb2.Skill]) -> tuple[Skill, ...]:
    return tuple(Skill(s.name, s.level) for s in skills)


def skills_to_proto(skills: Iterable[Skill]) -> list[common_pb2.Skill]:
    return [common_pb2.Skill(name=s.name, level=s.level) for s in skills]


# --------------------------------------------------------------------------- proto -> domain


def to_fact(event: Message) -> f.Fact | None:
    """The domain fact of a decoded event, or None for facts the router does not use."""
    if isinstance(event, interaction_pb2.InteractionEvent):
        return _interaction_fact(event)
    if isinstance(event, agent_pb2.AgentEvent):
        return _agent_fact(event)
    if isinstance(event, ingress_pb2.IngressEvent):
        return _ingress_fact(event)
    if isinstance(event, registrations_pb2.RegistrationEvent):
        return _registration_fact(event)
    return None


def _registration_fact(ev: registrations_pb2.RegistrationEvent) -> f.Fact | None:
    base = _base(ev.envelope)
    kind = ev.WhichOneof("event")
    if kind == "registered":
        r = ev.registered
        return f.ContactRegistered(
            **base, agent_id=r.agent_id, contact_uri=r.contact_uri,
            reachable_uri=r.reachable_uri or r.contact_uri, expires_at_ms=r.expires_at_ms,
        )
    if kind == "unregistered":
        u = ev.unregistered
        return f.ContactUnregistered(
            **base, agent_id=u.agent_id, contact_uri=u.contact_uri, reason=u.reason
        )
    return None


def _ingress_fact(ev: ingress_pb2.IngressEvent) -> f.Fact | None:
    env = ev.envelope
    if not env.producer:
        return None
    base = _base(env, producer=env.producer)
    kind = ev.WhichOneof("event")
    if kind == "started":
        return f.IngressStarted(**base, incarnation_id=ev.started.incarnation_id)
    if kind == "heartbeat":
        hb = ev.heartbeat
        return f.IngressHeartbeat(
            **base, incarnation_id=hb.incarnation_id, started_at_ms=hb.started_at_ms
        )
    return None


def _base(env: common_pb2.Envelope, **subject: str) -> dict[str, Any]:
    """The fact fields every event's envelope gives, plus what it is about."""
    return {
        "event_id": env.event_id,
        "tenant_id": env.tenant_id,
        "at_ms": occurred_at_ms(env),
        "causation_id": env.causation_id,
        **subject,
    }


def _customer(address: str) -> str:
    """The caller's address as the customer's identity; a withheld number identifies no one
    (RFC 3323 "anonymous"), so it must not pair unrelated callers with one last agent."""
    return "" if "anonymous" in address.lower() else address


def _interaction_fact(ev: interaction_pb2.InteractionEvent) -> f.Fact | None:
    env = ev.envelope
    if not env.interaction_id:
        return None
    base = _base(env, interaction_id=env.interaction_id)
    kind = ev.WhichOneof("event")
    if kind == "arrived":
        a = ev.arrived
        return f.Arrived(
            **base, producer=env.producer, entry_point_id=a.entry_point_id, language=a.language,
            channel=CHANNELS.get(a.channel, ""), customer=_customer(a.from_address),
        )
    if kind == "self_service_finished":
        s = ev.self_service_finished
        return f.SelfServiceFinished(
            **base, outcome=SELF_SERVICE_OUTCOMES.get(s.outcome, ""), queue_id=s.queue_id,
            language=s.language, required_skills=skills_from_proto(s.required_skills),
            priority=s.priority, preferred_agent_id=s.preferred_agent_id,
        )
    if kind == "queued":
        q = ev.queued
        return f.Queued(
            **base, queue_id=q.queue_id, priority=q.priority,
            required_skills=skills_from_proto(q.required_skills), language=q.language,
            channel=CHANNELS.get(q.channel, ""),
            service_level_threshold_s=q.service_level_threshold_s, position=q.position,
            estimated_wait_ms=q.estimated_wait_ms, callback_offered=q.callback_offered,
        )
    if kind == "offered":
        o = ev.offered
        return f.Offered(
            **base, offer_id=o.offer_id, agent_id=o.agent_id, queue_id=o.queue_id,
            endpoint=o.agent_endpoint, ring_timeout_ms=o.ring_timeout_ms, attempt=o.attempt,
            channel=CHANNELS.get(o.channel, ""), routing_step=o.routing_step,
            callback_address=o.callback_address,
        )
    if kind == "flowed_out":
        fo = ev.flowed_out
        return f.FlowedOut(
            **base, from_queue_id=fo.from_queue_id, reason=fo.reason,
            target=FLOW_OUT_TARGETS.get(fo.target, ""), to_queue_id=fo.to_queue_id,
            waited_ms=fo.waited_ms, prompt=fo.prompt, callback_address=fo.callback_address,
        )
    if kind == "callback_requested":
        cb = ev.callback_requested
        return f.CallbackRequested(
            **base, queue_id=cb.queue_id, callback_address=cb.callback_address,
            waited_ms=cb.waited_ms,
        )
    if kind == "routing_expanded":
        x = ev.routing_expanded
        return f.RoutingExpanded(
            **base, queue_id=x.queue_id, step=x.step, waited_ms=x.waited_ms,
            relaxed_levels_by=x.relaxed_levels_by, added_skills=skills_from_proto(x.added_skills),
            added_sites=tuple(x.added_sites), added_queue_id=x.added_queue_id,
        )
    if kind == "offer_accepted":
        acc = ev.offer_accepted
        return f.OfferAccepted(
            **base, offer_id=acc.offer_id, agent_id=acc.agent_id, queue_id=acc.queue_id,
            since_arrival_ms=acc.since_arrival_ms,
        )
    if kind == "offer_rejected":
        r = ev.offer_rejected
        return f.OfferRejected(
            **base, offer_id=r.offer_id, agent_id=r.agent_id, queue_id=r.queue_id,
            reason=r.reason,
        )
    if kind == "offer_timed_out":
        t = ev.offer_timed_out
        return f.OfferTimedOut(
            **base, offer_id=t.offer_id, agent_id=t.agent_id, queue_id=t.queue_id,
            rang_ms=t.rang_ms,
        )
    if kind == "abandoned":
        ab = ev.abandoned
        return f.Abandoned(
            **base, stage=ABANDON_STAGES.get(ab.stage, ""), waited_ms=ab.waited_ms,
            reason=ab.reason,
        )
    if kind == "completed":
        c = ev.completed
        return f.Completed(
            **base, agent_id=c.agent_id, ended_by=ENDED_BY.get(c.ended_by, ""),
            talk_ms=c.talk_ms, hold_ms=c.hold_ms,
        )
    if kind == "held":
        return f.Held(**base, agent_id=ev.held.agent_id)
    if kind == "resumed":
        return f.Resumed(**base, agent_id=ev.resumed.agent_id, held_ms=ev.resumed.held_ms)
    if kind == "transferred":
        t = ev.transferred
        return f.Transferred(
            **base, kind=TRANSFER_KINDS.get(t.kind, ""), from_agent_id=t.from_agent_id,
            to_queue_id=t.to_queue_id, to_agent_id=t.to_agent_id, to_address=t.to_address,
        )
    if kind == "wrap_up_started":
        return f.WrapUpStarted(**base, agent_id=ev.wrap_up_started.agent_id)
    if kind == "wrap_up_ended":
        w = ev.wrap_up_ended
        disposition = (
            f.Disposition(w.disposition.code, w.disposition.resolved, w.disposition.notes_ref)
            if w.HasField("disposition")
            else None
        )
        return f.WrapUpEnded(
            **base, agent_id=w.agent_id, wrap_up_ms=w.wrap_up_ms, timed_out=w.timed_out,
            disposition=disposition,
        )
    return None  # messages ...: not routing facts


def _agent_fact(ev: agent_pb2.AgentEvent) -> f.Fact | None:
    env = ev.envelope
    if not env.agent_id:
        return None
    base = _base(env, agent_id=env.agent_id)
    kind = ev.WhichOneof("event")
    if kind == "logged_in":
        li = ev.logged_in
        return f.AgentLoggedIn(
            **base, site_id=li.site_id, skills=skills_from_proto(li.skills),
            endpoint=li.voice_endpoint, languages=tuple(li.languages),
        )
    if kind == "logged_out":
        lo = ev.logged_out
        return f.AgentLoggedOut(**base, reason=lo.reason, session_ms=lo.session_ms)
    if kind == "state_changed":
        sc = ev.state_changed
        state = AGENT_STATES_BACK.get(sc.state)
        if state is None:
            return None
        return f.AgentStateChanged(
            **base, state=state,
            previous_state=AGENT_STATES_BACK.get(sc.previous_state, AgentState.LOGGED_OUT),
            reason_code=sc.reason_code, previous_state_ms=sc.previous_state_ms,
            interaction_id=sc.interaction_id,
        )
    return None


# --------------------------------------------------------------------------- domain -> proto


def to_event(fact: f.Fact, producer: str, site_id: str = "") -> tuple[topics.Topic, Message]:
    """The topic and protobuf event of a fact the router publishes."""
    if isinstance(fact, f.InteractionFact):
        return topics.ROUTING_INTERACTIONS, _interaction_event(fact, producer, site_id)
    if isinstance(fact, f.AgentFact):
        return topics.AGENTS, _agent_event(fact, producer, site_id)
    raise TypeError(f"the router does not publish {type(fact).__name__}")


def _interaction_event(
    fact: f.InteractionFact, producer: str, site_id: str
) -> interaction_pb2.InteractionEvent:
    agent_id = getattr(fact, "agent_id", "")
    env = new_envelope(
        tenant_id=fact.tenant_id, producer=producer, interaction_id=fact.interaction_id,
        agent_id=agent_id, occurred_at_ms=fact.at_ms, causation_id=fact.causation_id,
        site_id=site_id,
    )
    env.event_id = fact.event_id
    ev = interaction_pb2.InteractionEvent(envelope=env)
    match fact:
        case f.Queued():
            ev.queued.CopyFrom(
                interaction_pb2.InteractionQueued(
                    queue_id=fact.queue_id, priority=fact.priority,
                    required_skills=skills_to_proto(fact.required_skills),
                    language=fact.language, channel=CHANNELS_BACK.get(fact.channel, 0),
                    service_level_threshold_s=fact.service_level_threshold_s,
                    position=fact.position, estimated_wait_ms=fact.estimated_wait_ms,
                    callback_offered=fact.callback_offered,
                )
            )
        case f.Offered():
            ev.offered.CopyFrom(
                interaction_pb2.InteractionOffered(
                    offer_id=fact.offer_id, agent_id=fact.agent_id, queue_id=fact.queue_id,
                    agent_endpoint=fact.endpoint, ring_timeout_ms=fact.ring_timeout_ms,
                    attempt=fact.attempt, channel=CHANNELS_BACK.get(fact.channel, 0),
                    routing_step=fact.routing_step, callback_address=fact.callback_address,
                )
            )
        case f.FlowedOut():
            ev.flowed_out.CopyFrom(
                interaction_pb2.InteractionFlowedOut(
                    from_queue_id=fact.from_queue_id, to_queue_id=fact.to_queue_id,
                    waited_ms=fact.waited_ms, reason=fact.reason,
                    target=FLOW_OUT_TARGETS_BACK.get(fact.target, 0), prompt=fact.prompt,
                    callback_address=fact.callback_address,
                )
            )
        case f.CallbackRequested():
            ev.callback_requested.CopyFrom(
                interaction_pb2.CallbackRequested(
                    queue_id=fact.queue_id, callback_address=fact.callback_address,
                    waited_ms=fact.waited_ms,
                )
            )
        case f.RoutingExpanded():
            ev.routing_expanded.CopyFrom(
                interaction_pb2.RoutingExpanded(
                    queue_id=fact.queue_id, step=fact.step, waited_ms=fact.waited_ms,
                    relaxed_levels_by=fact.relaxed_levels_by,
                    added_skills=skills_to_proto(fact.added_skills),
                    added_sites=list(fact.added_sites), added_queue_id=fact.added_queue_id,
                )
            )
        case f.OfferTimedOut():
            ev.offer_timed_out.CopyFrom(
                interaction_pb2.OfferTimedOut(
                    offer_id=fact.offer_id, agent_id=fact.agent_id, queue_id=fact.queue_id,
                    rang_ms=fact.rang_ms,
                )
            )
        case f.Abandoned():
            ev.abandoned.CopyFrom(
                interaction_pb2.InteractionAbandoned(
                    stage=ABANDON_STAGES_BACK.get(fact.stage, 0), waited_ms=fact.waited_ms,
                    reason=fact.reason,
                )
            )
        case f.Completed():
            ev.completed.CopyFrom(
                interaction_pb2.InteractionCompleted(
                    ended_by=ENDED_BY_BACK.get(fact.ended_by, 0), agent_id=fact.agent_id,
                    talk_ms=fact.talk_ms, hold_ms=fact.hold_ms,
                )
            )
        case f.WrapUpStarted():
            ev.wrap_up_started.agent_id = fact.agent_id
        case f.WrapUpEnded():
            w = ev.wrap_up_ended
            w.agent_id = fact.agent_id
            w.wrap_up_ms = fact.wrap_up_ms
            w.timed_out = fact.timed_out
            if fact.disposition is not None:
                w.disposition.CopyFrom(
                    interaction_pb2.Disposition(
                        code=fact.disposition.code, resolved=fact.disposition.resolved,
                        notes_ref=fact.disposition.notes_ref,
                    )
                )
        case _:
            raise TypeError(f"the router does not publish {type(fact).__name__}")
    return ev


def _agent_event(fact: f.AgentFact, producer: str, site_id: str) -> agent_pb2.AgentEvent:
    env = new_envelope(
        tenant_id=fact.tenant_id, producer=producer, agent_id=fact.agent_id,
        interaction_id=getattr(fact, "interaction_id", ""), occurred_at_ms=fact.at_ms,
        causation_id=fact.causation_id, site_id=site_id,
        correlation_id=getattr(fact, "interaction_id", "") or fact.agent_id,
    )
    env.event_id = fact.event_id
    ev = agent_pb2.AgentEvent(envelope=env)
    match fact:
        case f.AgentLoggedIn():
            ev.logged_in.CopyFrom(
                agent_pb2.AgentLoggedIn(
                    site_id=fact.site_id, skills=skills_to_proto(fact.skills),
                    voice_endpoint=fact.endpoint, languages=list(fact.languages),
                    capacities=[
                        agent_pb2.ChannelCapacity(
                            channel=common_pb2.CHANNEL_VOICE, max_concurrent=1
                        )
                    ],
                )
            )
        case f.AgentLoggedOut():
            ev.logged_out.CopyFrom(
                agent_pb2.AgentLoggedOut(reason=fact.reason, session_ms=fact.session_ms)
            )
        case f.AgentStateChanged():
            ev.state_changed.CopyFrom(
                agent_pb2.AgentStateChanged(
                    state=AGENT_STATES[fact.state],
                    previous_state=AGENT_STATES[fact.previous_state],
                    reason_code=fact.reason_code, previous_state_ms=fact.previous_state_ms,
                    interaction_id=fact.interaction_id,
                )
            )
        case _:
            raise TypeError(f"the router does not publish {type(fact).__name__}")
    return ev
