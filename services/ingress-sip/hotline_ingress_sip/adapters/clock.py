"""System clock and asyncio timers (the Clock and Timers ports)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hotline_ingress_sip.domain.transactions import Cancellable


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class LoopTimers:
    """Timers on the running asyncio loop (call only from the loop's thread)."""

    def call_later(self, delay_ms: int, callback: Callable[[], None]) -> Cancellable:
        return asyncio.get_running_loop().call_later(delay_ms / 1000, callback)
