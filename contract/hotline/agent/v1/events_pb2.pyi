from hotline.common.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGENT_STATE_UNSPECIFIED: _ClassVar[AgentState]
    AGENT_STATE_LOGGED_OUT: _ClassVar[AgentState]
    AGENT_STATE_READY: _ClassVar[AgentState]
    AGENT_STATE_NOT_READY: _ClassVar[AgentState]
    AGENT_STATE_RESERVED: _ClassVar[AgentState]
    AGENT_STATE_BUSY: _ClassVar[AgentState]
    AGENT_STATE_WRAP_UP: _ClassVar[AgentState]
AGENT_STATE_UNSPECIFIED: AgentState
AGENT_STATE_LOGGED_OUT: AgentState
AGENT_STATE_READY: AgentState
AGENT_STATE_NOT_READY: AgentState
AGENT_STATE_RESERVED: AgentState
AGENT_STATE_BUSY: AgentState
AGENT_STATE_WRAP_UP: AgentState

class AgentEvent(_message.Message):
    __slots__ = ("envelope", "logged_in", "logged_out", "state_changed", "capacity_changed", "skills_changed", "owner_claimed")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    LOGGED_IN_FIELD_NUMBER: _ClassVar[int]
    LOGGED_OUT_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_CHANGED_FIELD_NUMBER: _ClassVar[int]
    SKILLS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    OWNER_CLAIMED_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.Envelope
    logged_in: AgentLoggedIn
    logged_out: AgentLoggedOut
    state_changed: AgentStateChanged
    capacity_changed: AgentCapacityChanged
    skills_changed: AgentSkillsChanged
    owner_claimed: _envelope_pb2.OwnerClaimed
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.Envelope, _Mapping]] = ..., logged_in: _Optional[_Union[AgentLoggedIn, _Mapping]] = ..., logged_out: _Optional[_Union[AgentLoggedOut, _Mapping]] = ..., state_changed: _Optional[_Union[AgentStateChanged, _Mapping]] = ..., capacity_changed: _Optional[_Union[AgentCapacityChanged, _Mapping]] = ..., skills_changed: _Optional[_Union[AgentSkillsChanged, _Mapping]] = ..., owner_claimed: _Optional[_Union[_envelope_pb2.OwnerClaimed, _Mapping]] = ...) -> None: ...

class ChannelCapacity(_message.Message):
    __slots__ = ("channel", "max_concurrent")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_FIELD_NUMBER: _ClassVar[int]
    channel: _envelope_pb2.Channel
    max_concurrent: int
    def __init__(self, channel: _Optional[_Union[_envelope_pb2.Channel, str]] = ..., max_concurrent: _Optional[int] = ...) -> None: ...

class AgentLoggedIn(_message.Message):
    __slots__ = ("site_id", "skills", "capacities", "voice_endpoint", "languages")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    CAPACITIES_FIELD_NUMBER: _ClassVar[int]
    VOICE_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    skills: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Skill]
    capacities: _containers.RepeatedCompositeFieldContainer[ChannelCapacity]
    voice_endpoint: str
    languages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, site_id: _Optional[str] = ..., skills: _Optional[_Iterable[_Union[_envelope_pb2.Skill, _Mapping]]] = ..., capacities: _Optional[_Iterable[_Union[ChannelCapacity, _Mapping]]] = ..., voice_endpoint: _Optional[str] = ..., languages: _Optional[_Iterable[str]] = ...) -> None: ...

class AgentLoggedOut(_message.Message):
    __slots__ = ("reason", "session_ms")
    REASON_FIELD_NUMBER: _ClassVar[int]
    SESSION_MS_FIELD_NUMBER: _ClassVar[int]
    reason: str
    session_ms: int
    def __init__(self, reason: _Optional[str] = ..., session_ms: _Optional[int] = ...) -> None: ...

class AgentStateChanged(_message.Message):
    __slots__ = ("state", "previous_state", "reason_code", "previous_state_ms", "interaction_id")
    STATE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_MS_FIELD_NUMBER: _ClassVar[int]
    INTERACTION_ID_FIELD_NUMBER: _ClassVar[int]
    state: AgentState
    previous_state: AgentState
    reason_code: str
    previous_state_ms: int
    interaction_id: str
    def __init__(self, state: _Optional[_Union[AgentState, str]] = ..., previous_state: _Optional[_Union[AgentState, str]] = ..., reason_code: _Optional[str] = ..., previous_state_ms: _Optional[int] = ..., interaction_id: _Optional[str] = ...) -> None: ...

class AgentCapacityChanged(_message.Message):
    __slots__ = ("capacities",)
    CAPACITIES_FIELD_NUMBER: _ClassVar[int]
    capacities: _containers.RepeatedCompositeFieldContainer[ChannelCapacity]
    def __init__(self, capacities: _Optional[_Iterable[_Union[ChannelCapacity, _Mapping]]] = ...) -> None: ...

class AgentSkillsChanged(_message.Message):
    __slots__ = ("skills",)
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    skills: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Skill]
    def __init__(self, skills: _Optional[_Iterable[_Union[_envelope_pb2.Skill, _Mapping]]] = ...) -> None: ...
