"""Fencing of partition owners by epochs written into the partitions themselves.

A service whose instances share a topic's partitions (the router: one owner per partition,
services/router/README.md) must never have two instances deciding for one partition at once, yet
an old owner that stalled (GC pause, SIGSTOP, lost network) may write a few more facts after a
new owner took over. Kafka's log gives the order that settles it, like its own leader epochs:

* A new owner writes an `OwnerClaimed` (epoch = 1 + the newest epoch it has read) into the
  partition of every topic it writes, and decides nothing before it has read its claims back.
* Every fact it writes carries that epoch (`Envelope.owner_epoch`).
* A reader keeps, per topic partition, the newest valid claim read so far; a fact of that
  topic's writer with an older epoch is a stale owner's and is ignored. A claim whose epoch is
  not above the newest one before it is void (two claimants racing: the first one wins).

Everything before a new owner's claim was read by it before it decided (it is accepted); every
stale fact after the claim is ignored by every reader alike, so a replay from the log reaches the
same state as the live owner. Facts written before this existed carry epoch 0: accepted until
the first claim.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

from hotline.common.v1.envelope_pb2 import OwnerClaimed

#: Record key and envelope tenant of claims: not a tenant (no tenant id may start with "~").
CLAIM_TENANT = "~router"


@dataclass(frozen=True, slots=True)
class Claim:
    epoch: int
    claim_id: str
    owner: str


def claim_of(event: Message) -> OwnerClaimed | None:
    """The claim an event carries, if it is one."""
    oneof = event.DESCRIPTOR.oneofs_by_name.get("event")
    if oneof is None or event.WhichOneof("event") != "owner_claimed":
        return None
    return event.owner_claimed  # type: ignore[attr-defined, no-any-return]


class OwnerFence:
    """What a reader of fenced topics keeps: the newest claim per (topic, partition)."""

    def __init__(self, claims: dict[tuple[str, int], Claim] | None = None) -> None:
        self.claims: dict[tuple[str, int], Claim] = dict(claims or {})

    def epoch(self, topic: str, partition: int) -> int:
        found = self.claims.get((topic, partition))
        return found.epoch if found else 0

    def holder(self, topic: str, partition: int) -> str:
        """The claim id of the partition's current owner ("" before any claim)."""
        found = self.claims.get((topic, partition))
        return found.claim_id if found else ""

    def admit(self, topic: str, partition: int, event: Message, *, fenced_writer: bool) -> bool:
        """Read `event` at its place in the partition: True if it is a fact to use. A claim
        updates the fence and is not a fact (False). `fenced_writer`: the topic is written by
        fenced owners (only their facts carry epochs)."""
        claim = claim_of(event)
        where = (topic, partition)
        if claim is not None:
            if claim.epoch > self.epoch(topic, partition):
                self.claims[where] = Claim(claim.epoch, claim.claim_id, claim.owner)
            return False
        if not fenced_writer:
            return True
        return int(event.envelope.owner_epoch) >= self.epoch(topic, partition)  # type: ignore[attr-defined]

    def forget(self, partition: int) -> None:
        for where in [w for w in self.claims if w[1] == partition]:
            del self.claims[where]

    def of_partition(self, partition: int) -> dict[tuple[str, int], Claim]:
        return {w: c for w, c in self.claims.items() if w[1] == partition}


class ReaderFence:
    """The fence for a reader of a fenced writer's topic that acts on what it reads but may
    start anywhere in the log (ingress-sip reads from the end: it may never see the newest
    claim). Per (topic, partition) it keeps the newest epoch read, from a claim or from a fact:
    a fact of epoch e follows its owner's claim e in the partition, so a later fact with an
    older epoch is a stale owner's and is dropped. Claims themselves are not facts."""

    def __init__(self) -> None:
        self.newest: dict[tuple[str, int], int] = {}

    def admit(self, topic: str, partition: int, event: Message) -> bool:
        where = (topic, partition)
        claim = claim_of(event)
        epoch = int(claim.epoch if claim is not None else event.envelope.owner_epoch)  # type: ignore[attr-defined]
        if epoch < self.newest.get(where, 0):
            return False
        self.newest[where] = epoch
        return claim is None
