"""Erlang C against independent computations and published values; monotonicity; limits."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from hotline_wfm.domain.erlang import (
    InvalidInput,
    Target,
    Unstable,
    erlang_b,
    erlang_c,
    erlang_c_figures,
    required_agents,
    traffic,
    with_shrinkage,
)


def exact_erlang_c(n: int, a: Fraction) -> Fraction:
    """Independent reference: the KPI.md formula term by term, in exact rational arithmetic
    with factorials (no recursion shared with the code under test)."""
    top = a**n / math.factorial(n) * Fraction(n) / (n - a)
    below = sum((a**k / math.factorial(k) for k in range(n)), Fraction(0))
    return top / (below + top)


def log_space_erlang_c(n: int, a: float) -> float:
    """Second independent reference for large N: the same formula with lgamma and
    log-sum-exp (no Erlang B recursion)."""
    logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(n)]
    top = n * math.log(a) - math.lgamma(n + 1) + math.log(n / (n - a))
    peak = max(max(logs), top)
    below = sum(math.exp(x - peak) for x in logs)
    return math.exp(top - peak) / (below + math.exp(top - peak))


def test_classic_example_100_calls_per_30_minutes() -> None:
    # The worked example of callcentrehelper.com, "Erlang C formula - made simple" (and of most
    # Erlang C calculators): 100 calls in 30 minutes, AHT 180 s -> A = 10 erlangs; 80/20 needs
    # 14 agents with P(wait) 17.4 %, service level 88.8 %, ASA 7.8 s, occupancy 71.4 %; 13
    # agents give only 79.6 %. The exact values below are from `exact_erlang_c`.
    rate, erlangs = traffic(100, 1800, 180)
    assert erlangs == pytest.approx(10.0)
    best = required_agents(erlangs, 180, Target(0.8, 20))
    assert best.agents == 14
    p14 = float(exact_erlang_c(14, Fraction(10)))
    assert best.p_wait == pytest.approx(p14, rel=1e-12)
    assert best.p_wait == pytest.approx(0.1741, abs=5e-5)
    assert best.service_level == pytest.approx(1 - p14 * math.exp(-4 * 20 / 180), rel=1e-12)
    assert best.service_level == pytest.approx(0.8884, abs=1e-4)
    assert best.asa_s == pytest.approx(p14 * 180 / 4, rel=1e-12)
    assert best.asa_s == pytest.approx(7.84, abs=0.01)
    assert best.occupancy == pytest.approx(10 / 14)
    thirteen = erlang_c_figures(13, 10.0, 180, 20)
    assert thirteen.service_level == pytest.approx(0.7956, abs=5e-5)
    assert thirteen.service_level < 0.8


@pytest.mark.parametrize(
    ("n", "a"),
    [(1, Fraction(1, 2)), (2, Fraction(1)), (5, Fraction(3)), (12, Fraction(10)),
     (30, Fraction(245, 10)), (60, Fraction(50))],
)
def test_erlang_c_matches_exact_rational_formula(n: int, a: Fraction) -> None:
    assert erlang_c(n, float(a)) == pytest.approx(float(exact_erlang_c(n, a)), rel=1e-12)


def test_erlang_b_table_value() -> None:
    # Erlang B tables (e.g. ITU-T E.xxx traffic tables, or any Erlang B calculator):
    # 10 circuits, 5 erlangs -> 1.84 % blocking; exact: (5^10/10!) / Σ_{k≤10} 5^k/k!.
    exact = Fraction(5) ** 10 / math.factorial(10) / sum(
        Fraction(5) ** k / math.factorial(k) for k in range(11)
    )
    assert erlang_b(10, 5.0) == pytest.approx(float(exact), rel=1e-12)
    assert erlang_b(10, 5.0) == pytest.approx(0.01838, abs=1e-5)


@pytest.mark.parametrize(("n", "a"), [(520, 500.0), (1020, 1000.0), (5050, 5000.0)])
def test_large_systems_no_overflow(n: int, a: float) -> None:
    value = erlang_c(n, a)
    assert 0 < value < 1
    assert value == pytest.approx(log_space_erlang_c(n, a), rel=1e-9)


def test_thousands_of_agents_staffing() -> None:
    best = required_agents(2000.0, 180, Target(0.8, 20))
    assert 2000 < best.agents < 2100
    assert best.service_level >= 0.8
    assert erlang_c_figures(best.agents - 1, 2000.0, 180, 20).service_level < 0.8


def test_more_agents_never_lower_service_level() -> None:
    for a in (0.3, 4.7, 10.0, 87.5, 450.0):
        previous = None
        for n in range(math.floor(a) + 1, math.floor(a) + 60):
            f = erlang_c_figures(n, a, 240, 20)
            assert 0 <= f.p_wait <= 1 and 0 <= f.service_level <= 1
            if previous is not None:
                assert f.service_level >= previous.service_level
                assert f.p_wait <= previous.p_wait
                assert f.asa_s <= previous.asa_s
                assert f.occupancy < previous.occupancy
            previous = f


def test_limits() -> None:
    # Many agents: nobody waits.
    far = erlang_c_figures(200, 10.0, 180, 20)
    assert far.p_wait < 1e-12 and far.service_level == pytest.approx(1.0)
    # Just above the load: almost everyone waits, ASA grows without bound.
    near = erlang_c_figures(11, 10.999, 180, 20)
    assert near.p_wait > 0.99 and near.asa_s > 1e4
    # T = 0: service level = 1 − P(wait).
    zero = erlang_c_figures(14, 10.0, 180, 0)
    assert zero.service_level == pytest.approx(1 - zero.p_wait)
    # No traffic: no agents needed.
    assert required_agents(0.0, 180, Target(0.8, 20)).agents == 0


@pytest.mark.parametrize(("n", "a"), [(10, 10.0), (9, 10.0), (0, 0.5), (1, 1.0)])
def test_n_not_above_a_is_unstable_not_a_number(n: int, a: float) -> None:
    with pytest.raises(Unstable, match="unstable"):
        erlang_c(n, a)
    with pytest.raises(Unstable):
        erlang_c_figures(n, a, 180, 20)


def test_asa_and_occupancy_targets() -> None:
    by_asa = required_agents(10.0, 180, Target(service_level=None, asa_s=5.0))
    assert by_asa.asa_s <= 5.0
    assert erlang_c_figures(by_asa.agents - 1, 10.0, 180, 20).asa_s > 5.0
    by_occ = required_agents(10.0, 180, Target(service_level=0.5, max_occupancy=0.6))
    assert by_occ.agents == 17  # 10 / 17 = 0.588 ≤ 0.6 < 10 / 16
    both = required_agents(10.0, 180, Target(0.8, 20, asa_s=30.0, max_occupancy=0.9))
    assert both.agents == 14


def test_shrinkage() -> None:
    assert with_shrinkage(14, 0.3) == 20  # 14 / 0.7 = 20 exactly
    assert with_shrinkage(14, 0.35) == 22  # 21.54 -> 22
    assert with_shrinkage(14, 0.0) == 14
    assert with_shrinkage(0, 0.5) == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: traffic(-1, 1800, 180), "volume.*negative"),
        (lambda: traffic(100, 1800, 0), "AHT.*greater than 0"),
        (lambda: traffic(100, 0, 180), "interval.*greater than 0"),
        (lambda: traffic(float("nan"), 1800, 180), "finite"),
        (lambda: Target(1.2, 20), "100%"),
        (lambda: Target.parse("120/20"), "above 100%"),
        (lambda: Target.parse("80"), "SL/T"),
        (lambda: Target.parse("x/20"), "numbers"),
        (lambda: Target(0.8, -5), "negative"),
        (lambda: Target(0.8, 20, max_occupancy=0), "greater than 0"),
        (lambda: with_shrinkage(10, 1.0), "shrinkage"),
        (lambda: with_shrinkage(10, -0.1), "shrinkage"),
        (lambda: required_agents(10, -180, Target()), "AHT"),
    ],
)
def test_bad_input_is_a_clear_error(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match=message):
        call()


def test_target_parse() -> None:
    assert Target.parse("80/20") == Target(0.8, 20.0)
    assert Target.parse("0.9/15") == Target(0.9, 15.0)
    assert Target.parse("95%/30s") == Target(0.95, 30.0)
