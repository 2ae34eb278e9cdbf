"""ReaderFence: a reader that starts mid-log drops a stale owner's facts, learning the epoch
from claims and from facts alike."""

from __future__ import annotations

from hotline.common.v1.envelope_pb2 import OwnerClaimed
from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline_platform.fencing import ReaderFence

TOPIC = "hotline.routing.interactions.v1"


def _fact(epoch: int) -> InteractionEvent:
    event = InteractionEvent()
    event.envelope.owner_epoch = epoch
    event.offered.offer_id = f"o{epoch}"
    return event


def _claim(epoch: int) -> InteractionEvent:
    return InteractionEvent(owner_claimed=OwnerClaimed(epoch=epoch, claim_id=f"c{epoch}"))


def test_a_fact_older_than_the_newest_epoch_read_is_dropped_per_partition() -> None:
    fence = ReaderFence()
    assert fence.admit(TOPIC, 0, _fact(0))  # before any owner had an epoch
    assert fence.admit(TOPIC, 0, _fact(2))  # started mid-log: learns epoch 2 from a fact
    assert not fence.admit(TOPIC, 0, _fact(1))  # the owner fenced by 2, writing late
    assert fence.admit(TOPIC, 1, _fact(1))  # another partition has its own owner
    assert not fence.admit(TOPIC, 0, _claim(3))  # a claim is not a fact ...
    assert not fence.admit(TOPIC, 0, _fact(2))  # ... but fences epoch 2 at once
    assert fence.admit(TOPIC, 0, _fact(3))
    assert not fence.admit(TOPIC, 0, _claim(2))  # a void claim changes nothing
    assert fence.admit(TOPIC, 0, _fact(3))
