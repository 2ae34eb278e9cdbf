"""Wire codec: protobuf binary on Kafka, protobuf-JSON for people and logs."""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from hotline_platform.envelope import ContractViolation, check_envelope
from hotline_platform.topics import BY_NAME, Topic


def encode(event: Message) -> bytes:
    return event.SerializeToString()


def decode(topic: Topic | str, payload: bytes | None, key: bytes | None = None) -> Message:
    """Decode and check one record; raise ContractViolation with a reason a person can act on."""
    declared = BY_NAME.get(topic) if isinstance(topic, str) else topic
    if declared is None:
        raise ContractViolation(f"unknown topic {topic!r}")
    if declared.value_type is None:
        raise ContractViolation(f"topic {declared.name} carries no events")
    if not payload:
        raise ContractViolation("empty record value")
    event = declared.value_type()
    try:
        event.ParseFromString(payload)
    except DecodeError as exc:
        raise ContractViolation(f"not a {declared.value_type.DESCRIPTOR.full_name}: {exc}") from exc
    check_envelope(event, requires_subject=declared.requires_subject)  # type: ignore[arg-type]
    tenant = event.envelope.tenant_id  # type: ignore[attr-defined]
    if key is not None and declared.key == "tenant_id" and key.decode(errors="replace") != tenant:
        raise ContractViolation(f"record key {key!r} is not the envelope tenant {tenant!r}")
    return event


def to_json(event: Message, *, indent: int | None = None) -> str:
    return json_format.MessageToJson(
        event, indent=indent, preserving_proto_field_name=False, sort_keys=False
    )


def from_json(topic: Topic, text: str) -> Message:
    if topic.value_type is None:
        raise ContractViolation(f"topic {topic.name} carries no events")
    return json_format.Parse(text, topic.value_type())
