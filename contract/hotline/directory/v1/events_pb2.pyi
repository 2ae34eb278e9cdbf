from hotline.common.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EntryPointKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTRY_POINT_KIND_UNSPECIFIED: _ClassVar[EntryPointKind]
    ENTRY_POINT_KIND_QUEUE: _ClassVar[EntryPointKind]
    ENTRY_POINT_KIND_ANNOUNCEMENT: _ClassVar[EntryPointKind]
    ENTRY_POINT_KIND_IVR: _ClassVar[EntryPointKind]
ENTRY_POINT_KIND_UNSPECIFIED: EntryPointKind
ENTRY_POINT_KIND_QUEUE: EntryPointKind
ENTRY_POINT_KIND_ANNOUNCEMENT: EntryPointKind
ENTRY_POINT_KIND_IVR: EntryPointKind

class DirectoryEvent(_message.Message):
    __slots__ = ("envelope", "changed_by", "entity_version", "tenant_defined", "tenant_removed", "site_defined", "site_removed", "queue_defined", "queue_removed", "agent_defined", "agent_removed", "entry_point_defined", "entry_point_removed", "user_defined", "user_removed", "api_key_defined", "api_key_revoked", "prompt_defined", "prompt_removed")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    ENTITY_VERSION_FIELD_NUMBER: _ClassVar[int]
    TENANT_DEFINED_FIELD_NUMBER: _ClassVar[int]
    TENANT_REMOVED_FIELD_NUMBER: _ClassVar[int]
    SITE_DEFINED_FIELD_NUMBER: _ClassVar[int]
    SITE_REMOVED_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEFINED_FIELD_NUMBER: _ClassVar[int]
    QUEUE_REMOVED_FIELD_NUMBER: _ClassVar[int]
    AGENT_DEFINED_FIELD_NUMBER: _ClassVar[int]
    AGENT_REMOVED_FIELD_NUMBER: _ClassVar[int]
    ENTRY_POINT_DEFINED_FIELD_NUMBER: _ClassVar[int]
    ENTRY_POINT_REMOVED_FIELD_NUMBER: _ClassVar[int]
    USER_DEFINED_FIELD_NUMBER: _ClassVar[int]
    USER_REMOVED_FIELD_NUMBER: _ClassVar[int]
    API_KEY_DEFINED_FIELD_NUMBER: _ClassVar[int]
    API_KEY_REVOKED_FIELD_NUMBER: _ClassVar[int]
    PROMPT_DEFINED_FIELD_NUMBER: _ClassVar[int]
    PROMPT_REMOVED_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.Envelope
    changed_by: str
    entity_version: int
    tenant_defined: TenantDefined
    tenant_removed: TenantRemoved
    site_defined: SiteDefined
    site_removed: SiteRemoved
    queue_defined: QueueDefined
    queue_removed: QueueRemoved
    agent_defined: AgentDefined
    agent_removed: AgentRemoved
    entry_point_defined: EntryPointDefined
    entry_point_removed: EntryPointRemoved
    user_defined: UserDefined
    user_removed: UserRemoved
    api_key_defined: ApiKeyDefined
    api_key_revoked: ApiKeyRevoked
    prompt_defined: PromptDefined
    prompt_removed: PromptRemoved
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.Envelope, _Mapping]] = ..., changed_by: _Optional[str] = ..., entity_version: _Optional[int] = ..., tenant_defined: _Optional[_Union[TenantDefined, _Mapping]] = ..., tenant_removed: _Optional[_Union[TenantRemoved, _Mapping]] = ..., site_defined: _Optional[_Union[SiteDefined, _Mapping]] = ..., site_removed: _Optional[_Union[SiteRemoved, _Mapping]] = ..., queue_defined: _Optional[_Union[QueueDefined, _Mapping]] = ..., queue_removed: _Optional[_Union[QueueRemoved, _Mapping]] = ..., agent_defined: _Optional[_Union[AgentDefined, _Mapping]] = ..., agent_removed: _Optional[_Union[AgentRemoved, _Mapping]] = ..., entry_point_defined: _Optional[_Union[EntryPointDefined, _Mapping]] = ..., entry_point_removed: _Optional[_Union[EntryPointRemoved, _Mapping]] = ..., user_defined: _Optional[_Union[UserDefined, _Mapping]] = ..., user_removed: _Optional[_Union[UserRemoved, _Mapping]] = ..., api_key_defined: _Optional[_Union[ApiKeyDefined, _Mapping]] = ..., api_key_revoked: _Optional[_Union[ApiKeyRevoked, _Mapping]] = ..., prompt_defined: _Optional[_Union[PromptDefined, _Mapping]] = ..., prompt_removed: _Optional[_Union[PromptRemoved, _Mapping]] = ...) -> None: ...

class KpiContract(_message.Message):
    __slots__ = ("service_level", "short_abandon_ms", "abandonment_denominator")
    SERVICE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    SHORT_ABANDON_MS_FIELD_NUMBER: _ClassVar[int]
    ABANDONMENT_DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    service_level: str
    short_abandon_ms: int
    abandonment_denominator: str
    def __init__(self, service_level: _Optional[str] = ..., short_abandon_ms: _Optional[int] = ..., abandonment_denominator: _Optional[str] = ...) -> None: ...

class Code(_message.Message):
    __slots__ = ("code", "label")
    CODE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    code: str
    label: str
    def __init__(self, code: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class TenantDefined(_message.Message):
    __slots__ = ("tenant_id", "name", "kpi", "credential_hash", "credential_unscoped", "not_ready_reasons")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KPI_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_HASH_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_UNSCOPED_FIELD_NUMBER: _ClassVar[int]
    NOT_READY_REASONS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    name: str
    kpi: KpiContract
    credential_hash: str
    credential_unscoped: bool
    not_ready_reasons: _containers.RepeatedCompositeFieldContainer[Code]
    def __init__(self, tenant_id: _Optional[str] = ..., name: _Optional[str] = ..., kpi: _Optional[_Union[KpiContract, _Mapping]] = ..., credential_hash: _Optional[str] = ..., credential_unscoped: _Optional[bool] = ..., not_ready_reasons: _Optional[_Iterable[_Union[Code, _Mapping]]] = ...) -> None: ...

class TenantRemoved(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class SiteDefined(_message.Message):
    __slots__ = ("site_id", "name", "drained")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DRAINED_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    name: str
    drained: bool
    def __init__(self, site_id: _Optional[str] = ..., name: _Optional[str] = ..., drained: _Optional[bool] = ...) -> None: ...

class SiteRemoved(_message.Message):
    __slots__ = ("site_id",)
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    def __init__(self, site_id: _Optional[str] = ...) -> None: ...

class QueueDefined(_message.Message):
    __slots__ = ("tenant_id", "queue_id", "required_skills", "language", "priority", "service_level_threshold_s", "service_level_target", "ring_timeout_ms", "wrap_up_timeout_ms", "wrap_up_codes", "strategy", "any_language", "priority_aging_ms", "home_site_id", "site_overflow_ms", "expansions", "preferred_agent_timeout_ms", "prefer_last_agent", "max_wait_ms", "when_no_agents", "flow_out", "hours", "closed", "closed_prompt", "callback_after_ms")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SKILLS_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_THRESHOLD_S_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_TARGET_FIELD_NUMBER: _ClassVar[int]
    RING_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    WRAP_UP_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    WRAP_UP_CODES_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    ANY_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_AGING_MS_FIELD_NUMBER: _ClassVar[int]
    HOME_SITE_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_OVERFLOW_MS_FIELD_NUMBER: _ClassVar[int]
    EXPANSIONS_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_AGENT_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    PREFER_LAST_AGENT_FIELD_NUMBER: _ClassVar[int]
    MAX_WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    WHEN_NO_AGENTS_FIELD_NUMBER: _ClassVar[int]
    FLOW_OUT_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    CLOSED_PROMPT_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    queue_id: str
    required_skills: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Skill]
    language: str
    priority: int
    service_level_threshold_s: int
    service_level_target: float
    ring_timeout_ms: int
    wrap_up_timeout_ms: int
    wrap_up_codes: _containers.RepeatedCompositeFieldContainer[Code]
    strategy: str
    any_language: bool
    priority_aging_ms: int
    home_site_id: str
    site_overflow_ms: int
    expansions: _containers.RepeatedCompositeFieldContainer[RoutingStep]
    preferred_agent_timeout_ms: int
    prefer_last_agent: bool
    max_wait_ms: int
    when_no_agents: bool
    flow_out: FlowOutTarget
    hours: BusinessHours
    closed: FlowOutTarget
    closed_prompt: str
    callback_after_ms: int
    def __init__(self, tenant_id: _Optional[str] = ..., queue_id: _Optional[str] = ..., required_skills: _Optional[_Iterable[_Union[_envelope_pb2.Skill, _Mapping]]] = ..., language: _Optional[str] = ..., priority: _Optional[int] = ..., service_level_threshold_s: _Optional[int] = ..., service_level_target: _Optional[float] = ..., ring_timeout_ms: _Optional[int] = ..., wrap_up_timeout_ms: _Optional[int] = ..., wrap_up_codes: _Optional[_Iterable[_Union[Code, _Mapping]]] = ..., strategy: _Optional[str] = ..., any_language: _Optional[bool] = ..., priority_aging_ms: _Optional[int] = ..., home_site_id: _Optional[str] = ..., site_overflow_ms: _Optional[int] = ..., expansions: _Optional[_Iterable[_Union[RoutingStep, _Mapping]]] = ..., preferred_agent_timeout_ms: _Optional[int] = ..., prefer_last_agent: _Optional[bool] = ..., max_wait_ms: _Optional[int] = ..., when_no_agents: _Optional[bool] = ..., flow_out: _Optional[_Union[FlowOutTarget, _Mapping]] = ..., hours: _Optional[_Union[BusinessHours, _Mapping]] = ..., closed: _Optional[_Union[FlowOutTarget, _Mapping]] = ..., closed_prompt: _Optional[str] = ..., callback_after_ms: _Optional[int] = ...) -> None: ...

class FlowOutTarget(_message.Message):
    __slots__ = ("kind", "queue_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    kind: str
    queue_id: str
    def __init__(self, kind: _Optional[str] = ..., queue_id: _Optional[str] = ...) -> None: ...

class RoutingStep(_message.Message):
    __slots__ = ("after_ms", "relax_levels_by", "add_skills", "add_sites", "add_queue_id")
    AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    RELAX_LEVELS_BY_FIELD_NUMBER: _ClassVar[int]
    ADD_SKILLS_FIELD_NUMBER: _ClassVar[int]
    ADD_SITES_FIELD_NUMBER: _ClassVar[int]
    ADD_QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    after_ms: int
    relax_levels_by: int
    add_skills: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Skill]
    add_sites: _containers.RepeatedScalarFieldContainer[str]
    add_queue_id: str
    def __init__(self, after_ms: _Optional[int] = ..., relax_levels_by: _Optional[int] = ..., add_skills: _Optional[_Iterable[_Union[_envelope_pb2.Skill, _Mapping]]] = ..., add_sites: _Optional[_Iterable[str]] = ..., add_queue_id: _Optional[str] = ...) -> None: ...

class QueueRemoved(_message.Message):
    __slots__ = ("tenant_id", "queue_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    queue_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., queue_id: _Optional[str] = ...) -> None: ...

class AgentDefined(_message.Message):
    __slots__ = ("tenant_id", "agent_id", "name", "site_id", "skills", "languages", "phone", "sip_username", "sip_ha1_md5", "sip_ha1_sha256")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    SIP_USERNAME_FIELD_NUMBER: _ClassVar[int]
    SIP_HA1_MD5_FIELD_NUMBER: _ClassVar[int]
    SIP_HA1_SHA256_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    agent_id: str
    name: str
    site_id: str
    skills: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Skill]
    languages: _containers.RepeatedScalarFieldContainer[str]
    phone: str
    sip_username: str
    sip_ha1_md5: str
    sip_ha1_sha256: str
    def __init__(self, tenant_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., name: _Optional[str] = ..., site_id: _Optional[str] = ..., skills: _Optional[_Iterable[_Union[_envelope_pb2.Skill, _Mapping]]] = ..., languages: _Optional[_Iterable[str]] = ..., phone: _Optional[str] = ..., sip_username: _Optional[str] = ..., sip_ha1_md5: _Optional[str] = ..., sip_ha1_sha256: _Optional[str] = ...) -> None: ...

class AgentRemoved(_message.Message):
    __slots__ = ("tenant_id", "agent_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    agent_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class EntryPointDefined(_message.Message):
    __slots__ = ("tenant_id", "address", "kind", "queue_id", "site_id", "ivr", "priority")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    IVR_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    address: str
    kind: EntryPointKind
    queue_id: str
    site_id: str
    ivr: IvrFlow
    priority: int
    def __init__(self, tenant_id: _Optional[str] = ..., address: _Optional[str] = ..., kind: _Optional[_Union[EntryPointKind, str]] = ..., queue_id: _Optional[str] = ..., site_id: _Optional[str] = ..., ivr: _Optional[_Union[IvrFlow, _Mapping]] = ..., priority: _Optional[int] = ...) -> None: ...

class IvrFlow(_message.Message):
    __slots__ = ("language", "hours", "start", "nodes")
    class NodesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: IvrNode
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[IvrNode, _Mapping]] = ...) -> None: ...
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    language: str
    hours: BusinessHours
    start: str
    nodes: _containers.MessageMap[str, IvrNode]
    def __init__(self, language: _Optional[str] = ..., hours: _Optional[_Union[BusinessHours, _Mapping]] = ..., start: _Optional[str] = ..., nodes: _Optional[_Mapping[str, IvrNode]] = ...) -> None: ...

class BusinessHours(_message.Message):
    __slots__ = ("time_zone", "open", "holidays", "closed")
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    HOLIDAYS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    time_zone: str
    open: _containers.RepeatedCompositeFieldContainer[OpeningWindow]
    holidays: _containers.RepeatedScalarFieldContainer[str]
    closed: str
    def __init__(self, time_zone: _Optional[str] = ..., open: _Optional[_Iterable[_Union[OpeningWindow, _Mapping]]] = ..., holidays: _Optional[_Iterable[str]] = ..., closed: _Optional[str] = ...) -> None: ...

class OpeningWindow(_message.Message):
    __slots__ = ("days", "opens", "closes")
    DAYS_FIELD_NUMBER: _ClassVar[int]
    OPENS_FIELD_NUMBER: _ClassVar[int]
    CLOSES_FIELD_NUMBER: _ClassVar[int]
    days: _containers.RepeatedScalarFieldContainer[str]
    opens: str
    closes: str
    def __init__(self, days: _Optional[_Iterable[str]] = ..., opens: _Optional[str] = ..., closes: _Optional[str] = ...) -> None: ...

class IvrNode(_message.Message):
    __slots__ = ("menu", "collect", "route", "message", "hangup")
    MENU_FIELD_NUMBER: _ClassVar[int]
    COLLECT_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    HANGUP_FIELD_NUMBER: _ClassVar[int]
    menu: IvrMenu
    collect: IvrCollect
    route: IvrRoute
    message: IvrMessage
    hangup: IvrHangup
    def __init__(self, menu: _Optional[_Union[IvrMenu, _Mapping]] = ..., collect: _Optional[_Union[IvrCollect, _Mapping]] = ..., route: _Optional[_Union[IvrRoute, _Mapping]] = ..., message: _Optional[_Union[IvrMessage, _Mapping]] = ..., hangup: _Optional[_Union[IvrHangup, _Mapping]] = ...) -> None: ...

class IvrMenu(_message.Message):
    __slots__ = ("prompt", "timeout_ms", "retries", "options", "on_failure", "prompt_languages")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: IvrOption
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[IvrOption, _Mapping]] = ...) -> None: ...
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    ON_FAILURE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    timeout_ms: int
    retries: int
    options: _containers.MessageMap[str, IvrOption]
    on_failure: str
    prompt_languages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, prompt: _Optional[str] = ..., timeout_ms: _Optional[int] = ..., retries: _Optional[int] = ..., options: _Optional[_Mapping[str, IvrOption]] = ..., on_failure: _Optional[str] = ..., prompt_languages: _Optional[_Iterable[str]] = ...) -> None: ...

class IvrOption(_message.Message):
    __slots__ = ("language", "next")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIELD_NUMBER: _ClassVar[int]
    language: str
    next: str
    def __init__(self, language: _Optional[str] = ..., next: _Optional[str] = ...) -> None: ...

class IvrCollect(_message.Message):
    __slots__ = ("prompt", "min_digits", "max_digits", "terminator", "timeout_ms", "retries", "next", "on_failure")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    MIN_DIGITS_FIELD_NUMBER: _ClassVar[int]
    MAX_DIGITS_FIELD_NUMBER: _ClassVar[int]
    TERMINATOR_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIELD_NUMBER: _ClassVar[int]
    ON_FAILURE_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    min_digits: int
    max_digits: int
    terminator: str
    timeout_ms: int
    retries: int
    next: str
    on_failure: str
    def __init__(self, prompt: _Optional[str] = ..., min_digits: _Optional[int] = ..., max_digits: _Optional[int] = ..., terminator: _Optional[str] = ..., timeout_ms: _Optional[int] = ..., retries: _Optional[int] = ..., next: _Optional[str] = ..., on_failure: _Optional[str] = ...) -> None: ...

class IvrRoute(_message.Message):
    __slots__ = ("queue_id", "required_skills", "priority", "intent", "language")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SKILLS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    required_skills: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Skill]
    priority: int
    intent: str
    language: str
    def __init__(self, queue_id: _Optional[str] = ..., required_skills: _Optional[_Iterable[_Union[_envelope_pb2.Skill, _Mapping]]] = ..., priority: _Optional[int] = ..., intent: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class IvrMessage(_message.Message):
    __slots__ = ("prompt", "next")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    next: str
    def __init__(self, prompt: _Optional[str] = ..., next: _Optional[str] = ...) -> None: ...

class IvrHangup(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EntryPointRemoved(_message.Message):
    __slots__ = ("tenant_id", "address")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    address: str
    def __init__(self, tenant_id: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class OperatorScope(_message.Message):
    __slots__ = ("all_tenants", "tenant_ids")
    ALL_TENANTS_FIELD_NUMBER: _ClassVar[int]
    TENANT_IDS_FIELD_NUMBER: _ClassVar[int]
    all_tenants: bool
    tenant_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, all_tenants: _Optional[bool] = ..., tenant_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class UserDefined(_message.Message):
    __slots__ = ("tenant_id", "user_id", "display_name", "roles", "locale", "agent_id", "password_hash", "disabled", "operator_scope")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_HASH_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_SCOPE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    user_id: str
    display_name: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    locale: str
    agent_id: str
    password_hash: str
    disabled: bool
    operator_scope: OperatorScope
    def __init__(self, tenant_id: _Optional[str] = ..., user_id: _Optional[str] = ..., display_name: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., locale: _Optional[str] = ..., agent_id: _Optional[str] = ..., password_hash: _Optional[str] = ..., disabled: _Optional[bool] = ..., operator_scope: _Optional[_Union[OperatorScope, _Mapping]] = ...) -> None: ...

class UserRemoved(_message.Message):
    __slots__ = ("tenant_id", "user_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    user_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class ApiKeyDefined(_message.Message):
    __slots__ = ("tenant_id", "key_id", "name", "scopes", "secret_hash", "created_by", "expires_at_ms")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    SECRET_HASH_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    key_id: str
    name: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    secret_hash: str
    created_by: str
    expires_at_ms: int
    def __init__(self, tenant_id: _Optional[str] = ..., key_id: _Optional[str] = ..., name: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., secret_hash: _Optional[str] = ..., created_by: _Optional[str] = ..., expires_at_ms: _Optional[int] = ...) -> None: ...

class ApiKeyRevoked(_message.Message):
    __slots__ = ("tenant_id", "key_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    key_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., key_id: _Optional[str] = ...) -> None: ...

class PromptDefined(_message.Message):
    __slots__ = ("tenant_id", "language", "name", "content_ref", "duration_ms", "sha256")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_REF_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    language: str
    name: str
    content_ref: str
    duration_ms: int
    sha256: str
    def __init__(self, tenant_id: _Optional[str] = ..., language: _Optional[str] = ..., name: _Optional[str] = ..., content_ref: _Optional[str] = ..., duration_ms: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class PromptRemoved(_message.Message):
    __slots__ = ("tenant_id", "language", "name")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    language: str
    name: str
    def __init__(self, tenant_id: _Optional[str] = ..., language: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...
