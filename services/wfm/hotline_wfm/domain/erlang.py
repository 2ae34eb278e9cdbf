"""Erlang C (M/M/N) staffing: probability of waiting, service level, ASA, occupancy, agents.

Formulas are those of ../shared/KPI.md (Staffing). With traffic A = λ·h erlangs and N agents:

    P(wait) = C(N, A) = N·B(N, A) / (N − A·(1 − B(N, A)))
    SL(T)   = 1 − P(wait) · exp(−(N − A)·T / h)
    ASA     = P(wait) · h / (N − A)
    occupancy = A / N

B(N, A) is Erlang B, computed with the recursion B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)),
which only ever divides numbers in (0, 1] by numbers ≥ 1: no factorials, no overflow and no
cancellation for thousands of agents and hundreds of erlangs (Jagerman, "Some properties of the
Erlang loss function", Bell System Technical Journal 53(3), 1974; the C-from-B identity is in
Cooper, "Introduction to Queueing Theory", 2nd ed., 1981, §2.5). With N ≤ A the queue grows
without bound: `erlang_c` raises `Unstable` instead of returning a number.

Everything here is pure and works in seconds; callers convert from per-interval volumes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Hard cap on agents searched for one interval: far beyond any real queue, small enough that a
# wrong unit (milliseconds for seconds) fails quickly with a clear message.
MAX_AGENTS = 100_000

# Durations (AHT, interval, patience, thresholds) the formulas are computed for. Outside this
# range the ratios they divide underflow or overflow a double (an AHT of 5e-324 s makes the
# service rate infinite), so they are refused with a precise message instead of returning
# nonsense or failing inside `math`. 1 ms to a year covers every real contact centre figure.
MIN_SECONDS = 0.001
MAX_SECONDS = 366 * 86_400.0
# Mean patience may be far longer: a patience of centuries is how Erlang A meets Erlang C.
MAX_PATIENCE_S = 1e10
# Offered load that cannot be staffed under MAX_AGENTS whatever the target.
MAX_ERLANGS = float(MAX_AGENTS)


class InvalidInput(ValueError):
    """An input a staffing calculation cannot use (negative volume, zero AHT, target > 100%)."""


class Unstable(ArithmeticError):
    """N ≤ A: with this many agents the queue grows without bound (no steady state)."""

    def __init__(self, agents: int, erlangs: float) -> None:
        super().__init__(
            f"unstable: {agents} agents for {erlangs:.3f} erlangs of traffic (need more than "
            f"{erlangs:.3f} agents for the queue to have a steady state)"
        )
        self.agents = agents
        self.erlangs = erlangs


def check_finite(name: str, value: float, *, positive: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be a number, got {value!r}") from exc
    if not math.isfinite(number):
        raise InvalidInput(f"{name} must be finite, got {value!r}")
    if positive and number <= 0:
        raise InvalidInput(f"{name} must be greater than 0, got {value!r}")
    if number < 0:
        raise InvalidInput(f"{name} must not be negative, got {value!r}")
    return number


def check_seconds(
    name: str, value: float, *, allow_zero: bool = False, maximum: float = MAX_SECONDS
) -> float:
    """A duration in seconds within [MIN_SECONDS, maximum] (or exactly 0 if allowed)."""
    number = check_finite(name, value, positive=not allow_zero)
    if allow_zero and number == 0:
        return 0.0
    if not MIN_SECONDS <= number <= maximum:
        raise InvalidInput(
            f"{name} must be between {MIN_SECONDS:g} s and {maximum:.0f} s, got {value!r}"
        )
    return number


def check_patience(value: float) -> float:
    return check_seconds("mean patience (seconds)", value, maximum=MAX_PATIENCE_S)


def check_erlangs(erlangs: float) -> float:
    """Offered load: finite, not negative, and staffable under MAX_AGENTS."""
    erlangs = check_finite("traffic (erlangs)", erlangs)
    if erlangs >= MAX_ERLANGS:
        raise InvalidInput(
            f"{erlangs:.1f} erlangs need more than {MAX_AGENTS} agents: check units "
            "(volume per interval, AHT and interval in seconds)"
        )
    return erlangs


def check_fraction(name: str, value: float, *, allow_one: bool = True) -> float:
    number = check_finite(name, value)
    if number > 1 or (not allow_one and number >= 1):
        limit = "100%" if allow_one else "under 100%"
        raise InvalidInput(f"{name} must be a fraction 0..1 ({limit}), got {value!r}")
    return number


def erlang_b(agents: int, erlangs: float) -> float:
    """Blocking probability of M/M/N/N (Erlang B) by the stable recursion."""
    if agents < 0:
        raise InvalidInput(f"agents must not be negative, got {agents}")
    erlangs = check_finite("traffic (erlangs)", erlangs)
    b = 1.0
    for k in range(1, agents + 1):
        ab = erlangs * b
        b = ab / (k + ab)
    return b


def erlang_c_from_b(agents: int, erlangs: float, b: float) -> float:
    if agents <= erlangs:
        raise Unstable(agents, erlangs)
    return agents * b / (agents - erlangs * (1.0 - b))


def erlang_c(agents: int, erlangs: float) -> float:
    """P(wait) of M/M/N (Erlang C). Raises Unstable when agents ≤ erlangs."""
    erlangs = check_finite("traffic (erlangs)", erlangs)
    if agents <= erlangs:
        raise Unstable(agents, erlangs)
    return erlang_c_from_b(agents, erlangs, erlang_b(agents, erlangs))


@dataclass(frozen=True)
class Target:
    """What an interval must meet; every part that is set must hold.

    `service_level` of contacts answered within `threshold_s` (80/20 = 0.8 within 20 s),
    `asa_s` the most average speed of answer allowed, `max_occupancy` the most busy fraction.
    """

    service_level: float | None = 0.8
    threshold_s: float = 20.0
    asa_s: float | None = None
    max_occupancy: float | None = None

    def __post_init__(self) -> None:
        if self.service_level is not None:
            check_fraction("service level target", self.service_level)
        check_seconds("service level threshold (seconds)", self.threshold_s, allow_zero=True)
        if self.asa_s is not None:
            check_seconds("ASA target (seconds)", self.asa_s, allow_zero=True)
        if self.max_occupancy is not None:
            check_fraction("max occupancy", self.max_occupancy)
            if self.max_occupancy == 0:
                raise InvalidInput("max occupancy must be greater than 0")

    @classmethod
    def parse(cls, text: str) -> Target:
        """"80/20" (percent / seconds), "0.8/20" or "90%/15"."""
        left, sep, right = text.strip().partition("/")
        if not sep:
            raise InvalidInput(f"target {text!r}: expected SL/T, e.g. 80/20")
        try:
            level = float(left.strip().rstrip("%"))
            threshold = float(right.strip().rstrip("s"))
        except ValueError as exc:
            raise InvalidInput(f"target {text!r}: expected numbers, e.g. 80/20") from exc
        if level > 1 or left.strip().endswith("%"):
            level = level / 100
        if level > 1 or level < 0:
            raise InvalidInput(f"target {text!r}: service level above 100% or negative")
        return cls(
            service_level=level, threshold_s=check_seconds("threshold", threshold, allow_zero=True)
        )


@dataclass(frozen=True)
class ErlangC:
    """Erlang C figures for `agents` agents (fractions 0..1, times in seconds)."""

    agents: int
    erlangs: float
    p_wait: float
    service_level: float
    asa_s: float
    occupancy: float


def traffic(contacts: float, interval_s: float, aht_s: float) -> tuple[float, float]:
    """(arrival rate per second, erlangs) from a volume per interval; validates inputs."""
    contacts = check_finite("volume (contacts per interval)", contacts)
    interval_s = check_seconds("interval length (seconds)", interval_s)
    aht_s = check_seconds("AHT (seconds)", aht_s)
    rate = contacts / interval_s
    return rate, check_erlangs(rate * aht_s)


def _figures(agents: int, erlangs: float, aht_s: float, threshold_s: float, b: float) -> ErlangC:
    c = erlang_c_from_b(agents, erlangs, b)
    excess = agents - erlangs
    return ErlangC(
        agents=agents,
        erlangs=erlangs,
        p_wait=c,
        service_level=max(0.0, 1.0 - c * math.exp(-excess * threshold_s / aht_s)),
        asa_s=c * aht_s / excess,
        occupancy=erlangs / agents,
    )


def erlang_c_figures(agents: int, erlangs: float, aht_s: float, threshold_s: float) -> ErlangC:
    """All Erlang C figures; raises Unstable when agents ≤ erlangs."""
    erlangs = check_erlangs(erlangs)
    aht_s = check_seconds("AHT (seconds)", aht_s)
    threshold_s = check_seconds("service level threshold (seconds)", threshold_s, allow_zero=True)
    if agents <= erlangs:
        raise Unstable(agents, erlangs)
    return _figures(agents, erlangs, aht_s, threshold_s, erlang_b(agents, erlangs))


def meets(figures: ErlangC, target: Target) -> bool:
    if target.service_level is not None and figures.service_level < target.service_level:
        return False
    if target.asa_s is not None and figures.asa_s > target.asa_s:
        return False
    return not (target.max_occupancy is not None and figures.occupancy > target.max_occupancy)


def required_agents(erlangs: float, aht_s: float, target: Target) -> ErlangC:
    """The smallest N > A meeting `target` under Erlang C, with its figures.

    One pass of the Erlang B recursion: B(k) is carried from k to k+1 while testing each k
    above A, so the search costs O(N) in total. No traffic needs no agents (all zeros).
    """
    erlangs = check_erlangs(erlangs)
    aht_s = check_seconds("AHT (seconds)", aht_s)
    if erlangs == 0:
        return ErlangC(0, 0.0, 0.0, 1.0, 0.0, 0.0)
    b = 1.0
    first = math.floor(erlangs) + 1
    if target.max_occupancy is not None:
        first = max(first, math.ceil(erlangs / target.max_occupancy - 1e-12))
    for k in range(1, MAX_AGENTS + 1):
        ab = erlangs * b
        b = ab / (k + ab)
        if k >= first and k > erlangs:
            figures = _figures(k, erlangs, aht_s, target.threshold_s, b)
            if meets(figures, target):
                return figures
    raise InvalidInput(f"{erlangs:.1f} erlangs need more than {MAX_AGENTS} agents: check units")


def with_shrinkage(agents: int, shrinkage: float) -> int:
    """Agents to schedule so that `agents` are available: ceil(N / (1 − shrinkage))."""
    shrinkage = check_fraction("shrinkage", shrinkage, allow_one=False)
    if agents == 0:
        return 0
    return math.ceil(agents / (1.0 - shrinkage) - 1e-9)
