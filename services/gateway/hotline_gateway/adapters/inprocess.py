"""In-process rate limiter and idempotency store: state in this process's memory, touched only
from its event loop (no locks, no awaits inside an update).

One replica only. Behind a load balancer with N gateway replicas:
* rate limits: each replica has its own buckets, so a principal gets up to N × the limit
  (or exactly the limit with sticky routing by credential). A shared limiter (e.g. Redis with
  a GCRA script, one key per principal) makes it exact.
* idempotency: a retry that lands on another replica runs the request again. A shared store
  is needed, with an atomic "hold the key if absent" (Redis SET NX PX, or a table with a
  unique (scope, key) and an insert), the stored response, and the same expiry.
Both are ports (application/ports.py): such adapters plug in at wiring.py.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from hotline_gateway.domain.idempotency import Outcome, Record, StoredResponse, decide
from hotline_gateway.domain.ratelimit import Decision, Limit, TokenBucket


class InProcessRateLimiter:
    """Token buckets by key; a bucket that has refilled is forgotten (it equals a new one),
    so memory stays bounded by the keys active in the last `burst / rate` seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._max_keys = max_keys
        self._next_sweep = 0.0

    async def take(self, key: str, limit: Limit, cost: float = 1.0) -> Decision:
        return self.take_now(key, limit, cost)

    def take_now(self, key: str, limit: Limit, cost: float = 1.0) -> Decision:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None or bucket.limit != limit:
            if len(self._buckets) >= self._max_keys or now >= self._next_sweep:
                self._sweep(now)
            bucket = self._buckets[key] = TokenBucket(limit, now)
        return bucket.take(now, cost)

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + 10.0
        for key in [k for k, b in self._buckets.items() if b.full_at() <= now]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


class InProcessIdempotencyStore:
    """Records by (scope, key), kept `ttl_s` after the first request; at most `max_records`
    (the oldest are dropped first)."""

    def __init__(
        self,
        ttl_s: float,
        max_records: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_s
        self._max = max_records
        self._clock = clock
        self._records: OrderedDict[tuple[str, str], Record] = OrderedDict()

    async def begin(
        self, scope: str, key: str, fingerprint: str
    ) -> tuple[Outcome, StoredResponse | None]:
        now = self._clock()
        self._expire(now)
        record = self._records.get((scope, key))
        outcome = decide(record, fingerprint, now)
        if outcome is Outcome.EXECUTE:
            self._records.pop((scope, key), None)
            self._records[(scope, key)] = Record(fingerprint, now + self._ttl)
            while len(self._records) > self._max:
                self._records.popitem(last=False)
        return outcome, record.response if record and outcome is Outcome.REPLAY else None

    async def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        record = self._records.get((scope, key))
        if record is not None and record.response is None:
            self._records[(scope, key)] = Record(record.fingerprint, record.expires_at, response)

    async def release(self, scope: str, key: str) -> None:
        record = self._records.get((scope, key))
        if record is not None and record.response is None:
            del self._records[(scope, key)]

    def _expire(self, now: float) -> None:
        # Insertion order is expiry order (one TTL for all): drop from the front.
        while self._records:
            first = next(iter(self._records.values()))
            if first.expires_at > now:
                break
            self._records.popitem(last=False)

    def __len__(self) -> int:
        return len(self._records)
