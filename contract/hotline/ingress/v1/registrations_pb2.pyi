from hotline.common.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegistrationEvent(_message.Message):
    __slots__ = ("envelope", "registered", "unregistered")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    UNREGISTERED_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.Envelope
    registered: ContactRegistered
    unregistered: ContactUnregistered
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.Envelope, _Mapping]] = ..., registered: _Optional[_Union[ContactRegistered, _Mapping]] = ..., unregistered: _Optional[_Union[ContactUnregistered, _Mapping]] = ...) -> None: ...

class ContactRegistered(_message.Message):
    __slots__ = ("agent_id", "sip_username", "contact_uri", "reachable_uri", "expires_at_ms", "instance_id", "user_agent")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SIP_USERNAME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_URI_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_URI_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    sip_username: str
    contact_uri: str
    reachable_uri: str
    expires_at_ms: int
    instance_id: str
    user_agent: str
    def __init__(self, agent_id: _Optional[str] = ..., sip_username: _Optional[str] = ..., contact_uri: _Optional[str] = ..., reachable_uri: _Optional[str] = ..., expires_at_ms: _Optional[int] = ..., instance_id: _Optional[str] = ..., user_agent: _Optional[str] = ...) -> None: ...

class ContactUnregistered(_message.Message):
    __slots__ = ("agent_id", "sip_username", "contact_uri", "reason", "instance_id")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SIP_USERNAME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_URI_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    sip_username: str
    contact_uri: str
    reason: str
    instance_id: str
    def __init__(self, agent_id: _Optional[str] = ..., sip_username: _Optional[str] = ..., contact_uri: _Optional[str] = ..., reason: _Optional[str] = ..., instance_id: _Optional[str] = ...) -> None: ...
