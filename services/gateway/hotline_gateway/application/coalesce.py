"""Single flight: concurrent callers asking the same question share one backend call.

Real-time statistics are read by every wallboard and integration at once; without this, N
concurrent readers of a tenant's queues cost N identical gRPC calls. A caller arriving while a
call for its key is in flight waits for that call's answer (or its error); the next caller
after it returns starts a new one. Nothing is cached beyond the call: an answer is never older
than the backend round trip that produced it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Future[T]] = {}
        self.calls = 0  # backend calls made (for tests and metrics)

    async def run(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        flight = self._flights.get(key)
        if flight is not None:
            return await asyncio.shield(flight)
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        self.calls += 1
        try:
            result = await call()
        except BaseException as exc:
            if not flight.cancelled():
                flight.set_exception(exc)
                flight.exception()  # retrieved: no "never retrieved" warning without joiners
            raise
        else:
            flight.set_result(result)
            return result
        finally:
            del self._flights[key]
