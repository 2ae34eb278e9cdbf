"""Erlang A (M/M/N+M): Poisson arrivals, exponential service, exponential patience.

Callers abandon after an exponentially distributed patience with mean `patience_s` (rate θ).
Unlike Erlang C the queue is stable for any N ≥ 1, and with real abandonment Erlang C
overstaffs (Garnett, Mandelbaum & Reiman, "Designing a call center with impatient customers",
Manufacturing & Service Operations Management 4(3), 2002; the performance measures below are
those summarised in Mandelbaum & Zeltyn, "The M/M/n+M queue: a summary of performance
measures", Technion, 2005).

Method (no factorials, no catastrophic cancellation):

* Stationary distribution of the birth-death chain (rates λ up; kμ for k ≤ N, Nμ + jθ for
  N + j). Relative to π_N: the mass below N is 1/B(N, A) − 1 (Erlang B recursion, see
  `erlang`), and the queue tail is w_j = Π_{i=1..j} λ / (Nμ + iθ), summed in log space until the
  remaining terms are below 1e-17 of the total. This sum is the series of Mandelbaum & Zeltyn's
  A(x, y) = x·e^y·y^−x·γ(x, y) with x = Nμ/θ, y = λ/θ.
* A tagged arrival that finds j callers waiting (PASTA) advances from i ahead to i − 1 at rate
  Nμ + iθ and abandons at rate θ; it is answered with probability
  Q_j = Π_{i=0..j} (Nμ + iθ) / (Nμ + (i + 1)θ), and given that, its wait is a sum of
  exponentials with rates θ(c + i), i = 0..j, c = (Nμ + θ)/θ, so exp(−θW) ~ Beta(c, j + 1) and
  P(W ≤ T | answered, j) = 1 − I_x(c, j + 1) with x = e^{−θT}: for integer j + 1 the regularised
  incomplete beta is the finite sum x^c Σ_{k ≤ j} (c)_k/k! (1 − x)^k, exchanged with the sum
  over j (suffix sums) so that the whole computation is O(J) for J queue terms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hotline_wfm.domain.erlang import (
    MAX_AGENTS,
    InvalidInput,
    Target,
    check_erlangs,
    check_finite,
    check_patience,
    check_seconds,
    erlang_b,
)

_NEGLIGIBLE = math.log(1e-17)
_MAX_TERMS = 5_000_000


@dataclass(frozen=True)
class ErlangA:
    """Erlang A figures for `agents` agents (fractions 0..1, times in seconds).

    `service_level`: answered within T ÷ answered (KPI.md's default `exclude` definition);
    `service_level_offered`: answered within T ÷ all arrivals; `asa_s`: mean wait of answered
    callers; `mean_wait_s`: of all callers (answered or not); `occupancy`: carried load ÷ N.
    """

    agents: int
    erlangs: float
    p_wait: float
    p_abandon: float
    service_level: float
    service_level_offered: float
    asa_s: float
    mean_wait_s: float
    occupancy: float


def _logaddexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    hi, lo = (a, b) if a > b else (b, a)
    return hi + math.log1p(math.exp(lo - hi))


def _queue_terms(rate: float, n_mu: float, theta: float) -> list[float]:
    """log w_j for j = 0, 1, ... (w_0 = 1) until the rest is negligible."""
    # Terms rise up to the peak j* = max(0, (λ − Nμ)/θ), where the service-plus-abandon rate
    # is M = max(λ, Nμ); k terms past it they have fallen by Σ log((M + iθ)/λ), at most
    # k·log(M/λ) + k(k+1)θ/2M (log(1 + u) ≤ u). The loop stops only after a fall of 39
    # (e^-39 ≈ 1e-17), so it needs at least j* + k terms, k the root of that bound = 39:
    # when that is past the cap, refuse at once rather than after seconds of work.
    peak, top = max(0.0, (rate - n_mu) / theta), max(rate, n_mu)
    a = theta / (2 * top)
    b = math.log(top / rate) + a
    fall = -_NEGLIGIBLE
    needed = peak + 2 * fall / (b + math.sqrt(b * b + 4 * a * fall))
    if needed > _MAX_TERMS:
        raise InvalidInput(
            f"Erlang A: {rate:.4g} contacts/s with a mean patience of {1 / theta:.0f} s need "
            f"over {_MAX_TERMS:,} queue-length terms: with patience this long nobody abandons "
            "(leave the patience out for Erlang C) or check units"
        )
    logs = [0.0]
    log_w = 0.0
    log_max = 0.0
    for i in range(1, _MAX_TERMS):
        ratio = rate / (n_mu + i * theta)
        if ratio == 0:  # underflow: this term and every later one are nothing
            return logs
        log_w += math.log(ratio)
        logs.append(log_w)
        log_max = max(log_max, log_w)
        # Past the peak the terms fall at least geometrically: the rest < w / (1 − ratio).
        if ratio < 1 and log_w - math.log1p(-ratio) < log_max + _NEGLIGIBLE:
            return logs
    raise InvalidInput("Erlang A: the queue-length series does not converge (check units)")


def erlang_a_figures(
    agents: int, rate_per_s: float, aht_s: float, patience_s: float, threshold_s: float
) -> ErlangA:
    """All Erlang A figures for `agents` ≥ 1 agents."""
    rate = check_finite("arrival rate", rate_per_s)
    aht_s = check_seconds("AHT (seconds)", aht_s)
    patience_s = check_patience(patience_s)
    threshold_s = check_seconds("service level threshold (seconds)", threshold_s, allow_zero=True)
    if not 1 <= agents <= MAX_AGENTS:
        raise InvalidInput(
            f"Erlang A needs at least 1 agent and at most {MAX_AGENTS}, got {agents}"
        )
    erlangs = check_erlangs(rate * aht_s)
    if rate == 0:
        return ErlangA(agents, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0)
    mu = 1.0 / aht_s
    theta = 1.0 / patience_s
    n_mu = agents * mu
    b = erlang_b(agents, erlangs)
    logs = _queue_terms(rate, n_mu, theta)
    log_tail = -math.inf  # log Σ_{j≥0} w_j  (mass at and above N, relative to π_N)
    for value in logs:
        log_tail = _logaddexp(log_tail, value)
    if b > 0:
        # total mass relative to π_N: (1/B − 1) + Σ_{j≥0} w_j
        log_below = math.log1p(-b) - math.log(b) if b < 1 else -math.inf
    else:  # B underflowed: π_N ≈ 0, nobody waits
        return ErlangA(agents, erlangs, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, erlangs / agents)
    log_total = _logaddexp(log_below, log_tail)
    p_wait = math.exp(log_tail - log_total)

    # Per j: p_j = P(arrival finds j waiting), Q_j = P(answered | j), E[W | answered, j].
    c = (n_mu + theta) / theta
    p_answered_waiting = 0.0  # Σ p_j Q_j
    wait_answered = 0.0  # Σ p_j Q_j E[W_j]
    pq: list[float] = []
    q = 1.0
    mean = 0.0
    for j, value in enumerate(logs):
        r = n_mu + (j + 1) * theta
        q *= (n_mu + j * theta) / r
        mean += 1.0 / r
        weight = math.exp(value - log_total) * q
        pq.append(weight)
        p_answered_waiting += weight
        wait_answered += weight * mean
    # Σ_j p_j Q_j P(W ≤ T | j) = Σ_j p_j Q_j − x^c Σ_k (c)_k/k! (1 − x)^k · Σ_{j ≥ k} p_j Q_j,
    # the coefficient kept in log space (x^c underflows and (c)_k/k! overflows for large N).
    within = 0.0
    if threshold_s > 0:
        # log(1 − x) without rounding x = e^{−θT} to 1 when θT is tiny
        log_1mx = math.log(-math.expm1(-theta * threshold_s))
        log_coeff = -c * theta * threshold_s  # log x^c (x may underflow)
        suffix = p_answered_waiting
        below = 0.0
        for k in range(len(pq)):
            term = math.exp(log_coeff) * suffix if log_coeff > -745 else 0.0
            below += term
            suffix -= pq[k]
            step = math.log((c + k) / (k + 1)) + log_1mx
            log_coeff += step
            if suffix <= 0 or (step < 0 and term < 1e-18 and log_coeff < 0):
                break
        within = max(0.0, p_answered_waiting - below)
    p_immediate = 1.0 - p_wait
    p_answered = min(1.0, p_immediate + p_answered_waiting)
    p_abandon = max(0.0, 1.0 - p_answered)
    answered_within = min(p_answered, p_immediate + within)
    return ErlangA(
        agents=agents,
        erlangs=erlangs,
        p_wait=p_wait,
        p_abandon=p_abandon,
        service_level=answered_within / p_answered if p_answered > 0 else 0.0,
        service_level_offered=answered_within,
        asa_s=wait_answered / p_answered if p_answered > 0 else 0.0,
        # Little's law: abandons happen at rate θ per waiting caller → E[W] = P(ab) / θ.
        mean_wait_s=p_abandon * patience_s,
        occupancy=min(1.0, erlangs * p_answered / agents),
    )


def meets_a(figures: ErlangA, target: Target) -> bool:
    if target.service_level is not None and figures.service_level < target.service_level:
        return False
    if target.asa_s is not None and figures.asa_s > target.asa_s:
        return False
    return not (target.max_occupancy is not None and figures.occupancy > target.max_occupancy)


def required_agents_a(
    rate_per_s: float, aht_s: float, patience_s: float, target: Target,
    max_abandon: float | None = None,
) -> ErlangA:
    """The smallest N ≥ 1 meeting `target` (and at most `max_abandon`) under Erlang A.

    Every figure is monotone in N (more agents: higher service level, lower ASA, occupancy and
    abandonment; tests/unit/wfm check it), so the search doubles N until the target holds and
    then bisects: O(log N) evaluations of O(queue terms) each.
    """
    rate = check_finite("arrival rate", rate_per_s)
    aht_s = check_seconds("AHT (seconds)", aht_s)
    patience_s = check_patience(patience_s)
    erlangs = check_erlangs(rate * aht_s)
    if rate == 0:
        return ErlangA(0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0)

    def evaluate(n: int) -> ErlangA | None:
        figures = erlang_a_figures(n, rate, aht_s, patience_s, target.threshold_s)
        ok = meets_a(figures, target) and (max_abandon is None or figures.p_abandon <= max_abandon)
        return figures if ok else None

    low, high = 0, max(1, math.ceil(erlangs))  # `low` fails (0 agents never qualify)
    found = evaluate(high)
    while found is None:
        if high >= MAX_AGENTS:
            raise InvalidInput(
                f"{erlangs:.1f} erlangs need more than {MAX_AGENTS} agents: check units"
            )
        low, high = high, min(MAX_AGENTS, high * 2)
        found = evaluate(high)
    while high - low > 1:
        middle = (low + high) // 2
        figures = evaluate(middle)
        if figures is None:
            low = middle
        else:
            high, found = middle, figures
    return found
