from hotline.common.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IdentityKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTITY_KIND_UNSPECIFIED: _ClassVar[IdentityKind]
    IDENTITY_KIND_PHONE: _ClassVar[IdentityKind]
    IDENTITY_KIND_EMAIL: _ClassVar[IdentityKind]
    IDENTITY_KIND_CHAT_ID: _ClassVar[IdentityKind]
    IDENTITY_KIND_ACCOUNT: _ClassVar[IdentityKind]
IDENTITY_KIND_UNSPECIFIED: IdentityKind
IDENTITY_KIND_PHONE: IdentityKind
IDENTITY_KIND_EMAIL: IdentityKind
IDENTITY_KIND_CHAT_ID: IdentityKind
IDENTITY_KIND_ACCOUNT: IdentityKind

class InteractionEvent(_message.Message):
    __slots__ = ("envelope", "arrived", "self_service_finished", "queued", "offered", "offer_accepted", "offer_rejected", "offer_timed_out", "held", "resumed", "transferred", "message_received", "message_sent", "wrap_up_started", "wrap_up_ended", "completed", "abandoned", "callback_requested", "flowed_out", "owner_claimed", "routing_expanded")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    ARRIVED_FIELD_NUMBER: _ClassVar[int]
    SELF_SERVICE_FINISHED_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    OFFERED_FIELD_NUMBER: _ClassVar[int]
    OFFER_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    OFFER_REJECTED_FIELD_NUMBER: _ClassVar[int]
    OFFER_TIMED_OUT_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    TRANSFERRED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_SENT_FIELD_NUMBER: _ClassVar[int]
    WRAP_UP_STARTED_FIELD_NUMBER: _ClassVar[int]
    WRAP_UP_ENDED_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    ABANDONED_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    FLOWED_OUT_FIELD_NUMBER: _ClassVar[int]
    OWNER_CLAIMED_FIELD_NUMBER: _ClassVar[int]
    ROUTING_EXPANDED_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.Envelope
    arrived: InteractionArrived
    self_service_finished: SelfServiceFinished
    queued: InteractionQueued
    offered: InteractionOffered
    offer_accepted: OfferAccepted
    offer_rejected: OfferRejected
    offer_timed_out: OfferTimedOut
    held: InteractionHeld
    resumed: InteractionResumed
    transferred: InteractionTransferred
    message_received: MessageReceived
    message_sent: MessageSent
    wrap_up_started: WrapUpStarted
    wrap_up_ended: WrapUpEnded
    completed: InteractionCompleted
    abandoned: InteractionAbandoned
    callback_requested: CallbackRequested
    flowed_out: InteractionFlowedOut
    owner_claimed: _envelope_pb2.OwnerClaimed
    routing_expanded: RoutingExpanded
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.Envelope, _Mapping]] = ..., arrived: _Optional[_Union[InteractionArrived, _Mapping]] = ..., self_service_finished: _Optional[_Union[SelfServiceFinished, _Mapping]] = ..., queued: _Optional[_Union[InteractionQueued, _Mapping]] = ..., offered: _Optional[_Union[InteractionOffered, _Mapping]] = ..., offer_accepted: _Optional[_Union[OfferAccepted, _Mapping]] = ..., offer_rejected: _Optional[_Union[OfferRejected, _Mapping]] = ..., offer_timed_out: _Optional[_Union[OfferTimedOut, _Mapping]] = ..., held: _Optional[_Union[InteractionHeld, _Mapping]] = ..., resumed: _Optional[_Union[InteractionResumed, _Mapping]] = ..., transferred: _Optional[_Union[InteractionTransferred, _Mapping]] = ..., message_received: _Optional[_Union[MessageReceived, _Mapping]] = ..., message_sent: _Optional[_Union[MessageSent, _Mapping]] = ..., wrap_up_started: _Optional[_Union[WrapUpStarted, _Mapping]] = ..., wrap_up_ended: _Optional[_Union[WrapUpEnded, _Mapping]] = ..., completed: _Optional[_Union[InteractionCompleted, _Mapping]] = ..., abandoned: _Optional[_Union[InteractionAbandoned, _Mapping]] = ..., callback_requested: _Optional[_Union[CallbackRequested, _Mapping]] = ..., flowed_out: _Optional[_Union[InteractionFlowedOut, _Mapping]] = ..., owner_claimed: _Optional[_Union[_envelope_pb2.OwnerClaimed, _Mapping]] = ..., routing_expanded: _Optional[_Union[RoutingExpanded, _Mapping]] = ...) -> None: ...

class IdentityHint(_message.Message):
    __slots__ = ("kind", "value")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    kind: IdentityKind
    value: str
    def __init__(self, kind: _Optional[_Union[IdentityKind, str]] = ..., value: _Optional[str] = ...) -> None: ...

class InteractionArrived(_message.Message):
    __slots__ = ("channel", "direction", "from_address", "to_address", "entry_point_id", "language", "identity_hints", "subject", "session_ref", "outbound_reason")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    FROM_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TO_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ENTRY_POINT_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_HINTS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SESSION_REF_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_REASON_FIELD_NUMBER: _ClassVar[int]
    channel: _envelope_pb2.Channel
    direction: _envelope_pb2.Direction
    from_address: str
    to_address: str
    entry_point_id: str
    language: str
    identity_hints: _containers.RepeatedCompositeFieldContainer[IdentityHint]
    subject: str
    session_ref: str
    outbound_reason: str
    def __init__(self, channel: _Optional[_Union[_envelope_pb2.Channel, str]] = ..., direction: _Optional[_Union[_envelope_pb2.Direction, str]] = ..., from_address: _Optional[str] = ..., to_address: _Optional[str] = ..., entry_point_id: _Optional[str] = ..., language: _Optional[str] = ..., identity_hints: _Optional[_Iterable[_Union[IdentityHint, _Mapping]]] = ..., subject: _Optional[str] = ..., session_ref: _Optional[str] = ..., outbound_reason: _Optional[str] = ...) -> None: ...

class SelfServiceFinished(_message.Message):
    __slots__ = ("outcome", "duration_ms", "queue_id", "language", "required_skills", "intent", "priority", "identity_hints", "preferred_agent_id")
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTCOME_UNSPECIFIED: _ClassVar[SelfServiceFinished.Outcome]
        OUTCOME_ROUTE_TO_QUEUE: _ClassVar[SelfServiceFinished.Outcome]
        OUTCOME_CONTAINED: _ClassVar[SelfServiceFinished.Outcome]
        OUTCOME_CUSTOMER_LEFT: _ClassVar[SelfServiceFinished.Outcome]
    OUTCOME_UNSPECIFIED: SelfServiceFinished.Outcome
    OUTCOME_ROUTE_TO_QUEUE: SelfServiceFinished.Outcome
    OUTCOME_CONTAINED: SelfServiceFinished.Outcome
    OUTCOME_CUSTOMER_LEFT: SelfServiceFinished.Outcome
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SKILLS_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_HINTS_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    outcome: SelfServiceFinished.Outcome
    duration_ms: int
    queue_id: str
    language: str
    required_skills: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Skill]
    intent: str
    priority: int
    identity_hints: _containers.RepeatedCompositeFieldContainer[IdentityHint]
    preferred_agent_id: str
    def __init__(self, outcome: _Optional[_Union[SelfServiceFinished.Outcome, str]] = ..., duration_ms: _Optional[int] = ..., queue_id: _Optional[str] = ..., language: _Optional[str] = ..., required_skills: _Optional[_Iterable[_Union[_envelope_pb2.Skill, _Mapping]]] = ..., intent: _Optional[str] = ..., priority: _Optional[int] = ..., identity_hints: _Optional[_Iterable[_Union[IdentityHint, _Mapping]]] = ..., preferred_agent_id: _Optional[str] = ...) -> None: ...

class InteractionQueued(_message.Message):
    __slots__ = ("queue_id", "priority", "required_skills", "language", "channel", "service_level_threshold_s", "position", "estimated_wait_ms", "callback_offered")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SKILLS_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_THRESHOLD_S_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_OFFERED_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    priority: int
    required_skills: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Skill]
    language: str
    channel: _envelope_pb2.Channel
    service_level_threshold_s: int
    position: int
    estimated_wait_ms: int
    callback_offered: bool
    def __init__(self, queue_id: _Optional[str] = ..., priority: _Optional[int] = ..., required_skills: _Optional[_Iterable[_Union[_envelope_pb2.Skill, _Mapping]]] = ..., language: _Optional[str] = ..., channel: _Optional[_Union[_envelope_pb2.Channel, str]] = ..., service_level_threshold_s: _Optional[int] = ..., position: _Optional[int] = ..., estimated_wait_ms: _Optional[int] = ..., callback_offered: _Optional[bool] = ...) -> None: ...

class InteractionOffered(_message.Message):
    __slots__ = ("offer_id", "agent_id", "queue_id", "agent_endpoint", "ring_timeout_ms", "attempt", "channel", "routing_step", "callback_address")
    OFFER_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    RING_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ROUTING_STEP_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    offer_id: str
    agent_id: str
    queue_id: str
    agent_endpoint: str
    ring_timeout_ms: int
    attempt: int
    channel: _envelope_pb2.Channel
    routing_step: int
    callback_address: str
    def __init__(self, offer_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., queue_id: _Optional[str] = ..., agent_endpoint: _Optional[str] = ..., ring_timeout_ms: _Optional[int] = ..., attempt: _Optional[int] = ..., channel: _Optional[_Union[_envelope_pb2.Channel, str]] = ..., routing_step: _Optional[int] = ..., callback_address: _Optional[str] = ...) -> None: ...

class RoutingExpanded(_message.Message):
    __slots__ = ("queue_id", "step", "waited_ms", "relaxed_levels_by", "added_skills", "added_sites", "added_queue_id")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    WAITED_MS_FIELD_NUMBER: _ClassVar[int]
    RELAXED_LEVELS_BY_FIELD_NUMBER: _ClassVar[int]
    ADDED_SKILLS_FIELD_NUMBER: _ClassVar[int]
    ADDED_SITES_FIELD_NUMBER: _ClassVar[int]
    ADDED_QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    step: int
    waited_ms: int
    relaxed_levels_by: int
    added_skills: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Skill]
    added_sites: _containers.RepeatedScalarFieldContainer[str]
    added_queue_id: str
    def __init__(self, queue_id: _Optional[str] = ..., step: _Optional[int] = ..., waited_ms: _Optional[int] = ..., relaxed_levels_by: _Optional[int] = ..., added_skills: _Optional[_Iterable[_Union[_envelope_pb2.Skill, _Mapping]]] = ..., added_sites: _Optional[_Iterable[str]] = ..., added_queue_id: _Optional[str] = ...) -> None: ...

class OfferAccepted(_message.Message):
    __slots__ = ("offer_id", "agent_id", "queue_id", "since_arrival_ms")
    OFFER_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_ARRIVAL_MS_FIELD_NUMBER: _ClassVar[int]
    offer_id: str
    agent_id: str
    queue_id: str
    since_arrival_ms: int
    def __init__(self, offer_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., queue_id: _Optional[str] = ..., since_arrival_ms: _Optional[int] = ...) -> None: ...

class OfferRejected(_message.Message):
    __slots__ = ("offer_id", "agent_id", "queue_id", "reason")
    OFFER_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    offer_id: str
    agent_id: str
    queue_id: str
    reason: str
    def __init__(self, offer_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., queue_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class OfferTimedOut(_message.Message):
    __slots__ = ("offer_id", "agent_id", "queue_id", "rang_ms")
    OFFER_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    RANG_MS_FIELD_NUMBER: _ClassVar[int]
    offer_id: str
    agent_id: str
    queue_id: str
    rang_ms: int
    def __init__(self, offer_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., queue_id: _Optional[str] = ..., rang_ms: _Optional[int] = ...) -> None: ...

class InteractionHeld(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class InteractionResumed(_message.Message):
    __slots__ = ("agent_id", "held_ms")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    HELD_MS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    held_ms: int
    def __init__(self, agent_id: _Optional[str] = ..., held_ms: _Optional[int] = ...) -> None: ...

class InteractionTransferred(_message.Message):
    __slots__ = ("kind", "from_agent_id", "to_queue_id", "to_agent_id", "to_address")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[InteractionTransferred.Kind]
        KIND_BLIND: _ClassVar[InteractionTransferred.Kind]
        KIND_CONSULT: _ClassVar[InteractionTransferred.Kind]
    KIND_UNSPECIFIED: InteractionTransferred.Kind
    KIND_BLIND: InteractionTransferred.Kind
    KIND_CONSULT: InteractionTransferred.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    FROM_AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    TO_AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    kind: InteractionTransferred.Kind
    from_agent_id: str
    to_queue_id: str
    to_agent_id: str
    to_address: str
    def __init__(self, kind: _Optional[_Union[InteractionTransferred.Kind, str]] = ..., from_agent_id: _Optional[str] = ..., to_queue_id: _Optional[str] = ..., to_agent_id: _Optional[str] = ..., to_address: _Optional[str] = ...) -> None: ...

class MessageReceived(_message.Message):
    __slots__ = ("message_id", "from_address", "content_type", "size_bytes", "body_ref")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    BODY_REF_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    from_address: str
    content_type: str
    size_bytes: int
    body_ref: str
    def __init__(self, message_id: _Optional[str] = ..., from_address: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., body_ref: _Optional[str] = ...) -> None: ...

class MessageSent(_message.Message):
    __slots__ = ("message_id", "agent_id", "to_address", "content_type", "size_bytes", "body_ref", "first_response")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    BODY_REF_FIELD_NUMBER: _ClassVar[int]
    FIRST_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    agent_id: str
    to_address: str
    content_type: str
    size_bytes: int
    body_ref: str
    first_response: bool
    def __init__(self, message_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., to_address: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., body_ref: _Optional[str] = ..., first_response: _Optional[bool] = ...) -> None: ...

class WrapUpStarted(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class Disposition(_message.Message):
    __slots__ = ("code", "resolved", "notes_ref")
    CODE_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_FIELD_NUMBER: _ClassVar[int]
    NOTES_REF_FIELD_NUMBER: _ClassVar[int]
    code: str
    resolved: bool
    notes_ref: str
    def __init__(self, code: _Optional[str] = ..., resolved: _Optional[bool] = ..., notes_ref: _Optional[str] = ...) -> None: ...

class WrapUpEnded(_message.Message):
    __slots__ = ("agent_id", "disposition", "wrap_up_ms", "timed_out")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPOSITION_FIELD_NUMBER: _ClassVar[int]
    WRAP_UP_MS_FIELD_NUMBER: _ClassVar[int]
    TIMED_OUT_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    disposition: Disposition
    wrap_up_ms: int
    timed_out: bool
    def __init__(self, agent_id: _Optional[str] = ..., disposition: _Optional[_Union[Disposition, _Mapping]] = ..., wrap_up_ms: _Optional[int] = ..., timed_out: _Optional[bool] = ...) -> None: ...

class InteractionCompleted(_message.Message):
    __slots__ = ("ended_by", "agent_id", "talk_ms", "hold_ms", "reason")
    class EndedBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ENDED_BY_UNSPECIFIED: _ClassVar[InteractionCompleted.EndedBy]
        ENDED_BY_CUSTOMER: _ClassVar[InteractionCompleted.EndedBy]
        ENDED_BY_AGENT: _ClassVar[InteractionCompleted.EndedBy]
        ENDED_BY_SYSTEM: _ClassVar[InteractionCompleted.EndedBy]
    ENDED_BY_UNSPECIFIED: InteractionCompleted.EndedBy
    ENDED_BY_CUSTOMER: InteractionCompleted.EndedBy
    ENDED_BY_AGENT: InteractionCompleted.EndedBy
    ENDED_BY_SYSTEM: InteractionCompleted.EndedBy
    ENDED_BY_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TALK_MS_FIELD_NUMBER: _ClassVar[int]
    HOLD_MS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ended_by: InteractionCompleted.EndedBy
    agent_id: str
    talk_ms: int
    hold_ms: int
    reason: str
    def __init__(self, ended_by: _Optional[_Union[InteractionCompleted.EndedBy, str]] = ..., agent_id: _Optional[str] = ..., talk_ms: _Optional[int] = ..., hold_ms: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class InteractionAbandoned(_message.Message):
    __slots__ = ("stage", "waited_ms", "reason")
    class Stage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STAGE_UNSPECIFIED: _ClassVar[InteractionAbandoned.Stage]
        STAGE_BEFORE_QUEUE: _ClassVar[InteractionAbandoned.Stage]
        STAGE_IN_QUEUE: _ClassVar[InteractionAbandoned.Stage]
        STAGE_WHILE_OFFERED: _ClassVar[InteractionAbandoned.Stage]
    STAGE_UNSPECIFIED: InteractionAbandoned.Stage
    STAGE_BEFORE_QUEUE: InteractionAbandoned.Stage
    STAGE_IN_QUEUE: InteractionAbandoned.Stage
    STAGE_WHILE_OFFERED: InteractionAbandoned.Stage
    STAGE_FIELD_NUMBER: _ClassVar[int]
    WAITED_MS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    stage: InteractionAbandoned.Stage
    waited_ms: int
    reason: str
    def __init__(self, stage: _Optional[_Union[InteractionAbandoned.Stage, str]] = ..., waited_ms: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class CallbackRequested(_message.Message):
    __slots__ = ("queue_id", "callback_address", "waited_ms")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    WAITED_MS_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    callback_address: str
    waited_ms: int
    def __init__(self, queue_id: _Optional[str] = ..., callback_address: _Optional[str] = ..., waited_ms: _Optional[int] = ...) -> None: ...

class InteractionFlowedOut(_message.Message):
    __slots__ = ("from_queue_id", "to_queue_id", "waited_ms", "reason", "target", "prompt", "callback_address")
    class Target(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TARGET_UNSPECIFIED: _ClassVar[InteractionFlowedOut.Target]
        TARGET_QUEUE: _ClassVar[InteractionFlowedOut.Target]
        TARGET_CALLBACK: _ClassVar[InteractionFlowedOut.Target]
        TARGET_CLOSED: _ClassVar[InteractionFlowedOut.Target]
    TARGET_UNSPECIFIED: InteractionFlowedOut.Target
    TARGET_QUEUE: InteractionFlowedOut.Target
    TARGET_CALLBACK: InteractionFlowedOut.Target
    TARGET_CLOSED: InteractionFlowedOut.Target
    FROM_QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    TO_QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    WAITED_MS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    from_queue_id: str
    to_queue_id: str
    waited_ms: int
    reason: str
    target: InteractionFlowedOut.Target
    prompt: str
    callback_address: str
    def __init__(self, from_queue_id: _Optional[str] = ..., to_queue_id: _Optional[str] = ..., waited_ms: _Optional[int] = ..., reason: _Optional[str] = ..., target: _Optional[_Union[InteractionFlowedOut.Target, str]] = ..., prompt: _Optional[str] = ..., callback_address: _Optional[str] = ...) -> None: ...
