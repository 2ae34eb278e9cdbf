"""Interval plan, chat/email approximations, forecast model and its hold-out error."""

from __future__ import annotations

import csv
import io
import json

import pytest

from hotline_wfm.application import render
from hotline_wfm.domain.erlang import InvalidInput, Target
from hotline_wfm.domain.forecast import (
    DAY_MS,
    DAY_SLOTS,
    SLOT_MS,
    History,
    Observation,
    day_of_week,
    fit,
    forecast,
    holdout_error,
)
from hotline_wfm.domain.plan import (
    Channel,
    IntervalDemand,
    StaffingParams,
    build_plan,
    staff_interval,
)

MONDAY = 1_762_732_800_000  # 2025-11-10T00:00:00Z, a Monday


def test_monday_epoch() -> None:
    assert day_of_week(MONDAY) == 0
    assert day_of_week(MONDAY + 6 * DAY_MS) == 6


def test_plan_rows_and_totals() -> None:
    demand = [IntervalDemand("sales", MONDAY + i * SLOT_MS, 50, 180) for i in range(4)]
    demand += [IntervalDemand("support", MONDAY + i * SLOT_MS, 0, 300) for i in range(4)]
    plan = build_plan(demand, StaffingParams(target=Target(0.8, 20), shrinkage=0.3))
    assert len(plan.rows) == 8
    sales = plan.rows[0].staffing
    assert sales.erlangs == pytest.approx(10.0)
    assert sales.agents == 14 and sales.scheduled == 20
    assert plan.by_queue["support"].agent_hours == 0
    assert plan.by_queue["sales"].agent_hours == pytest.approx(14.0)  # 14 agents × 1 h
    assert plan.by_queue["sales"].scheduled_hours == pytest.approx(20.0)
    assert plan.total.workload_hours == pytest.approx(10.0)
    assert plan.total.occupancy == pytest.approx(10 / 14)
    assert plan.total.contacts == 200
    table = render.plan_table(plan)
    assert "sales" in table and "TOTAL" in table
    rows = list(csv.DictReader(io.StringIO(render.plan_csv(plan))))
    assert len(rows) == 8 and rows[0]["agents"] == "14"
    doc = json.loads(render.plan_json(plan))
    assert doc["totals"]["agent_hours"] == pytest.approx(14.0)
    assert 0 <= doc["rows"][0]["service_level"] <= 1


def test_plan_per_queue_targets_and_erlang_a() -> None:
    demand = [IntervalDemand("a", MONDAY, 50, 180), IntervalDemand("b", MONDAY, 50, 180)]
    plan = build_plan(
        demand, StaffingParams(patience_s=120, shrinkage=0), targets={"b": Target(0.9, 15)}
    )
    a, b = (r.staffing for r in plan.rows)
    assert a.model == "erlang-a" and a.abandon_rate > 0
    assert b.agents > a.agents and b.service_level >= 0.9


def test_chat_concurrency() -> None:
    one = staff_interval(100, 1800, 180, StaffingParams(channel=Channel.CHAT, concurrency=1))
    three = staff_interval(100, 1800, 180, StaffingParams(channel=Channel.CHAT, concurrency=3))
    assert one.agents == 14  # one chat at a time = voice
    assert three.agents == 5  # 14 slots / 3 per agent
    assert three.occupancy == pytest.approx(10 / 15)


def test_email_fluid_backlog() -> None:
    params = StaffingParams(channel=Channel.EMAIL, response_s=3600, email_occupancy=1.0,
                            shrinkage=0)
    demand = [IntervalDemand("mail", MONDAY, 40, 450)]  # 5 h of work in one interval
    demand += [IntervalDemand("mail", MONDAY + i * SLOT_MS, 0, 450) for i in range(1, 6)]
    plan = build_plan(demand, params)
    # 18,000 s of work spread over the next hour = 5 agents for 4 intervals, then none.
    assert [r.staffing.agents for r in plan.rows] == [5, 5, 5, 5, 0, 0]
    assert plan.total.workload_hours == pytest.approx(5.0)


def test_plan_bad_input_names_the_interval() -> None:
    with pytest.raises(InvalidInput, match="queue q .*volume"):
        build_plan([IntervalDemand("q", MONDAY, -3, 180)], StaffingParams())
    with pytest.raises(InvalidInput, match="AHT"):
        build_plan([IntervalDemand("q", MONDAY, 3, 0)], StaffingParams())
    with pytest.raises(InvalidInput, match="shrinkage"):
        StaffingParams(shrinkage=1.0)
    with pytest.raises(InvalidInput, match="concurrency"):
        StaffingParams(channel=Channel.CHAT, concurrency=0)


def weekly_pattern(slot_ms: int) -> int:
    """Weekdays busy 9-17 h, weekends quiet; Monday busiest."""
    dow, tod = day_of_week(slot_ms), (slot_ms % DAY_MS) // SLOT_MS
    if not 36 <= tod < 68:
        return 0
    return {0: 12, 1: 9, 2: 9, 3: 8, 4: 7, 5: 2, 6: 0}[dow]


def history_weeks(weeks: int) -> History:
    end = MONDAY + weeks * 7 * DAY_MS
    obs = []
    for slot in range(MONDAY, end, SLOT_MS):
        n = weekly_pattern(slot)
        if n:
            obs.append(Observation("q", slot, n, handled=n, handle_ms=n * 200_000))
    return History(MONDAY, end, tuple(obs))


def test_forecast_learns_weekly_profile_and_aht() -> None:
    history = history_weeks(3)
    models = fit(history, alpha=0.5)
    out = forecast(models, history.end_ms, 7 * DAY_SLOTS)
    assert len(out) == 7 * DAY_SLOTS
    for d in out:
        assert d.contacts == pytest.approx(weekly_pattern(d.start_ms))
        assert d.aht_s == pytest.approx(200.0) or weekly_pattern(d.start_ms) == 0
    errors = holdout_error(history, 7 * DAY_SLOTS)
    assert errors[0].wape == pytest.approx(0.0) and errors[0].mape == pytest.approx(0.0)


def test_forecast_follows_change_and_scores_it() -> None:
    base = history_weeks(4)
    # The last week doubles: smoothing moves halfway (α = 0.5); the hold-out error shows it.
    obs = [
        Observation(o.queue_id, o.slot_ms, o.contacts * (2 if o.slot_ms >= base.end_ms - 7 * DAY_MS
                                                         else 1))
        for o in base.observations
    ]
    history = History(base.start_ms, base.end_ms, tuple(obs))
    monday_ten = base.end_ms + 40 * SLOT_MS
    model = fit(history, alpha=0.5)["q"]
    assert model.volume(monday_ten) == pytest.approx(12 * 1.5)
    error = holdout_error(history, 7 * DAY_SLOTS)[0]
    assert error.wape == pytest.approx(0.5)  # forecast = old level = half of actual
    assert error.mape == pytest.approx(0.5)
    assert model.aht_s == 180.0  # no handle time in this history: the default


def test_short_history_uses_time_of_day_profile() -> None:
    start = MONDAY
    obs = tuple(Observation("q", start + tod * SLOT_MS, 4) for tod in range(36, 68))
    history = History(start, start + DAY_MS, obs)
    model = fit(history, ["q", "empty"])
    thursday_ten = start + 3 * DAY_MS + 40 * SLOT_MS
    assert model["q"].volume(thursday_ten) == pytest.approx(4)
    assert model["empty"].volume(thursday_ten) == 0


def test_forecast_bad_input() -> None:
    with pytest.raises(InvalidInput, match="aligned"):
        History(MONDAY + 1, MONDAY + DAY_MS, ())
    with pytest.raises(InvalidInput, match="smoothing"):
        fit(history_weeks(1), alpha=0)
    with pytest.raises(InvalidInput, match="hold-out"):
        holdout_error(history_weeks(1), 7 * DAY_SLOTS)
