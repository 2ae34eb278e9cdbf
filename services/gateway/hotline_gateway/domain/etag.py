"""Entity tags (RFC 9110 8.8.3) and the If-Match precondition (13.1.1).

A resource's tag is a strong validator of the fields that define its version, computed by
hashing their canonical JSON: equal fields, equal tag, on any replica, with no stored
version number.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def strong_etag(version_fields: Any) -> str:
    """`"<32 hex digits>"` of the canonical JSON of `version_fields` (JSON-able)."""
    canonical = json.dumps(version_fields, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def parse_entity_tags(header: str) -> tuple[bool, tuple[str, ...]]:
    """(is "*", the tags) of an If-Match / If-None-Match value; weak tags keep their W/."""
    text = header.strip()
    if text == "*":
        return True, ()
    tags = []
    rest = text
    while rest:
        rest = rest.lstrip(" \t,")
        if not rest:
            break
        weak = rest.startswith("W/")
        body = rest[2:] if weak else rest
        if not body.startswith('"'):
            raise ValueError(f"not an entity tag list: {header!r}")
        end = body.find('"', 1)
        if end < 0:
            raise ValueError(f"unterminated entity tag: {header!r}")
        tags.append(("W/" if weak else "") + body[: end + 1])
        rest = body[end + 1 :]
    if not tags:
        raise ValueError(f"no entity tag in {header!r}")
    return False, tuple(tags)


def if_match_passes(header: str, current: str) -> bool:
    """Strong comparison, as If-Match requires: a weak tag never matches; "*" matches any
    existing representation. A malformed header fails (the precondition is not met)."""
    try:
        any_tag, tags = parse_entity_tags(header)
    except ValueError:
        return False
    return any_tag or any(tag == current and not tag.startswith("W/") for tag in tags)
