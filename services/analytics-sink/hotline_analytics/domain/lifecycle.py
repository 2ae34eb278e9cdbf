"""Lifecycle data-quality rules: every interaction ends exactly once, and a contact is never
offered to a second agent while an earlier offer is unresolved. Pure: the facts come in as
plain values (adapters/interaction_reads.py reads them from `events`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

# Event kinds (the `kind` column: the oneof case of InteractionEvent).
TERMINAL_KINDS = ("completed", "abandoned", "self_service_finished")
OFFER_RESOLUTION_KINDS = ("offer_accepted", "offer_rejected", "offer_timed_out")
OFFERED = "offered"


@dataclass(frozen=True)
class OfferStep:
    """An `offered`, an offer resolution or a terminal event of one interaction."""

    interaction_id: str
    at_ms: int
    kind: str
    offer_id: str = ""
    agent_id: str = ""


@dataclass(frozen=True)
class EndedTwice:
    interaction_id: str
    terminal_events: int


@dataclass(frozen=True)
class ConcurrentOffer:
    """`interaction_id` was offered to `agent_id` while still offered to `still_offered_to`."""

    interaction_id: str
    agent_id: str
    still_offered_to: tuple[str, ...]


@dataclass(frozen=True)
class LifecycleCheck:
    unfinished_interactions: tuple[str, ...] = ()
    ended_twice: tuple[EndedTwice, ...] = ()
    concurrent_offers: tuple[ConcurrentOffer, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.unfinished_interactions or self.ended_twice or self.concurrent_offers)


def concurrent_offers(steps: Iterable[OfferStep]) -> list[ConcurrentOffer]:
    """Offers made while an earlier offer of the same interaction was still ringing.

    An offer rings from `offered` until its resolution (accepted, rejected, timed out) or the
    interaction's end. At the same millisecond a resolution is taken to come before an offer
    (services' clocks are only that precise)."""
    timeline: dict[str, list[tuple[int, int, str, str, str]]] = defaultdict(list)
    for s in steps:
        order = 1 if s.kind == OFFERED else 0
        timeline[s.interaction_id].append((s.at_ms, order, s.kind, s.offer_id, s.agent_id))
    found: list[ConcurrentOffer] = []
    for interaction_id, events in timeline.items():
        ringing: dict[str, str] = {}
        for _at, _order, kind, offer_id, agent_id in sorted(events):
            if kind == OFFERED:
                if ringing:
                    found.append(
                        ConcurrentOffer(interaction_id, agent_id, tuple(ringing.values()))
                    )
                ringing[offer_id] = agent_id
            elif kind in TERMINAL_KINDS:
                ringing.clear()
            else:
                ringing.pop(offer_id, None)
    return found
