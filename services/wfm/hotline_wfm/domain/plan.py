"""Interval staffing and the interval plan (per queue × interval), with totals.

One interval: the volume, AHT and target give the agents needed *on the phones* (Erlang C, or
Erlang A when a mean patience is given, or the chat/email approximations of `channels`), and
the agents to *schedule*: ceil(N / (1 − shrinkage)) (KPI.md, Staffing). The plan repeats
this for every queue and interval and adds totals: contacts, agent-hours before and after
shrinkage, peak agents, and contact-weighted service level, ASA and abandon rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from hotline_wfm.domain import channels
from hotline_wfm.domain.erlang import (
    InvalidInput,
    Target,
    check_fraction,
    check_patience,
    check_seconds,
    required_agents,
    traffic,
    with_shrinkage,
)
from hotline_wfm.domain.erlang_a import required_agents_a

INTERVAL_S = 900  # 15 minutes


class Channel(StrEnum):
    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"


@dataclass(frozen=True)
class StaffingParams:
    """How to staff: the target and everything besides volume and AHT."""

    target: Target = field(default_factory=Target)
    shrinkage: float = 0.3
    patience_s: float | None = None  # set: Erlang A; None: Erlang C (nobody abandons)
    channel: Channel = Channel.VOICE
    concurrency: int = 1  # chat: chats per agent
    response_s: float = 4 * 3600.0  # email: response-time target
    email_occupancy: float = 0.85  # email: planned occupancy

    def __post_init__(self) -> None:
        check_fraction("shrinkage", self.shrinkage, allow_one=False)
        if self.patience_s is not None:
            check_patience(self.patience_s)
        if self.concurrency < 1:
            raise InvalidInput(f"chat concurrency must be at least 1, got {self.concurrency}")
        check_seconds("email response target (seconds)", self.response_s)
        check_fraction("email occupancy", self.email_occupancy)
        if not isinstance(self.channel, Channel):
            raise InvalidInput(f"unknown channel {self.channel!r}")

    @property
    def model(self) -> str:
        if self.channel is Channel.EMAIL:
            return "email-fluid"
        return "erlang-a" if self.patience_s is not None else "erlang-c"


@dataclass(frozen=True)
class IntervalStaffing:
    """Required agents and expected figures for one interval (fractions 0..1, seconds)."""

    contacts: float
    interval_s: float
    aht_s: float
    erlangs: float
    agents: int  # needed on contacts (before shrinkage)
    scheduled: int  # to schedule (after shrinkage)
    service_level: float
    asa_s: float
    occupancy: float
    p_wait: float
    abandon_rate: float
    model: str


def staff_interval(
    contacts: float, interval_s: float, aht_s: float, params: StaffingParams
) -> IntervalStaffing:
    """Voice and chat only (email needs the neighbouring intervals: see `build_plan`)."""
    rate, erlangs = traffic(contacts, interval_s, aht_s)
    k = params.concurrency if params.channel is Channel.CHAT else 1
    if params.channel is Channel.EMAIL:
        workload = channels.email_workload([contacts], interval_s, aht_s, params.response_s)[0]
        return _email_row(contacts, interval_s, aht_s, workload, params)
    if params.patience_s is None:
        c = required_agents(erlangs, aht_s, params.target)
        slots, sl, asa, occ, p_wait, abandon = (
            c.agents, c.service_level, c.asa_s, c.occupancy, c.p_wait, 0.0,
        )
    else:
        a = required_agents_a(rate, aht_s, params.patience_s, params.target)
        slots, sl, asa, occ, p_wait, abandon = (
            a.agents, a.service_level, a.asa_s, a.occupancy, a.p_wait, a.p_abandon,
        )
    agents = channels.chat_agents(slots, k)
    return IntervalStaffing(
        contacts=contacts,
        interval_s=interval_s,
        aht_s=aht_s,
        erlangs=erlangs,
        agents=agents,
        scheduled=with_shrinkage(agents, params.shrinkage),
        service_level=sl,
        asa_s=asa,
        # occupancy of agents, not of slots: busy slots ÷ (agents × k)
        occupancy=occ * slots / (agents * k) if agents else 0.0,
        p_wait=p_wait,
        abandon_rate=abandon,
        model=params.model,
    )


def _email_row(
    contacts: float, interval_s: float, aht_s: float, workload: float, params: StaffingParams
) -> IntervalStaffing:
    agents = channels.email_agents(workload, params.email_occupancy)
    return IntervalStaffing(
        contacts=contacts,
        interval_s=interval_s,
        aht_s=aht_s,
        erlangs=workload,
        agents=agents,
        scheduled=with_shrinkage(agents, params.shrinkage),
        service_level=1.0,  # answered within the response target, by construction
        asa_s=0.0,
        occupancy=workload / agents if agents else 0.0,
        p_wait=0.0,
        abandon_rate=0.0,
        model=params.model,
    )


@dataclass(frozen=True)
class IntervalDemand:
    """Forecast (or given) work for one queue and interval."""

    queue_id: str
    start_ms: int
    contacts: float
    aht_s: float


@dataclass(frozen=True)
class PlanRow:
    queue_id: str
    start_ms: int
    staffing: IntervalStaffing


@dataclass(frozen=True)
class Totals:
    contacts: float
    workload_hours: float  # erlang-hours of work
    agent_hours: float  # before shrinkage
    scheduled_hours: float  # after shrinkage
    peak_agents: int
    peak_scheduled: int
    service_level: float  # contact-weighted
    asa_s: float  # contact-weighted
    abandon_rate: float  # contact-weighted
    occupancy: float  # workload hours ÷ agent hours


@dataclass(frozen=True)
class Plan:
    interval_s: float
    params: StaffingParams
    rows: tuple[PlanRow, ...]
    by_queue: dict[str, Totals]
    total: Totals


def totals(rows: Iterable[PlanRow], interval_s: float) -> Totals:
    hours = interval_s / 3600
    contacts = workload = agent_h = sched_h = sl = asa = ab = 0.0
    peak = peak_s = 0
    for row in rows:
        s = row.staffing
        contacts += s.contacts
        workload += s.erlangs * hours
        agent_h += s.agents * hours
        sched_h += s.scheduled * hours
        sl += s.service_level * s.contacts
        asa += s.asa_s * s.contacts
        ab += s.abandon_rate * s.contacts
        peak = max(peak, s.agents)
        peak_s = max(peak_s, s.scheduled)
    return Totals(
        contacts=contacts,
        workload_hours=workload,
        agent_hours=agent_h,
        scheduled_hours=sched_h,
        peak_agents=peak,
        peak_scheduled=peak_s,
        service_level=sl / contacts if contacts else 1.0,
        asa_s=asa / contacts if contacts else 0.0,
        abandon_rate=ab / contacts if contacts else 0.0,
        occupancy=workload / agent_h if agent_h else 0.0,
    )


def build_plan(
    demand: Iterable[IntervalDemand],
    params: StaffingParams,
    interval_s: float = INTERVAL_S,
    targets: dict[str, Target] | None = None,
) -> Plan:
    """The plan for every (queue, interval) in `demand`; `targets` overrides per queue.

    Identical inputs (same volume, AHT and target) are computed once: real plans repeat them
    (quiet nights, integer volumes), and each computation is independent.
    """
    interval_s = check_seconds("interval length (seconds)", interval_s)
    items = sorted(demand, key=lambda d: (d.queue_id, d.start_ms))
    rows: list[PlanRow] = []
    cache: dict[tuple[float, float, Target], IntervalStaffing] = {}
    params_for: dict[str, StaffingParams] = {}
    if params.channel is Channel.EMAIL:
        rows = _email_plan(items, params, interval_s)
    else:
        for d in items:
            queue_params = params_for.get(d.queue_id)
            if queue_params is None:
                target = (targets or {}).get(d.queue_id, params.target)
                queue_params = StaffingParams(**{**params.__dict__, "target": target})
                params_for[d.queue_id] = queue_params
            key = (d.contacts, d.aht_s, queue_params.target)
            staffing = cache.get(key)
            if staffing is None:
                try:
                    staffing = staff_interval(d.contacts, interval_s, d.aht_s, queue_params)
                except InvalidInput as exc:
                    raise InvalidInput(f"queue {d.queue_id} at {d.start_ms}: {exc}") from exc
                cache[key] = staffing
            rows.append(PlanRow(d.queue_id, d.start_ms, staffing))
    queues: dict[str, list[PlanRow]] = {}
    for row in rows:
        queues.setdefault(row.queue_id, []).append(row)
    return Plan(
        interval_s=interval_s,
        params=params,
        rows=tuple(rows),
        by_queue={q: totals(r, interval_s) for q, r in queues.items()},
        total=totals(rows, interval_s),
    )


def _email_plan(
    items: list[IntervalDemand], params: StaffingParams, interval_s: float
) -> list[PlanRow]:
    rows: list[PlanRow] = []
    start = 0
    while start < len(items):
        end = start
        while end < len(items) and items[end].queue_id == items[start].queue_id:
            end += 1
        run = items[start:end]
        # Work (contacts × AHT, in seconds) is spread from each interval forward.
        loads = channels.email_workload(
            [d.contacts * d.aht_s for d in run], interval_s, 1.0, params.response_s
        )
        for d, load in zip(run, loads, strict=True):
            staffing = _email_row(d.contacts, interval_s, d.aht_s, load, params)
            rows.append(PlanRow(d.queue_id, d.start_ms, staffing))
        start = end
    return rows
