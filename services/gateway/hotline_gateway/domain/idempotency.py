"""Idempotency-Key (IETF draft "The Idempotency-Key HTTP Header Field"): a client retrying a
POST with the same key gets the first response again instead of a second effect.

* Keys are scoped to the caller (principal) and the tenant: two callers never share one.
* The request is identified by a fingerprint of method, path and body (JSON compared by
  value, so key order and whitespace do not matter). The same key with another fingerprint is
  a client error (422); while the first request still runs, a second gets 409.
* What is kept: the response as sent (status, headers, body), unless it says nothing about
  the effect: 5xx and 429 are not kept (the key is released and a retry runs again), so a
  retry after a crash or an overload does the work once the backend is back.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from enum import Enum

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as the draft's sf-string


def valid_key(key: str) -> bool:
    return bool(KEY_PATTERN.match(key))


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Same request, same fingerprint. JSON bodies are compared by value."""
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":")
        ).encode() if body.strip() else b""
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def keeps(status: int) -> bool:
    """Is a response with this status the outcome to replay? (not 5xx, not 429)"""
    return status < 500 and status != 429


@dataclass(frozen=True)
class Record:
    fingerprint: str
    expires_at: float  # monotonic seconds
    response: StoredResponse | None = None  # None: the first request is still running


class Outcome(Enum):
    EXECUTE = "execute"  # first time: run it (the key is now held)
    REPLAY = "replay"  # answered before: send the stored response
    MISMATCH = "mismatch"  # the key was used for another request
    IN_PROGRESS = "in_progress"  # the first request has not finished


def decide(record: Record | None, request_fingerprint: str, now: float) -> Outcome:
    if record is None or record.expires_at <= now:
        return Outcome.EXECUTE
    if record.fingerprint != request_fingerprint:
        return Outcome.MISMATCH
    return Outcome.IN_PROGRESS if record.response is None else Outcome.REPLAY
