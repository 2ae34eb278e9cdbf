"""The agent desktop's screen-pop route over the in-memory Reports backend
(analytics_directory_fakes): answered by Reports.ListCustomerContacts for the agent and the
interaction, an agent's refusal asked again while the offer may not be stored yet, then
answered as the backend's error. The rule itself (offered to that agent, that customer): the
analytics sink's tests; the route's tenant x role matrix: test_gateway_authz.py."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from analytics_directory_fakes import summary
from gateway_fakes import World, make_world

from hotline_gateway.application.reports import OFFER_WAIT_S

BASE = "/v1/tenants/acme/agents"


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    yield w
    w.client.close()


def test_the_screen_pop_asks_the_reports_api_for_the_agent_and_its_contact(
    world: World
) -> None:
    world.reports.interactions = [summary("i1"), summary("i2", "sales"), summary("i3")]
    reply = world.get(f"{BASE}/a1/contacts/i1/customer-contacts", params={"limit": 1})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["customer"] == "phone:+351910000001"
    assert [(c["interaction_id"], c["queue_id"], c["outcome"]) for c in body["items"]] == [
        ("i2", "sales", "answered")
    ]
    assert body["items"][0]["arrived_at"] == "2026-11-03T09:01:00Z"
    assert world.reports.asked[-1] == ("offered contacts", ("a1", "i1", 1))


def test_a_refusal_is_asked_again_while_the_offer_may_not_be_stored(world: World) -> None:
    world.reports.interactions = [summary("i1"), summary("i2")]
    world.reports.not_stored_yet = 2
    reply = world.get(f"{BASE}/a1/contacts/i1/customer-contacts")
    assert reply.status_code == 200, reply.text
    assert len(world.reports.asked) == 3

    # refused for good (an agent's 403): after the wait, as the backend's error
    world.reports.asked.clear()
    world.reports.not_stored_yet = 1000
    started = time.monotonic()
    refused = world.get(f"{BASE}/a1/contacts/i1/customer-contacts")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert OFFER_WAIT_S - 0.5 <= time.monotonic() - started < OFFER_WAIT_S + 2
    assert len(world.reports.asked) > 5

    # not found (a tenant-wide reader asking for an agent's contact): answered at once
    world.reports.asked.clear()
    world.reports.not_stored_yet = 0
    missing = world.get(f"{BASE}/a2/contacts/i1/customer-contacts")  # answered by a1
    assert missing.status_code == 404
    assert len(world.reports.asked) == 1
