"""ClickHouse side of the read API (application/reads.py): KPI tallies, a customer's contacts,
the interactions of a period and one interaction's events, the lifecycle facts. Blocking;
called on worker threads, each query on a client of a small pool (a clickhouse-driver Client
is not thread-safe). A connection failure becomes StoreUnavailable
and its client is dropped, so the next call reconnects (ClickHouse restarted meanwhile)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from clickhouse_driver import Client, errors

from hotline.common.v1.envelope_pb2 import Channel
from hotline.interaction.v1.events_pb2 import IdentityHint, IdentityKind, InteractionEvent
from hotline_analytics.adapters.clickhouse import ClickHouseReports, ClickHouseSettings
from hotline_analytics.adapters.queries import FACT_COLUMNS
from hotline_analytics.adapters.schema import INTERACTION_AGGREGATES, check_identifier
from hotline_analytics.application.reads import (
    ArrivalIdentity,
    InteractionFilter,
    StoreUnavailable,
)
from hotline_analytics.domain.contacts import ContactRecord
from hotline_analytics.domain.kpi import InteractionFacts, QueueTally, Split
from hotline_analytics.domain.lifecycle import (
    OFFER_RESOLUTION_KINDS,
    OFFERED,
    TERMINAL_KINDS,
    EndedTwice,
    OfferStep,
)

# What a lost or refused connection raises (a query error is a bug and is not caught here).
_UNREACHABLE = (errors.NetworkError, errors.SocketTimeoutError, OSError, EOFError)


class ClientPool:
    """Up to `size` ClickHouse clients, each used by one thread at a time."""

    def __init__(self, settings: ClickHouseSettings, size: int = 8) -> None:
        self._settings = settings
        self._idle: queue.LifoQueue[Client] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def client(self) -> Iterator[Client]:
        self._slots.acquire()
        try:
            try:
                client = self._idle.get_nowait()
            except queue.Empty:
                client = self._settings.client()
            try:
                yield client
            except _UNREACHABLE as exc:
                client.disconnect()
                s = self._settings
                raise StoreUnavailable(f"ClickHouse at {s.host}:{s.port}: {exc}") from exc
            except BaseException:
                client.disconnect()  # its state is unknown: never reuse it
                raise
            self._idle.put(client)
        finally:
            self._slots.release()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().disconnect()
            except queue.Empty:
                return



def _merge(column: str) -> str:
    """`minIfMerge(queued_at_ms)` for a column whose state type is AggregateFunction(minIf, ..)."""
    state = _STATES[column]
    function = state[len("AggregateFunction("):].split(",")[0].strip()
    return f"{function}Merge({column})"


_STATES = {name: state for name, state, _ in INTERACTION_AGGREGATES}
# InteractionFacts' columns (sl_threshold_s = its service_level_threshold_s), then the rest
# of what a customer's contact shows.
_FACT_AGGREGATES = {name: _merge(name) for name in FACT_COLUMNS[1:]}
_CONTACT_AGGREGATES = {
    name: _merge(name)
    for name in ("channel", "entry_point_id", "arrived_at_ms", "disposition_code", "resolved")
}

# Arrived events that may carry the identity: the hint's exact protobuf bytes inside `raw`
# (checked again after decoding), or the from address. Newest first; duplicates of an event
# (before merges) are collapsed in Python. PREWHERE: `raw` is read for arrived events only.
_ARRIVALS_SQL = """
SELECT interaction_id, occurred_at_ms, hex(raw)
FROM {db}.events
PREWHERE kind = 'arrived'
WHERE tenant_id = %(tenant_id)s AND entity = 'interaction'
  AND interaction_id != %(exclude)s
  AND (from_address = %(value)s OR position(raw, unhex(%(hint_hex)s)) > 0)
ORDER BY occurred_at_ms DESC
LIMIT %(cap)s
"""

# The screen-pop's checks: an `offered` event of the interaction naming the agent, and the
# interaction's `arrived` event (its customer).
_OFFERED_TO_SQL = """
SELECT count() FROM {db}.events
PREWHERE interaction_id = %(interaction_id)s
WHERE tenant_id = %(tenant_id)s AND entity = 'interaction' AND kind = 'offered'
  AND agent_id = %(agent_id)s
"""

_ARRIVAL_SQL = """
SELECT hex(raw) FROM {db}.events
PREWHERE interaction_id = %(interaction_id)s
WHERE tenant_id = %(tenant_id)s AND entity = 'interaction' AND kind = 'arrived'
ORDER BY occurred_at_ms
LIMIT 1
"""

_CONTACTS_SQL = """
SELECT interaction_id, {columns}
FROM {db}.interactions
WHERE tenant_id = %(tenant_id)s AND month >= %(first_month)s AND interaction_id IN %(ids)s
GROUP BY interaction_id
"""

# The interactions of a period, newest first: one row per interaction (its states merged over
# the months from the period's first on: later events of an interaction are in later months),
# then filtered on the arrival (the `arrived` event, else the queueing) and keyset-paged on
# (arrival, id). The identity filter keeps interactions whose `arrived` event carries the hint's
# exact protobuf bytes or comes from the value (as `_ARRIVALS_SQL`).
_LIST_SQL = """
SELECT * FROM (
    SELECT interaction_id, {columns},
           if(arrived_at_ms > 0, arrived_at_ms, queued_at_ms) AS at_ms
    FROM (
        SELECT interaction_id, {aggregates}
        FROM {db}.interactions
        WHERE tenant_id = %(tenant_id)s AND month >= %(first_month)s {identity}
        GROUP BY interaction_id
    )
)
WHERE at_ms >= %(start_ms)s AND at_ms < %(end_ms)s {filters}
ORDER BY at_ms DESC, interaction_id DESC
LIMIT %(limit)s
"""

_IDENTITY_IN = """AND interaction_id IN (
            SELECT interaction_id FROM {db}.events
            PREWHERE kind = 'arrived'
            WHERE tenant_id = %(tenant_id)s AND entity = 'interaction'
              AND (from_address = %(value)s OR position(raw, unhex(%(hint_hex)s)) > 0))"""

# One interaction's events: only the months its interaction rows span (partition pruning).
_EVENTS_SQL = """
SELECT event_id, occurred_at_ms, causation_id, hex(raw) FROM {db}.events
PREWHERE interaction_id = %(interaction_id)s
WHERE tenant_id = %(tenant_id)s AND entity = 'interaction'
  AND toStartOfMonth(occurred_at) >= %(first_month)s
  AND toStartOfMonth(occurred_at) <= %(last_month)s
ORDER BY occurred_at_ms, topic, kafka_offset, event_id
"""

_MONTHS_SQL = """
SELECT min(month), max(month) FROM {db}.interactions
WHERE tenant_id = %(tenant_id)s AND interaction_id = %(interaction_id)s
"""

_ALL_AGGREGATES = (*_FACT_AGGREGATES, *_CONTACT_AGGREGATES)
_CONTACT_COLUMNS = ", ".join(
    f"{expr} AS {name}" for name, expr in {**_FACT_AGGREGATES, **_CONTACT_AGGREGATES}.items()
)


def causal_order(events: list[tuple[str, int, str]]) -> list[str]:
    """Event ids (id, occurred ms, causation id; in time order) with an event never before
    its cause within the same millisecond (two services' clocks: ingress-sip's `arrived` and
    the router's `queued` it caused often share one)."""
    ordered = list(events)
    for _ in range(len(ordered) ** 2):  # bounded: a (corrupt) causation cycle cannot spin
        position = {e[0]: i for i, e in enumerate(ordered)}
        late = next(
            ((i, j) for i, (_, at_ms, cause) in enumerate(ordered)
             if (j := position.get(cause, -1)) > i and ordered[j][1] == at_ms),
            None,
        )
        if late is None:
            break
        ordered.insert(late[1], ordered.pop(late[0]))  # right after its cause
    return [e[0] for e in ordered]


def _record(row: Sequence[Any]) -> ContactRecord:
    """A row (interaction_id, then the merged aggregates in _ALL_AGGREGATES order)."""
    values = dict(zip(("interaction_id", *_ALL_AGGREGATES), row, strict=True))
    facts = InteractionFacts(
        interaction_id=values["interaction_id"],
        service_level_threshold_s=int(values["sl_threshold_s"]),
        **{k: values[k] for k in _FACT_AGGREGATES if k != "sl_threshold_s"},
    )
    return ContactRecord(
        facts=facts,
        channel=values["channel"],
        entry_point_id=values["entry_point_id"],
        arrived_at_ms=int(values["arrived_at_ms"]),
        disposition_code=values["disposition_code"],
        resolved=bool(values["resolved"]),
    )


# An interaction's end: one of TERMINAL_KINDS, except a self-service that routed the contact
# on to a queue (an IVR's `self_service_finished` ROUTE_TO_QUEUE: the contact goes on).
_IS_TERMINAL = (
    "(kind IN (" + ", ".join(f"'{k}'" for k in TERMINAL_KINDS) + ")"
    " AND NOT (kind = 'self_service_finished' AND outcome = 'ROUTE_TO_QUEUE'))"
)
_ARRIVED_IN_PERIOD = """minIf(occurred_at_ms, kind = 'arrived') >= %(start_ms)s
   AND minIf(occurred_at_ms, kind = 'arrived') < %(end_ms)s"""

_UNFINISHED_SQL = f"""
SELECT interaction_id FROM {{db}}.events FINAL
WHERE tenant_id = %(tenant_id)s AND entity = 'interaction'
GROUP BY interaction_id
HAVING {_ARRIVED_IN_PERIOD}
   AND countIf({_IS_TERMINAL}) = 0
ORDER BY interaction_id
"""

_ENDED_TWICE_SQL = f"""
SELECT interaction_id, countIf({_IS_TERMINAL}) AS ends
FROM {{db}}.events FINAL
WHERE tenant_id = %(tenant_id)s AND entity = 'interaction'
GROUP BY interaction_id
HAVING {_ARRIVED_IN_PERIOD}
   AND ends > 1
ORDER BY interaction_id
"""

_OFFER_KINDS = (OFFERED, *OFFER_RESOLUTION_KINDS, *TERMINAL_KINDS)
_OFFER_STEPS_SQL = f"""
SELECT interaction_id, occurred_at_ms, kind, offer_id, agent_id
FROM {{db}}.events FINAL
WHERE tenant_id = %(tenant_id)s AND entity = 'interaction'
  AND kind IN ({", ".join(f"'{k}'" for k in _OFFER_KINDS)})
  AND occurred_at_ms >= %(start_ms)s
ORDER BY interaction_id, occurred_at_ms
"""


def _month_of(ms: int) -> date:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return date(moment.year, moment.month, 1)


def hint_bytes(kind: str, value: str) -> bytes:
    """The protobuf bytes of the identity hint (kind = phone | email | chat_id | account)."""
    return IdentityHint(
        kind=IdentityKind.Value(f"IDENTITY_KIND_{kind.upper()}"), value=value
    ).SerializeToString()


def _carries(raw: bytes, kind: str, value: str) -> bool:
    event = InteractionEvent()
    event.ParseFromString(raw)
    wanted = IdentityKind.Value(f"IDENTITY_KIND_{kind.upper()}")
    arrived = event.arrived
    return arrived.from_address == value or any(
        h.kind == wanted and h.value == value for h in arrived.identity_hints
    )


class ClickHouseReads:
    """ReadStore (application/reads.py) over ClickHouse; thread-safe."""

    def __init__(self, pool: ClientPool, database: str) -> None:
        self._pool = pool
        self._db = check_identifier(database)

    def _execute(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        with self._pool.client() as client:
            return list(client.execute(sql.format(db=self._db), dict(params)))

    def queue_tallies(
        self,
        tenant_id: str,
        start_ms: int,
        end_ms: int,
        thresholds_s: Mapping[str, int],
        short_abandon_ms: int,
    ) -> dict[str, QueueTally]:
        with self._pool.client() as client:
            return ClickHouseReports(client, self._db).queue_tallies(
                tenant_id, start_ms, end_ms, thresholds_s, short_abandon_ms
            )

    def split_tallies(
        self,
        tenant_id: str,
        start_ms: int,
        end_ms: int,
        thresholds_s: Mapping[str, int],
        short_abandon_ms: int,
        split: Split,
    ) -> dict[tuple[str, str], QueueTally]:
        with self._pool.client() as client:
            return ClickHouseReports(client, self._db).split_tallies(
                tenant_id, start_ms, end_ms, thresholds_s, short_abandon_ms, split
            )

    def contacts_by_identity(
        self, tenant_id: str, kind: str, value: str, limit: int, exclude_interaction_id: str
    ) -> list[ContactRecord]:
        rows = self._execute(
            _ARRIVALS_SQL,
            {
                "tenant_id": tenant_id,
                "exclude": exclude_interaction_id,
                "value": value,
                "hint_hex": hint_bytes(kind, value).hex().upper(),
                "cap": limit * 4 + 16,
            },
        )
        order: list[str] = []
        oldest_ms = 0
        for interaction_id, at_ms, raw_hex in rows:
            if interaction_id in order or not _carries(bytes.fromhex(raw_hex), kind, value):
                continue
            order.append(interaction_id)
            oldest_ms = at_ms
            if len(order) == limit:
                break
        if not order:
            return []
        found = {}
        for row in self._execute(
            _CONTACTS_SQL.replace("{columns}", _CONTACT_COLUMNS),
            # An interaction's rows are in the months from its arrival on: skip older partitions.
            {"tenant_id": tenant_id, "ids": tuple(order), "first_month": _month_of(oldest_ms)},
        ):
            record = _record(row)
            found[record.facts.interaction_id] = record
        return [found[i] for i in order if i in found]

    def offered_to(self, tenant_id: str, interaction_id: str, agent_id: str) -> bool:
        params = {"tenant_id": tenant_id, "interaction_id": interaction_id, "agent_id": agent_id}
        rows = self._execute(_OFFERED_TO_SQL, params)
        return bool(rows and rows[0][0])

    def arrival_identity(self, tenant_id: str, interaction_id: str) -> ArrivalIdentity | None:
        rows = self._execute(
            _ARRIVAL_SQL, {"tenant_id": tenant_id, "interaction_id": interaction_id}
        )
        if not rows:
            return None
        event = InteractionEvent()
        event.ParseFromString(bytes.fromhex(rows[0][0]))
        arrived = event.arrived
        hints = tuple(
            (IdentityKind.Name(h.kind).removeprefix("IDENTITY_KIND_").lower(), h.value)
            for h in arrived.identity_hints
            if h.kind != IdentityKind.IDENTITY_KIND_UNSPECIFIED and h.value
        )
        channel = Channel.Name(arrived.channel).removeprefix("CHANNEL_")
        return ArrivalIdentity(hints, arrived.from_address, channel)

    def interactions(
        self, tenant_id: str, where: InteractionFilter, after: tuple[int, str] | None, limit: int
    ) -> list[ContactRecord]:
        params: dict[str, Any] = {
            "tenant_id": tenant_id, "first_month": _month_of(where.start_ms),
            "start_ms": where.start_ms, "end_ms": where.end_ms, "limit": limit,
        }
        filters = []
        if where.queue_id:
            filters.append("AND queue_id = %(queue_id)s")
            params["queue_id"] = where.queue_id
        if where.channel:
            filters.append("AND channel = %(channel)s")
            params["channel"] = where.channel
        if after is not None:
            filters.append(
                "AND (at_ms < %(after_ms)s"
                " OR (at_ms = %(after_ms)s AND interaction_id < %(after_id)s))"
            )
            params["after_ms"], params["after_id"] = after
        identity = ""
        if where.identity is not None:
            kind, value = where.identity
            identity = _IDENTITY_IN
            params["value"] = value
            params["hint_hex"] = hint_bytes(kind, value).hex().upper()
        sql = (
            _LIST_SQL.replace("{aggregates}", _CONTACT_COLUMNS)
            .replace("{columns}", ", ".join(_ALL_AGGREGATES))
            .replace("{identity}", identity)
            .replace("{filters}", " ".join(filters))
        )
        return [_record(row[:-1]) for row in self._execute(sql, params)]

    def interaction(self, tenant_id: str, interaction_id: str) -> ContactRecord | None:
        rows = self._execute(
            _CONTACTS_SQL.replace("{columns}", _CONTACT_COLUMNS),
            {"tenant_id": tenant_id, "ids": (interaction_id,), "first_month": date(1970, 1, 1)},
        )
        return _record(rows[0]) if rows else None

    def interaction_events(self, tenant_id: str, interaction_id: str) -> list[bytes]:
        ids = {"tenant_id": tenant_id, "interaction_id": interaction_id}
        months = self._execute(_MONTHS_SQL, ids)
        if not months or months[0][0] is None:
            return []
        first, last = months[0]
        rows = self._execute(_EVENTS_SQL, {**ids, "first_month": first, "last_month": last})
        unique: dict[str, tuple[int, str, str]] = {}
        for event_id, at_ms, causation_id, raw_hex in rows:
            unique.setdefault(event_id, (at_ms, causation_id, raw_hex))  # redeliveries: once
        return [bytes.fromhex(unique[e][2]) for e in causal_order(
            [(e, at_ms, cause) for e, (at_ms, cause, _) in unique.items()]
        )]

    def unfinished(self, tenant_id: str, start_ms: int, end_ms: int) -> list[str]:
        params = {"tenant_id": tenant_id, "start_ms": start_ms, "end_ms": end_ms}
        return [row[0] for row in self._execute(_UNFINISHED_SQL, params)]

    def ended_twice(self, tenant_id: str, start_ms: int, end_ms: int) -> list[EndedTwice]:
        params = {"tenant_id": tenant_id, "start_ms": start_ms, "end_ms": end_ms}
        return [EndedTwice(i, int(n)) for i, n in self._execute(_ENDED_TWICE_SQL, params)]

    def offer_steps(self, tenant_id: str, start_ms: int) -> list[OfferStep]:
        params = {"tenant_id": tenant_id, "start_ms": start_ms}
        return [OfferStep(*row) for row in self._execute(_OFFER_STEPS_SQL, params)]
