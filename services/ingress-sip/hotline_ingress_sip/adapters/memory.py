"""In-memory fakes of the ports, for tests: a clock and timers driven by hand, a transport
and an event sink that record what they are given."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from hotline_ingress_sip.application.ports import Address
from hotline_ingress_sip.domain.events import Fact
from hotline_ingress_sip.domain.sip import SipMessage, parse


class ManualClock:
    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self.now = start_ms

    def now_ms(self) -> int:
        return self.now


@dataclass(eq=False)
class _Timer:
    due: int
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualTimers:
    """Timers that fire only when `advance` moves the shared ManualClock past them."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self._heap: list[tuple[int, int, _Timer]] = []
        self._seq = itertools.count()

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> _Timer:
        timer = _Timer(self.clock.now + delay_ms, callback)
        heapq.heappush(self._heap, (timer.due, next(self._seq), timer))
        return timer

    def advance(self, ms: int) -> None:
        """Move time forward, firing every timer due on the way, in order."""
        end = self.clock.now + ms
        while self._heap and self._heap[0][0] <= end:
            due, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            self.clock.now = max(self.clock.now, due)
            timer.callback()
        self.clock.now = end

    @property
    def pending(self) -> int:
        return sum(1 for _, _, t in self._heap if not t.cancelled)


@dataclass
class RecordingTransport:
    sent: list[tuple[bytes, Address]] = field(default_factory=list)

    def send(self, data: bytes, addr: Address) -> None:
        self.sent.append((data, addr))

    def messages(self) -> list[SipMessage]:
        return [parse(data) for data, _ in self.sent]

    def take(self) -> list[SipMessage]:
        """The messages sent since the last take."""
        out = self.messages()
        self.sent.clear()
        return out


@dataclass
class RecordingEvents:
    facts: list[Fact] = field(default_factory=list)
    # False: facts are "in flight" until `record_pending()` (a broker that has not acked yet).
    record_at_once: bool = True
    pending: list[Callable[[], None]] = field(default_factory=list)

    def publish(self, fact: Fact, on_recorded: Callable[[], None] | None = None) -> None:
        self.facts.append(fact)
        if on_recorded is not None:
            if self.record_at_once:
                on_recorded()
            else:
                self.pending.append(on_recorded)

    def record_pending(self) -> None:
        callbacks, self.pending = self.pending, []
        for callback in callbacks:
            callback()

    def of_type(self, kind: type[Fact]) -> list[Fact]:
        return [f for f in self.facts if isinstance(f, kind)]
