"""Router settings (environment variables HOTLINE_*)."""

from __future__ import annotations

from pydantic import field_validator

from hotline_platform.settings import ServiceSettings
from hotline_platform.topics import EVENT_PARTITIONS

GROUP = "group"


def parse_partitions(spec: str, total: int = EVENT_PARTITIONS) -> tuple[int, ...] | None:
    """"all", or a list of numbers and ranges: "0-5", "0,3,7-9"; None for "group" (the
    consumer group shares them among the instances)."""
    text = spec.strip().lower()
    if text == GROUP:
        return None
    if text in ("", "all"):
        return tuple(range(total))
    owned: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        first, sep, last = part.partition("-")
        try:
            lo = int(first)
            hi = int(last) if sep else lo
        except ValueError as exc:
            raise ValueError(f"partitions: {part!r} is not a number or a range") from exc
        if lo > hi or lo < 0 or hi >= total:
            raise ValueError(f"partitions: {part!r} is outside 0-{total - 1}")
        owned.update(range(lo, hi + 1))
    if not owned:
        raise ValueError("partitions: empty")
    return tuple(sorted(owned))


class RouterSettings(ServiceSettings):
    grpc_port: int = 50052
    # The partitions of every event topic this instance owns: "all", or e.g. "0-5", "6-11"
    # (static assignment, e.g. from a StatefulSet ordinal; no two instances may share one), or
    # "group": shared among the instances of the consumer group `group_id`, taken over when
    # one is lost.
    partitions: str = "all"
    group_id: str = "hotline-router"
    # Snapshots of each partition's state in the content store (HOTLINE_OBJECT_STORE_*):
    # after this many facts folded or this many seconds with any (whichever comes first).
    snapshots: bool = False
    snapshot_every_events: int = 10_000
    snapshot_every_s: float = 60.0
    # Router-side offer time-out = the queue's ring time-out + this grace.
    offer_grace_ms: int = 5_000
    # An ingress-sip instance with no start or heartbeat (hotline.ingress.liveness.v1) for
    # this long is lost: its open contacts are ended (5 heartbeats at ingress-sip's 2 s).
    ingress_lost_after_ms: int = 25_000
    # How often time-driven decisions (offer and wrap-up time-outs) are checked.
    tick_ms: int = 200

    @field_validator("partitions")
    @classmethod
    def _valid_partitions(cls, value: str) -> str:
        parse_partitions(value)
        return value

    def owned_partitions(self) -> tuple[int, ...] | None:
        """The static partitions, or None in group mode."""
        return parse_partitions(self.partitions)
