"""Pure platform pieces: envelope checks, codec errors, tenancy config, auth."""

from __future__ import annotations

import grpc
import pytest

from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline_platform import auth, codec, tenancy, topics
from hotline_platform.envelope import ContractViolation, new_envelope, occurred_at_ms


def _event(**envelope: str) -> InteractionEvent:
    fields = {"tenant_id": "acme", "producer": "test", "interaction_id": "i-1"} | envelope
    event = InteractionEvent(envelope=new_envelope(**fields))  # type: ignore[arg-type]
    event.arrived.from_address = "sip:alice@example.com"
    return event


def test_round_trip_and_json() -> None:
    event = _event()
    decoded = codec.decode(topics.VOICE_INTERACTIONS, codec.encode(event), b"acme")
    assert decoded == event
    assert codec.from_json(topics.VOICE_INTERACTIONS, codec.to_json(event)) == event
    assert occurred_at_ms(event.envelope) % 1000 == event.envelope.occurred_at.nanos // 10**6


@pytest.mark.parametrize(
    ("payload", "key", "reason"),
    [
        (b"", b"acme", "empty record"),
        (b"\xff\xff\xff", b"acme", "not a hotline.interaction.v1.InteractionEvent"),
        (InteractionEvent().SerializeToString() + b"\x0a\x00", b"acme", "envelope lacks"),
        (_event(tenant_id="other").SerializeToString(), b"acme", "is not the envelope tenant"),
    ],
)
def test_decode_rejects_with_a_reason(payload: bytes, key: bytes, reason: str) -> None:
    with pytest.raises(ContractViolation, match=reason):
        codec.decode(topics.VOICE_INTERACTIONS, payload, key)


def test_event_without_body_is_rejected() -> None:
    event = _event()
    event.ClearField("arrived")
    with pytest.raises(ContractViolation, match="no body"):
        codec.decode(topics.VOICE_INTERACTIONS, event.SerializeToString(), b"acme")


CONFIG = {
    "sites": [{"id": "lisbon"}],
    "tenants": [
        {
            "id": "a",
            "credential": "ca",
            "queues": [{"id": "q"}],
            "entry_points": [{"address": "100", "queue": "q"}],
            "agents": [{"id": "a1", "phone": "sip:a1@127.0.0.1:5070", "skills": ["x"]}],
        },
        {"id": "b", "credential": "cb"},
    ],
}


def test_tenancy_parse_and_errors() -> None:
    config = tenancy.parse(CONFIG)
    assert config.entry_points["100"].tenant_id == "a"
    assert config.tenants["a"].agents["a1"].skills == (tenancy.SkillLevel("x", 1),)
    bad = {
        "tenants": [
            {"id": "a", "credential": "c", "entry_points": [{"address": "1", "queue": "nope"}]}
        ]
    }
    with pytest.raises(tenancy.ConfigError, match="unknown queue 'nope'"):
        tenancy.parse(bad)
    with pytest.raises(tenancy.ConfigError, match="credential shared"):
        tenancy.parse({"tenants": [{"id": "a", "credential": "c"}, {"id": "b", "credential": "c"}]})


def test_auth_separates_tenants() -> None:
    config = tenancy.parse(CONFIG)
    auth.authorize(config, [("authorization", "Bearer ca")], "a")
    with pytest.raises(auth.AuthError) as denied:
        auth.authorize(config, [("authorization", "Bearer ca")], "b")
    assert denied.value.code == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(auth.AuthError) as missing:
        auth.authorize(config, [], "a")
    assert missing.value.code == grpc.StatusCode.UNAUTHENTICATED
