"""The IVR interpreter (hotline_ingress_sip.domain.ivr), driven like a call would: prompts end,
digits arrive (also while a prompt plays), timers fire, the caller hangs up."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hotline_ingress_sip.domain.ivr import (
    INVALID,
    NO_INPUT,
    Finish,
    IvrRun,
    Outcome,
    Play,
    StartTimer,
    StopPlay,
)
from hotline_platform import ivr
from hotline_platform.tenancy import SkillLevel

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = ivr.BusinessHours(
    "Europe/Berlin", (ivr.Window(("mon", "tue", "wed", "thu", "fri"), "08:00", "20:00"),),
    ("2026-12-24",), "closed_msg",
)
FLOW = ivr.IvrFlow(
    start="lang",
    language="en",
    hours=HOURS,
    nodes={
        "lang": ivr.Menu(
            "choose_language",
            {"1": ivr.Option("main", "en"), "2": ivr.Option("main", "de")},
            timeout_ms=5_000, retries=2, on_failure="main",
        ),
        "main": ivr.Menu(
            "main_menu",
            {"1": ivr.Option("account"), "2": ivr.Option("sales"), "3": ivr.Option("french")},
            timeout_ms=4_000, retries=1, on_failure="sorry",
        ),
        "account": ivr.Collect(
            "enter_account", "billing", min_digits=6, max_digits=10, terminator="#",
            timeout_ms=8_000, retries=1, on_failure="billing",
        ),
        "billing": ivr.Route(
            "support-en", (SkillLevel("billing", 2),), priority=5, intent="billing"
        ),
        "sales": ivr.Route("sales"),
        "french": ivr.Route("support-fr", language="fr"),
        "sorry": ivr.Message("sorry", ivr.HANGUP),
        "closed_msg": ivr.Message("closed"),
    },
)
WEDNESDAY_10H = datetime(2026, 12, 23, 10, 0, tzinfo=BERLIN)
T0 = 1_000_000


def _run(local: datetime = WEDNESDAY_10H) -> IvrRun:
    return IvrRun(FLOW, lambda _ms: local)


def _to_main(run: IvrRun, key: str = "1") -> None:
    """Start, hear the language menu to its end, choose a language, hear the main menu."""
    run.start(T0)
    assert run.prompt_finished(T0 + 3_000) == [StartTimer("t1", 5_000)]
    run.digit(key, T0 + 4_000)
    assert run.prompt_finished(T0 + 6_000) == [StartTimer("t2", 4_000)]


def test_a_language_chosen_by_key_plays_later_prompts_and_goes_to_the_route() -> None:
    run = _run()
    assert run.start(T0) == [Play("choose_language", "en")]
    assert run.prompt_finished(T0 + 3_000) == [StartTimer("t1", 5_000)]
    assert run.digit("2", T0 + 4_000) == [Play("main_menu", "de")]
    assert run.prompt_finished(T0 + 6_000) == [StartTimer("t2", 4_000)]
    assert run.digit("2", T0 + 7_000) == [
        Finish(Outcome.ROUTE_TO_QUEUE, 7_000, "sales", "de")
    ]
    assert run.finished is not None and run.language == "de"


def test_a_language_menu_says_its_prompt_in_each_language_and_a_key_cuts_it_short() -> None:
    nodes = {**FLOW.nodes, "lang": ivr.Menu(
        "choose_language", {"1": ivr.Option("sales", "en"), "2": ivr.Option("sales", "de")},
        prompt_languages=("en", "de"),
    )}
    run = IvrRun(ivr.IvrFlow("lang", nodes, "en"))
    assert run.start(T0) == [Play("choose_language", "en")]
    assert run.prompt_finished(T0 + 2_000) == [Play("choose_language", "de")]
    assert run.prompt_finished(T0 + 4_000) == [StartTimer("t1", 5_000)]
    assert run.digit("7", T0 + 5_000) == [Play(INVALID, "en")]
    assert run.prompt_finished(T0 + 6_000) == [Play("choose_language", "en")]
    assert run.digit("2", T0 + 6_500) == [
        StopPlay(), Finish(Outcome.ROUTE_TO_QUEUE, 6_500, "sales", "de")
    ]


def test_a_route_of_its_own_language_wins_over_the_chosen_one() -> None:
    run = _run()
    _to_main(run, "2")
    [finish] = run.digit("3", T0 + 7_000)
    assert isinstance(finish, Finish) and (finish.queue_id, finish.language) == (
        "support-fr", "fr"
    )


def test_digits_typed_while_a_prompt_plays_stop_it_and_count() -> None:
    run = _run()
    run.start(T0)
    assert run.digit("1", T0 + 500) == [StopPlay(), Play("main_menu", "en")]
    assert run.prompt_finished(T0 + 600) == [StartTimer("t1", 4_000)]
    # A prompt stopped by a key is not reported again; a stray report changes nothing.
    assert run.digit("1", T0 + 700) == [Play("enter_account", "en")]
    assert run.digit("4", T0 + 800) == [StopPlay(), StartTimer("t2", 8_000)]
    assert run.prompt_finished(T0 + 900) == []


def test_a_collect_ends_with_its_terminator_and_carries_the_route() -> None:
    run = _run()
    _to_main(run)
    assert run.digit("1", T0 + 7_000) == [Play("enter_account", "en")]
    run.prompt_finished(T0 + 9_000)
    for n, d in enumerate("12345678"):
        assert run.digit(d, T0 + 10_000 + n) == [StartTimer(f"t{4 + n}", 8_000)]
    assert run.digit("#", T0 + 11_000) == [
        Finish(
            Outcome.ROUTE_TO_QUEUE, 11_000, "support-en", "en", (SkillLevel("billing", 2),),
            5, "billing", "12345678",
        )
    ]


def test_a_collect_ends_at_max_digits() -> None:
    run = _run()
    _to_main(run)
    run.digit("1", T0 + 7_000)
    actions = [run.digit(d, T0 + 8_000) for d in "0123456789"]
    assert isinstance(actions[-1][-1], Finish) and actions[-1][-1].account == "0123456789"


def test_a_collect_time_out_takes_enough_digits_and_refuses_too_few() -> None:
    run = _run()
    _to_main(run)
    run.digit("1", T0 + 7_000)
    for d in "123":
        [timer] = [a for a in run.digit(d, T0 + 8_000) if isinstance(a, StartTimer)]
    # Three digits of at least six: invalid, then the prompt again (barge-in allowed).
    assert run.timer_fired(timer.token, T0 + 16_000) == [Play(INVALID, "en")]
    assert run.prompt_finished(T0 + 17_000) == [Play("enter_account", "en")]
    for d in "1234567":
        [timer] = [a for a in run.digit(d, T0 + 18_000) if isinstance(a, StartTimer)]
    [finish] = run.timer_fired(timer.token, T0 + 26_000)
    assert isinstance(finish, Finish) and finish.account == "1234567"


def test_a_too_short_number_with_the_terminator_is_invalid() -> None:
    run = _run()
    _to_main(run)
    run.digit("1", T0 + 7_000)
    run.digit("1", T0 + 8_000)
    assert run.digit("#", T0 + 8_100) == [Play(INVALID, "en")]


def test_invalid_keys_and_silence_repeat_the_menu_then_fall_back() -> None:
    run = _run()
    _to_main(run)
    assert run.digit("9", T0 + 7_000) == [Play(INVALID, "en")]  # failure 1 of 1 retry
    assert run.prompt_finished(T0 + 8_000) == [Play("main_menu", "en")]
    assert run.prompt_finished(T0 + 10_000) == [StartTimer("t3", 4_000)]
    assert run.timer_fired("t2", T0 + 11_000) == []  # a stale timer is ignored
    # Silence: failure 2 > 1 retry: on_failure "sorry", a message, then hang-up.
    assert run.timer_fired("t3", T0 + 14_000) == [Play("sorry", "en")]
    assert run.digit("1", T0 + 14_500) == []  # no input awaited during a message
    assert run.prompt_finished(T0 + 16_000) == [Finish(Outcome.CONTAINED, 16_000, language="en")]


def test_no_input_plays_no_input_then_the_menu_again() -> None:
    run = _run()
    run.start(T0)
    run.prompt_finished(T0 + 3_000)
    assert run.timer_fired("t1", T0 + 8_000) == [Play(NO_INPUT, "en")]
    assert run.prompt_finished(T0 + 9_000) == [Play("choose_language", "en")]


@pytest.mark.parametrize(
    ("local", "first"),
    [
        (datetime(2026, 12, 23, 19, 59, tzinfo=BERLIN), "choose_language"),
        (datetime(2026, 12, 23, 20, 0, tzinfo=BERLIN), "closed"),
        (datetime(2026, 12, 24, 10, 0, tzinfo=BERLIN), "closed"),  # a holiday
        (datetime(2026, 12, 26, 10, 0, tzinfo=BERLIN), "closed"),  # a Saturday
    ],
)
def test_business_hours_are_checked_at_start(local: datetime, first: str) -> None:
    run = _run(local)
    assert run.start(T0) == [Play(first, "en")]
    if first == "closed":  # the closed message, then hang-up (next defaults to hangup)
        assert run.prompt_finished(T0 + 4_000) == [
            Finish(Outcome.CONTAINED, 4_000, language="en")
        ]


def test_business_hours_are_in_the_flows_time_zone() -> None:
    # 07:30 UTC is 08:30 in Berlin (open); 19:30 UTC is 20:30 there (closed).
    morning = int(datetime(2026, 12, 23, 7, 30, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
    evening = morning + 12 * 3_600_000
    assert IvrRun(FLOW).start(morning) == [Play("choose_language", "en")]
    assert IvrRun(FLOW).start(evening) == [Play("closed", "en")]


def test_the_caller_leaving_ends_the_run_customer_left() -> None:
    run = _run()
    _to_main(run, "2")
    run.digit("1", T0 + 7_000)
    finish = run.caller_left(T0 + 9_500)
    assert finish == Finish(Outcome.CUSTOMER_LEFT, 9_500, language="de")
    assert run.digit("1", T0 + 9_600) == [] and run.timer_fired("t3", T0 + 9_700) == []
    assert run.caller_left(T0 + 12_000) is finish


def test_a_caller_leaving_after_the_route_keeps_the_route() -> None:
    run = _run()
    _to_main(run)
    [routed] = run.digit("2", T0 + 7_000)
    assert run.caller_left(T0 + 8_000) is routed
