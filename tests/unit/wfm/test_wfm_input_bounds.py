"""Inputs the staffing maths cannot compute with are refused with a precise InvalidInput.

schemathesis once sent `aht=5e-324` through the gateway: the service rate 1/AHT overflowed to
infinity, Erlang A took log(0) and WFM answered "math domain error" (a 502 at the gateway).
Here every numeric input ranges over all doubles, so any input that is not refused must give
finite figures, and anything else must be InvalidInput (gRPC INVALID_ARGUMENT) or Unstable.
"""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline_wfm.domain.erlang import (
    MAX_PATIENCE_S,
    MAX_SECONDS,
    MIN_SECONDS,
    InvalidInput,
    Target,
    Unstable,
    erlang_c_figures,
    required_agents,
    traffic,
)
from hotline_wfm.domain.erlang_a import erlang_a_figures, required_agents_a
from hotline_wfm.domain.plan import Channel, StaffingParams, staff_interval

EXTREMES = [0.0, 5e-324, 1e-300, 1e-10, 1e-4, 0.5, 1.0, 20.0, 900.0, 86_400.0, 1e7, 1e300]
numbers = st.one_of(
    st.sampled_from(EXTREMES),
    st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False),
)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # the schemathesis case: an AHT of the smallest double
        (lambda: traffic(100, 900, 5e-324), r"AHT \(seconds\) must be between 0.001 s and 3162"),
        (lambda: traffic(1e-10, 900, 5e-324), "AHT"),
        (lambda: traffic(100, 5e-324, 180), "interval length"),
        (lambda: traffic(100, 900, 1e300), "AHT"),
        (lambda: traffic(1e300, 900, 180), "erlangs need more than 100000 agents"),
        (lambda: Target(0.8, 5e-324), "threshold"),
        (lambda: Target(0.8, 1e300), "threshold"),
        (lambda: StaffingParams(patience_s=5e-324), "mean patience"),
        (lambda: StaffingParams(patience_s=1e300), "mean patience"),
        (lambda: required_agents(1e300, 180, Target()), "erlangs need more than"),
        (lambda: required_agents_a(1e-9, 5e-324, 60, Target()), "AHT"),
        (lambda: required_agents_a(1e300, 180, 60, Target()), "erlangs need more than"),
        (lambda: erlang_a_figures(10**9, 0.01, 180, 60, 20), "at most 100000"),
        (lambda: erlang_a_figures(3, 1e-9, 180, 60, 5e-324), "threshold"),
        (lambda: erlang_c_figures(10, 1.0, 180, 1e300), "threshold"),
    ],
)
def test_inputs_outside_the_computable_range_are_refused(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match=message):
        call()


def test_a_series_too_long_for_erlang_a_is_refused_at_once() -> None:
    # 10,000 Erlangs of 1-s contacts with a day's patience: the queue-length series would need
    # millions of terms (4 s of work, then a refusal: a gateway timeout). Now refused at once.
    started = time.perf_counter()
    with pytest.raises(InvalidInput, match="leave the patience out"):
        staff_interval(1e6, 100, 1, StaffingParams(patience_s=86_400))
    assert time.perf_counter() - started < 0.5
    # A tenth of the load with a realistic patience computes.
    assert staff_interval(1e5, 100, 1, StaffingParams(patience_s=120)).agents > 500
    # Far more agents than the load: the series falls geometrically, however long the
    # patience (the bound accounts for Nμ > λ; a bound from λ alone would refuse these).
    many = erlang_a_figures(1, 0.5 / 0.001, 0.001, 1e10, 20)
    assert math.isfinite(many.service_level) and many.p_abandon < 1e-6
    assert staff_interval(1e-3, 900, 0.001, StaffingParams(patience_s=1e10)).agents == 1


def test_the_edges_of_the_range_compute() -> None:
    tiny = staff_interval(1e-10, 900, MIN_SECONDS, StaffingParams(patience_s=MIN_SECONDS))
    assert tiny.agents == 1 and math.isfinite(tiny.service_level)
    slow = staff_interval(1, MAX_SECONDS, MAX_SECONDS, StaffingParams(patience_s=MAX_PATIENCE_S))
    assert slow.agents >= 1 and math.isfinite(slow.asa_s)
    zero_t = staff_interval(
        5, 900, 180, StaffingParams(target=Target(0.8, 0.0), patience_s=60)
    )
    assert 0 <= zero_t.service_level <= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    contacts=numbers, interval_s=numbers, aht_s=numbers, threshold_s=numbers,
    patience_s=st.one_of(st.none(), numbers),
    channel=st.sampled_from([Channel.VOICE, Channel.CHAT]),
)
def test_any_double_is_either_refused_or_computed(
    contacts: float, interval_s: float, aht_s: float, threshold_s: float,
    patience_s: float | None, channel: Channel,
) -> None:
    try:
        params = StaffingParams(
            target=Target(0.8, threshold_s), patience_s=patience_s, channel=channel,
            concurrency=2,
        )
        result = staff_interval(contacts, interval_s, aht_s, params)
    except (InvalidInput, Unstable):
        return
    figures = (result.service_level, result.asa_s, result.occupancy, result.p_wait,
               result.abandon_rate, result.erlangs)
    assert all(math.isfinite(f) for f in figures), result
    assert 0 <= result.agents <= result.scheduled
