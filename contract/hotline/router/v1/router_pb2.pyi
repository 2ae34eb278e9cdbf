from hotline.agent.v1 import events_pb2 as _events_pb2
from hotline.common.v1 import envelope_pb2 as _envelope_pb2
from hotline.interaction.v1 import events_pb2 as _events_pb2_1
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LogInRequest(_message.Message):
    __slots__ = ("tenant_id", "agent_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    agent_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class LogOutRequest(_message.Message):
    __slots__ = ("tenant_id", "agent_id", "reason")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    agent_id: str
    reason: str
    def __init__(self, tenant_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SetReadyRequest(_message.Message):
    __slots__ = ("tenant_id", "agent_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    agent_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class SetNotReadyRequest(_message.Message):
    __slots__ = ("tenant_id", "agent_id", "reason_code")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    agent_id: str
    reason_code: str
    def __init__(self, tenant_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., reason_code: _Optional[str] = ...) -> None: ...

class FinishWrapUpRequest(_message.Message):
    __slots__ = ("tenant_id", "agent_id", "interaction_id", "disposition")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    INTERACTION_ID_FIELD_NUMBER: _ClassVar[int]
    DISPOSITION_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    agent_id: str
    interaction_id: str
    disposition: _events_pb2_1.Disposition
    def __init__(self, tenant_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., interaction_id: _Optional[str] = ..., disposition: _Optional[_Union[_events_pb2_1.Disposition, _Mapping]] = ...) -> None: ...

class GetAgentRequest(_message.Message):
    __slots__ = ("tenant_id", "agent_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    agent_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class AgentView(_message.Message):
    __slots__ = ("tenant_id", "agent_id", "display_name", "site_id", "state", "reason_code", "interaction_id", "skills", "in_state_ms")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    INTERACTION_ID_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    IN_STATE_MS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    agent_id: str
    display_name: str
    site_id: str
    state: _events_pb2.AgentState
    reason_code: str
    interaction_id: str
    skills: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Skill]
    in_state_ms: int
    def __init__(self, tenant_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., display_name: _Optional[str] = ..., site_id: _Optional[str] = ..., state: _Optional[_Union[_events_pb2.AgentState, str]] = ..., reason_code: _Optional[str] = ..., interaction_id: _Optional[str] = ..., skills: _Optional[_Iterable[_Union[_envelope_pb2.Skill, _Mapping]]] = ..., in_state_ms: _Optional[int] = ...) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ("agents",)
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[AgentView]
    def __init__(self, agents: _Optional[_Iterable[_Union[AgentView, _Mapping]]] = ...) -> None: ...

class ListQueuesRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class QueueView(_message.Message):
    __slots__ = ("tenant_id", "queue_id", "waiting", "longest_wait_ms", "agents_ready", "agents_logged_in")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    LONGEST_WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    AGENTS_READY_FIELD_NUMBER: _ClassVar[int]
    AGENTS_LOGGED_IN_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    queue_id: str
    waiting: int
    longest_wait_ms: int
    agents_ready: int
    agents_logged_in: int
    def __init__(self, tenant_id: _Optional[str] = ..., queue_id: _Optional[str] = ..., waiting: _Optional[int] = ..., longest_wait_ms: _Optional[int] = ..., agents_ready: _Optional[int] = ..., agents_logged_in: _Optional[int] = ...) -> None: ...

class ListQueuesResponse(_message.Message):
    __slots__ = ("queues",)
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedCompositeFieldContainer[QueueView]
    def __init__(self, queues: _Optional[_Iterable[_Union[QueueView, _Mapping]]] = ...) -> None: ...

class RequestCallbackRequest(_message.Message):
    __slots__ = ("tenant_id", "interaction_id", "callback_address")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTERACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    interaction_id: str
    callback_address: str
    def __init__(self, tenant_id: _Optional[str] = ..., interaction_id: _Optional[str] = ..., callback_address: _Optional[str] = ...) -> None: ...

class RequestCallbackResponse(_message.Message):
    __slots__ = ("queue_id", "callback_address")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    callback_address: str
    def __init__(self, queue_id: _Optional[str] = ..., callback_address: _Optional[str] = ...) -> None: ...
