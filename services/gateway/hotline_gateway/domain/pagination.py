"""Cursor pagination over a collection ordered by a unique key.

A cursor is opaque to clients: base64url of `{"c": <collection>, "k": <last key seen>}`.
It names the *position* (the key after which the next page starts), not an offset, so a page
boundary stays put when items are added or removed before it; a cursor minted for one
collection is refused by another. Clients must treat it as opaque: its content may change.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_CURSOR_CHARS = 512


class BadCursor(ValueError):
    """The cursor was not minted by this gateway for this collection."""


def encode_cursor(collection: str, after_key: str) -> str:
    raw = json.dumps({"c": collection, "k": after_key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(collection: str, cursor: str) -> str:
    """The key after which the page starts; BadCursor unless minted for `collection`."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise BadCursor("cursor too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("not a cursor of this API") from exc
    if not isinstance(data, dict) or not isinstance(data.get("k"), str):
        raise BadCursor("not a cursor of this API")
    if data.get("c") != collection:
        raise BadCursor("a cursor of another collection")
    return str(data["k"])


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None  # None: this is the last page


def paginate(
    items: Sequence[T],
    key: Callable[[T], str],
    collection: str,
    limit: int,
    cursor: str | None = None,
) -> Page[T]:
    """The page of `items` (any order in; key order out) after `cursor`, at most `limit`."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    ordered = sorted(items, key=key)
    if cursor:
        after = decode_cursor(collection, cursor)
        ordered = [item for item in ordered if key(item) > after]
    page = tuple(ordered[:limit])
    more = len(ordered) > limit
    return Page(page, encode_cursor(collection, key(page[-1])) if more and page else None)
