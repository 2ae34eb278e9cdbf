"""Use case: store one batch of consumed records; dead-letter the ones that cannot be stored.

The caller commits the batch's offsets only after `store` returns (at-least-once): every record
is then either a row in the store or a record in the dead-letter topic, never silently dropped.
Storing is idempotent on the event id, so a batch redelivered after a crash changes no figure.

The two steps are separate so that a consumer can map batch k+1 while batch k is being
written (`IngestBatch.__call__` does both in turn).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hotline_analytics.application.ports import (
    DeadLetterSink,
    EventStore,
    Record,
    RecordRejected,
    RowBatch,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    stored: int
    dead_lettered: int


@dataclass(frozen=True)
class MappedBatch:
    rows: RowBatch
    dead_lettered: int


class IngestBatch:
    def __init__(
        self,
        new_batch: Callable[[], RowBatch],
        store: EventStore,
        dead_letters: DeadLetterSink,
    ) -> None:
        self._new_batch = new_batch
        self._store = store
        self._dead_letters = dead_letters

    def map(self, records: Sequence[Record]) -> MappedBatch:
        """Decode and map every record; send the unusable ones to the dead-letter topic."""
        rows = self._new_batch()
        rejected = 0
        add = rows.add
        for record in records:
            try:
                add(record)
            except RecordRejected as exc:
                self._dead_letters.send(record, str(exc))
                rejected += 1
            except Exception as exc:  # a mapping bug must not block the partition forever
                log.exception(
                    "cannot map record topic=%s offset=%s", record.topic(), record.offset()
                )
                self._dead_letters.send(record, f"analytics-sink cannot map it: {exc!r}")
                rejected += 1
        return MappedBatch(rows, rejected)

    def store(self, mapped: MappedBatch) -> IngestResult:
        """Insert the rows and make sure the dead letters are delivered; raise if not."""
        if len(mapped.rows):
            self._store.insert(mapped.rows)
        if mapped.dead_lettered:
            self._dead_letters.flush()
        return IngestResult(stored=len(mapped.rows), dead_lettered=mapped.dead_lettered)

    def __call__(self, records: Sequence[Record]) -> IngestResult:
        return self.store(self.map(records))
