import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hotline.common.v1 import envelope_pb2 as _envelope_pb2
from hotline.interaction.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ContactOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTACT_OUTCOME_UNSPECIFIED: _ClassVar[ContactOutcome]
    CONTACT_OUTCOME_ANSWERED: _ClassVar[ContactOutcome]
    CONTACT_OUTCOME_SHORT_ABANDONED: _ClassVar[ContactOutcome]
    CONTACT_OUTCOME_ABANDONED: _ClassVar[ContactOutcome]
    CONTACT_OUTCOME_CALLBACK: _ClassVar[ContactOutcome]
    CONTACT_OUTCOME_FLOWED_OUT: _ClassVar[ContactOutcome]
    CONTACT_OUTCOME_WAITING: _ClassVar[ContactOutcome]
    CONTACT_OUTCOME_CONTAINED: _ClassVar[ContactOutcome]
    CONTACT_OUTCOME_LEFT_IN_SELF_SERVICE: _ClassVar[ContactOutcome]
    CONTACT_OUTCOME_ABANDONED_BEFORE_QUEUE: _ClassVar[ContactOutcome]
    CONTACT_OUTCOME_NOT_QUEUED: _ClassVar[ContactOutcome]
CONTACT_OUTCOME_UNSPECIFIED: ContactOutcome
CONTACT_OUTCOME_ANSWERED: ContactOutcome
CONTACT_OUTCOME_SHORT_ABANDONED: ContactOutcome
CONTACT_OUTCOME_ABANDONED: ContactOutcome
CONTACT_OUTCOME_CALLBACK: ContactOutcome
CONTACT_OUTCOME_FLOWED_OUT: ContactOutcome
CONTACT_OUTCOME_WAITING: ContactOutcome
CONTACT_OUTCOME_CONTAINED: ContactOutcome
CONTACT_OUTCOME_LEFT_IN_SELF_SERVICE: ContactOutcome
CONTACT_OUTCOME_ABANDONED_BEFORE_QUEUE: ContactOutcome
CONTACT_OUTCOME_NOT_QUEUED: ContactOutcome

class Period(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: _timestamp_pb2.Timestamp
    def __init__(self, to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class GetKpiReportRequest(_message.Message):
    __slots__ = ("tenant_id", "period", "queue_ids", "split_by", "priority_band_edges")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    QUEUE_IDS_FIELD_NUMBER: _ClassVar[int]
    SPLIT_BY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_BAND_EDGES_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    period: Period
    queue_ids: _containers.RepeatedScalarFieldContainer[str]
    split_by: str
    priority_band_edges: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, tenant_id: _Optional[str] = ..., period: _Optional[_Union[Period, _Mapping]] = ..., queue_ids: _Optional[_Iterable[str]] = ..., split_by: _Optional[str] = ..., priority_band_edges: _Optional[_Iterable[int]] = ...) -> None: ...

class KpiDefinitions(_message.Message):
    __slots__ = ("interval", "queued", "short_abandon_s", "short_abandoned", "offered", "answered", "abandoned", "waiting", "wait", "within_T", "service_level", "service_level_formula", "abandonment_rate", "abandonment_rate_formula", "asa", "handled", "aht", "ended_by_fault")
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    SHORT_ABANDON_S_FIELD_NUMBER: _ClassVar[int]
    SHORT_ABANDONED_FIELD_NUMBER: _ClassVar[int]
    OFFERED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    ABANDONED_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    WITHIN_T_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_FORMULA_FIELD_NUMBER: _ClassVar[int]
    ABANDONMENT_RATE_FIELD_NUMBER: _ClassVar[int]
    ABANDONMENT_RATE_FORMULA_FIELD_NUMBER: _ClassVar[int]
    ASA_FIELD_NUMBER: _ClassVar[int]
    HANDLED_FIELD_NUMBER: _ClassVar[int]
    AHT_FIELD_NUMBER: _ClassVar[int]
    ENDED_BY_FAULT_FIELD_NUMBER: _ClassVar[int]
    interval: str
    queued: str
    short_abandon_s: float
    short_abandoned: str
    offered: str
    answered: str
    abandoned: str
    waiting: str
    wait: str
    within_T: str
    service_level: str
    service_level_formula: str
    abandonment_rate: str
    abandonment_rate_formula: str
    asa: str
    handled: str
    aht: str
    ended_by_fault: str
    def __init__(self, interval: _Optional[str] = ..., queued: _Optional[str] = ..., short_abandon_s: _Optional[float] = ..., short_abandoned: _Optional[str] = ..., offered: _Optional[str] = ..., answered: _Optional[str] = ..., abandoned: _Optional[str] = ..., waiting: _Optional[str] = ..., wait: _Optional[str] = ..., within_T: _Optional[str] = ..., service_level: _Optional[str] = ..., service_level_formula: _Optional[str] = ..., abandonment_rate: _Optional[str] = ..., abandonment_rate_formula: _Optional[str] = ..., asa: _Optional[str] = ..., handled: _Optional[str] = ..., aht: _Optional[str] = ..., ended_by_fault: _Optional[str] = ...) -> None: ...

class Tally(_message.Message):
    __slots__ = ("queued", "short_abandoned", "short_abandoned_within_t", "answered", "answered_within_t", "answer_wait_ms", "abandoned", "abandoned_within_t", "abandon_wait_ms", "callbacks", "callbacks_within_t", "flowed_out", "flowed_out_within_t", "waiting", "handled", "handled_talk_ms", "handled_hold_ms", "handled_wrap_up_ms")
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    SHORT_ABANDONED_FIELD_NUMBER: _ClassVar[int]
    SHORT_ABANDONED_WITHIN_T_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_WITHIN_T_FIELD_NUMBER: _ClassVar[int]
    ANSWER_WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    ABANDONED_FIELD_NUMBER: _ClassVar[int]
    ABANDONED_WITHIN_T_FIELD_NUMBER: _ClassVar[int]
    ABANDON_WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    CALLBACKS_FIELD_NUMBER: _ClassVar[int]
    CALLBACKS_WITHIN_T_FIELD_NUMBER: _ClassVar[int]
    FLOWED_OUT_FIELD_NUMBER: _ClassVar[int]
    FLOWED_OUT_WITHIN_T_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    HANDLED_FIELD_NUMBER: _ClassVar[int]
    HANDLED_TALK_MS_FIELD_NUMBER: _ClassVar[int]
    HANDLED_HOLD_MS_FIELD_NUMBER: _ClassVar[int]
    HANDLED_WRAP_UP_MS_FIELD_NUMBER: _ClassVar[int]
    queued: int
    short_abandoned: int
    short_abandoned_within_t: int
    answered: int
    answered_within_t: int
    answer_wait_ms: int
    abandoned: int
    abandoned_within_t: int
    abandon_wait_ms: int
    callbacks: int
    callbacks_within_t: int
    flowed_out: int
    flowed_out_within_t: int
    waiting: int
    handled: int
    handled_talk_ms: int
    handled_hold_ms: int
    handled_wrap_up_ms: int
    def __init__(self, queued: _Optional[int] = ..., short_abandoned: _Optional[int] = ..., short_abandoned_within_t: _Optional[int] = ..., answered: _Optional[int] = ..., answered_within_t: _Optional[int] = ..., answer_wait_ms: _Optional[int] = ..., abandoned: _Optional[int] = ..., abandoned_within_t: _Optional[int] = ..., abandon_wait_ms: _Optional[int] = ..., callbacks: _Optional[int] = ..., callbacks_within_t: _Optional[int] = ..., flowed_out: _Optional[int] = ..., flowed_out_within_t: _Optional[int] = ..., waiting: _Optional[int] = ..., handled: _Optional[int] = ..., handled_talk_ms: _Optional[int] = ..., handled_hold_ms: _Optional[int] = ..., handled_wrap_up_ms: _Optional[int] = ...) -> None: ...

class KpiFigures(_message.Message):
    __slots__ = ("queued", "short_abandoned", "offered", "answered", "answered_within_threshold", "abandoned", "waiting", "callbacks", "flowed_out", "handled", "service_level", "abandonment_rate", "asa_s", "aht_s", "tally")
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    SHORT_ABANDONED_FIELD_NUMBER: _ClassVar[int]
    OFFERED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_WITHIN_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ABANDONED_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    CALLBACKS_FIELD_NUMBER: _ClassVar[int]
    FLOWED_OUT_FIELD_NUMBER: _ClassVar[int]
    HANDLED_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    ABANDONMENT_RATE_FIELD_NUMBER: _ClassVar[int]
    ASA_S_FIELD_NUMBER: _ClassVar[int]
    AHT_S_FIELD_NUMBER: _ClassVar[int]
    TALLY_FIELD_NUMBER: _ClassVar[int]
    queued: int
    short_abandoned: int
    offered: int
    answered: int
    answered_within_threshold: int
    abandoned: int
    waiting: int
    callbacks: int
    flowed_out: int
    handled: int
    service_level: float
    abandonment_rate: float
    asa_s: float
    aht_s: float
    tally: Tally
    def __init__(self, queued: _Optional[int] = ..., short_abandoned: _Optional[int] = ..., offered: _Optional[int] = ..., answered: _Optional[int] = ..., answered_within_threshold: _Optional[int] = ..., abandoned: _Optional[int] = ..., waiting: _Optional[int] = ..., callbacks: _Optional[int] = ..., flowed_out: _Optional[int] = ..., handled: _Optional[int] = ..., service_level: _Optional[float] = ..., abandonment_rate: _Optional[float] = ..., asa_s: _Optional[float] = ..., aht_s: _Optional[float] = ..., tally: _Optional[_Union[Tally, _Mapping]] = ...) -> None: ...

class QueueReport(_message.Message):
    __slots__ = ("queue_id", "service_level_threshold_s", "threshold_source", "service_level_target", "queued", "short_abandoned", "offered", "answered", "answered_within_threshold", "abandoned", "waiting", "callbacks", "flowed_out", "handled", "service_level", "abandonment_rate", "asa_s", "aht_s", "tally", "service_level_met", "splits")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_THRESHOLD_S_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_SOURCE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_TARGET_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    SHORT_ABANDONED_FIELD_NUMBER: _ClassVar[int]
    OFFERED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_WITHIN_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ABANDONED_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    CALLBACKS_FIELD_NUMBER: _ClassVar[int]
    FLOWED_OUT_FIELD_NUMBER: _ClassVar[int]
    HANDLED_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    ABANDONMENT_RATE_FIELD_NUMBER: _ClassVar[int]
    ASA_S_FIELD_NUMBER: _ClassVar[int]
    AHT_S_FIELD_NUMBER: _ClassVar[int]
    TALLY_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_MET_FIELD_NUMBER: _ClassVar[int]
    SPLITS_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    service_level_threshold_s: int
    threshold_source: str
    service_level_target: float
    queued: int
    short_abandoned: int
    offered: int
    answered: int
    answered_within_threshold: int
    abandoned: int
    waiting: int
    callbacks: int
    flowed_out: int
    handled: int
    service_level: float
    abandonment_rate: float
    asa_s: float
    aht_s: float
    tally: Tally
    service_level_met: bool
    splits: _containers.RepeatedCompositeFieldContainer[KpiSplit]
    def __init__(self, queue_id: _Optional[str] = ..., service_level_threshold_s: _Optional[int] = ..., threshold_source: _Optional[str] = ..., service_level_target: _Optional[float] = ..., queued: _Optional[int] = ..., short_abandoned: _Optional[int] = ..., offered: _Optional[int] = ..., answered: _Optional[int] = ..., answered_within_threshold: _Optional[int] = ..., abandoned: _Optional[int] = ..., waiting: _Optional[int] = ..., callbacks: _Optional[int] = ..., flowed_out: _Optional[int] = ..., handled: _Optional[int] = ..., service_level: _Optional[float] = ..., abandonment_rate: _Optional[float] = ..., asa_s: _Optional[float] = ..., aht_s: _Optional[float] = ..., tally: _Optional[_Union[Tally, _Mapping]] = ..., service_level_met: _Optional[bool] = ..., splits: _Optional[_Iterable[_Union[KpiSplit, _Mapping]]] = ...) -> None: ...

class KpiSplit(_message.Message):
    __slots__ = ("key", "figures")
    KEY_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    key: str
    figures: KpiFigures
    def __init__(self, key: _Optional[str] = ..., figures: _Optional[_Union[KpiFigures, _Mapping]] = ...) -> None: ...

class KpiSplitting(_message.Message):
    __slots__ = ("by", "rule", "priority_band_edges")
    BY_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_BAND_EDGES_FIELD_NUMBER: _ClassVar[int]
    by: str
    rule: str
    priority_band_edges: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, by: _Optional[str] = ..., rule: _Optional[str] = ..., priority_band_edges: _Optional[_Iterable[int]] = ...) -> None: ...

class KpiReport(_message.Message):
    __slots__ = ("tenant_id", "tenant_name", "period", "generated_at", "definitions", "queues", "total", "split", "total_splits")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_NAME_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    DEFINITIONS_FIELD_NUMBER: _ClassVar[int]
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SPLITS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    tenant_name: str
    period: Period
    generated_at: _timestamp_pb2.Timestamp
    definitions: KpiDefinitions
    queues: _containers.RepeatedCompositeFieldContainer[QueueReport]
    total: KpiFigures
    split: KpiSplitting
    total_splits: _containers.RepeatedCompositeFieldContainer[KpiSplit]
    def __init__(self, tenant_id: _Optional[str] = ..., tenant_name: _Optional[str] = ..., period: _Optional[_Union[Period, _Mapping]] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., definitions: _Optional[_Union[KpiDefinitions, _Mapping]] = ..., queues: _Optional[_Iterable[_Union[QueueReport, _Mapping]]] = ..., total: _Optional[_Union[KpiFigures, _Mapping]] = ..., split: _Optional[_Union[KpiSplitting, _Mapping]] = ..., total_splits: _Optional[_Iterable[_Union[KpiSplit, _Mapping]]] = ...) -> None: ...

class CustomerIdentity(_message.Message):
    __slots__ = ("kind", "value")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    kind: _events_pb2.IdentityKind
    value: str
    def __init__(self, kind: _Optional[_Union[_events_pb2.IdentityKind, str]] = ..., value: _Optional[str] = ...) -> None: ...

class ListCustomerContactsRequest(_message.Message):
    __slots__ = ("tenant_id", "identity", "limit", "exclude_interaction_id", "for_agent_id", "for_interaction_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_INTERACTION_ID_FIELD_NUMBER: _ClassVar[int]
    FOR_AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    FOR_INTERACTION_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    identity: CustomerIdentity
    limit: int
    exclude_interaction_id: str
    for_agent_id: str
    for_interaction_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., identity: _Optional[_Union[CustomerIdentity, _Mapping]] = ..., limit: _Optional[int] = ..., exclude_interaction_id: _Optional[str] = ..., for_agent_id: _Optional[str] = ..., for_interaction_id: _Optional[str] = ...) -> None: ...

class CustomerContact(_message.Message):
    __slots__ = ("interaction_id", "channel", "entry_point_id", "queue_id", "arrived_at", "outcome", "agent_id", "disposition_code", "resolved")
    INTERACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ENTRY_POINT_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    ARRIVED_AT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPOSITION_CODE_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_FIELD_NUMBER: _ClassVar[int]
    interaction_id: str
    channel: _envelope_pb2.Channel
    entry_point_id: str
    queue_id: str
    arrived_at: _timestamp_pb2.Timestamp
    outcome: ContactOutcome
    agent_id: str
    disposition_code: str
    resolved: bool
    def __init__(self, interaction_id: _Optional[str] = ..., channel: _Optional[_Union[_envelope_pb2.Channel, str]] = ..., entry_point_id: _Optional[str] = ..., queue_id: _Optional[str] = ..., arrived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., outcome: _Optional[_Union[ContactOutcome, str]] = ..., agent_id: _Optional[str] = ..., disposition_code: _Optional[str] = ..., resolved: _Optional[bool] = ...) -> None: ...

class ListCustomerContactsResponse(_message.Message):
    __slots__ = ("contacts", "identity")
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    contacts: _containers.RepeatedCompositeFieldContainer[CustomerContact]
    identity: CustomerIdentity
    def __init__(self, contacts: _Optional[_Iterable[_Union[CustomerContact, _Mapping]]] = ..., identity: _Optional[_Union[CustomerIdentity, _Mapping]] = ...) -> None: ...

class CheckLifecycleRequest(_message.Message):
    __slots__ = ("tenant_id", "period")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    period: Period
    def __init__(self, tenant_id: _Optional[str] = ..., period: _Optional[_Union[Period, _Mapping]] = ...) -> None: ...

class EndedTwice(_message.Message):
    __slots__ = ("interaction_id", "terminal_events")
    INTERACTION_ID_FIELD_NUMBER: _ClassVar[int]
    TERMINAL_EVENTS_FIELD_NUMBER: _ClassVar[int]
    interaction_id: str
    terminal_events: int
    def __init__(self, interaction_id: _Optional[str] = ..., terminal_events: _Optional[int] = ...) -> None: ...

class ConcurrentOffer(_message.Message):
    __slots__ = ("interaction_id", "agent_id", "still_offered_to")
    INTERACTION_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    STILL_OFFERED_TO_FIELD_NUMBER: _ClassVar[int]
    interaction_id: str
    agent_id: str
    still_offered_to: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, interaction_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., still_offered_to: _Optional[_Iterable[str]] = ...) -> None: ...

class LifecycleCheck(_message.Message):
    __slots__ = ("unfinished_interactions", "ended_twice", "concurrent_offers")
    UNFINISHED_INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    ENDED_TWICE_FIELD_NUMBER: _ClassVar[int]
    CONCURRENT_OFFERS_FIELD_NUMBER: _ClassVar[int]
    unfinished_interactions: _containers.RepeatedScalarFieldContainer[str]
    ended_twice: _containers.RepeatedCompositeFieldContainer[EndedTwice]
    concurrent_offers: _containers.RepeatedCompositeFieldContainer[ConcurrentOffer]
    def __init__(self, unfinished_interactions: _Optional[_Iterable[str]] = ..., ended_twice: _Optional[_Iterable[_Union[EndedTwice, _Mapping]]] = ..., concurrent_offers: _Optional[_Iterable[_Union[ConcurrentOffer, _Mapping]]] = ...) -> None: ...

class ListInteractionsRequest(_message.Message):
    __slots__ = ("tenant_id", "period", "queue_id", "channel", "identity", "page_size", "page_token")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    period: Period
    queue_id: str
    channel: _envelope_pb2.Channel
    identity: CustomerIdentity
    page_size: int
    page_token: str
    def __init__(self, tenant_id: _Optional[str] = ..., period: _Optional[_Union[Period, _Mapping]] = ..., queue_id: _Optional[str] = ..., channel: _Optional[_Union[_envelope_pb2.Channel, str]] = ..., identity: _Optional[_Union[CustomerIdentity, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class InteractionSummary(_message.Message):
    __slots__ = ("interaction_id", "channel", "entry_point_id", "queue_id", "arrived_at", "outcome", "agent_id", "disposition_code", "resolved")
    INTERACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ENTRY_POINT_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    ARRIVED_AT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPOSITION_CODE_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_FIELD_NUMBER: _ClassVar[int]
    interaction_id: str
    channel: _envelope_pb2.Channel
    entry_point_id: str
    queue_id: str
    arrived_at: _timestamp_pb2.Timestamp
    outcome: ContactOutcome
    agent_id: str
    disposition_code: str
    resolved: bool
    def __init__(self, interaction_id: _Optional[str] = ..., channel: _Optional[_Union[_envelope_pb2.Channel, str]] = ..., entry_point_id: _Optional[str] = ..., queue_id: _Optional[str] = ..., arrived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., outcome: _Optional[_Union[ContactOutcome, str]] = ..., agent_id: _Optional[str] = ..., disposition_code: _Optional[str] = ..., resolved: _Optional[bool] = ...) -> None: ...

class ListInteractionsResponse(_message.Message):
    __slots__ = ("interactions", "next_page_token")
    INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    interactions: _containers.RepeatedCompositeFieldContainer[InteractionSummary]
    next_page_token: str
    def __init__(self, interactions: _Optional[_Iterable[_Union[InteractionSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetInteractionRequest(_message.Message):
    __slots__ = ("tenant_id", "interaction_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTERACTION_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    interaction_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., interaction_id: _Optional[str] = ...) -> None: ...

class GetInteractionResponse(_message.Message):
    __slots__ = ("interaction", "events")
    INTERACTION_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    interaction: InteractionSummary
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.InteractionEvent]
    def __init__(self, interaction: _Optional[_Union[InteractionSummary, _Mapping]] = ..., events: _Optional[_Iterable[_Union[_events_pb2.InteractionEvent, _Mapping]]] = ...) -> None: ...
