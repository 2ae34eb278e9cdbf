from hotline.common.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionEvent(_message.Message):
    __slots__ = ("envelope", "recorded")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.Envelope
    recorded: SessionRecorded
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.Envelope, _Mapping]] = ..., recorded: _Optional[_Union[SessionRecorded, _Mapping]] = ...) -> None: ...

class SessionRecorded(_message.Message):
    __slots__ = ("id_hash", "tenant_id", "user_id", "created_ms", "last_seen_ms")
    ID_HASH_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_MS_FIELD_NUMBER: _ClassVar[int]
    id_hash: str
    tenant_id: str
    user_id: str
    created_ms: int
    last_seen_ms: int
    def __init__(self, id_hash: _Optional[str] = ..., tenant_id: _Optional[str] = ..., user_id: _Optional[str] = ..., created_ms: _Optional[int] = ..., last_seen_ms: _Optional[int] = ...) -> None: ...
