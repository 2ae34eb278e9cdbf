"""Fixtures of ingress-sip's unit tests."""

from __future__ import annotations

import pytest
from ingress_sip_harness import Harness


@pytest.fixture
def sip() -> Harness:
    return Harness()
