"""Users and API keys over REST (routes_identity) against the in-memory directory
(analytics_directory_fakes): a password hashed with argon2id before it reaches the directory
and never answered; a replacement without a password sends no hash (the directory keeps the
current one); an API key's token answered once, only its scrypt hash stored; bodies checked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gateway_fakes import World, make_world

from hotline_platform import credentials, identity

BASE = "/v1/tenants/acme"
PASSWORD = "a long enough password"


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    yield w
    w.client.close()


def _stored(world: World, key: str) -> dict[str, object]:
    return dict(world.directory.entities[key].fields)


def test_create_replace_and_remove_a_user_password_hashed_never_shown(world: World) -> None:
    body = {"user_id": "nina", "display_name": "Nina", "roles": ["supervisor"],
            "locale": "zh-CN", "password": PASSWORD}
    created = world.post(f"{BASE}/users", json=body, headers={"Idempotency-Key": "u1"})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{BASE}/users/nina"
    assert created.headers["ETag"] == '"1"'
    shown = created.json()
    assert (shown["user_id"], shown["roles"], shown["locale"]) == ("nina", ["supervisor"],
                                                                   "zh-CN")
    assert "password" not in shown and "password_hash" not in shown
    assert PASSWORD not in created.text and "argon2" not in created.text
    stored = _stored(world, "user/acme/nina")
    assert str(stored["password_hash"]).startswith("$argon2id$")
    assert identity.verify_password(str(stored["password_hash"]), PASSWORD)
    assert PASSWORD not in repr(stored)

    listed = world.get(f"{BASE}/users")
    assert [u["user_id"] for u in listed.json()["items"]] == ["nina"]
    assert "argon2" not in listed.text and "argon2" not in world.get(f"{BASE}/users/nina").text

    # A replacement without a password sends no hash: the directory keeps the current one.
    path = f"{BASE}/users/nina"
    renamed = world.client.request(
        "PUT", path, json={"display_name": "Nina L.", "roles": ["supervisor", "qa_evaluator"]},
        headers=world.headers(**{"If-Match": '"1"'}),
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["roles"] == ["supervisor", "qa_evaluator"]
    assert _stored(world, "user/acme/nina")["password_hash"] == ""
    changed = world.client.request(
        "PUT", path, json={"roles": ["supervisor"], "password": "another long password"},
        headers=world.headers(**{"If-Match": '"2"'}),
    )
    assert changed.status_code == 200
    assert identity.verify_password(
        str(_stored(world, "user/acme/nina")["password_hash"]), "another long password"
    )
    stale = world.client.request("DELETE", path, headers=world.headers(**{"If-Match": '"1"'}))
    assert stale.status_code == 412 and stale.headers["ETag"] == '"3"'
    gone = world.client.request("DELETE", path, headers=world.headers(**{"If-Match": '"3"'}))
    assert gone.status_code == 204
    assert world.get(path).status_code == 404


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"user_id": "x", "roles": ["agent"], "password": "short"}, "body.password"),
        ({"user_id": "x", "roles": ["operator"]}, "body.roles.0"),  # operator staff: no tenant
        ({"user_id": "x", "roles": []}, "body.roles"),
        ({"user_id": "x", "roles": ["agent"], "locale": "fr"}, "body.locale"),
        ({"user_id": "x", "roles": ["agent"], "password_hash": "$argon2id$..."},
         "body.password_hash"),  # hashes are made here, never accepted
        ({"user_id": "no way!", "roles": ["agent"]}, "body.user_id"),
    ],
)
def test_user_bodies_are_checked(world: World, body: dict[str, object], location: str) -> None:
    refused = world.post(f"{BASE}/users", json=body)
    assert refused.status_code == 422, refused.text
    assert location in [e["location"] for e in refused.json()["errors"]]
    assert "user/acme/x" not in world.directory.entities


def test_an_api_key_token_is_answered_once_and_only_its_hash_is_kept(world: World) -> None:
    created = world.post(f"{BASE}/api-keys",
                         json={"name": "crm", "scopes": ["queue.stats.read", "report.read"]})
    assert created.status_code == 201, created.text
    issued = created.json()
    token, key_id = issued["token"], issued["key_id"]
    assert token.startswith(f"hk_{key_id}_") and identity.parse_api_key(token) == key_id
    assert created.headers["Location"] == f"{BASE}/api-keys/{key_id}"
    assert created.headers["Cache-Control"] == "no-store"
    assert issued["scopes"] == ["queue.stats.read", "report.read"] and issued["name"] == "crm"
    stored = _stored(world, f"api_key/acme/{key_id}")
    assert token not in repr(stored) and credentials.verify(token, str(stored["secret_hash"]))
    for read in (world.get(f"{BASE}/api-keys"), world.get(f"{BASE}/api-keys/{key_id}")):
        assert read.status_code == 200, read.text
        assert token not in read.text and "scrypt" not in read.text and "token" not in read.text
    revoked = world.client.request("DELETE", f"{BASE}/api-keys/{key_id}",
                                   headers=world.headers())
    assert revoked.status_code == 204
    assert world.get(f"{BASE}/api-keys/{key_id}").status_code == 404


@pytest.mark.parametrize(
    "scopes", [[], ["agent.state.write_own"], ["no.such.permission"]]
)
def test_api_key_scopes_are_checked(world: World, scopes: list[str]) -> None:
    refused = world.post(f"{BASE}/api-keys", json={"scopes": scopes})
    assert refused.status_code == 422, refused.text
    assert not any(k.startswith("api_key/") for k in world.directory.entities)


def test_key_ids_in_paths_are_checked(world: World) -> None:
    assert world.get(f"{BASE}/api-keys/NOT-A-KEY").status_code == 422
