"""The in-process adapters: the idempotency store (hold, replay, in progress, release, expiry,
bound) and the rate limiter (buckets by key, forgotten once full again)."""

from __future__ import annotations

import asyncio

from hotline_gateway.adapters.inprocess import InProcessIdempotencyStore, InProcessRateLimiter
from hotline_gateway.domain.idempotency import Outcome, StoredResponse
from hotline_gateway.domain.ratelimit import Limit

OK = StoredResponse(200, (("etag", '"x"'),), b"{}")


def test_idempotency_store_lifecycle() -> None:
    clock = [0.0]
    store = InProcessIdempotencyStore(ttl_s=10, max_records=3, clock=lambda: clock[0])

    async def scenario() -> None:
        assert await store.begin("p", "k", "f") == (Outcome.EXECUTE, None)
        assert await store.begin("p", "k", "f") == (Outcome.IN_PROGRESS, None)
        assert await store.begin("p", "k", "g") == (Outcome.MISMATCH, None)
        assert await store.begin("q", "k", "g") == (Outcome.EXECUTE, None)  # another scope
        await store.complete("p", "k", OK)
        assert await store.begin("p", "k", "f") == (Outcome.REPLAY, OK)
        await store.release("p", "k")  # a completed record is kept
        assert (await store.begin("p", "k", "f"))[0] is Outcome.REPLAY
        await store.release("q", "k")  # a running one is forgotten
        assert (await store.begin("q", "k", "g"))[0] is Outcome.EXECUTE
        clock[0] = 10.0
        assert (await store.begin("p", "k", "other"))[0] is Outcome.EXECUTE  # expired
        for key in ("a", "b", "c", "d"):
            await store.begin("p", key, "f")
        assert len(store) == 3  # bounded: the oldest went first

    asyncio.run(scenario())


def test_rate_limiter_keeps_buckets_per_key_and_forgets_full_ones() -> None:
    clock = [0.0]
    limiter = InProcessRateLimiter(clock=lambda: clock[0])
    limit = Limit(rate_per_s=1, burst=2)
    assert [limiter.take_now("a", limit).allowed for _ in range(3)] == [True, True, False]
    assert limiter.take_now("b", limit).allowed
    clock[0] = 100.0  # both refilled: a sweep drops them
    limiter.take_now("c", limit)
    assert len(limiter) == 1
