from hotline.common.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuditEvent(_message.Message):
    __slots__ = ("envelope", "content_stored", "content_accessed")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_STORED_FIELD_NUMBER: _ClassVar[int]
    CONTENT_ACCESSED_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.Envelope
    content_stored: ContentStored
    content_accessed: ContentAccessed
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.Envelope, _Mapping]] = ..., content_stored: _Optional[_Union[ContentStored, _Mapping]] = ..., content_accessed: _Optional[_Union[ContentAccessed, _Mapping]] = ...) -> None: ...

class ContentStored(_message.Message):
    __slots__ = ("content_ref", "writer", "purpose", "size_bytes", "content_type", "key_id", "kek_version")
    CONTENT_REF_FIELD_NUMBER: _ClassVar[int]
    WRITER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    KEK_VERSION_FIELD_NUMBER: _ClassVar[int]
    content_ref: str
    writer: str
    purpose: str
    size_bytes: int
    content_type: str
    key_id: str
    kek_version: int
    def __init__(self, content_ref: _Optional[str] = ..., writer: _Optional[str] = ..., purpose: _Optional[str] = ..., size_bytes: _Optional[int] = ..., content_type: _Optional[str] = ..., key_id: _Optional[str] = ..., kek_version: _Optional[int] = ...) -> None: ...

class ContentAccessed(_message.Message):
    __slots__ = ("content_ref", "reader", "purpose", "outcome", "caller_tenant_id", "detail", "size_bytes", "content_type")
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTCOME_UNSPECIFIED: _ClassVar[ContentAccessed.Outcome]
        OUTCOME_GRANTED: _ClassVar[ContentAccessed.Outcome]
        OUTCOME_DENIED_OTHER_TENANT: _ClassVar[ContentAccessed.Outcome]
        OUTCOME_FAILED_INTEGRITY: _ClassVar[ContentAccessed.Outcome]
        OUTCOME_NOT_FOUND: _ClassVar[ContentAccessed.Outcome]
        OUTCOME_KEY_UNAVAILABLE: _ClassVar[ContentAccessed.Outcome]
    OUTCOME_UNSPECIFIED: ContentAccessed.Outcome
    OUTCOME_GRANTED: ContentAccessed.Outcome
    OUTCOME_DENIED_OTHER_TENANT: ContentAccessed.Outcome
    OUTCOME_FAILED_INTEGRITY: ContentAccessed.Outcome
    OUTCOME_NOT_FOUND: ContentAccessed.Outcome
    OUTCOME_KEY_UNAVAILABLE: ContentAccessed.Outcome
    CONTENT_REF_FIELD_NUMBER: _ClassVar[int]
    READER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CALLER_TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    content_ref: str
    reader: str
    purpose: str
    outcome: ContentAccessed.Outcome
    caller_tenant_id: str
    detail: str
    size_bytes: int
    content_type: str
    def __init__(self, content_ref: _Optional[str] = ..., reader: _Optional[str] = ..., purpose: _Optional[str] = ..., outcome: _Optional[_Union[ContentAccessed.Outcome, str]] = ..., caller_tenant_id: _Optional[str] = ..., detail: _Optional[str] = ..., size_bytes: _Optional[int] = ..., content_type: _Optional[str] = ...) -> None: ...
