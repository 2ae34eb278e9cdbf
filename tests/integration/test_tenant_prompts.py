"""Tenants' own IVR prompts end to end, every part real: a WAV uploaded over REST (gateway) is
stored encrypted in the object store (SeaweedFS), named by a PromptDefined fact written by the
directory service, and ingress-sip's prompt cache writes the decrypted file, identical to the
upload, where the media relay plays it; each read is audited. Another tenant cannot read, list
or delete it; bad files are refused with their reasons and nothing is stored; a replacement and
a removal reach the file too.
"""

from __future__ import annotations

import hashlib
import io
import math
import stat
import time
import uuid
import wave
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from confluent_kafka import KafkaError
from directory_stack import OPERATOR_TOKEN, FullStack, start_full, tenant
from support import polling

from hotline.audit.v1.events_pb2 import AuditEvent, ContentAccessed
from hotline.directory.v1 import directory_pb2, directory_pb2_grpc
from hotline_cli.embedded import ObjectStore
from hotline_platform.bus import assign_from_start, new_consumer
from hotline_platform.codec import decode
from hotline_platform.topics import audit_topic

pytestmark = pytest.mark.integration

eventually = partial(polling.eventually, timeout=30.0)


def tone(seconds: float, hz: float, rate: int = 8000) -> bytes:
    """A WAV of a sine tone (so two uploads differ in their audio, not only in length)."""
    frames = bytearray()
    for i in range(round(seconds * rate)):
        sample = int(8000 * math.sin(2 * math.pi * hz * i / rate))
        frames += sample.to_bytes(2, "little", signed=True)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return out.getvalue()


@pytest.fixture(scope="module")
def prompts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("prompts")
    (folder / "en").mkdir()
    (folder / "en" / "welcome.wav").write_bytes(tone(0.5, 300))  # a default prompt
    return folder


@pytest.fixture(scope="module")
def stack(
    broker: str, clickhouse: Any, object_store: ObjectStore, prompts_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FullStack]:
    workdir = tmp_path_factory.mktemp("tenant-prompts")
    bucket = f"prompts-{uuid.uuid4().hex[:8]}"
    object_store.client().create_bucket(Bucket=bucket)
    content = {
        "HOTLINE_OBJECT_STORE_ENDPOINT": object_store.endpoint,
        "HOTLINE_OBJECT_STORE_BUCKET": bucket,
        "HOTLINE_OBJECT_STORE_REGION": object_store.region,
        "HOTLINE_OBJECT_STORE_ACCESS_KEY": object_store.access_key,
        "HOTLINE_OBJECT_STORE_SECRET_KEY": object_store.secret_key,
        "HOTLINE_KEYRING_PATH": str(workdir / "keyring.json"),
        "HOTLINE_PROMPTS_DIR": str(prompts_dir),
    }
    running = start_full(
        broker, clickhouse, workdir, [tenant("prm"), tenant("oth")], sip=True, env=content,
        HOTLINE_RATE_LIMIT_PER_S="0",
    )
    try:
        yield running
    finally:
        running.stop()


def client(stack: FullStack, index: int = 0) -> httpx.Client:
    return httpx.Client(
        base_url=f"{stack.base_url}/v1/tenants/{stack.tenants[index]['id']}",
        headers={"Authorization": f"Bearer {stack.credential(index)}",
                 "Content-Type": "audio/wav"},
        timeout=30,
    )


def accessed(broker: str, service: str, tenant_id: str, ref: str) -> list[ContentAccessed]:
    """The ContentAccessed records of `ref` on the service's audit topic so far."""
    topic = audit_topic(service)
    consumer = new_consumer(broker, f"test-prompt-audit-{uuid.uuid4().hex[:8]}",
                            **{"enable.partition.eof": True})
    assign_from_start(consumer, (topic,))
    found: list[ContentAccessed] = []
    ended: set[int] = set()
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    ended.add(msg.partition())
                    if len(ended) == topic.partitions:
                        break
                continue
            event = decode(topic, msg.value(), msg.key())
            assert isinstance(event, AuditEvent)
            if (event.envelope.tenant_id == tenant_id and event.HasField("content_accessed")
                    and event.content_accessed.content_ref == ref):
                found.append(event.content_accessed)
    finally:
        consumer.close()
    return found


def test_an_uploaded_prompt_reaches_the_media_relays_folder(
    stack: FullStack, prompts_dir: Path, broker: str
) -> None:
    tid = stack.tenants[0]["id"]
    target = prompts_dir / tid / "en" / "welcome.wav"
    first = tone(1.2, 440)
    with client(stack) as api:
        created = api.put("/prompts/en/welcome", content=first)
        assert created.status_code == 201, created.text
        assert created.json()["sha256"] == hashlib.sha256(first).hexdigest()
        assert created.json()["duration_ms"] == 1200
        assert created.json()["changed_by"] == f"tenant:{tid}"
        listed = api.get("/prompts").json()["items"]
        assert [(p["language"], p["name"], p["version"]) for p in listed] == [
            ("en", "welcome", 1)
        ]
        eventually(lambda: target.is_file() and target.read_bytes() == first,
                   "ingress-sip writing the uploaded prompt")
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert api.get("/prompts/en/welcome/audio").content == first

        ref = _content_ref(stack, tid)
        # ingress-sip's read was recorded, by its own audit topic, as an IVR prompt read.
        reads = eventually(lambda: accessed(broker, "ingress-sip", tid, ref),
                           "ingress-sip's audited read of the prompt")
        assert {(r.purpose, r.outcome, r.caller_tenant_id) for r in reads} == {
            ("ivr prompt", ContentAccessed.OUTCOME_GRANTED, tid)
        }
        assert any(r.purpose == "ivr prompt download"
                   for r in accessed(broker, "gateway", tid, ref))

        # A replacement reaches the file; the default prompt is left alone.
        second = tone(0.8, 660)
        replaced = api.put("/prompts/en/welcome", content=second, headers={"If-Match": '"1"'})
        assert replaced.status_code == 200, replaced.text
        eventually(lambda: target.is_file() and target.read_bytes() == second,
                   "ingress-sip writing the replaced prompt")
        # A removal removes the file; the default plays again.
        assert api.delete("/prompts/en/welcome").status_code == 204
        eventually(lambda: not target.exists(), "ingress-sip removing the prompt's file")
        assert api.get("/prompts/en/welcome").status_code == 404
    assert (prompts_dir / "en" / "welcome.wav").read_bytes() == tone(0.5, 300)


def _content_ref(stack: FullStack, tid: str) -> str:
    """The reference the directory holds (over its own API, as the operator)."""
    with grpc.insecure_channel(stack.directory_address) as channel:
        entity = directory_pb2_grpc.DirectoryServiceStub(channel).Get(
            directory_pb2.GetRequest(key=f"prompt/{tid}/en/welcome"),
            metadata=[("authorization", f"Bearer {OPERATOR_TOKEN}")], timeout=10,
        )
    ref = entity.definition.prompt_defined.content_ref
    assert ref.startswith(f"hotline-content://{tid}/")
    return ref


def test_another_tenant_cannot_read_list_or_delete_it(stack: FullStack) -> None:
    audio = tone(0.5, 500)
    with client(stack, 0) as owner, client(stack, 1) as other:
        assert owner.put("/prompts/de/closed", content=audio).status_code == 201
        assert other.get("/prompts").json()["items"] == []
        for method, path in (("GET", "/de/closed"), ("GET", "/de/closed/audio"),
                             ("DELETE", "/de/closed")):
            refused = other.request(method, "/prompts" + path)
            assert refused.status_code == 404, (method, path, refused.text)
        # Its own credential on the owner's path: refused before anything.
        foreign = other.get(f"{stack.base_url}/v1/tenants/{stack.tenants[0]['id']}/prompts")
        assert foreign.status_code == 403
        assert owner.get("/prompts/de/closed/audio").content == audio
        assert owner.delete("/prompts/de/closed").status_code == 204


def test_bad_files_are_refused_with_their_reasons(stack: FullStack) -> None:
    with client(stack) as api:
        wrong_rate = api.put("/prompts/en/menu", content=tone(1.0, 440, rate=16000))
        assert wrong_rate.status_code == 422
        assert wrong_rate.headers["content-type"] == "application/problem+json"
        assert [e["message"] for e in wrong_rate.json()["errors"]] == [
            "16000 Hz: must be 8000 Hz (convert e.g. with `sox in.wav -r 8000 -c 1 -b 16 "
            "out.wav`)"
        ]
        too_short = api.put("/prompts/en/menu", content=tone(0.05, 440))
        assert too_short.status_code == 422
        assert "lasts 50 ms" in too_short.text
        assert api.put("/prompts/en/menu", content=b"not audio at all").status_code == 422
        too_big = api.put("/prompts/en/menu", content=b"RIFF" + bytes(11 * 1024 * 1024))
        assert too_big.status_code == 413
        assert api.put("/prompts/EN/menu", content=tone(1.0, 440)).status_code == 422
        assert api.get("/prompts/en/menu").status_code == 404  # nothing defined by any refusal
