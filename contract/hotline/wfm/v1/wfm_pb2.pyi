from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_VOICE: _ClassVar[Channel]
    CHANNEL_CHAT: _ClassVar[Channel]
    CHANNEL_EMAIL: _ClassVar[Channel]
CHANNEL_UNSPECIFIED: Channel
CHANNEL_VOICE: Channel
CHANNEL_CHAT: Channel
CHANNEL_EMAIL: Channel

class Target(_message.Message):
    __slots__ = ("service_level", "threshold_seconds", "max_asa_seconds", "max_occupancy")
    SERVICE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_ASA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_OCCUPANCY_FIELD_NUMBER: _ClassVar[int]
    service_level: float
    threshold_seconds: float
    max_asa_seconds: float
    max_occupancy: float
    def __init__(self, service_level: _Optional[float] = ..., threshold_seconds: _Optional[float] = ..., max_asa_seconds: _Optional[float] = ..., max_occupancy: _Optional[float] = ...) -> None: ...

class StaffingParams(_message.Message):
    __slots__ = ("target", "shrinkage", "patience_seconds", "channel", "chat_concurrency", "email_response_seconds", "email_occupancy")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    SHRINKAGE_FIELD_NUMBER: _ClassVar[int]
    PATIENCE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CHAT_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    EMAIL_RESPONSE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    EMAIL_OCCUPANCY_FIELD_NUMBER: _ClassVar[int]
    target: Target
    shrinkage: float
    patience_seconds: float
    channel: Channel
    chat_concurrency: int
    email_response_seconds: float
    email_occupancy: float
    def __init__(self, target: _Optional[_Union[Target, _Mapping]] = ..., shrinkage: _Optional[float] = ..., patience_seconds: _Optional[float] = ..., channel: _Optional[_Union[Channel, str]] = ..., chat_concurrency: _Optional[int] = ..., email_response_seconds: _Optional[float] = ..., email_occupancy: _Optional[float] = ...) -> None: ...

class StaffingRequest(_message.Message):
    __slots__ = ("tenant_id", "contacts", "interval_seconds", "aht_seconds", "params")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    AHT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    contacts: float
    interval_seconds: float
    aht_seconds: float
    params: StaffingParams
    def __init__(self, tenant_id: _Optional[str] = ..., contacts: _Optional[float] = ..., interval_seconds: _Optional[float] = ..., aht_seconds: _Optional[float] = ..., params: _Optional[_Union[StaffingParams, _Mapping]] = ...) -> None: ...

class StaffingResult(_message.Message):
    __slots__ = ("agents", "scheduled_agents", "service_level", "asa_seconds", "occupancy", "p_wait", "abandon_rate", "erlangs", "model")
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_AGENTS_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    ASA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OCCUPANCY_FIELD_NUMBER: _ClassVar[int]
    P_WAIT_FIELD_NUMBER: _ClassVar[int]
    ABANDON_RATE_FIELD_NUMBER: _ClassVar[int]
    ERLANGS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    agents: int
    scheduled_agents: int
    service_level: float
    asa_seconds: float
    occupancy: float
    p_wait: float
    abandon_rate: float
    erlangs: float
    model: str
    def __init__(self, agents: _Optional[int] = ..., scheduled_agents: _Optional[int] = ..., service_level: _Optional[float] = ..., asa_seconds: _Optional[float] = ..., occupancy: _Optional[float] = ..., p_wait: _Optional[float] = ..., abandon_rate: _Optional[float] = ..., erlangs: _Optional[float] = ..., model: _Optional[str] = ...) -> None: ...

class IntervalDemand(_message.Message):
    __slots__ = ("queue_id", "start_ms", "contacts", "aht_seconds")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    START_MS_FIELD_NUMBER: _ClassVar[int]
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    AHT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    start_ms: int
    contacts: float
    aht_seconds: float
    def __init__(self, queue_id: _Optional[str] = ..., start_ms: _Optional[int] = ..., contacts: _Optional[float] = ..., aht_seconds: _Optional[float] = ...) -> None: ...

class PlanRequest(_message.Message):
    __slots__ = ("tenant_id", "demand", "queue_ids", "start_ms", "days", "params", "interval_seconds")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DEMAND_FIELD_NUMBER: _ClassVar[int]
    QUEUE_IDS_FIELD_NUMBER: _ClassVar[int]
    START_MS_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    demand: _containers.RepeatedCompositeFieldContainer[IntervalDemand]
    queue_ids: _containers.RepeatedScalarFieldContainer[str]
    start_ms: int
    days: float
    params: StaffingParams
    interval_seconds: float
    def __init__(self, tenant_id: _Optional[str] = ..., demand: _Optional[_Iterable[_Union[IntervalDemand, _Mapping]]] = ..., queue_ids: _Optional[_Iterable[str]] = ..., start_ms: _Optional[int] = ..., days: _Optional[float] = ..., params: _Optional[_Union[StaffingParams, _Mapping]] = ..., interval_seconds: _Optional[float] = ...) -> None: ...

class PlanRow(_message.Message):
    __slots__ = ("queue_id", "start_ms", "contacts", "aht_seconds", "staffing")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    START_MS_FIELD_NUMBER: _ClassVar[int]
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    AHT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    STAFFING_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    start_ms: int
    contacts: float
    aht_seconds: float
    staffing: StaffingResult
    def __init__(self, queue_id: _Optional[str] = ..., start_ms: _Optional[int] = ..., contacts: _Optional[float] = ..., aht_seconds: _Optional[float] = ..., staffing: _Optional[_Union[StaffingResult, _Mapping]] = ...) -> None: ...

class PlanTotals(_message.Message):
    __slots__ = ("queue_id", "contacts", "workload_hours", "agent_hours", "scheduled_hours", "peak_agents", "peak_scheduled", "service_level", "asa_seconds", "abandon_rate", "occupancy")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_HOURS_FIELD_NUMBER: _ClassVar[int]
    AGENT_HOURS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_HOURS_FIELD_NUMBER: _ClassVar[int]
    PEAK_AGENTS_FIELD_NUMBER: _ClassVar[int]
    PEAK_SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    ASA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ABANDON_RATE_FIELD_NUMBER: _ClassVar[int]
    OCCUPANCY_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    contacts: float
    workload_hours: float
    agent_hours: float
    scheduled_hours: float
    peak_agents: int
    peak_scheduled: int
    service_level: float
    asa_seconds: float
    abandon_rate: float
    occupancy: float
    def __init__(self, queue_id: _Optional[str] = ..., contacts: _Optional[float] = ..., workload_hours: _Optional[float] = ..., agent_hours: _Optional[float] = ..., scheduled_hours: _Optional[float] = ..., peak_agents: _Optional[int] = ..., peak_scheduled: _Optional[int] = ..., service_level: _Optional[float] = ..., asa_seconds: _Optional[float] = ..., abandon_rate: _Optional[float] = ..., occupancy: _Optional[float] = ...) -> None: ...

class ForecastError(_message.Message):
    __slots__ = ("queue_id", "slots", "actual", "forecast", "wape", "mape")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FIELD_NUMBER: _ClassVar[int]
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    WAPE_FIELD_NUMBER: _ClassVar[int]
    MAPE_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    slots: int
    actual: float
    forecast: float
    wape: float
    mape: float
    def __init__(self, queue_id: _Optional[str] = ..., slots: _Optional[int] = ..., actual: _Optional[float] = ..., forecast: _Optional[float] = ..., wape: _Optional[float] = ..., mape: _Optional[float] = ...) -> None: ...

class PlanResponse(_message.Message):
    __slots__ = ("rows", "totals_by_queue", "totals", "forecast_errors")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTALS_BY_QUEUE_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    FORECAST_ERRORS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[PlanRow]
    totals_by_queue: _containers.RepeatedCompositeFieldContainer[PlanTotals]
    totals: PlanTotals
    forecast_errors: _containers.RepeatedCompositeFieldContainer[ForecastError]
    def __init__(self, rows: _Optional[_Iterable[_Union[PlanRow, _Mapping]]] = ..., totals_by_queue: _Optional[_Iterable[_Union[PlanTotals, _Mapping]]] = ..., totals: _Optional[_Union[PlanTotals, _Mapping]] = ..., forecast_errors: _Optional[_Iterable[_Union[ForecastError, _Mapping]]] = ...) -> None: ...

class ForecastRequest(_message.Message):
    __slots__ = ("tenant_id", "queue_ids", "start_ms", "days")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_IDS_FIELD_NUMBER: _ClassVar[int]
    START_MS_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    queue_ids: _containers.RepeatedScalarFieldContainer[str]
    start_ms: int
    days: float
    def __init__(self, tenant_id: _Optional[str] = ..., queue_ids: _Optional[_Iterable[str]] = ..., start_ms: _Optional[int] = ..., days: _Optional[float] = ...) -> None: ...

class ForecastResponse(_message.Message):
    __slots__ = ("intervals", "errors", "history_start_ms", "history_end_ms")
    INTERVALS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_START_MS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_END_MS_FIELD_NUMBER: _ClassVar[int]
    intervals: _containers.RepeatedCompositeFieldContainer[IntervalDemand]
    errors: _containers.RepeatedCompositeFieldContainer[ForecastError]
    history_start_ms: int
    history_end_ms: int
    def __init__(self, intervals: _Optional[_Iterable[_Union[IntervalDemand, _Mapping]]] = ..., errors: _Optional[_Iterable[_Union[ForecastError, _Mapping]]] = ..., history_start_ms: _Optional[int] = ..., history_end_ms: _Optional[int] = ...) -> None: ...
