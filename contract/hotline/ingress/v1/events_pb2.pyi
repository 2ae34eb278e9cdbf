from hotline.common.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IngressEvent(_message.Message):
    __slots__ = ("envelope", "started", "heartbeat")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.Envelope
    started: IngressStarted
    heartbeat: IngressHeartbeat
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.Envelope, _Mapping]] = ..., started: _Optional[_Union[IngressStarted, _Mapping]] = ..., heartbeat: _Optional[_Union[IngressHeartbeat, _Mapping]] = ...) -> None: ...

class IngressStarted(_message.Message):
    __slots__ = ("instance_id", "incarnation_id", "heartbeat_interval_ms", "channel")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    INCARNATION_ID_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    incarnation_id: str
    heartbeat_interval_ms: int
    channel: _envelope_pb2.Channel
    def __init__(self, instance_id: _Optional[str] = ..., incarnation_id: _Optional[str] = ..., heartbeat_interval_ms: _Optional[int] = ..., channel: _Optional[_Union[_envelope_pb2.Channel, str]] = ...) -> None: ...

class IngressHeartbeat(_message.Message):
    __slots__ = ("instance_id", "incarnation_id", "heartbeat_interval_ms", "started_at_ms", "active_calls")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    INCARNATION_ID_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_CALLS_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    incarnation_id: str
    heartbeat_interval_ms: int
    started_at_ms: int
    active_calls: int
    def __init__(self, instance_id: _Optional[str] = ..., incarnation_id: _Optional[str] = ..., heartbeat_interval_ms: _Optional[int] = ..., started_at_ms: _Optional[int] = ..., active_calls: _Optional[int] = ...) -> None: ...
