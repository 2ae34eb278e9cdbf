"""Hold, resume and transfer commands (hotline.voice.commands.v1) -> ingress-sip's CallCommand,
and what the instructions consumer does with a record: bad ones dead-lettered, one read twice
dropped (no broker: records are built in memory)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from hotline.voice.v1.commands_pb2 import CallCommand, HoldCall, TransferCall
from hotline_ingress_sip.adapters.kafka_events import command_from_message
from hotline_ingress_sip.adapters.offers_consumer import OffersConsumer
from hotline_ingress_sip.domain.events import CallAction
from hotline_ingress_sip.domain.events import CallCommand as DomainCommand
from hotline_platform.codec import encode
from hotline_platform.envelope import ContractViolation, new_envelope
from hotline_platform.topics import VOICE_COMMANDS


def command(kind: str, *, interaction_id: str = "i-1", agent_id: str = "a1",
            to_queue_id: str = "") -> CallCommand:
    message = CallCommand(
        envelope=new_envelope(tenant_id="acme", producer="gateway/g0",
                              interaction_id=interaction_id, agent_id=agent_id),
        requested_by="user:sup",
    )
    if kind == "hold":
        message.hold.CopyFrom(HoldCall())
    elif kind == "resume":
        message.resume.SetInParent()
    elif kind == "transfer":
        message.transfer.CopyFrom(TransferCall(to_queue_id=to_queue_id))
    return message


@pytest.mark.parametrize(
    ("kind", "action", "to_queue_id"),
    [("hold", CallAction.HOLD, ""), ("resume", CallAction.RESUME, ""),
     ("transfer", CallAction.TRANSFER, "sales")],
)
def test_each_command_maps_to_its_action(kind: str, action: CallAction, to_queue_id: str) -> None:
    message = command(kind, to_queue_id=to_queue_id)
    assert command_from_message(message) == DomainCommand(
        interaction_id="i-1", tenant_id="acme", agent_id="a1", action=action,
        to_queue_id=to_queue_id, command_id=message.envelope.event_id,
    )


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (command("transfer"), "names its queue"),
        (command("hold", agent_id=""), "its agent"),
        (command("hold", interaction_id=""), "its interaction"),
    ],
)
def test_a_command_that_cannot_be_done_breaks_the_contract(message: CallCommand, why: str) -> None:
    with pytest.raises(ContractViolation, match=why):
        command_from_message(message)


@dataclass
class Record:
    """What the consumer reads of a confluent_kafka.Message."""

    value_: bytes
    key_: bytes = b"acme"
    offset_: int = 0

    def topic(self) -> str:
        return VOICE_COMMANDS.name

    def partition(self) -> int:
        return 3

    def offset(self) -> int:
        return self.offset_

    def value(self) -> bytes:
        return self.value_

    def key(self) -> bytes:
        return self.key_


@dataclass
class DeadLetters:
    count: int = 0
    reasons: list[str] = field(default_factory=list)

    def send(self, msg: Any, reason: str) -> None:
        self.count += 1
        self.reasons.append(reason)


def consumer() -> tuple[OffersConsumer, DeadLetters]:
    dead = DeadLetters()
    return OffersConsumer("127.0.0.1:1", "t", dead, lambda offers: None), dead  # type: ignore[arg-type]


def test_a_command_read_twice_is_handed_over_once() -> None:
    reader, dead = consumer()
    message = command("hold")
    first = reader._instruction(Record(encode(message)))  # type: ignore[arg-type]
    again = reader._instruction(Record(encode(message), offset_=1))  # type: ignore[arg-type]
    assert isinstance(first, DomainCommand) and first.action is CallAction.HOLD
    assert again is None
    other = reader._instruction(Record(encode(command("resume")), offset_=2))  # type: ignore[arg-type]
    assert isinstance(other, DomainCommand) and other.action is CallAction.RESUME
    assert dead.count == 0


def test_a_stale_command_is_dropped() -> None:
    reader, dead = consumer()
    message = command("hold")
    message.envelope.occurred_at.seconds -= 31  # asked 31 s ago: recorded late, or re-read
    assert reader._instruction(Record(encode(message))) is None  # type: ignore[arg-type]
    message.envelope.occurred_at.seconds += 2
    assert reader._instruction(Record(encode(message), offset_=1)) is not None  # type: ignore[arg-type]
    assert dead.count == 0


def test_bad_command_records_are_dead_lettered() -> None:
    reader, dead = consumer()
    assert reader._instruction(Record(b"\xff\x01garbage")) is None  # type: ignore[arg-type]
    assert reader._instruction(  # type: ignore[arg-type]
        Record(encode(command("transfer")), offset_=1)
    ) is None
    other_key = Record(encode(command("hold")), key_=b"globex", offset_=2)
    assert reader._instruction(other_key) is None  # type: ignore[arg-type]
    assert dead.count == 3
    assert "names its queue" in dead.reasons[1]
