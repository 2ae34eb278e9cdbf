"""One caller's run through an entry point's IVR (hotline_platform.ivr), pure: fed what happens
(start, a DTMF digit, the end of a prompt, a timer, the caller leaving), it answers the actions
to take, in order.

The call's adapter carries the actions out: `Play` a prompt (rtpengine `play media` of the
prompt's audio in that language) and report its end with `prompt_finished`; `StopPlay` the
prompt playing (a digit barged in); `StartTimer` and report it with `timer_fired(token)`. A
timer whose token is no longer awaited is ignored, so timers are never cancelled. `Finish` ends
the run: the adapter publishes it as `self_service_finished`, then queues the call
(ROUTE_TO_QUEUE) or hangs up (CONTAINED). A caller hanging up is `caller_left`: CUSTOMER_LEFT,
never an abandon.

Rules: business hours are checked at start (closed: the `hours.closed` node). In a menu or a
collect, a digit typed while a prompt plays stops it and counts. An invalid key (or a collect
of the wrong length) plays INVALID then the node's prompt again; no input within the node's
time-out plays NO_INPUT then the prompt again; after `retries` such repeats, the node's
`on_failure`. A collect ends with its terminator, at max_digits, or at the time-out between
digits (taken when at least min_digits were typed). A menu with `prompt_languages` plays its
prompt in each in turn (a language menu); an option's language applies to every later prompt
and to the route (a route's own language wins).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

# The flow model is shared with the config and the directory; it is standard library only at
# run time (tests/unit/ingress_sip/test_ingress_sip_call.py checks it), so this stays pure.
from hotline_platform import ivr
from hotline_platform.ivr import IvrFlow

#: Prompts of the platform itself (besides the flow's own).
INVALID = "invalid"
NO_INPUT = "no_input"


class Outcome(enum.Enum):
    ROUTE_TO_QUEUE = "route_to_queue"
    CONTAINED = "contained"  # the IVR ended the call (a message, then hang-up)
    CUSTOMER_LEFT = "customer_left"  # the caller hung up in the IVR: never an abandon


@dataclass(frozen=True, slots=True)
class Play:
    prompt: str
    language: str


@dataclass(frozen=True, slots=True)
class StopPlay:
    pass


@dataclass(frozen=True, slots=True)
class StartTimer:
    token: str
    ms: int


@dataclass(frozen=True, slots=True)
class Finish:
    outcome: Outcome
    duration_ms: int
    queue_id: str = ""
    language: str = ""
    skills: tuple[ivr.SkillLevel, ...] = ()
    priority: int = 0  # 0: the queue's
    intent: str = ""
    account: str = ""  # digits collected (identity hint ACCOUNT); empty: none


Action: TypeAlias = Play | StopPlay | StartTimer | Finish


class IvrRun:
    """The run of one call. `local_time(at_ms)` gives the wall-clock time the business hours
    are in (default: the hours' time zone); tests pass their own calendar."""

    def __init__(
        self, flow: IvrFlow, local_time: Callable[[int], datetime] | None = None
    ) -> None:
        self._flow = flow
        self._local_time = local_time
        self._node_id = ""
        self._language = flow.language
        self._started_ms = 0
        self._failures = 0  # invalid or missing inputs at the current node
        self._digits = ""  # typed so far in a collect
        self._account = ""
        self._queued: list[Play] = []  # prompts to play after the one playing
        self._playing = False
        self._timer = ""  # token of the timer awaited; "" none
        self._timers = 0
        self.finished: Finish | None = None

    @property
    def language(self) -> str:
        return self._language

    # ------------------------------------------------------------------------ events

    def start(self, now_ms: int) -> list[Action]:
        self._started_ms = now_ms
        hours = self._flow.hours
        if hours is not None:
            local = (self._local_time or hours.local_time)(now_ms)
            if not hours.is_open(local):
                return self._enter(hours.closed, now_ms)
        return self._enter(self._flow.start, now_ms)

    def digit(self, d: str, now_ms: int) -> list[Action]:
        node = self._current()
        if self.finished or not isinstance(node, ivr.Menu | ivr.Collect):
            return []  # no input awaited (a message plays): the key is dropped
        actions: list[Action] = []
        if self._playing:  # barge-in
            actions.append(StopPlay())
            self._playing, self._queued = False, []
        self._timer = ""
        if isinstance(node, ivr.Menu):
            option = node.options.get(d)
            if option is None:
                return actions + self._fail(node, INVALID, now_ms)
            self._language = option.language or self._language
            return actions + self._enter(option.next, now_ms)
        if node.terminator and d == node.terminator:
            return actions + self._collected(node, now_ms)
        if not d.isdigit():
            return actions + self._fail(node, INVALID, now_ms)
        self._digits += d
        if len(self._digits) >= node.max_digits:
            return actions + self._collected(node, now_ms)
        return actions + self._wait(node.timeout_ms)

    def prompt_finished(self, now_ms: int) -> list[Action]:
        if self.finished or not self._playing:
            return []
        if self._queued:
            return [self._queued.pop(0)]
        self._playing = False
        node = self._current()
        if isinstance(node, ivr.Message):
            return self._enter(node.next, now_ms)
        if isinstance(node, ivr.Menu | ivr.Collect):
            return self._wait(node.timeout_ms)
        return []

    def timer_fired(self, token: str, now_ms: int) -> list[Action]:
        node = self._current()
        if self.finished or token != self._timer or not isinstance(node, ivr.Menu | ivr.Collect):
            return []
        self._timer = ""
        if isinstance(node, ivr.Collect) and self._digits:
            return self._collected(node, now_ms)
        return self._fail(node, NO_INPUT, now_ms)

    def caller_left(self, now_ms: int) -> Finish:
        """The caller hung up: the run ends CUSTOMER_LEFT (or stays as it finished)."""
        if self.finished is None:
            self.finished = Finish(
                Outcome.CUSTOMER_LEFT, now_ms - self._started_ms, language=self._language,
                account=self._account,
            )
        return self.finished

    # ----------------------------------------------------------------------- helpers

    def _current(self) -> ivr.Node | None:
        return self._flow.nodes.get(self._node_id)

    def _enter(self, node_id: str, now_ms: int) -> list[Action]:
        self._node_id, self._failures, self._digits = node_id, 0, ""
        node = self._current()
        if isinstance(node, ivr.Menu | ivr.Collect | ivr.Message):
            return self._say(*self._prompts(node))
        if isinstance(node, ivr.Route):
            return self._finish(Outcome.ROUTE_TO_QUEUE, now_ms, node)
        return self._finish(Outcome.CONTAINED, now_ms)  # HANGUP or a Hangup node

    def _prompts(self, node: ivr.Menu | ivr.Collect | ivr.Message) -> list[Play]:
        languages = node.prompt_languages if isinstance(node, ivr.Menu) else ()
        return [Play(node.prompt, language) for language in languages or (self._language,)]

    def _say(self, *prompts: Play) -> list[Action]:
        self._playing, self._queued, self._timer = True, list(prompts[1:]), ""
        return [prompts[0]]

    def _wait(self, ms: int) -> list[Action]:
        self._timers += 1
        self._timer = f"t{self._timers}"
        return [StartTimer(self._timer, ms)]

    def _fail(self, node: ivr.Menu | ivr.Collect, why: str, now_ms: int) -> list[Action]:
        self._failures += 1
        self._digits = ""
        if self._failures > node.retries:
            return self._enter(node.on_failure, now_ms)
        return self._say(Play(why, self._language), *self._prompts(node))

    def _collected(self, node: ivr.Collect, now_ms: int) -> list[Action]:
        if not node.min_digits <= len(self._digits) <= node.max_digits:
            return self._fail(node, INVALID, now_ms)
        self._account = self._digits
        return self._enter(node.next, now_ms)

    def _finish(
        self, outcome: Outcome, now_ms: int, route: ivr.Route | None = None
    ) -> list[Action]:
        self._playing, self._timer = False, ""
        if route is None:
            self.finished = Finish(
                outcome, now_ms - self._started_ms, language=self._language,
                account=self._account,
            )
        else:
            self.finished = Finish(
                outcome, now_ms - self._started_ms, route.queue_id,
                route.language or self._language, route.required_skills, route.priority,
                route.intent, self._account,
            )
        return [self.finished]
