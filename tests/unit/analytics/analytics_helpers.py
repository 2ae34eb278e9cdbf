"""Helpers shared by the analytics unit tests."""

from __future__ import annotations

from support.analytics_sink import FakeRecord, record_of

__all__ = ["FakeRecord", "record_of"]
