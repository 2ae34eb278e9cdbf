"""The directory and analytics routes over in-memory backends (analytics_directory_fakes):
creation with Idempotency-Key, 201, Location and ETag; replacement and removal with If-Match
(412 with the current ETag); the directory's refusals as 422 listing every reason; a batch;
interactions paged with their filters kept in the next link; contacts; the KPI report."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from analytics_directory_fakes import summary
from gateway_fakes import World, make_world

BASE = "/v1/tenants/acme"
QUEUE = {"queue_id": "vip", "required_skills": [{"name": "vip", "level": 1}],
         "entry_points": [{"address": "+35121000009", "site_id": "lisbon"}]}


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    yield w
    w.client.close()


def test_create_replace_and_delete_a_queue_with_versions(world: World) -> None:
    created = world.post(f"{BASE}/directory/queues", json=QUEUE,
                         headers={"Idempotency-Key": "k1"})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{BASE}/directory/queues/vip"
    assert created.headers["ETag"] == '"1"'
    body = created.json()
    assert (body["queue_id"], body["version"], body["changed_by"]) == ("vip", 1, "tenant:acme")
    assert body["service_level_threshold_s"] == 20 and body["ring_timeout_ms"] == 15_000
    # the entry point came with it
    ep = world.get(f"{BASE}/directory/entry-points/+35121000009")
    assert ep.status_code == 200 and ep.json()["queue_id"] == "vip"
    # the same key again: the first answer; again without a key: it exists (409)
    again = world.post(f"{BASE}/directory/queues", json=QUEUE, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    exists = world.post(f"{BASE}/directory/queues", json=QUEUE)
    assert exists.status_code == 409, exists.text

    path = f"{BASE}/directory/queues/vip"
    change = {"required_skills": [{"name": "vip", "level": 2}], "priority": 5}
    stale = world.client.request("PUT", path, json=change,
                                 headers=world.headers(**{"If-Match": '"7"'}))
    assert stale.status_code == 412 and stale.headers["ETag"] == '"1"'
    assert stale.headers["content-type"] == "application/problem+json"
    replaced = world.client.request("PUT", path, json=change,
                                    headers=world.headers(**{"If-Match": '"1"'}))
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["ETag"] == '"2"' and replaced.json()["priority"] == 5
    listed = world.get(f"{BASE}/directory/queues")
    assert [q["queue_id"] for q in listed.json()["items"]] == ["vip"]

    gone = world.client.request("DELETE", path, headers=world.headers(**{"If-Match": '"1"'}))
    assert gone.status_code == 412
    deleted = world.client.request("DELETE", path, headers=world.headers(**{"If-Match": '"2"'}))
    assert deleted.status_code == 204 and deleted.content == b""
    assert world.get(path).status_code == 404


def test_refusals_list_every_reason_and_bodies_are_checked(world: World) -> None:
    refused = world.post(f"{BASE}/directory/queues", json={"queue_id": "bare"})
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"] == "/v1/problems/invalid-request"
    assert [e["message"] for e in problem["errors"]] == [
        "queue/acme/bare: needs a skill", "queue/acme/bare: no entry point reaches it"
    ]
    bad = world.post(f"{BASE}/directory/agents", json={"agent_id": "no way!", "phone": "sip:x"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["location"] == "body.agent_id"
    unknown_field = world.post(f"{BASE}/directory/agents",
                               json={"agent_id": "a9", "phone": "sip:x", "colour": "red"})
    assert unknown_field.status_code == 422


def test_another_tenants_entities_are_not_found(world: World) -> None:
    assert world.post(f"{BASE}/directory/entry-points",
                      json={"address": "ep-acme", "queue_id": "q1"}).status_code == 201
    assert world.get("/v1/tenants/globex/directory/entry-points/ep-acme",
                     tenant="globex").status_code == 404
    tenant = world.get(BASE)
    assert tenant.status_code == 200 and tenant.headers["ETag"] == '"1"'
    assert "credential_hash" not in tenant.json()
    sites = world.get(f"{BASE}/directory/sites").json()["items"]
    assert [s["site_id"] for s in sites] == ["lisbon"]


def test_a_batch_of_changes_and_its_item_errors(world: World) -> None:
    batch = {"changes": [
        {"action": "define", "kind": "agent", "id": "a7",
         "entity": {"phone": "sip:a7@127.0.0.1", "skills": [{"name": "vip"}]}},
        {"action": "define", "kind": "queue", "id": "vip", "version": 0,
         "entity": {"required_skills": [{"name": "vip"}]}},
    ]}
    dry = world.post(f"{BASE}/directory/changes", json={**batch, "dry_run": True})
    assert dry.status_code == 200 and dry.json()["applied"] is False
    assert world.get(f"{BASE}/directory/agents/a7").status_code == 404
    done = world.post(f"{BASE}/directory/changes", json=batch)
    assert done.status_code == 200 and done.json()["applied"] is True
    assert [e["key"] for e in done.json()["entities"]] == ["agent/acme/a7", "queue/acme/vip"]
    wrong = world.post(f"{BASE}/directory/changes", json={"changes": [
        {"action": "define", "kind": "agent", "id": "a8", "entity": {"skills": "all"}}]})
    assert wrong.status_code == 422
    assert {e["location"] for e in wrong.json()["errors"]} == {
        "body.changes.0.entity.skills", "body.changes.0.entity.phone"
    }


def test_interactions_are_paged_with_their_filters(world: World) -> None:
    world.reports.interactions = [summary(f"i{n}") for n in range(5)]
    first = world.get(f"{BASE}/interactions", params={
        "limit": 2, "queue": "support", "channel": "voice", "customer": "phone:+351910000001",
        "from": "2026-11-03T00:00:00", "to": "2026-11-04T00:00:00Z",
    })
    assert first.status_code == 200, first.text
    page = first.json()
    assert [i["interaction_id"] for i in page["items"]] == ["i0", "i1"]
    query = parse_qs(urlsplit(page["next"]).query)
    assert query["queue"] == ["support"] and query["customer"] == ["phone:+351910000001"]
    assert query["from"] == ["2026-11-03T00:00:00+00:00"]
    assert first.headers["Link"] == f'<{page["next"]}>; rel="next"'
    second = world.get(page["next"])
    assert [i["interaction_id"] for i in second.json()["items"]] == ["i2", "i3"]
    asked = world.reports.asked[0][1][0]
    assert (asked.queue_id, asked.channel, asked.identity.kind) == ("support", "voice", "phone")

    one = world.get(f"{BASE}/interactions/i3")
    assert one.status_code == 200 and one.json()["events"][0]["kind"] == "arrived"
    assert world.get(f"{BASE}/interactions/nope").status_code == 404
    empty = world.get(f"{BASE}/interactions", params={"from": "2026-11-04T00:00:00Z",
                                                       "to": "2026-11-03T00:00:00Z"})
    assert empty.status_code == 422
    foreign = world.get(f"{BASE}/interactions", params={"cursor": "eyJjIjoiYWdlbnRzIiwiayI6IngifQ"})
    assert foreign.status_code == 422


def test_customer_contacts_and_the_kpi_report(world: World) -> None:
    world.reports.interactions = [summary("i1"), summary("i2")]
    contacts = world.get(f"{BASE}/customers/phone:+351910000001/contacts",
                         params={"limit": 1, "exclude_interaction_id": "i9"})
    assert contacts.status_code == 200
    assert [c["interaction_id"] for c in contacts.json()["items"]] == ["i1"]
    assert world.get(f"{BASE}/customers/shoe:9/contacts").status_code == 422
    report = world.get(f"{BASE}/reports/kpi", params=[("queue", "support"), ("queue", "sales"),
                                                     ("from", "2026-11-03T00:00:00Z")])
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["period"]["from"].startswith("2026-11-03T00:00:00")
    assert body["queues"][0]["service_level_met"] is False
    assert world.reports.asked[-1][1][2] == ("support", "sales")
    assert body["split"] is None and body["total_splits"] == []
    assert body["queues"][0]["splits"] == []
    split = world.get(f"{BASE}/reports/kpi", params=[("split_by", "priority_band"),
                                                    ("priority_band_edge", "3"),
                                                    ("priority_band_edge", "8")])
    assert split.status_code == 200, split.text
    assert world.reports.asked[-1][1][3:] == ("priority_band", (3, 8))
    assert split.json()["split"]["by"] == "priority_band"
    assert split.json()["total_splits"][0]["figures"]["queued"] == 2
    assert world.get(f"{BASE}/reports/kpi", params={"split_by": "agent"}).status_code == 422
