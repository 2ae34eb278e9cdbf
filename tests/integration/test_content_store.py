"""The encrypted content store against a real SeaweedFS (S3) and a real Tansu broker."""

from __future__ import annotations

import hashlib
import io
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaError

from hotline.audit.v1.events_pb2 import AuditEvent, ContentAccessed
from hotline_cli.embedded import ObjectStore
from hotline_platform.bus import EventPublisher, assign_from_start, ensure_topics, new_consumer
from hotline_platform.codec import decode
from hotline_platform.content import (
    CHUNK_SIZE,
    TAG_BYTES,
    ContentCorrupted,
    ContentForbidden,
    ContentKeyUnavailable,
    ContentNotFound,
    ContentStore,
    rewrap_tenant,
)
from hotline_platform.keyring import FileKeyProvider
from hotline_platform.topics import audit_topic

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
ACME, BETA = f"acme-{RUN}", f"beta-{RUN}"
BUCKET = f"content-{RUN}"
SERVICE = "ingress-sip"
TOPIC = audit_topic(SERVICE)


@pytest.fixture(scope="module")
def publisher(broker: str) -> Iterator[EventPublisher]:
    ensure_topics(broker, (TOPIC,))
    pub = EventPublisher(broker, f"test-content-{RUN}")
    yield pub
    pub.flush()


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> FileKeyProvider:
    return FileKeyProvider(tmp_path_factory.mktemp("keys") / "keyring.json")


@pytest.fixture(scope="module")
def store(
    object_store: ObjectStore, keyring: FileKeyProvider, publisher: EventPublisher
) -> ContentStore:
    # Default sizes: 1 MiB chunks, 8 MiB parts (S3, SeaweedFS included, refuses parts < 5 MiB).
    content = ContentStore(
        object_store.client(), BUCKET, keyring, publisher, SERVICE, instance_id="test"
    )
    content.ensure_bucket()
    return content


def audit_events(broker: str, tenant: str, want: int, timeout: float = 20) -> list[AuditEvent]:
    """The audit events of `tenant` on the audit topic (from the start), once `want` arrived."""
    consumer = new_consumer(broker, f"test-audit-{uuid.uuid4().hex[:8]}")
    assign_from_start(consumer, (TOPIC,))
    found: list[AuditEvent] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(found) < want:
            msg = consumer.poll(0.2)
            if msg is None or (msg.error() and msg.error().code() == KafkaError._PARTITION_EOF):
                continue
            assert msg.error() is None, msg.error()
            event = decode(TOPIC, msg.value(), msg.key())
            if event.envelope.tenant_id == tenant:  # type: ignore[attr-defined]
                found.append(event)  # type: ignore[arg-type]
    finally:
        consumer.close()
    return found


def test_small_and_multipart_round_trips(store: ContentStore, tmp_path: Path) -> None:
    small = os.urandom(4 * 1024)
    ref = store.put(ACME, small, "text/plain", writer="chat", purpose="message")
    assert (ref.size, ref.sha256) == (len(small), hashlib.sha256(small).hexdigest())
    assert store.get(ref, caller_tenant=ACME, reader="agent:a1", purpose="reply") == small

    big = os.urandom(4 * 1024 * 1024)  # streamed from a file in 1 MiB chunks, one PUT
    big_ref = store.put(ACME, io.BytesIO(big), "audio/wav", expected_size=len(big))  # type: ignore[arg-type]
    head = store.s3.head_object(Bucket=BUCKET, Key=big_ref.object_key)
    assert head["ContentLength"] == len(big) + 4 * TAG_BYTES
    got = store.get(str(big_ref), caller_tenant=ACME, reader="qa:q1", purpose="evaluation")
    assert got == big

    huge = os.urandom(12 * CHUNK_SIZE)  # two parts: 8 chunks, then 4
    huge_ref = store.put(ACME, io.BytesIO(huge), "image/tiff")  # type: ignore[arg-type]
    head = store.s3.head_object(Bucket=BUCKET, Key=huge_ref.object_key)
    assert head["ETag"].strip('"').endswith("-2")  # S3's mark of a 2-part multipart object
    assert store.get(huge_ref, caller_tenant=ACME, reader="r", purpose="p") == huge

    out = tmp_path / "recording.wav"
    assert store.get_to_file(big_ref, out, caller_tenant=ACME, reader="r", purpose="p") == len(big)
    assert out.read_bytes() == big
    # Nothing stored holds the plaintext.
    raw = store.s3.get_object(Bucket=BUCKET, Key=big_ref.object_key)["Body"].read()
    assert big[:64] not in raw


def test_other_tenant_refused_and_audited(store: ContentStore, broker: str) -> None:
    ref = store.put(BETA, b"beta's e-mail", "message/rfc822")
    with pytest.raises(ContentForbidden, match=f"belongs to tenant '{BETA}', not '{ACME}'"):
        store.get(ref, caller_tenant=ACME, reader="agent:a1", purpose="curious")
    events = audit_events(broker, BETA, want=2)
    stored, denied = events[0], events[1]
    assert stored.content_stored.content_ref == str(ref)
    assert denied.content_accessed.outcome == ContentAccessed.OUTCOME_DENIED_OTHER_TENANT
    assert denied.content_accessed.caller_tenant_id == ACME
    assert (denied.content_accessed.reader, denied.content_accessed.purpose) == (
        "agent:a1",
        "curious",
    )


def test_granted_read_reaches_the_audit_topic(store: ContentStore, broker: str) -> None:
    tenant = f"gamma-{RUN}"
    ref = store.put(tenant, b"fax page", "application/pdf", interaction_id="i-1")
    store.get(
        ref, caller_tenant=tenant, reader="agent:g1", purpose="fax-review", interaction_id="i-1"
    )
    events = audit_events(broker, tenant, want=2)
    read = events[1]
    assert read.content_accessed.outcome == ContentAccessed.OUTCOME_GRANTED
    assert read.content_accessed.content_ref == str(ref)
    assert read.envelope.interaction_id == "i-1"
    assert read.envelope.producer == f"{SERVICE}/test"
    assert b"fax page" not in read.SerializeToString()


def test_corrupted_object_in_s3_fails_loudly(store: ContentStore) -> None:
    ref = store.put(ACME, os.urandom(100_000), "audio/wav")
    s3, key = store.s3, ref.object_key
    head = s3.head_object(Bucket=BUCKET, Key=key)
    body = bytearray(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    body[5000] ^= 0x01
    s3.put_object(Bucket=BUCKET, Key=key, Body=bytes(body), Metadata=head["Metadata"])
    with pytest.raises(ContentCorrupted, match="chunk 0 .* does not authenticate"):
        store.get(ref, caller_tenant=ACME, reader="r", purpose="p")
    s3.put_object(Bucket=BUCKET, Key=key, Body=bytes(body[:-10]), Metadata=head["Metadata"])
    with pytest.raises(ContentCorrupted, match="truncated"):
        store.get(ref, caller_tenant=ACME, reader="r", purpose="p")
    s3.delete_object(Bucket=BUCKET, Key=key)
    with pytest.raises(ContentNotFound):
        store.get(ref, caller_tenant=ACME, reader="r", purpose="p")


def test_rotation_rewrap_and_crypto_shredding(
    store: ContentStore, keyring: FileKeyProvider, broker: str
) -> None:
    tenant = f"delta-{RUN}"
    old = store.put(tenant, b"old recording", "audio/wav")
    keyring.rotate(tenant)
    new = store.put(tenant, b"new recording", "audio/wav")
    result = rewrap_tenant(store.s3, BUCKET, keyring, tenant)
    assert (result.rewrapped, result.already_current, result.failed) == (1, 1, ())
    head = store.s3.head_object(Bucket=BUCKET, Key=old.object_key)
    assert head["Metadata"]["hotline-kek-version"] == "2"
    assert store.get(old, caller_tenant=tenant, reader="r", purpose="p") == b"old recording"

    keyring.destroy(tenant)
    for ref in (old, new):
        with pytest.raises(ContentKeyUnavailable, match="crypto-shredded"):
            store.get(ref, caller_tenant=tenant, reader="r", purpose="p")
    outcomes = [
        e.content_accessed.outcome
        for e in audit_events(broker, tenant, want=6)
        if e.HasField("content_accessed")
    ]
    assert outcomes == [
        ContentAccessed.OUTCOME_GRANTED,
        ContentAccessed.OUTCOME_KEY_UNAVAILABLE,
        ContentAccessed.OUTCOME_KEY_UNAVAILABLE,
    ]


def test_a_broken_upload_leaves_nothing(store: ContentStore) -> None:
    tenant = f"epsilon-{RUN}"

    def dropped() -> Iterator[bytes]:
        yield os.urandom(10 * CHUNK_SIZE)  # past the first 8 MiB part: multipart under way
        raise ConnectionError("caller hung up")

    with pytest.raises(ConnectionError):
        store.put(tenant, dropped(), "audio/wav")
    with pytest.raises(Exception, match="announced"):
        store.put(tenant, os.urandom(9 * CHUNK_SIZE), "audio/wav", expected_size=1)
    listed = store.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{tenant}/")
    assert listed.get("KeyCount", 0) == 0
    uploads = store.s3.list_multipart_uploads(Bucket=BUCKET, Prefix=f"{tenant}/")
    assert not uploads.get("Uploads")
