"""KPI definitions (shared/KPI.md) on hand-made interaction facts: pure, no I/O."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hotline_analytics.domain.kpi import (
    AbandonDenominator,
    CountingRules,
    InteractionFacts,
    Outcome,
    QueueTally,
    ServiceLevelDefinition,
    abandonment_rate,
    aht_s,
    asa_s,
    classify,
    kpis,
    service_level,
    tally,
    wait_ms,
)

Q = 1_000_000  # queued at (ms)


def answered(
    wait_s: float, talk_s: float = 60, wrap_s: float = 10, hold_s: float = 0, wrapped: bool = True
) -> InteractionFacts:
    at = Q + int(wait_s * 1000)
    return InteractionFacts(
        "i",
        queue_id="q",
        queued_at_ms=Q,
        answered_at_ms=at,
        completed_at_ms=at + int(talk_s * 1000),
        talk_ms=int(talk_s * 1000),
        hold_ms=int(hold_s * 1000),
        wrap_up_ms=int(wrap_s * 1000),
        wrap_up_ended_at_ms=at + int((talk_s + wrap_s) * 1000) if wrapped else 0,
    )


def abandoned(wait_s: float, stage: str = "IN_QUEUE") -> InteractionFacts:
    return InteractionFacts(
        "i",
        queue_id="q",
        queued_at_ms=Q,
        abandoned_at_ms=Q + int(wait_s * 1000),
        abandon_stage=stage,
    )


WAITING = InteractionFacts("i", queue_id="q", queued_at_ms=Q)
CALLBACK = InteractionFacts("i", queue_id="q", queued_at_ms=Q, callback_at_ms=Q + 30_000)
FLOWED = InteractionFacts("i", queue_id="q", queued_at_ms=Q, flowed_out_at_ms=Q + 10_000)


def test_classify_queued_contacts() -> None:
    assert classify(answered(3)) is Outcome.ANSWERED
    assert classify(abandoned(30)) is Outcome.ABANDONED
    assert classify(abandoned(12, stage="WHILE_OFFERED")) is Outcome.ABANDONED
    assert classify(WAITING) is Outcome.WAITING
    assert classify(CALLBACK) is Outcome.CALLBACK
    assert classify(FLOWED) is Outcome.FLOWED_OUT


def test_a_callback_request_followed_by_the_callers_hang_up_is_a_callback_not_an_abandon() -> None:
    hung_up = replace(CALLBACK, abandoned_at_ms=Q + 31_000, abandon_stage="IN_QUEUE")
    assert classify(hung_up) is Outcome.CALLBACK
    assert wait_ms(hung_up, Outcome.CALLBACK) == 30_000
    short = replace(CALLBACK, callback_at_ms=Q + 2_000, abandoned_at_ms=Q + 3_000)
    assert classify(short) is Outcome.CALLBACK  # not a short abandon either


def test_short_abandon_boundary_is_strictly_less_than_threshold() -> None:
    assert classify(abandoned(4.999)) is Outcome.SHORT_ABANDONED
    assert classify(abandoned(5.0)) is Outcome.ABANDONED
    assert classify(abandoned(9), CountingRules(short_abandon_s=10)) is Outcome.SHORT_ABANDONED
    assert classify(abandoned(0), CountingRules(short_abandon_s=0)) is Outcome.ABANDONED


def test_answer_wins_over_a_later_abandon_and_skewed_clocks_never_give_negative_waits() -> None:
    both = InteractionFacts("i", queued_at_ms=Q, answered_at_ms=Q + 1000, abandoned_at_ms=Q + 2000)
    assert classify(both) is Outcome.ANSWERED
    early = InteractionFacts("i", queued_at_ms=Q, answered_at_ms=Q - 50)  # another host's clock
    assert wait_ms(early, classify(early)) == 0


def test_contacts_never_queued_are_not_queue_outcomes() -> None:
    assert classify(InteractionFacts("i", self_service_outcome="CONTAINED")) is Outcome.CONTAINED
    assert (
        classify(InteractionFacts("i", self_service_outcome="CUSTOMER_LEFT"))
        is Outcome.LEFT_IN_SELF_SERVICE
    )
    assert (
        classify(InteractionFacts("i", abandoned_at_ms=Q, abandon_stage="BEFORE_QUEUE"))
        is Outcome.ABANDONED_BEFORE_QUEUE
    )
    assert classify(InteractionFacts("i")) is Outcome.NOT_QUEUED
    assert tally([InteractionFacts("i", self_service_outcome="CONTAINED")], 20) == QueueTally()


def test_abandon_recorded_as_before_queue_on_a_queued_contact_is_not_an_abandon() -> None:
    assert classify(abandoned(30, stage="BEFORE_QUEUE")) is Outcome.WAITING


MIX = [
    answered(5, talk_s=60, wrap_s=10),
    answered(20, talk_s=120, hold_s=10, wrap_s=20),  # wait == T counts as within T
    answered(40, talk_s=30, wrap_s=15),
    answered(8, wrapped=False),  # answered, not yet handled
    abandoned(30),
    abandoned(12, stage="WHILE_OFFERED"),
    abandoned(2),  # short
    WAITING,
    CALLBACK,
    FLOWED,
]


def test_tally_counts_and_sums() -> None:
    t = tally(MIX, threshold_s=20)
    assert t.queued == 10
    assert (t.answered, t.answered_within_t, t.answer_wait_ms) == (4, 3, 73_000)
    assert (t.abandoned, t.abandoned_within_t, t.abandon_wait_ms) == (2, 1, 42_000)
    assert (t.short_abandoned, t.short_abandoned_within_t) == (1, 1)
    assert (t.callbacks, t.callbacks_within_t) == (1, 0)
    assert (t.flowed_out, t.flowed_out_within_t) == (1, 1)
    assert t.waiting == 1
    assert t.offered == 9
    # every queued contact has exactly one outcome
    assert (
        t.answered + t.abandoned + t.short_abandoned + t.callbacks + t.flowed_out + t.waiting
        == t.queued
    )
    assert t.handled == 3
    assert (t.handled_talk_ms, t.handled_hold_ms, t.handled_wrap_up_ms) == (210_000, 10_000, 45_000)


def test_service_level_variants() -> None:
    t = tally(MIX, threshold_s=20)
    sl = {d: service_level(t, d) for d in ServiceLevelDefinition}
    assert sl[ServiceLevelDefinition.EXCLUDE] == pytest.approx(3 / 4)
    assert sl[ServiceLevelDefinition.MISSED] == pytest.approx(3 / 6)
    assert sl[ServiceLevelDefinition.MET_IF_WITHIN_T] == pytest.approx((3 + 1) / 6)
    # answered 3 + abandoned 1 + short 1 + flowed out 1 within T, over all 10 queued
    assert sl[ServiceLevelDefinition.REMOVED_WITHIN_T] == pytest.approx(6 / 10)


def test_threshold_changes_only_within_counts() -> None:
    assert service_level(tally(MIX, 19.999), ServiceLevelDefinition.EXCLUDE) == pytest.approx(2 / 4)
    assert service_level(tally(MIX, 40), ServiceLevelDefinition.EXCLUDE) == 1.0


def test_asa_aht_and_abandonment_rate() -> None:
    t = tally(MIX, threshold_s=20)
    assert asa_s(t) == pytest.approx(73 / 4)
    # talk already includes hold: (60+10) + (120+20) + (30+15) over 3 handled
    assert aht_s(t) == pytest.approx(255 / 3)
    assert abandonment_rate(t, AbandonDenominator.OFFERED) == pytest.approx(2 / 9)
    assert abandonment_rate(t, AbandonDenominator.QUEUED) == pytest.approx(2 / 10)
    assert abandonment_rate(t, AbandonDenominator.HANDLED_PLUS_ABANDONED) == pytest.approx(2 / 5)


def test_empty_denominators_give_none_not_zero() -> None:
    k = kpis(tally([WAITING], 20))
    assert (k.service_level, k.asa_s, k.aht_s) == (None, None, None)
    assert k.abandonment_rate == 0.0
    assert kpis(QueueTally()).abandonment_rate is None


def test_tallies_add_up_and_rules_describe_themselves() -> None:
    a, b = tally(MIX[:4], 20), tally(MIX[4:], 20)
    assert a + b == tally(MIX, 20)
    d = CountingRules().describe()
    assert d["service_level"] == "exclude"
    assert d["service_level_formula"] == "answered within T / answered"
    assert d["short_abandon_s"] == 5.0
    assert d["abandonment_rate"] == "offered"
    with pytest.raises(ValueError):
        CountingRules(short_abandon_s=-1)
