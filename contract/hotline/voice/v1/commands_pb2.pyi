from hotline.common.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CallCommand(_message.Message):
    __slots__ = ("envelope", "requested_by", "hold", "resume", "transfer")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    HOLD_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.Envelope
    requested_by: str
    hold: HoldCall
    resume: ResumeCall
    transfer: TransferCall
    def __init__(self, envelope: _Optional[_Union[_envelope_pb2.Envelope, _Mapping]] = ..., requested_by: _Optional[str] = ..., hold: _Optional[_Union[HoldCall, _Mapping]] = ..., resume: _Optional[_Union[ResumeCall, _Mapping]] = ..., transfer: _Optional[_Union[TransferCall, _Mapping]] = ...) -> None: ...

class HoldCall(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResumeCall(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TransferCall(_message.Message):
    __slots__ = ("to_queue_id",)
    TO_QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    to_queue_id: str
    def __init__(self, to_queue_id: _Optional[str] = ...) -> None: ...
