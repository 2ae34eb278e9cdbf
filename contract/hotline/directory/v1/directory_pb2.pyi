from hotline.directory.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Change(_message.Message):
    __slots__ = ("define_tenant", "remove_tenant", "define_site", "remove_site", "define_queue", "remove_queue", "define_agent", "remove_agent", "define_entry_point", "remove_entry_point", "define_user", "remove_user", "define_api_key", "revoke_api_key", "define_prompt", "remove_prompt")
    DEFINE_TENANT_FIELD_NUMBER: _ClassVar[int]
    REMOVE_TENANT_FIELD_NUMBER: _ClassVar[int]
    DEFINE_SITE_FIELD_NUMBER: _ClassVar[int]
    REMOVE_SITE_FIELD_NUMBER: _ClassVar[int]
    DEFINE_QUEUE_FIELD_NUMBER: _ClassVar[int]
    REMOVE_QUEUE_FIELD_NUMBER: _ClassVar[int]
    DEFINE_AGENT_FIELD_NUMBER: _ClassVar[int]
    REMOVE_AGENT_FIELD_NUMBER: _ClassVar[int]
    DEFINE_ENTRY_POINT_FIELD_NUMBER: _ClassVar[int]
    REMOVE_ENTRY_POINT_FIELD_NUMBER: _ClassVar[int]
    DEFINE_USER_FIELD_NUMBER: _ClassVar[int]
    REMOVE_USER_FIELD_NUMBER: _ClassVar[int]
    DEFINE_API_KEY_FIELD_NUMBER: _ClassVar[int]
    REVOKE_API_KEY_FIELD_NUMBER: _ClassVar[int]
    DEFINE_PROMPT_FIELD_NUMBER: _ClassVar[int]
    REMOVE_PROMPT_FIELD_NUMBER: _ClassVar[int]
    define_tenant: _events_pb2.TenantDefined
    remove_tenant: _events_pb2.TenantRemoved
    define_site: _events_pb2.SiteDefined
    remove_site: _events_pb2.SiteRemoved
    define_queue: _events_pb2.QueueDefined
    remove_queue: _events_pb2.QueueRemoved
    define_agent: _events_pb2.AgentDefined
    remove_agent: _events_pb2.AgentRemoved
    define_entry_point: _events_pb2.EntryPointDefined
    remove_entry_point: _events_pb2.EntryPointRemoved
    define_user: _events_pb2.UserDefined
    remove_user: _events_pb2.UserRemoved
    define_api_key: _events_pb2.ApiKeyDefined
    revoke_api_key: _events_pb2.ApiKeyRevoked
    define_prompt: _events_pb2.PromptDefined
    remove_prompt: _events_pb2.PromptRemoved
    def __init__(self, define_tenant: _Optional[_Union[_events_pb2.TenantDefined, _Mapping]] = ..., remove_tenant: _Optional[_Union[_events_pb2.TenantRemoved, _Mapping]] = ..., define_site: _Optional[_Union[_events_pb2.SiteDefined, _Mapping]] = ..., remove_site: _Optional[_Union[_events_pb2.SiteRemoved, _Mapping]] = ..., define_queue: _Optional[_Union[_events_pb2.QueueDefined, _Mapping]] = ..., remove_queue: _Optional[_Union[_events_pb2.QueueRemoved, _Mapping]] = ..., define_agent: _Optional[_Union[_events_pb2.AgentDefined, _Mapping]] = ..., remove_agent: _Optional[_Union[_events_pb2.AgentRemoved, _Mapping]] = ..., define_entry_point: _Optional[_Union[_events_pb2.EntryPointDefined, _Mapping]] = ..., remove_entry_point: _Optional[_Union[_events_pb2.EntryPointRemoved, _Mapping]] = ..., define_user: _Optional[_Union[_events_pb2.UserDefined, _Mapping]] = ..., remove_user: _Optional[_Union[_events_pb2.UserRemoved, _Mapping]] = ..., define_api_key: _Optional[_Union[_events_pb2.ApiKeyDefined, _Mapping]] = ..., revoke_api_key: _Optional[_Union[_events_pb2.ApiKeyRevoked, _Mapping]] = ..., define_prompt: _Optional[_Union[_events_pb2.PromptDefined, _Mapping]] = ..., remove_prompt: _Optional[_Union[_events_pb2.PromptRemoved, _Mapping]] = ...) -> None: ...

class ApplyRequest(_message.Message):
    __slots__ = ("changes", "dry_run", "expected_versions")
    class ExpectedVersionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[Change]
    dry_run: bool
    expected_versions: _containers.ScalarMap[str, int]
    def __init__(self, changes: _Optional[_Iterable[_Union[Change, _Mapping]]] = ..., dry_run: _Optional[bool] = ..., expected_versions: _Optional[_Mapping[str, int]] = ...) -> None: ...

class ApplyResponse(_message.Message):
    __slots__ = ("events", "applied", "warnings")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.DirectoryEvent]
    applied: bool
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, events: _Optional[_Iterable[_Union[_events_pb2.DirectoryEvent, _Mapping]]] = ..., applied: _Optional[bool] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class Entity(_message.Message):
    __slots__ = ("key", "version", "definition")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    key: str
    version: int
    definition: _events_pb2.DirectoryEvent
    def __init__(self, key: _Optional[str] = ..., version: _Optional[int] = ..., definition: _Optional[_Union[_events_pb2.DirectoryEvent, _Mapping]] = ...) -> None: ...

class ListRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class ListResponse(_message.Message):
    __slots__ = ("entities",)
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    entities: _containers.RepeatedCompositeFieldContainer[Entity]
    def __init__(self, entities: _Optional[_Iterable[_Union[Entity, _Mapping]]] = ...) -> None: ...
