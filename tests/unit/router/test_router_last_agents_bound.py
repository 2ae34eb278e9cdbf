"""The "last agent who served this customer" memory is bounded: the newest customers by
completion are kept, whatever the order their contacts were folded in."""

from __future__ import annotations

import random

import pytest

from hotline_router.domain import fold
from hotline_router.domain.model import Interaction, TenantState


def _completed(customer: str, at_ms: int) -> Interaction:
    it = Interaction(interaction_id=f"i-{customer}", customer=customer)
    it.completed_at_ms, it.completed_by = at_ms, f"agent-{at_ms % 7}"
    return it


def test_the_memory_keeps_the_newest_customers_and_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fold, "LAST_AGENTS_KEPT", 100)
    tenant = TenantState()
    order = list(range(1_000))
    random.Random(4).shuffle(order)
    for n in order:
        fold._record_handled(tenant, _completed(f"c{n}", 1_000 + n))
        assert len(tenant.last_agents) <= 110
    # The 100 newest are always there (older ones may linger until the next pruning).
    assert {f"c{n}" for n in range(900, 1_000)} <= set(tenant.last_agents)
    assert tenant.last_agents["c999"] == (1_999, "agent-4")
