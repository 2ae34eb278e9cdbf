"""Ports the WFM use cases need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hotline_wfm.domain.forecast import Observation


class HistoryUnavailable(RuntimeError):
    """The history store cannot be read (down, unreachable, schema missing)."""


class HistorySource(Protocol):
    def observations(
        self, tenant_id: str, start_ms: int, end_ms: int, queue_ids: Sequence[str] = ()
    ) -> list[Observation]:
        """Contacts, handled contacts and handle time per queue and 15-minute slot, of the
        contacts that entered a queue in [start_ms, end_ms) (all queues when none given)."""
        ...

    def first_slot_ms(self, tenant_id: str) -> int | None:
        """When the tenant's first queued contact was (None: no history)."""
        ...
