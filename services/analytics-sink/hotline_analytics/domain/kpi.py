"""Contact-centre KPI definitions over per-interaction facts (pure: no I/O, no protobuf).

The counting rules are those of shared/KPI.md; every variant is a value of `CountingRules`, and
`CountingRules()` is the documented default. The same rules are written once more in SQL
(adapters/queries.py) so that reports aggregate inside ClickHouse; an integration test
checks that both give the same tallies for the same events.

Times are integer milliseconds since the epoch; 0 means "never happened".
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum


class Outcome(StrEnum):
    """How one interaction ended (or not yet), from the point of view of queue KPIs."""

    # Contacts that entered a queue: exactly one of these.
    ANSWERED = "answered"
    SHORT_ABANDONED = "short_abandoned"
    ABANDONED = "abandoned"
    CALLBACK = "callback"
    FLOWED_OUT = "flowed_out"
    WAITING = "waiting"
    # Contacts that never entered a queue (not counted in queue KPIs; used by system tests).
    CONTAINED = "contained"
    LEFT_IN_SELF_SERVICE = "left_in_self_service"
    ABANDONED_BEFORE_QUEUE = "abandoned_before_queue"
    NOT_QUEUED = "not_queued"


QUEUED_OUTCOMES = (
    Outcome.ANSWERED,
    Outcome.SHORT_ABANDONED,
    Outcome.ABANDONED,
    Outcome.CALLBACK,
    Outcome.FLOWED_OUT,
    Outcome.WAITING,
)

# Values of the event fields the rules look at (protobuf enum names without their prefix).
STAGE_BEFORE_QUEUE = "BEFORE_QUEUE"
SELF_SERVICE_CONTAINED = "CONTAINED"
SELF_SERVICE_CUSTOMER_LEFT = "CUSTOMER_LEFT"


class ServiceLevelDefinition(StrEnum):
    EXCLUDE = "exclude"
    MISSED = "missed"
    MET_IF_WITHIN_T = "met_if_within_T"
    REMOVED_WITHIN_T = "removed_within_T"


class AbandonDenominator(StrEnum):
    OFFERED = "offered"
    QUEUED = "queued"
    HANDLED_PLUS_ABANDONED = "handled_plus_abandoned"


SERVICE_LEVEL_TEXT = {
    ServiceLevelDefinition.EXCLUDE: "answered within T / answered",
    ServiceLevelDefinition.MISSED: "answered within T / (answered + abandoned)",
    ServiceLevelDefinition.MET_IF_WITHIN_T: (
        "(answered within T + abandoned within T) / (answered + abandoned)"
    ),
    ServiceLevelDefinition.REMOVED_WITHIN_T: (
        "contacts answered, abandoned (short included), called back or flowed out within T"
        " / queued"
    ),
}

ABANDON_TEXT = {
    AbandonDenominator.OFFERED: "abandoned / offered",
    AbandonDenominator.QUEUED: "abandoned / queued",
    AbandonDenominator.HANDLED_PLUS_ABANDONED: "abandoned / (handled + abandoned)",
}


@dataclass(frozen=True)
class CountingRules:
    """Which variant of each definition a report uses. The defaults are KPI.md's defaults."""

    short_abandon_s: float = 5.0
    service_level: ServiceLevelDefinition = ServiceLevelDefinition.EXCLUDE
    abandon_denominator: AbandonDenominator = AbandonDenominator.OFFERED

    def __post_init__(self) -> None:
        if self.short_abandon_s < 0:
            raise ValueError("short_abandon_s must be >= 0")

    @property
    def short_abandon_ms(self) -> int:
        return round(self.short_abandon_s * 1000)

    def describe(self) -> dict[str, str | float]:
        """The definitions, as stated in every report."""
        return {
            "interval": "a contact belongs to the queue and period in which it entered the queue",
            "queued": "contacts that entered the queue in the period",
            "short_abandon_s": self.short_abandon_s,
            "short_abandoned": f"left while waiting after less than {self.short_abandon_s:g} s;"
            " counted nowhere else",
            "offered": "queued - short abandoned",
            "answered": "contacts accepted by an agent",
            "abandoned": "offered contacts that ended while waiting (not short, not callback,"
            " not flow-out)",
            "waiting": "contacts with no outcome recorded yet (still waiting)",
            "wait": "time from entering the queue to being answered (or leaving it)",
            "within_T": "wait <= T, T = the queue's service-level threshold (tenancy config)",
            "service_level": str(self.service_level),
            "service_level_formula": SERVICE_LEVEL_TEXT[self.service_level],
            "abandonment_rate": str(self.abandon_denominator),
            "abandonment_rate_formula": ABANDON_TEXT[self.abandon_denominator],
            "asa": "sum of waits of answered contacts / answered",
            "handled": "answered contacts that completed and whose wrap-up has ended",
            "aht": "sum of (talk + hold + wrap-up) of handled contacts / handled"
            " (talk_ms already includes hold in the contract, so hold is not added twice)",
            "ended_by_fault": "contacts whose ingress instance crashed or fell silent are ended"
            " by the router: waiting or ringing ones count as abandoned (reason ingress_lost;"
            " short if under the short-abandon time), connected ones as answered (completed by"
            " SYSTEM, handled once wrapped up)",
        }


@dataclass(frozen=True)
class InteractionFacts:
    """What the events say about one interaction (0 / "" = not happened / not known)."""

    interaction_id: str
    queue_id: str = ""
    queued_at_ms: int = 0
    service_level_threshold_s: int = 0  # recorded by the router at queueing time
    answered_at_ms: int = 0
    abandoned_at_ms: int = 0
    abandon_stage: str = ""
    callback_at_ms: int = 0
    flowed_out_at_ms: int = 0
    completed_at_ms: int = 0
    talk_ms: int = 0
    hold_ms: int = 0
    wrap_up_ended_at_ms: int = 0
    wrap_up_ms: int = 0
    self_service_outcome: str = ""
    offers: int = 0
    agent_id: str = ""
    priority: int = 0  # of the first queueing
    answer_site_id: str = ""  # the answering offer's site ("" none or not known)
    answer_step: int = -1  # the answering offer's bullseye step (-1 none or not known)
    last_step: int = 0  # the widest bullseye step reached (offers and expansions)

    @property
    def was_queued(self) -> bool:
        return self.queued_at_ms > 0

    @property
    def is_handled(self) -> bool:
        # Completed too: a transferring agent's wrap-up ends while the caller still talks to
        # the next agent (issue 9), and that contact is not handled yet.
        return self.answered_at_ms > 0 and self.completed_at_ms > 0 and self.wrap_up_ended_at_ms > 0


def _since_queued(facts: InteractionFacts, at_ms: int) -> int:
    # Events come from different services' clocks: never report a negative wait.
    return max(at_ms - facts.queued_at_ms, 0)


def classify(facts: InteractionFacts, rules: CountingRules = CountingRules()) -> Outcome:
    """The one outcome of an interaction. Answered wins over anything recorded later."""
    if not facts.was_queued:
        if facts.self_service_outcome == SELF_SERVICE_CONTAINED:
            return Outcome.CONTAINED
        if facts.self_service_outcome == SELF_SERVICE_CUSTOMER_LEFT:
            return Outcome.LEFT_IN_SELF_SERVICE
        if facts.abandoned_at_ms:
            return Outcome.ABANDONED_BEFORE_QUEUE
        return Outcome.NOT_QUEUED
    if facts.answered_at_ms:
        return Outcome.ANSWERED
    # A caller who asked for a callback then hangs up (as virtual hold expects) is not an
    # abandon: the request ended the wait (KPI.md).
    if facts.callback_at_ms:
        return Outcome.CALLBACK
    if facts.abandoned_at_ms and facts.abandon_stage != STAGE_BEFORE_QUEUE:
        if _since_queued(facts, facts.abandoned_at_ms) < rules.short_abandon_ms:
            return Outcome.SHORT_ABANDONED
        return Outcome.ABANDONED
    if facts.flowed_out_at_ms:
        return Outcome.FLOWED_OUT
    return Outcome.WAITING


def wait_ms(facts: InteractionFacts, outcome: Outcome) -> int:
    """Time in queue until the outcome (0 while still waiting or never queued)."""
    left_at = {
        Outcome.ANSWERED: facts.answered_at_ms,
        Outcome.SHORT_ABANDONED: facts.abandoned_at_ms,
        Outcome.ABANDONED: facts.abandoned_at_ms,
        Outcome.CALLBACK: facts.callback_at_ms,
        Outcome.FLOWED_OUT: facts.flowed_out_at_ms,
    }.get(outcome, 0)
    return _since_queued(facts, left_at) if left_at else 0


@dataclass
class QueueTally:
    """Counts and sums of one queue over one period; the KPIs are ratios of these."""

    queued: int = 0
    short_abandoned: int = 0
    short_abandoned_within_t: int = 0
    answered: int = 0
    answered_within_t: int = 0
    answer_wait_ms: int = 0
    abandoned: int = 0
    abandoned_within_t: int = 0
    abandon_wait_ms: int = 0
    callbacks: int = 0
    callbacks_within_t: int = 0
    flowed_out: int = 0
    flowed_out_within_t: int = 0
    waiting: int = 0
    handled: int = 0
    handled_talk_ms: int = 0
    handled_hold_ms: int = 0
    handled_wrap_up_ms: int = 0

    @property
    def offered(self) -> int:
        return self.queued - self.short_abandoned

    def add(self, facts: InteractionFacts, threshold_s: float, rules: CountingRules) -> Outcome:
        outcome = classify(facts, rules)
        if outcome not in QUEUED_OUTCOMES:
            return outcome
        waited = wait_ms(facts, outcome)
        within = waited <= threshold_s * 1000
        self.queued += 1
        if outcome is Outcome.ANSWERED:
            self.answered += 1
            self.answered_within_t += within
            self.answer_wait_ms += waited
            if facts.is_handled:
                self.handled += 1
                self.handled_talk_ms += facts.talk_ms
                self.handled_hold_ms += facts.hold_ms
                self.handled_wrap_up_ms += facts.wrap_up_ms
        elif outcome is Outcome.SHORT_ABANDONED:
            self.short_abandoned += 1
            self.short_abandoned_within_t += within
        elif outcome is Outcome.ABANDONED:
            self.abandoned += 1
            self.abandoned_within_t += within
            self.abandon_wait_ms += waited
        elif outcome is Outcome.CALLBACK:
            self.callbacks += 1
            self.callbacks_within_t += within
        elif outcome is Outcome.FLOWED_OUT:
            self.flowed_out += 1
            self.flowed_out_within_t += within
        else:
            self.waiting += 1
        return outcome

    def __add__(self, other: QueueTally) -> QueueTally:
        return QueueTally(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


TALLY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(QueueTally))


def tally(
    facts: Iterable[InteractionFacts],
    threshold_s: float,
    rules: CountingRules = CountingRules(),
) -> QueueTally:
    """Tally the queued contacts among `facts` (all of one queue and period)."""
    result = QueueTally()
    for f in facts:
        result.add(f, threshold_s, rules)
    return result


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def service_level(t: QueueTally, definition: ServiceLevelDefinition) -> float | None:
    """Share (0..1) of contacts served within T; None when the denominator is 0."""
    if definition is ServiceLevelDefinition.EXCLUDE:
        return _ratio(t.answered_within_t, t.answered)
    if definition is ServiceLevelDefinition.MISSED:
        return _ratio(t.answered_within_t, t.answered + t.abandoned)
    if definition is ServiceLevelDefinition.MET_IF_WITHIN_T:
        return _ratio(t.answered_within_t + t.abandoned_within_t, t.answered + t.abandoned)
    removed = (
        t.answered_within_t
        + t.abandoned_within_t
        + t.short_abandoned_within_t
        + t.callbacks_within_t
        + t.flowed_out_within_t
    )
    return _ratio(removed, t.queued)


def abandonment_rate(t: QueueTally, denominator: AbandonDenominator) -> float | None:
    base = {
        AbandonDenominator.OFFERED: t.offered,
        AbandonDenominator.QUEUED: t.queued,
        AbandonDenominator.HANDLED_PLUS_ABANDONED: t.handled + t.abandoned,
    }[denominator]
    return _ratio(t.abandoned, base)


def asa_s(t: QueueTally) -> float | None:
    """Average speed of answer in seconds."""
    return _ratio(t.answer_wait_ms / 1000, t.answered)


def aht_s(t: QueueTally) -> float | None:
    """Average handle time in seconds: talk (hold included) + wrap-up, over handled contacts."""
    return _ratio((t.handled_talk_ms + t.handled_wrap_up_ms) / 1000, t.handled)


@dataclass(frozen=True)
class QueueKpis:
    service_level: float | None
    abandonment_rate: float | None
    asa_s: float | None
    aht_s: float | None


def kpis(t: QueueTally, rules: CountingRules = CountingRules()) -> QueueKpis:
    return QueueKpis(
        service_level=service_level(t, rules.service_level),
        abandonment_rate=abandonment_rate(t, rules.abandon_denominator),
        asa_s=asa_s(t),
        aht_s=aht_s(t),
    )


class SplitBy(StrEnum):
    """A dimension the KPI report can split each queue's contacts by."""

    SITE = "site"
    BULLSEYE_STEP = "bullseye_step"
    PRIORITY_BAND = "priority_band"


# Lower edges of the priority bands after the first: 0 and below | 1-4 | 5-9 | 10 and above.
DEFAULT_PRIORITY_EDGES: tuple[int, ...] = (1, 5, 10)

SPLIT_TEXT = {
    SplitBy.SITE: "the site of the agent who answered (the answering offer's site);"
    " empty for contacts not answered (or whose answering offer is not known)",
    SplitBy.BULLSEYE_STEP: "the bullseye step the contact was answered at (the answering"
    " offer's step; 0 = the queue's own target); not answered: the last step it reached",
    SplitBy.PRIORITY_BAND: "the band of the priority the contact was first queued with",
}


@dataclass(frozen=True)
class Split:
    """How a report splits each queue's contacts; `key` is the rule (adapters/queries.py has
    its SQL twin)."""

    by: SplitBy
    priority_edges: tuple[int, ...] = DEFAULT_PRIORITY_EDGES

    def __post_init__(self) -> None:
        edges = self.priority_edges
        if not edges or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError("priority band edges must be one or more increasing integers")

    def band_labels(self) -> tuple[str, ...]:
        """One label per band: "<=0", "1-4", "5-9", "10+" for the default edges."""
        e = self.priority_edges
        middle = [
            f"{lo}" if hi == lo + 1 else f"{lo}-{hi - 1}"
            for lo, hi in zip(e, e[1:], strict=False)
        ]
        return (f"<={e[0] - 1}", *middle, f"{e[-1]}+")

    def priority_band(self, priority: int) -> str:
        return self.band_labels()[bisect_right(self.priority_edges, priority)]

    def key(self, facts: InteractionFacts) -> str:
        """The split a queued contact falls in."""
        if self.by is SplitBy.SITE:
            return facts.answer_site_id if facts.answered_at_ms else ""
        if self.by is SplitBy.BULLSEYE_STEP:
            step = facts.answer_step if facts.answered_at_ms else -1
            return str(step if step >= 0 else facts.last_step)
        return self.priority_band(facts.priority)

    def order(self, key: str) -> tuple[int, str]:
        """Sort key of split keys: steps by number, bands low to high, sites by name."""
        if self.by is SplitBy.BULLSEYE_STEP:
            return int(key), ""
        if self.by is SplitBy.PRIORITY_BAND:
            labels = self.band_labels()
            return (labels.index(key), "") if key in labels else (len(labels), key)
        return 0, key

    def describe(self) -> str:
        text = SPLIT_TEXT[self.by]
        if self.by is SplitBy.PRIORITY_BAND:
            text += f" (bands {', '.join(self.band_labels())})"
        return text


DEFAULT_THRESHOLD_S = 20


def threshold_s(facts: InteractionFacts, configured_s: Mapping[str, float]) -> float:
    """T of the contact: its queue's in the tenancy config, else the one the router recorded
    at queueing, else 20 s."""
    if facts.queue_id in configured_s:
        return configured_s[facts.queue_id]
    return facts.service_level_threshold_s or DEFAULT_THRESHOLD_S


def split_tallies(
    facts: Iterable[InteractionFacts],
    thresholds_s: Mapping[str, float],
    split: Split,
    rules: CountingRules = CountingRules(),
) -> dict[tuple[str, str], QueueTally]:
    """Tallies per (queue, split key) of the queued contacts among `facts`."""
    out: dict[tuple[str, str], QueueTally] = {}
    for f in facts:
        if classify(f, rules) not in QUEUED_OUTCOMES:
            continue
        key = (f.queue_id, split.key(f))
        out.setdefault(key, QueueTally()).add(f, threshold_s(f, thresholds_s), rules)
    return out
