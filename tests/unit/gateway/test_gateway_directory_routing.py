"""A queue's routing and treatment settings, an entry point's priority and a site's drained
flag over REST: the shapes carry every field of the directory's definitions, a PUT then GET
gives them back (through the gRPC adapter's mapping to the contract messages: the fake
directory stores those), a PUT leaving them out resets them to the defaults (what the OpenAPI
says a replace is), and an operator drains a site with a PUT."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gateway_fakes import CREDENTIALS, World, make_world, tenancy_config
from google.protobuf.message import Message
from pydantic import BaseModel
from support.authz_matrix import Caller as MatrixCaller
from support.identity_fakes import MatrixIdentities

from hotline.directory.v1 import events_pb2 as pb
from hotline_gateway.adapters.http import schemas_directory as s
from hotline_gateway.adapters.http.app import create_app
from hotline_platform.policy import Role

BASE = "/v1/tenants/acme"
QUEUE_PATH = f"{BASE}/directory/queues/vip"
# Every routing and treatment field away from its default, as the directory answers it.
ROUTING: dict[str, Any] = {
    "strategy": "most_skilled",
    "any_language": True,
    "priority_aging_ms": 30_000,
    "home_site_id": "lisbon",
    "site_overflow_ms": 20_000,
    "expansions": [
        {"after_ms": 10_000, "relax_levels_by": 1, "add_skills": [], "add_sites": [],
         "add_queue_id": ""},
        {"after_ms": 40_000, "relax_levels_by": 0, "add_skills": [{"name": "sales", "level": 2}],
         "add_sites": ["*"], "add_queue_id": "q1"},
    ],
    "preferred_agent_timeout_ms": 15_000,
    "prefer_last_agent": True,
    "max_wait_ms": 300_000,
    "when_no_agents": True,
    "flow_out": {"kind": "queue", "queue_id": "q1"},
    "hours": {"time_zone": "Europe/Lisbon",
              "open": [{"days": ["mon", "fri"], "opens": "08:00", "closes": "20:00"}],
              "holidays": ["2026-12-25"], "closed": "hangup"},
    "closed": {"kind": "callback", "queue_id": ""},
    "closed_prompt": "closed",
    "callback_after_ms": 120_000,
}
VERSIONED = {"version", "changed_by"}


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    yield w
    w.client.close()


def _names(shape: type[BaseModel]) -> set[str]:
    return set(shape.model_fields)


def _proto_names(message: type[Message]) -> set[str]:
    return {f.name for f in message.DESCRIPTOR.fields}


@pytest.mark.parametrize(
    ("message", "written", "read", "ids"),
    [
        (pb.QueueDefined, s.QueueIn, s.QueueOut, {"tenant_id", "queue_id"}),
        (pb.EntryPointDefined, s.EntryPointIn, s.EntryPointOut, {"tenant_id", "address"}),
        (pb.SiteDefined, s.SiteIn, s.SiteOut, {"site_id"}),
        (pb.RoutingStep, s.RoutingStepIn, s.RoutingStepIn, set()),
        (pb.FlowOutTarget, s.FlowOutTargetIn, s.FlowOutTargetIn, set()),
        (pb.BusinessHours, s.BusinessHours, s.BusinessHours, set()),
    ],
)
def test_the_rest_shapes_carry_every_field_of_the_definition(
    message: type[Message], written: type[BaseModel], read: type[BaseModel], ids: set[str]
) -> None:
    """A field the contract gains fails here until the REST shapes carry it (else a PUT
    would silently reset it)."""
    assert _names(written) == _proto_names(message) - ids
    assert _names(read) - VERSIONED == _proto_names(message)


def _put(world: World, path: str, json: Any, headers: dict[str, str] | None = None) -> Any:
    return world.client.request("PUT", path, json=json,
                                headers=headers if headers is not None else world.headers())


def _create_vip(world: World) -> None:
    created = world.post(f"{BASE}/directory/queues", json={
        "queue_id": "vip", "required_skills": [{"name": "vip", "level": 1}], **ROUTING,
        "entry_points": [{"address": "+35121000009", "site_id": "lisbon", "priority": 4}],
    })
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in ROUTING} == ROUTING
    entry = world.get(f"{BASE}/directory/entry-points/+35121000009").json()
    assert entry["priority"] == 4


def test_a_queue_with_every_routing_field_is_put_and_read_back(world: World) -> None:
    _create_vip(world)
    changed = {**ROUTING, "strategy": "round_robin", "closed": {"kind": "", "queue_id": ""},
               "expansions": ROUTING["expansions"][1:]}
    put = _put(world, QUEUE_PATH, {"required_skills": [{"name": "vip"}], **changed})
    assert put.status_code == 200, put.text
    got = world.get(QUEUE_PATH).json()
    assert {k: got[k] for k in ROUTING} == changed
    assert got["version"] == 2
    stored = world.directory.entities["queue/acme/vip"].fields  # QueueDefined's fields
    assert stored["strategy"] == "round_robin" and stored["flow_out"]["queue_id"] == "q1"


def test_a_replace_leaving_them_out_resets_them_to_the_defaults(world: World) -> None:
    _create_vip(world)
    put = _put(world, QUEUE_PATH, {"required_skills": [{"name": "vip"}]})
    assert put.status_code == 200, put.text
    got = world.get(QUEUE_PATH).json()
    defaults = s.QueueRouting().model_dump()
    assert {k: got[k] for k in ROUTING} == defaults
    assert (defaults["strategy"], defaults["expansions"], defaults["hours"]) == ("", [], None)
    # ... because a replace is the whole definition, as the API says.
    operation = create_app().openapi()["paths"][
        "/v1/tenants/{tenant_id}/directory/queues/{queue_id}"]["put"]
    assert "a field left out takes its default" in operation["summary"]


@pytest.mark.parametrize(
    ("field", "value", "location"),
    [
        ("max_wait_ms", -1, "body.max_wait_ms"),
        ("site_overflow_ms", 2**32, "body.site_overflow_ms"),
        ("expansions", [{"relax_levels_by": 1}], "body.expansions.0.after_ms"),
        ("flow_out", {"kind": "queue", "queue": "q1"}, "body.flow_out.queue"),
        ("home_site_id", "no site!", "body.home_site_id"),
    ],
)
def test_malformed_routing_settings_are_refused_with_where(
    world: World, field: str, value: Any, location: str
) -> None:
    _create_vip(world)
    refused = _put(world, QUEUE_PATH, {"required_skills": [{"name": "vip"}], field: value})
    assert refused.status_code == 422, refused.text
    assert location in [e["location"] for e in refused.json()["errors"]]


def test_an_entry_points_priority_is_written_and_read_back(world: World) -> None:
    created = world.post(f"{BASE}/directory/entry-points",
                         json={"address": "ep-gold", "queue_id": "q1", "priority": 7})
    assert created.status_code == 201, created.text
    assert world.get(f"{BASE}/directory/entry-points/ep-gold").json()["priority"] == 7
    bare = _put(world, f"{BASE}/directory/entry-points/ep-gold", {"queue_id": "q1"})
    assert bare.status_code == 200 and bare.json()["priority"] == 0
    too_high = world.post(f"{BASE}/directory/entry-points",
                          json={"address": "ep-x", "queue_id": "q1", "priority": 1001})
    assert too_high.status_code == 422


def test_an_operator_drains_a_site_with_a_put() -> None:
    identities = MatrixIdentities("acme", "globex", "acme-a1", "acme-a2", CREDENTIALS)
    config = tenancy_config()

    def tenant_of(token: str) -> str | None:
        found = config.tenant_for_credential(token)
        return found.id if found else None

    world = make_world(resolver=identities.resolver(tenant_of, config.credential_is_cached))
    operator = MatrixCaller("operator_listed", "user", frozenset({Role.OPERATOR}))
    as_operator = {"Authorization": f"Bearer {identities.token(operator)}"}
    path = f"{BASE}/directory/sites/lisbon"
    try:
        assert world.get(path).json()["drained"] is False
        # A tenant may read the site, not drain it.
        assert _put(world, path, {"name": "Lisbon", "drained": True}).status_code == 403
        drained = _put(world, path, {"name": "Lisbon", "drained": True}, as_operator)
        assert drained.status_code == 200, drained.text
        assert drained.json()["drained"] is True and drained.json()["name"] == "Lisbon"
        assert world.directory.entities["site/lisbon"].fields["drained"] is True
        assert world.get(path).json()["drained"] is True
        # A replace without the flag undrains it.
        back = _put(world, path, {"name": "Lisbon"}, as_operator)
        assert back.status_code == 200 and back.json()["drained"] is False
    finally:
        world.client.close()
