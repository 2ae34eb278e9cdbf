"""Registered phones: bindings of an agent's address of record to contacts (RFC 3261 10.3),
the facts they give, and the limit on failed authentications.

Pure: times are passed in (milliseconds since the epoch).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SipAccount:
    """An agent's SIP credentials (the directory's AgentDefined sip_* fields)."""

    tenant_id: str
    agent_id: str
    username: str
    ha1: dict[str, str]  # digest algorithm ("MD5", "SHA-256") -> stored HA1 (hex)


@dataclass(frozen=True, slots=True)
class Binding:
    tenant_id: str
    agent_id: str
    username: str
    contact_uri: str  # as the phone wrote it
    reachable_uri: str  # where requests to the phone go (NAT: the REGISTER's source)
    expires_at_ms: int
    call_id: str
    cseq: int
    user_agent: str = ""

    def remaining_s(self, now_ms: int) -> int:
        return max(0, (self.expires_at_ms - now_ms + 999) // 1000)


@dataclass(frozen=True, slots=True)
class Registered:
    """Fact: a binding was added or refreshed."""

    binding: Binding
    occurred_at_ms: int


@dataclass(frozen=True, slots=True)
class Unregistered:
    """Fact: a binding ended; reason "unregistered" (the phone asked) or "expired"."""

    binding: Binding
    reason: str
    occurred_at_ms: int


RegistrationFact = Registered | Unregistered


def reachable_uri(contact_uri: str, user: str, source: tuple[str, int], nat: bool) -> str:
    """Where a phone is reached: its Contact, or (behind NAT, or when it asked for rport) a
    sip: URI of the address its REGISTER came from, so requests go through its pinhole."""
    if not nat:
        return contact_uri
    host = f"[{source[0]}]" if ":" in source[0] else source[0]
    return f"sip:{user + '@' if user else ''}{host}:{source[1]}"


@dataclass
class FailureLimiter:
    """`max_failures` failed attempts per key (a source IP, a username) within `window_ms`
    block the key for `block_ms`. Memory: keys are dropped once their
    failures and block have passed (`sweep`), and at most `max_keys` are tracked (oldest
    dropped first), so a flood of made-up usernames cannot grow it without bound."""

    max_failures: int = 5
    window_ms: int = 60_000
    block_ms: int = 300_000
    max_keys: int = 100_000
    _failures: dict[str, deque[int]] = field(default_factory=dict)
    _blocked_until: dict[str, int] = field(default_factory=dict)

    def blocked(self, key: str, now_ms: int) -> bool:
        until = self._blocked_until.get(key)
        return until is not None and now_ms < until

    def failed(self, key: str, now_ms: int) -> bool:
        """Count a failure; True when the key is now blocked."""
        times = self._failures.get(key)
        if times is None:
            if len(self._failures) >= self.max_keys:
                del self._failures[next(iter(self._failures))]
            times = self._failures[key] = deque()
        times.append(now_ms)
        while times and times[0] <= now_ms - self.window_ms:
            times.popleft()
        if len(times) >= self.max_failures:
            self._blocked_until[key] = now_ms + self.block_ms
            times.clear()
            return True
        return False

    def sweep(self, now_ms: int) -> None:
        for key in [k for k, until in self._blocked_until.items() if until <= now_ms]:
            del self._blocked_until[key]
        for key in [
            k for k, t in self._failures.items() if not t or t[-1] <= now_ms - self.window_ms
        ]:
            del self._failures[key]

    def __len__(self) -> int:
        return len(self._failures) + len(self._blocked_until)
