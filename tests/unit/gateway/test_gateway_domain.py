"""The gateway's pure rules: cursors, token buckets, entity tags, idempotency records; and
the domain imports nothing but the standard library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hotline_gateway.domain
from hotline_gateway.domain.etag import if_match_passes, parse_entity_tags, strong_etag
from hotline_gateway.domain.idempotency import (
    Outcome,
    Record,
    StoredResponse,
    decide,
    fingerprint,
    keeps,
    valid_key,
)
from hotline_gateway.domain.pagination import BadCursor, decode_cursor, encode_cursor, paginate
from hotline_gateway.domain.ratelimit import Limit, TokenBucket


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    allowed = {"__future__", "base64", "binascii", "collections", "dataclasses", "datetime", "enum",
               "hashlib", "json", "re", "typing", "hotline_gateway"}
    for path in sorted(Path(hotline_gateway.domain.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
                if name.startswith("hotline_gateway"):
                    assert name.startswith("hotline_gateway.domain"), f"{path.name}: {name}"


# --- pagination ----------------------------------------------------------------------------


def test_pages_follow_key_order_and_end_without_a_cursor() -> None:
    items = ["c", "a", "e", "b", "d"]
    first = paginate(items, str, "letters", 2)
    assert first.items == ("a", "b") and first.next_cursor
    second = paginate(items, str, "letters", 2, first.next_cursor)
    assert second.items == ("c", "d")
    third = paginate(items, str, "letters", 2, second.next_cursor)
    assert third.items == ("e",) and third.next_cursor is None
    exact = paginate(items, str, "letters", 5)
    assert exact.next_cursor is None and len(exact.items) == 5


def test_a_cursor_is_a_position_not_an_offset() -> None:
    first = paginate(["a", "b", "c", "d"], str, "letters", 2)
    assert first.next_cursor is not None
    # "a" was removed and "aa" added before the boundary: the next page still starts after "b".
    after = paginate(["aa", "b", "c", "d"], str, "letters", 2, first.next_cursor)
    assert after.items == ("c", "d")


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", encode_cursor("other", "x"),
                                    "eyJjIjoibGV0dGVycyJ9", "x" * 600])
def test_foreign_or_broken_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor("letters", cursor)


def test_cursor_round_trip_with_any_key() -> None:
    key = "agent/ü 1=&?"
    assert decode_cursor("agents", encode_cursor("agents", key)) == key
    assert "=" not in encode_cursor("agents", key)


# --- token bucket --------------------------------------------------------------------------


def test_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(Limit(rate_per_s=10, burst=3), now=0.0)
    assert [bucket.take(0.0).allowed for _ in range(4)] == [True, True, True, False]
    refused = bucket.take(0.0)
    assert refused.retry_after_s == pytest.approx(0.1)
    assert bucket.take(0.1).allowed and not bucket.take(0.1).allowed
    assert bucket.take(100.0).remaining == pytest.approx(2.0)  # refilled to the burst only


def test_unlimited_bucket_never_refuses() -> None:
    bucket = TokenBucket(Limit(0, 1), 0.0)
    assert all(bucket.take(0.0).allowed for _ in range(1000))


# --- entity tags ---------------------------------------------------------------------------


def test_etag_is_strong_and_depends_on_the_fields_only() -> None:
    tag = strong_etag({"b": 1, "a": [1, 2]})
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert tag == strong_etag({"a": [1, 2], "b": 1})
    assert tag != strong_etag({"a": [1, 2], "b": 2})


def test_if_match_uses_strong_comparison() -> None:
    tag = '"abc"'
    assert if_match_passes('"abc"', tag)
    assert if_match_passes('"x", "abc"', tag)
    assert if_match_passes("*", tag)
    assert not if_match_passes('W/"abc"', tag)
    assert not if_match_passes('"abd"', tag)
    assert not if_match_passes("abc", tag)  # not a quoted tag: fails, never errors
    assert parse_entity_tags(' W/"a" ,"b"') == (False, ('W/"a"', '"b"'))


# --- idempotency ---------------------------------------------------------------------------


def test_fingerprint_compares_json_by_value() -> None:
    a = fingerprint("post", "/x", b'{"a": 1, "b": [1, 2]}')
    assert a == fingerprint("POST", "/x", b'{"b":[1,2],"a":1}')
    assert a != fingerprint("POST", "/x", b'{"b":[2,1],"a":1}')
    assert a != fingerprint("POST", "/y", b'{"b":[1,2],"a":1}')
    assert fingerprint("POST", "/x", b"") == fingerprint("POST", "/x", b"  ")
    assert fingerprint("POST", "/x", b"not json") != fingerprint("POST", "/x", b"not json!")


def test_idempotency_decisions() -> None:
    done = Record("f", expires_at=10.0, response=StoredResponse(200, (), b"{}"))
    running = Record("f", expires_at=10.0)
    assert decide(None, "f", 0.0) is Outcome.EXECUTE
    assert decide(done, "f", 0.0) is Outcome.REPLAY
    assert decide(done, "g", 0.0) is Outcome.MISMATCH
    assert decide(running, "f", 0.0) is Outcome.IN_PROGRESS
    assert decide(done, "g", 10.0) is Outcome.EXECUTE  # expired
    assert keeps(200) and keeps(409) and keeps(422)
    assert not keeps(429) and not keeps(500) and not keeps(503)
    assert valid_key("a1-b2") and not valid_key("") and not valid_key("a b")
    assert not valid_key("x" * 256)
