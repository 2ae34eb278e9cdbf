"""The prompt routes over HTTP with an in-memory directory and content store (pure logic;
tests/integration/test_tenant_prompts.py runs them against the real directory, object store
and ingress-sip): upload, replace, list, metadata, download, remove; refusals with reasons;
another tenant's prompts are not found."""

from __future__ import annotations

import hashlib
import io
import wave
from collections.abc import Iterator

import pytest
from analytics_directory_fakes import FakeDirectory
from gateway_fakes import CREDENTIALS, TENANTS, Client, FakeRouter, FakeWfm, tenancy_config

from hotline_gateway.adapters.http.app import create_app
from hotline_gateway.adapters.http.deps import Components
from hotline_gateway.adapters.inprocess import InProcessIdempotencyStore, InProcessRateLimiter
from hotline_gateway.adapters.policy_identity import PolicyIdentity, tenancy_resolver
from hotline_gateway.application.access import AccessControl, Limits
from hotline_gateway.application.service import GatewayService
from hotline_gateway.domain.errors import NotFound
from hotline_gateway.domain.ratelimit import Limit
from hotline_platform import prompts


def wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(2 * round(seconds * rate)))
    return out.getvalue()


class FakeContent:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[str, bytes]] = {}
        self.reads: list[tuple[str, str, str]] = []

    async def put(self, tenant_id: str, data: bytes, content_type: str, *, purpose: str) -> str:
        digest = hashlib.sha256(data).hexdigest()
        ref = f"hotline-content://{tenant_id}/{len(self.objects):032x}?sha256={digest}"
        self.objects[ref] = (tenant_id, data)
        return ref

    async def get(self, ref: str, *, caller_tenant: str, reader: str, purpose: str) -> bytes:
        self.reads.append((caller_tenant, reader, purpose))
        tenant, data = self.objects.get(ref, ("", b""))
        if tenant != caller_tenant:
            raise NotFound(ref)
        return data


@pytest.fixture
def world() -> Iterator[tuple[Client, FakeContent]]:
    content, router = FakeContent(), FakeRouter()
    directory = FakeDirectory()
    for tenant in TENANTS:
        directory.seed(tenant)
    components = Components(
        gateway=GatewayService(
            agents=router, queues=router, staffing=FakeWfm(), directory=directory,
            content=content,
        ),
        access=AccessControl(
            PolicyIdentity(tenancy_resolver(tenancy_config())), InProcessRateLimiter(),
            Limits(Limit(0, 10), Limit(0, 1)),
        ),
        idempotency=InProcessIdempotencyStore(ttl_s=60),
    )
    client = Client(create_app(components, access_log="off"))
    yield client, content
    client.close()


def auth(tenant: str = "acme", **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {CREDENTIALS[tenant]}", "Content-Type": "audio/wav",
            **extra}


BASE = "/v1/tenants/acme/prompts"


def test_upload_replace_list_download_remove(world: tuple[Client, FakeContent]) -> None:
    client, content = world
    first = wav(1.0)
    created = client.request("PUT", f"{BASE}/en/welcome", content=first, headers=auth())
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == f"{BASE}/en/welcome"
    body = created.json()
    assert body | {"changed_by": ""} == {
        "tenant_id": "acme", "language": "en", "name": "welcome", "duration_ms": 1000,
        "sha256": hashlib.sha256(first).hexdigest(), "audio": f"{BASE}/en/welcome/audio",
        "version": 1, "changed_by": "",
    }
    second = wav(2.5)
    stale = client.request("PUT", f"{BASE}/en/welcome", content=second,
                           headers=auth(**{"If-Match": '"7"'}))
    assert stale.status_code == 412
    replaced = client.request("PUT", f"{BASE}/en/welcome", content=second,
                              headers=auth(**{"If-Match": '"1"'}))
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["version"], replaced.json()["duration_ms"]) == (2, 2500)
    client.request("PUT", f"{BASE}/de-AT/welcome", content=first, headers=auth())
    listed = client.get(BASE, headers=auth())
    assert [(p["language"], p["name"]) for p in listed.json()["items"]] == [
        ("de-AT", "welcome"), ("en", "welcome")
    ]
    one = client.get(f"{BASE}/en/welcome", headers=auth())
    assert one.json()["sha256"] == hashlib.sha256(second).hexdigest()
    audio = client.get(f"{BASE}/en/welcome/audio", headers=auth())
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/wav"
    assert audio.content == second
    assert content.reads[-1][0] == "acme" and content.reads[-1][2] == "ivr prompt download"
    assert client.delete(f"{BASE}/en/welcome", headers=auth()).status_code == 204
    assert client.get(f"{BASE}/en/welcome", headers=auth()).status_code == 404
    assert client.get(f"{BASE}/en/welcome/audio", headers=auth()).status_code == 404


def test_another_tenant_finds_nothing(world: tuple[Client, FakeContent]) -> None:
    client, _ = world
    client.request("PUT", f"{BASE}/en/welcome", content=wav(), headers=auth())
    other = "/v1/tenants/globex/prompts"
    assert client.get(other, headers=auth("globex")).json()["items"] == []
    for method, path in (("GET", "/en/welcome"), ("GET", "/en/welcome/audio"),
                         ("DELETE", "/en/welcome")):
        assert client.request(method, other + path, headers=auth("globex")).status_code == 404
    # and acme's credential on globex's path is refused before anything
    assert client.get(other, headers=auth("acme")).status_code == 403


def test_bad_uploads_are_refused_with_every_reason(world: tuple[Client, FakeContent]) -> None:
    client, content = world
    refused = client.request("PUT", f"{BASE}/en/welcome", content=wav(0.1, rate=16000),
                             headers=auth())
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["message"] for e in refused.json()["errors"]] == [
        "16000 Hz: must be 8000 Hz (convert e.g. with `sox in.wav -r 8000 -c 1 -b 16 out.wav`)"
    ]
    not_wav = client.request("PUT", f"{BASE}/en/welcome", content=b"ID3" + bytes(100),
                             headers=auth())
    assert not_wav.status_code == 422
    assert "RIFF/WAVE header missing" in not_wav.text
    for path in ("/EN/welcome", "/en/Welcome", "/en/we.lcome"):
        assert client.request("PUT", BASE + path, content=wav(), headers=auth()).status_code \
            == 422, path
    huge = client.request("PUT", f"{BASE}/en/welcome", content=bytes(prompts.MAX_BYTES + 1),
                          headers=auth())
    assert huge.status_code == 413
    assert content.objects == {}  # nothing stored for any refusal
