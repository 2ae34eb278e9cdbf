"""What the use cases need from the outside world (implemented in adapters/)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from hotline_analytics.domain.kpi import QueueTally, Split


class Record(Protocol):
    """One consumed record (a confluent_kafka.Message satisfies this)."""

    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def key(self) -> bytes | None: ...
    def value(self) -> bytes | None: ...


class RecordRejected(ValueError):
    """The record cannot be stored: undecodable or breaking the contract. Says why."""


class RowBatch(Protocol):
    """Rows being built for one store insert (adapters.rows.EventBatch)."""

    def add(self, record: Record) -> None:
        """Decode and map one record into a row; raise RecordRejected (adding nothing)."""
        ...

    def __len__(self) -> int: ...

    def columns(self) -> tuple[list[str], list[Sequence[Any]]]: ...


class EventStore(Protocol):
    def insert(self, batch: RowBatch) -> None:
        """Store the rows durably (idempotent on event id); raise if they were not stored."""
        ...


class DeadLetterSink(Protocol):
    def send(self, record: Record, reason: str) -> None: ...

    def flush(self) -> None:
        """Return once every sent record is durably in the dead-letter topic (or raise)."""
        ...


class TallySource(Protocol):
    def queue_tallies(
        self,
        tenant_id: str,
        start_ms: int,
        end_ms: int,
        thresholds_s: Mapping[str, int],
        short_abandon_ms: int,
    ) -> dict[str, QueueTally]:
        """Per queue id: the tally of contacts of `tenant_id` queued in [start_ms, end_ms).

        `thresholds_s` gives T per queue; a queue missing from it uses the threshold the router
        recorded at queueing time (or 20 s if none was recorded).
        """
        ...

    def split_tallies(
        self,
        tenant_id: str,
        start_ms: int,
        end_ms: int,
        thresholds_s: Mapping[str, int],
        short_abandon_ms: int,
        split: Split,
    ) -> dict[tuple[str, str], QueueTally]:
        """As queue_tallies, per (queue id, split key): domain.kpi.Split.key of each contact."""
        ...
