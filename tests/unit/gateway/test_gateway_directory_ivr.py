"""An IVR entry point over REST: its flow is written and read back in the directory's shape
(the in-memory directory of analytics_directory_fakes; the rules are the directory's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gateway_fakes import World, make_world

BASE = "/v1/tenants/acme"
FLOW = {
    "language": "en",
    "hours": {
        "time_zone": "Europe/Berlin",
        "open": [{"days": ["mon", "fri"], "opens": "08:00", "closes": "20:00"}],
        "holidays": ["2026-12-25"],
        "closed": "closed_msg",
    },
    "start": "lang",
    "nodes": {
        "lang": {"menu": {"prompt": "choose_language", "on_failure": "en", "options": {
            "1": {"language": "en", "next": "en"}, "2": {"language": "de", "next": "de"}}}},
        "en": {"route": {"queue_id": "support-en", "priority": 2, "intent": "billing"}},
        "de": {"route": {"queue_id": "support-de", "language": "de"}},
        "closed_msg": {"message": {"prompt": "closed"}},
    },
}


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    yield w
    w.client.close()


def test_an_ivr_entry_point_is_written_and_read_back(world: World) -> None:
    created = world.post(f"{BASE}/directory/entry-points",
                         json={"address": "4930111", "kind": "ivr", "ivr": FLOW})
    assert created.status_code == 201, created.text
    got = world.get(f"{BASE}/directory/entry-points/4930111").json()
    assert got["kind"] == "ivr"
    nodes = got["ivr"]["nodes"]
    assert nodes["lang"]["menu"]["options"]["2"] == {"language": "de", "next": "de"}
    assert nodes["lang"]["menu"]["timeout_ms"] == 5_000  # the defaults are filled in
    assert nodes["en"]["route"]["priority"] == 2 and nodes["closed_msg"]["message"]["next"] == (
        "hangup"
    )
    assert got["ivr"]["hours"]["holidays"] == ["2026-12-25"]


@pytest.mark.parametrize(
    "bad",
    [
        {"options": {"x": {"next": "en"}}},  # not a DTMF key
        {"options": {"1": {}}},  # an option without next
        {"colour": "red"},
    ],
)
def test_a_malformed_menu_is_refused(world: World, bad: dict[str, object]) -> None:
    menu = {"prompt": "choose_language", "options": {"1": {"next": "en"}}, **bad}
    flow = {**FLOW, "nodes": {**FLOW["nodes"], "lang": {"menu": menu}}}  # type: ignore[dict-item]
    refused = world.post(f"{BASE}/directory/entry-points",
                         json={"address": "4930112", "kind": "ivr", "ivr": flow})
    assert refused.status_code == 422, refused.text
