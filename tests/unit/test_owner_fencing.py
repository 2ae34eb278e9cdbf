"""hotline_platform.fencing: claims and owner epochs read in partition order."""

from __future__ import annotations

from hotline.agent.v1.events_pb2 import AgentEvent
from hotline.common.v1.envelope_pb2 import OwnerClaimed
from hotline_platform.envelope import new_envelope
from hotline_platform.fencing import CLAIM_TENANT, OwnerFence

TOPIC = "hotline.agents.v1"


def claim(epoch: int, claim_id: str) -> AgentEvent:
    return AgentEvent(
        envelope=new_envelope(tenant_id=CLAIM_TENANT, producer="router/x", agent_id=claim_id),
        owner_claimed=OwnerClaimed(epoch=epoch, partition=2, owner="router/x", claim_id=claim_id),
    )


def fact(epoch: int) -> AgentEvent:
    event = AgentEvent(envelope=new_envelope(tenant_id="t", producer="router/x", agent_id="a"))
    event.logged_out.reason = "r"
    event.envelope.owner_epoch = epoch
    return event


def test_facts_of_an_older_epoch_after_a_newer_claim_are_not_admitted() -> None:
    fence = OwnerFence()
    assert fence.admit(TOPIC, 2, fact(0), fenced_writer=True)  # before any claim
    assert not fence.admit(TOPIC, 2, claim(1, "a"), fenced_writer=True)  # a claim: not a fact
    assert fence.admit(TOPIC, 2, fact(1), fenced_writer=True)
    assert not fence.admit(TOPIC, 2, fact(0), fenced_writer=True)
    assert not fence.admit(TOPIC, 2, claim(2, "b"), fenced_writer=True)
    assert not fence.admit(TOPIC, 2, fact(1), fenced_writer=True)  # the stale owner
    assert fence.admit(TOPIC, 2, fact(2), fenced_writer=True)
    assert fence.admit(TOPIC, 3, fact(0), fenced_writer=True)  # another partition
    assert fence.admit(TOPIC, 2, fact(0), fenced_writer=False)  # a topic nobody fences
    assert (fence.epoch(TOPIC, 2), fence.holder(TOPIC, 2)) == (2, "b")


def test_a_claim_not_above_the_newest_is_void_and_forget_drops_a_partition() -> None:
    fence = OwnerFence()
    fence.admit(TOPIC, 2, claim(4, "first"), fenced_writer=True)
    fence.admit(TOPIC, 2, claim(4, "racing"), fenced_writer=True)
    fence.admit(TOPIC, 2, claim(3, "late"), fenced_writer=True)
    assert fence.holder(TOPIC, 2) == "first"
    assert set(fence.of_partition(2)) == {(TOPIC, 2)}
    fence.forget(2)
    assert fence.epoch(TOPIC, 2) == 0
