"""The snapshot fingerprint follows the shape of the router's domain classes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hotline_router.adapters.snapshots import state_fingerprint
from hotline_router.domain import model


def test_fingerprint_is_stable_and_changes_when_a_state_class_gains_a_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = state_fingerprint()
    assert state_fingerprint() == before

    @dataclass
    class Agent(model.Agent):  # the same class name and module, one field more
        new_field: int = 0

    Agent.__module__ = model.__name__
    monkeypatch.setattr(model, "Agent", Agent)
    assert state_fingerprint() != before
