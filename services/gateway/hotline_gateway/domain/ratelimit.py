"""Token buckets: each key (a principal) may spend `burst` requests at once and earns `rate`
more per second, up to `burst`. Time comes from the caller (monotonic seconds), so tests drive
it; the bucket holds no lock (the in-process adapter runs on one event loop)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    rate_per_s: float  # tokens earned per second; 0 or less: unlimited
    burst: float  # bucket size: the most requests at once

    @property
    def unlimited(self) -> bool:
        return self.rate_per_s <= 0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: float  # tokens left after this request
    retry_after_s: float  # when refused: wait this long for `cost` tokens; else 0


class TokenBucket:
    """One key's bucket. Starts full."""

    __slots__ = ("limit", "tokens", "updated")

    def __init__(self, limit: Limit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.updated = now

    def take(self, now: float, cost: float = 1.0) -> Decision:
        if self.limit.unlimited:
            return Decision(True, float("inf"), 0.0)
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.limit.burst), self.tokens + elapsed * self.limit.rate_per_s)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return Decision(True, self.tokens, 0.0)
        if cost > self.limit.burst:  # can never be afforded: wait for a full bucket anyway
            return Decision(False, self.tokens, self.limit.burst / self.limit.rate_per_s)
        return Decision(False, self.tokens, (cost - self.tokens) / self.limit.rate_per_s)

    def full_at(self) -> float:
        """When this bucket will be full again (it can then be forgotten)."""
        if self.limit.unlimited:
            return self.updated
        return self.updated + (self.limit.burst - self.tokens) / self.limit.rate_per_s
