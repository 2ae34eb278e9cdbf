"""The content store's format and keyring, without S3 or Kafka (hotline_platform.content).

Sealing and opening are pure; the store itself runs here over a dict-backed S3 double (only the
calls the store makes) and a list as audit publisher. tests/integration/test_content_store.py
runs the same store against SeaweedFS and Tansu.
"""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import Message

from hotline.audit.v1.events_pb2 import AuditEvent, ContentAccessed
from hotline_platform.codec import decode, encode
from hotline_platform.content import (
    TAG_BYTES,
    ContentCorrupted,
    ContentForbidden,
    ContentKeyUnavailable,
    ContentNotFound,
    ContentRef,
    ContentStore,
    ObjectHeader,
    ciphertext_size,
    open_chunks,
    rewrap_tenant,
    seal_chunks,
)
from hotline_platform.keyring import FileKeyProvider, KeyMismatch, KeyUnavailable
from hotline_platform.topics import Topic, audit_topic

CHUNK = 64  # small chunks so that a few hundred bytes make several


class _ClientError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def iter_chunks(self, chunk_size: int) -> Iterator[bytes]:
        for i in range(0, len(self._data), chunk_size):
            yield self._data[i : i + chunk_size]

    def close(self) -> None:
        pass


class FakeS3:
    """The S3 calls ContentStore and rewrap_tenant make, over a dict."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.uploads: dict[str, tuple[str, dict[str, str], dict[int, bytes]]] = {}
        self.aborted: list[str] = []

    def put_object(
        self, *, Bucket: str, Key: str, Body: bytes, Metadata: dict[str, str], **_: Any
    ) -> None:  # noqa: N803, E501
        self.objects[Key] = (Body, dict(Metadata))

    def create_multipart_upload(
        self, *, Key: str, Metadata: dict[str, str], **_: Any
    ) -> dict[str, str]:  # noqa: N803, E501
        upload_id = f"u{len(self.uploads)}"
        self.uploads[upload_id] = (Key, dict(Metadata), {})
        return {"UploadId": upload_id}

    def upload_part(
        self, *, UploadId: str, PartNumber: int, Body: bytes, **_: Any
    ) -> dict[str, str]:  # noqa: N803, E501
        self.uploads[UploadId][2][PartNumber] = Body
        return {"ETag": f"e{PartNumber}"}

    def complete_multipart_upload(self, *, UploadId: str, **_: Any) -> None:  # noqa: N803
        key, meta, parts = self.uploads.pop(UploadId)
        self.objects[key] = (b"".join(parts[n] for n in sorted(parts)), meta)

    def abort_multipart_upload(self, *, UploadId: str, **_: Any) -> None:  # noqa: N803
        self.uploads.pop(UploadId)
        self.aborted.append(UploadId)

    def get_object(self, *, Key: str, **_: Any) -> dict[str, Any]:  # noqa: N803
        if Key not in self.objects:
            raise _ClientError("NoSuchKey")
        body, meta = self.objects[Key]
        return {"Body": _Body(body), "Metadata": dict(meta), "ContentLength": len(body)}

    def head_object(self, *, Key: str, **_: Any) -> dict[str, Any]:  # noqa: N803
        body, meta = self.objects[Key]
        return {"Metadata": dict(meta), "ETag": str(hash(body)), "ContentLength": len(body)}

    def copy_object(self, *, Key: str, Metadata: dict[str, str], **_: Any) -> None:  # noqa: N803
        self.objects[Key] = (self.objects[Key][0], dict(Metadata))

    def get_paginator(self, name: str) -> Any:
        objects = self.objects

        class Paginator:
            def paginate(self, *, Prefix: str, **_: Any) -> list[dict[str, Any]]:  # noqa: N803
                keys = [k for k in sorted(objects) if k.startswith(Prefix)]
                return [{"Contents": [{"Key": k} for k in keys]}]

        return Paginator()


class ListAudit:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self.fail = False

    def publish(self, topic: Topic, event: Message) -> None:
        # What a consumer would get: encoded, decoded and contract-checked on the audit topic.
        self.events.append(decode(topic, encode(event), event.envelope.tenant_id.encode()))  # type: ignore[arg-type,attr-defined]

    def flush(self, timeout: float = 10) -> None:
        if self.fail:
            raise RuntimeError("broker unreachable")

    def outcomes(self) -> list[str]:
        return [
            ContentAccessed.Outcome.Name(e.content_accessed.outcome)
            for e in self.events
            if e.HasField("content_accessed")
        ]


@pytest.fixture
def keyring(tmp_path: Path) -> FileKeyProvider:
    return FileKeyProvider(tmp_path / "state" / "keyring.json")


@pytest.fixture
def s3() -> FakeS3:
    return FakeS3()


@pytest.fixture
def audit() -> ListAudit:
    return ListAudit()


@pytest.fixture
def store(s3: FakeS3, keyring: FileKeyProvider, audit: ListAudit) -> ContentStore:
    return ContentStore(s3, "b", keyring, audit, "ingress-sip", chunk_size=CHUNK, part_size=200)


def _header(chunk: int = CHUNK) -> tuple[ObjectHeader, bytes]:
    from hotline_platform.keyring import WrappedKey

    key = AESGCM.generate_key(256)
    return ObjectHeader(
        "acme", "acme/x", "audio/wav", chunk, os.urandom(8), WrappedKey("k", 1, b"")
    ), key


def _seal(header: ObjectHeader, key: bytes, data: bytes) -> list[bytes]:
    return [sealed for _, sealed in seal_chunks(header, key, data)]


def _open(header: ObjectHeader, key: bytes, sealed: list[bytes]) -> bytes:
    return b"".join(open_chunks(header, key, sealed, "test object"))


# ------------------------------------------------------------------------------ the format


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK, 5 * CHUNK + 7])
def test_round_trip_of_every_size(size: int) -> None:
    header, key = _header()
    data = os.urandom(size)
    sealed = _seal(header, key, data)
    assert sum(map(len, sealed)) == ciphertext_size(size, CHUNK)
    assert _open(header, key, sealed) == data
    # Sources: bytes, a file, an iterable of odd-sized blocks; the reader: any block sizes.
    from_file = _seal(header, key, io.BytesIO(data))  # type: ignore[arg-type]
    pieces = [data[i : i + 7] for i in range(0, size, 7)]
    assert _open(header, key, from_file) == data
    assert _open(header, key, _seal(header, key, pieces)) == data  # type: ignore[arg-type]
    whole = b"".join(sealed)
    assert _open(header, key, [whole[i : i + 13] for i in range(0, len(whole), 13)]) == data


def test_changed_ciphertext_fails_naming_the_chunk() -> None:
    header, key = _header()
    sealed = _seal(header, key, os.urandom(3 * CHUNK))
    sealed[1] = bytes([sealed[1][0] ^ 1]) + sealed[1][1:]
    with pytest.raises(ContentCorrupted, match="chunk 1 .* does not authenticate"):
        _open(header, key, sealed)


def test_reordered_chunks_fail() -> None:
    header, key = _header()
    sealed = _seal(header, key, os.urandom(3 * CHUNK))
    with pytest.raises(ContentCorrupted, match="chunk 0"):
        _open(header, key, [sealed[1], sealed[0], sealed[2]])


def test_truncation_at_a_chunk_boundary_fails() -> None:
    header, key = _header()
    sealed = _seal(header, key, os.urandom(3 * CHUNK))
    with pytest.raises(ContentCorrupted, match="chunk 1 .*not sealed as the final one"):
        _open(header, key, sealed[:2])
    with pytest.raises(ContentCorrupted, match="empty"):
        _open(header, key, [])
    with pytest.raises(ContentCorrupted, match="chunk 2"):  # a partial final chunk
        _open(header, key, [*sealed[:2], sealed[2][:-1]])


def test_changed_metadata_fails() -> None:
    header, key = _header()
    sealed = _seal(header, key, b"hello")
    for changed in (
        ObjectHeader(
            "beta",
            *(
                getattr(header, f)
                for f in ("object_key", "content_type", "chunk_size", "nonce_prefix", "wrapped")
            ),
        ),
        ObjectHeader(
            "acme", "acme/y", header.content_type, CHUNK, header.nonce_prefix, header.wrapped
        ),
        ObjectHeader("acme", "acme/x", "text/plain", CHUNK, header.nonce_prefix, header.wrapped),
        ObjectHeader("acme", "acme/x", "audio/wav", CHUNK, os.urandom(8), header.wrapped),
    ):
        with pytest.raises(ContentCorrupted):
            _open(changed, key, sealed)


def test_header_metadata_round_trip_and_checks() -> None:
    header, _ = _header()
    meta = header.to_metadata()
    assert ObjectHeader.from_metadata(meta, "acme", "acme/x") == header
    with pytest.raises(ContentCorrupted, match="names tenant 'acme'"):
        ObjectHeader.from_metadata(meta, "beta", "acme/x")
    with pytest.raises(ContentCorrupted, match="lacks hotline-wrapped-key"):
        ObjectHeader.from_metadata(
            {k: v for k, v in meta.items() if "wrapped" not in k}, "acme", "acme/x"
        )
    with pytest.raises(ContentCorrupted, match="malformed"):
        ObjectHeader.from_metadata({**meta, "hotline-kek-version": "two"}, "acme", "acme/x")


def test_reference_text_round_trip() -> None:
    ref = ContentRef("acme", "0" * 32, 12, "a" * 64, "message/rfc822; charset=utf-8", "k-1", 3)
    assert str(ref).startswith("hotline-content://acme/" + "0" * 32 + "?")
    assert ContentRef.parse(str(ref)) == ref
    with pytest.raises(ValueError, match="not a content reference"):
        ContentRef.parse("s3://bucket/key")


# ------------------------------------------------------------------------------ keyring


def test_keyring_file_is_private_and_created_on_first_use(keyring: FileKeyProvider) -> None:
    wrapped = keyring.wrap("acme", b"k" * 32, b"ctx")
    assert wrapped.version == 1 and wrapped.key_id.startswith("k-")
    assert stat.S_IMODE(keyring.path.stat().st_mode) == 0o600
    assert keyring.unwrap("acme", wrapped, b"ctx") == b"k" * 32
    with pytest.raises(KeyMismatch):
        keyring.unwrap("acme", wrapped, b"other object")


def test_read_only_keyring_does_not_create_keys(tmp_path: Path, keyring: FileKeyProvider) -> None:
    wrapped = keyring.wrap("acme", b"k" * 32, b"ctx")
    mounted = FileKeyProvider(keyring.path, read_only=True)
    assert mounted.unwrap("acme", wrapped, b"ctx") == b"k" * 32
    with pytest.raises(KeyUnavailable, match="no key"):
        mounted.wrap("beta", b"k" * 32, b"ctx")
    with pytest.raises(KeyUnavailable, match="read-only"):
        mounted.rotate("acme")
    # A rotation written elsewhere (the Secret updated) is picked up without a restart.
    keyring.rotate("acme")
    assert mounted.current("acme") == (wrapped.key_id, 2)


def test_rotation_keeps_old_content_readable_and_rewrap_moves_it(
    store: ContentStore, s3: FakeS3, keyring: FileKeyProvider
) -> None:
    old = store.put("acme", b"before rotation" * 20, "text/plain")
    assert old.kek_version == 1
    assert keyring.rotate("acme") == (old.key_id, 2)
    new = store.put("acme", b"after rotation", "text/plain")
    assert new.kek_version == 2
    assert (
        store.get(old, caller_tenant="acme", reader="t", purpose="test") == b"before rotation" * 20
    )

    result = rewrap_tenant(s3, "b", keyring, "acme")
    assert (result.rewrapped, result.already_current, result.failed) == (1, 1, ())
    assert s3.objects[old.object_key][1]["hotline-kek-version"] == "2"
    # Version 1 can now go: the rewrapped object no longer needs it.
    data = json.loads(keyring.path.read_text())
    del data["tenants"]["acme"]["versions"]["1"]
    keyring.path.write_text(json.dumps(data))
    assert (
        store.get(old, caller_tenant="acme", reader="t", purpose="test") == b"before rotation" * 20
    )


def test_missing_key_version_is_key_unavailable(
    store: ContentStore, keyring: FileKeyProvider, s3: FakeS3, audit: ListAudit
) -> None:
    ref = store.put("acme", b"x", "text/plain")
    body, meta = s3.objects[ref.object_key]
    s3.objects[ref.object_key] = (body, {**meta, "hotline-kek-version": "7"})
    with pytest.raises(ContentKeyUnavailable, match="has no version 7"):
        store.get(ref, caller_tenant="acme", reader="t", purpose="test")
    assert audit.outcomes()[-1] == "OUTCOME_KEY_UNAVAILABLE"


def test_destroyed_keys_make_content_unreadable(
    store: ContentStore, keyring: FileKeyProvider, audit: ListAudit
) -> None:
    ref = store.put("acme", b"secret recording", "audio/wav")
    other = store.put("beta", b"beta keeps its data", "audio/wav")
    info = keyring.destroy("acme")
    assert info.destroyed_at and info.key_id == ref.key_id
    with pytest.raises(ContentKeyUnavailable, match="destroyed .*crypto-shredded"):
        store.get(ref, caller_tenant="acme", reader="t", purpose="test")
    assert (
        store.get(other, caller_tenant="beta", reader="t", purpose="test") == b"beta keeps its data"
    )
    # A new key for the tenant (new content) does not bring the old content back.
    store.put("acme", b"new", "text/plain")
    with pytest.raises(ContentKeyUnavailable, match="destroyed"):
        store.get(ref, caller_tenant="acme", reader="t", purpose="test")
    assert [k.tenant_id for k in keyring.list_keys() if k.destroyed_at] == ["acme"]


# ------------------------------------------------------------------------------ the store


def test_store_round_trip_multipart_and_audit(
    store: ContentStore, s3: FakeS3, audit: ListAudit, tmp_path: Path
) -> None:
    data = os.urandom(10 * CHUNK + 3)  # 11 chunks of 80 sealed bytes: parts of 2 chunks
    ref = store.put(
        "acme", io.BytesIO(data), "audio/wav", writer="ingress-sip", purpose="recording"
    )  # type: ignore[arg-type]
    assert not s3.uploads and len(s3.objects[ref.object_key][0]) == len(data) + 11 * TAG_BYTES
    assert store.get(str(ref), caller_tenant="acme", reader="agent:a1", purpose="qa") == data
    assert store.get_to_file(
        ref, tmp_path / "out.wav", caller_tenant="acme", reader="a", purpose="p"
    ) == len(data)
    assert (tmp_path / "out.wav").read_bytes() == data
    assert b"".join(store.iter_content(ref, caller_tenant="acme", reader="a", purpose="p")) == data
    assert audit.outcomes() == ["OUTCOME_GRANTED"] * 3
    stored = audit.events[0]
    assert stored.HasField("content_stored") and stored.content_stored.content_ref == str(ref)
    read = audit.events[1]
    assert read.envelope.tenant_id == "acme" and read.envelope.producer == "ingress-sip"
    assert (read.content_accessed.reader, read.content_accessed.purpose) == ("agent:a1", "qa")
    assert all(data not in e.SerializeToString() for e in audit.events)


def test_other_tenant_is_refused_and_audited(store: ContentStore, audit: ListAudit) -> None:
    ref = store.put("acme", b"acme only", "text/plain")
    with pytest.raises(ContentForbidden, match="belongs to tenant 'acme', not 'beta'"):
        store.get(ref, caller_tenant="beta", reader="agent:b1", purpose="curious")
    event = audit.events[-1]
    assert audit.outcomes() == ["OUTCOME_DENIED_OTHER_TENANT"]
    assert (event.envelope.tenant_id, event.content_accessed.caller_tenant_id) == ("acme", "beta")


def test_tampered_object_fails_loudly_and_is_audited(
    store: ContentStore, s3: FakeS3, audit: ListAudit
) -> None:
    ref = store.put("acme", os.urandom(4 * CHUNK), "audio/wav")
    body, meta = s3.objects[ref.object_key]
    s3.objects[ref.object_key] = (body[:100] + bytes([body[100] ^ 0xFF]) + body[101:], meta)
    with pytest.raises(ContentCorrupted, match="chunk 1"):
        store.get(ref, caller_tenant="acme", reader="t", purpose="test")
    s3.objects[ref.object_key] = (body[: -(CHUNK + TAG_BYTES)], meta)
    with pytest.raises(ContentCorrupted, match="truncated or extended"):
        store.get(ref, caller_tenant="acme", reader="t", purpose="test")
    other = store.put("acme", os.urandom(4 * CHUNK), "audio/wav")  # swap wrapped keys
    s3.objects[ref.object_key] = (body, s3.objects[other.object_key][1])
    with pytest.raises(ContentCorrupted, match="wrapped data key does not authenticate"):
        store.get(ref, caller_tenant="acme", reader="t", purpose="test")
    assert audit.outcomes() == ["OUTCOME_FAILED_INTEGRITY"] * 3
    with pytest.raises(ContentNotFound, match="no object"):
        store.get(
            ContentRef("acme", "f" * 32, 1, "0" * 64, "x", "", 0),
            caller_tenant="acme",
            reader="t",
            purpose="test",
        )


def test_a_read_that_cannot_be_recorded_is_refused(store: ContentStore, audit: ListAudit) -> None:
    from hotline_platform.content import AuditUnavailable

    ref = store.put("acme", b"data", "text/plain")
    audit.fail = True
    with pytest.raises(AuditUnavailable, match="could not be recorded"):
        store.get(ref, caller_tenant="acme", reader="t", purpose="test")


def test_short_upload_stores_nothing_and_aborts(store: ContentStore, s3: FakeS3) -> None:
    data = os.urandom(10 * CHUNK)
    with pytest.raises(Exception, match="announced"):
        store.put("acme", data, "audio/wav", expected_size=len(data) + 1)

    def broken() -> Iterator[bytes]:
        yield data
        raise ConnectionError("caller's stream dropped")

    with pytest.raises(ConnectionError):
        store.put("acme", broken(), "audio/wav")
    assert not s3.objects and not s3.uploads and len(s3.aborted) == 2


def test_audit_topic_is_declared_per_service() -> None:
    assert audit_topic("ingress-sip").name == "hotline.audit.ingress-sip.v1"
    with pytest.raises(ValueError, match="no declared audit topic"):
        ContentStore(FakeS3(), "b", FileKeyProvider("/nonexistent/k.json"), ListAudit(), "nobody")
