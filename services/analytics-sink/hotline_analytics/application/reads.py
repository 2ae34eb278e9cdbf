"""Use cases of the analytics read API (the `Reports` gRPC service): the KPI report, a
customer's recent contacts, the lifecycle check, the interactions of a period and one
interaction with its events. Over ports; ClickHouse is in adapters/."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from hotline_analytics.application.ports import TallySource
from hotline_analytics.application.report import build_report, contract_rules, to_ms
from hotline_analytics.domain.contacts import ContactRecord, ContactSummary, summarise
from hotline_analytics.domain.kpi import (
    DEFAULT_PRIORITY_EDGES,
    CountingRules,
    QueueTally,
    Split,
    SplitBy,
)
from hotline_analytics.domain.lifecycle import (
    EndedTwice,
    LifecycleCheck,
    OfferStep,
    concurrent_offers,
)
from hotline_platform.tenancy import TenancyConfig

DEFAULT_CONTACTS = 20
MAX_CONTACTS = 200
DEFAULT_PAGE = 50
MAX_PAGE = 200
IDENTITY_KINDS = ("phone", "email", "chat_id", "account")
CHANNELS = ("VOICE", "CHAT", "EMAIL", "FAX")


class UnknownTenant(LookupError):
    pass


class UnknownInteraction(LookupError):
    pass


class InvalidRequest(ValueError):
    """The request cannot be answered as asked; the message says which field and why."""


class StoreUnavailable(RuntimeError):
    """The store (ClickHouse) cannot be reached; retrying later may work."""


class NotOffered(LookupError):
    """A screen-pop's interaction was not offered to the agent, or its customer is not the one
    asked for (PERMISSION_DENIED for an agent, NOT_FOUND for holders of interaction.read)."""


@dataclass(frozen=True)
class ArrivalIdentity:
    """Who an interaction's customer is, as its `arrived` event says: the identity hints
    (kind, value) in order and the from address; the channel (VOICE, CHAT, ...)."""

    hints: tuple[tuple[str, str], ...]
    from_address: str
    channel: str = ""

    def first(self) -> tuple[str, str] | None:
        """The customer: the first hint, else the from address (its kind by the channel)."""
        if self.hints:
            return self.hints[0]
        if not self.from_address:
            return None
        kind = {"EMAIL": "email", "CHAT": "chat_id"}.get(self.channel.upper(), "phone")
        return kind, self.from_address

    def matches(self, kind: str, value: str) -> bool:
        """As contacts_by_identity finds contacts: a hint (kind, value), or the address."""
        return value == self.from_address or (kind, value) in self.hints


class ContactSource(Protocol):
    def contacts_by_identity(
        self, tenant_id: str, kind: str, value: str, limit: int, exclude_interaction_id: str
    ) -> list[ContactRecord]:
        """The newest `limit` contacts whose `arrived` event carries the identity hint
        (kind, value), or whose from address is `value`, newest first."""
        ...

    def offered_to(self, tenant_id: str, interaction_id: str, agent_id: str) -> bool:
        """Whether an `offered` event of the interaction names the agent."""
        ...

    def arrival_identity(self, tenant_id: str, interaction_id: str) -> ArrivalIdentity | None:
        """The interaction's customer as its `arrived` event says; None without one."""
        ...


@dataclass(frozen=True)
class InteractionFilter:
    """Which interactions a list shows: arrived in [start_ms, end_ms), and when set, of this
    queue, channel (VOICE, CHAT, ...) and customer identity (kind, value)."""

    start_ms: int
    end_ms: int
    queue_id: str = ""
    channel: str = ""
    identity: tuple[str, str] | None = None


class InteractionSource(Protocol):
    def interactions(
        self, tenant_id: str, where: InteractionFilter, after: tuple[int, str] | None, limit: int
    ) -> list[ContactRecord]:
        """Up to `limit` interactions matching `where`, newest first by (arrival ms, id),
        strictly after the position `after` in that order (None: from the newest). The arrival
        is the `arrived` event's time, else the queueing's."""
        ...

    def interaction(self, tenant_id: str, interaction_id: str) -> ContactRecord | None: ...

    def interaction_events(self, tenant_id: str, interaction_id: str) -> list[bytes]:
        """The interaction's events as recorded (protobuf bytes), in the order they occurred,
        each once."""
        ...


class LifecycleSource(Protocol):
    def unfinished(self, tenant_id: str, start_ms: int, end_ms: int) -> list[str]:
        """Interactions that arrived in [start_ms, end_ms) with no terminal event."""
        ...

    def ended_twice(self, tenant_id: str, start_ms: int, end_ms: int) -> list[EndedTwice]:
        """Interactions that arrived in [start_ms, end_ms) with more than one terminal event."""
        ...

    def offer_steps(self, tenant_id: str, start_ms: int) -> list[OfferStep]:
        """Offers, their resolutions and terminal events from `start_ms` on."""
        ...


class ReadStore(TallySource, ContactSource, LifecycleSource, InteractionSource, Protocol):
    """Everything the read API reads (adapters.interaction_reads.ClickHouseReads)."""


def check_period(start: datetime | None, end: datetime | None, field: str = "period") -> None:
    if start is None:
        raise InvalidRequest(f"{field}.from is required")
    if end is None:
        raise InvalidRequest(f"{field}.to is required")
    if to_ms(end) <= to_ms(start):
        raise InvalidRequest(
            f"{field} is empty: to ({_iso(end)}) must be after from ({_iso(start)})"
        )


def parse_split(split_by: str, priority_band_edges: Sequence[int] = ()) -> Split | None:
    """The report's split as asked: "" none, else a SplitBy value (edges: priority_band only)."""
    if not split_by:
        if priority_band_edges:
            raise InvalidRequest("priority_band_edges needs split_by priority_band")
        return None
    try:
        by = SplitBy(split_by)
    except ValueError:
        raise InvalidRequest(
            f"split_by must be one of {', '.join(SplitBy)} (not {split_by!r})"
        ) from None
    if priority_band_edges and by is not SplitBy.PRIORITY_BAND:
        raise InvalidRequest("priority_band_edges needs split_by priority_band")
    try:
        return Split(by, tuple(priority_band_edges) or DEFAULT_PRIORITY_EDGES)
    except ValueError as exc:
        raise InvalidRequest(f"priority_band_edges: {exc}") from None


def encode_page_token(position: tuple[int, str]) -> str:
    """Opaque to clients: base64url of "<arrival ms>:<interaction id>" of the last item."""
    raw = f"{position[0]}:{position[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        ms, sep, interaction_id = raw.partition(":")
        if not sep or not interaction_id:
            raise ValueError(token)
        return int(ms), interaction_id
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidRequest("page_token is not a token of this list") from None


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _OnlyQueues:
    """A TallySource restricted to some queues: the report's totals are theirs alone."""

    def __init__(self, source: TallySource, queue_ids: frozenset[str]) -> None:
        self._source = source
        self._queue_ids = queue_ids

    def queue_tallies(
        self,
        tenant_id: str,
        start_ms: int,
        end_ms: int,
        thresholds_s: Mapping[str, int],
        short_abandon_ms: int,
    ) -> dict[str, QueueTally]:
        tallies = self._source.queue_tallies(
            tenant_id, start_ms, end_ms, thresholds_s, short_abandon_ms
        )
        return {q: t for q, t in tallies.items() if q in self._queue_ids}

    def split_tallies(
        self,
        tenant_id: str,
        start_ms: int,
        end_ms: int,
        thresholds_s: Mapping[str, int],
        short_abandon_ms: int,
        split: Split,
    ) -> dict[tuple[str, str], QueueTally]:
        tallies = self._source.split_tallies(
            tenant_id, start_ms, end_ms, thresholds_s, short_abandon_ms, split
        )
        return {k: t for k, t in tallies.items() if k[0] in self._queue_ids}


class ReportsService:
    """The read API's use cases. Thread-safe if the store is (each call may run on a worker
    thread). Raises UnknownTenant, InvalidRequest or StoreUnavailable."""

    def __init__(self, store: ReadStore, tenancy: Callable[[], TenancyConfig]) -> None:
        self._store = store
        self._tenancy = tenancy  # called per request: the config may be replaced while serving

    def _rules(self, tenant_id: str) -> CountingRules:
        tenant = self._tenancy().tenants.get(tenant_id)
        if tenant is None:
            raise UnknownTenant(f"no tenant {tenant_id!r}")
        return contract_rules(tenant.kpi)

    def kpi_report(
        self,
        tenant_id: str,
        start: datetime | None,
        end: datetime | None,
        queue_ids: Iterable[str] = (),
        split_by: str = "",
        priority_band_edges: Sequence[int] = (),
    ) -> dict[str, Any]:
        """build_report's dict, of the listed queues only when some are listed, split by
        `split_by` when given (a SplitBy value)."""
        config = self._tenancy()
        self._rules(tenant_id)
        check_period(start, end)
        assert start is not None and end is not None  # checked above (for mypy)
        split = parse_split(split_by, priority_band_edges)
        wanted = frozenset(q for q in queue_ids)
        source: TallySource = self._store if not wanted else _OnlyQueues(self._store, wanted)
        report = build_report(source, config, tenant_id, start, end, split=split)
        if wanted:
            report["queues"] = [q for q in report["queues"] if q["queue_id"] in wanted]
        return report

    def offered_customer(
        self, tenant_id: str, agent_id: str, interaction_id: str, kind: str, value: str
    ) -> tuple[str, str]:
        """The screen-pop's check: the customer (kind, value) of `interaction_id` when it was
        offered to `agent_id` and (kind given) that customer is (kind, value); NotOffered
        otherwise. `kind` "": the interaction's customer (ArrivalIdentity.first)."""
        self._rules(tenant_id)
        if not agent_id:
            raise InvalidRequest("for_agent_id is required with for_interaction_id")
        refused = NotOffered(
            f"interaction {interaction_id!r} of tenant {tenant_id!r} was not offered to agent "
            f"{agent_id!r}"
        )
        if not self._store.offered_to(tenant_id, interaction_id, agent_id):
            raise refused
        arrival = self._store.arrival_identity(tenant_id, interaction_id)
        found = arrival.first() if arrival is not None else None
        if arrival is None or found is None:
            raise NotOffered(f"interaction {interaction_id!r} has no known customer")
        if not kind and not value.strip():
            return found
        if not arrival.matches(kind, value):
            raise NotOffered(
                f"the customer of interaction {interaction_id!r} is not {kind}:{value}"
            )
        return kind, value

    def customer_contacts(
        self,
        tenant_id: str,
        kind: str,
        value: str,
        limit: int = 0,
        exclude_interaction_id: str = "",
    ) -> list[ContactSummary]:
        rules = self._rules(tenant_id)
        if kind not in IDENTITY_KINDS:
            raise InvalidRequest(
                f"identity.kind is required: one of {', '.join(IDENTITY_KINDS)}"
                + (f" (not {kind!r})" if kind else "")
            )
        if not value.strip():
            raise InvalidRequest("identity.value is required")
        if limit < 0 or limit > MAX_CONTACTS:
            raise InvalidRequest(
                f"limit must be between 0 and {MAX_CONTACTS} (0: {DEFAULT_CONTACTS})"
            )
        records = self._store.contacts_by_identity(
            tenant_id, kind, value, limit or DEFAULT_CONTACTS, exclude_interaction_id
        )
        return [summarise(r, rules) for r in records]

    def list_interactions(
        self,
        tenant_id: str,
        start: datetime | None,
        end: datetime | None,
        *,
        queue_id: str = "",
        channel: str = "",
        identity: tuple[str, str] | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[ContactSummary], str]:
        """One page of the interactions that arrived in [start, end), newest first, and the
        token of the next page ("" on the last)."""
        rules = self._rules(tenant_id)
        check_period(start, end)
        assert start is not None and end is not None
        if page_size < 0 or page_size > MAX_PAGE:
            raise InvalidRequest(f"page_size must be between 0 and {MAX_PAGE} (0: {DEFAULT_PAGE})")
        if channel and channel.upper() not in CHANNELS:
            raise InvalidRequest(f"channel must be one of {', '.join(CHANNELS)} (not {channel!r})")
        if identity is not None:
            kind, value = identity
            if kind not in IDENTITY_KINDS:
                raise InvalidRequest(
                    f"identity.kind must be one of {', '.join(IDENTITY_KINDS)} (not {kind!r})"
                )
            if not value.strip():
                raise InvalidRequest("identity.value is required with identity.kind")
        after = decode_page_token(page_token) if page_token else None
        size = page_size or DEFAULT_PAGE
        where = InteractionFilter(
            to_ms(start), to_ms(end), queue_id, channel.upper(), identity
        )
        records = self._store.interactions(tenant_id, where, after, size + 1)
        page = [summarise(r, rules) for r in records[:size]]
        if len(records) <= size:
            return page, ""
        last = records[size - 1]
        return page, encode_page_token(
            (last.arrived_at_ms or last.facts.queued_at_ms, last.facts.interaction_id)
        )

    def get_interaction(
        self, tenant_id: str, interaction_id: str
    ) -> tuple[ContactSummary, list[bytes]]:
        """The interaction's summary and its recorded events, in order."""
        rules = self._rules(tenant_id)
        if not interaction_id:
            raise InvalidRequest("interaction_id is required")
        record = self._store.interaction(tenant_id, interaction_id)
        if record is None:
            raise UnknownInteraction(f"no interaction {interaction_id!r} of tenant {tenant_id!r}")
        return summarise(record, rules), self._store.interaction_events(tenant_id, interaction_id)

    def check_lifecycle(
        self, tenant_id: str, start: datetime | None, end: datetime | None
    ) -> LifecycleCheck:
        self._rules(tenant_id)
        check_period(start, end)
        assert start is not None and end is not None
        start_ms, end_ms = to_ms(start), to_ms(end)
        return LifecycleCheck(
            unfinished_interactions=tuple(self._store.unfinished(tenant_id, start_ms, end_ms)),
            ended_twice=tuple(self._store.ended_twice(tenant_id, start_ms, end_ms)),
            concurrent_offers=tuple(
                concurrent_offers(self._store.offer_steps(tenant_id, start_ms))
            ),
        )

