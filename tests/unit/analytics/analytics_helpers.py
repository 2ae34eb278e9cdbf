"""Helpers shared by the analytics unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotline_platform import codec


@dataclass
class FakeRecord:
    _topic: str
    _value: bytes | None
    _key: bytes | None = None
    _partition: int = 3
    _offset: int = 42

    def topic(self) -> str | None:
        return self._topic

    def partition(self) -> int | None:
        return self._partition

    def offset(self) -> int | None:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value


def record_of(topic: Any, event: Any) -> FakeRecord:
    """The Kafka record a publisher would produce for `event` on `topic`."""
    return FakeRecord(topic.name, codec.encode(event), event.envelope.tenant_id.encode())
