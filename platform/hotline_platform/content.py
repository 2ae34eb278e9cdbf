"""The encrypted content store: recordings, chat messages, e-mails, fax documents of tenants.

Content never travels in events; events carry a `ContentRef` (its `str()` is a URI). Every
service uses this one API (docs/content.md has the format and the key hierarchy):

    store = ContentStore.from_settings(ContentSettings(), publisher, service="ingress-sip")
    ref = store.put("acme", open("call.wav", "rb"), "audio/wav", writer="ingress-sip",
                    purpose="call-recording", interaction_id=iid)
    data = store.get(ref, caller_tenant="acme", reader="agent:a-17", purpose="qa-evaluation")
    store.get_to_file(ref, path, caller_tenant="acme", reader=..., purpose=...)

* Envelope encryption: a fresh AES-256-GCM data key (DEK) per object, wrapped by the tenant's
  key-encryption key (KEK, `hotline_platform.keyring`). The object body is a sequence of
  chunks, each AES-GCM sealed with nonce = 8-byte per-object prefix || 4-byte chunk index and
  associated data binding format, tenant, object key, content type, chunk size, chunk index and
  the last-chunk flag: a changed, moved, reordered or truncated object fails to open.
* Objects larger than one part are uploaded with S3 multipart; an object exists under its key
  only once complete, and a reference is returned only then (a failed upload is aborted).
* Every read names who reads and why, and is recorded as a `ContentAccessed` event on
  `hotline.audit.<service>.v1` (flushed before any plaintext is released: a read that cannot be
  recorded is refused). Refused and failed reads are recorded too.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import struct
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import parse_qs, quote, unquote, urlencode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import Message
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.audit.v1.events_pb2 import AuditEvent, ContentAccessed, ContentStored
from hotline_platform.envelope import new_envelope
from hotline_platform.keyring import (
    FileKeyProvider,
    KeyMismatch,
    KeyProvider,
    KeyUnavailable,
    WrappedKey,
    writable,
)
from hotline_platform.topics import BY_NAME, Topic, audit_topic

log = logging.getLogger(__name__)

__all__ = [
    "AuditUnavailable",
    "ContentCorrupted",
    "ContentError",
    "ContentForbidden",
    "ContentNotFound",
    "ContentRef",
    "ContentSettings",
    "ContentStore",
    "KeyUnavailable",
    "ObjectHeader",
    "RewrapResult",
    "rewrap_tenant",
]

FORMAT = "1"
SCHEME = "hotline-content"
CHUNK_SIZE = 1024 * 1024  # plaintext bytes per sealed chunk
TAG_BYTES = 16
NONCE_PREFIX_BYTES = 8
PART_SIZE = 8 * 1024 * 1024  # S3 multipart part size (S3 requires >= 5 MiB but the last)
MAX_CHUNKS = 2**32 - 1
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_OBJECT_ID = re.compile(r"^[0-9a-f]{32}$")
META_PREFIX = "hotline-"


# ------------------------------------------------------------------------------ errors


class ContentError(RuntimeError):
    """Base of every content-store error; the message names the reference and what is wrong."""


class ContentNotFound(ContentError):  # noqa: N818
    """No object under the reference (never completely written, or deleted)."""


class ContentForbidden(ContentError):  # noqa: N818
    """The reference belongs to another tenant than the caller's."""


class ContentCorrupted(ContentError):  # noqa: N818
    """The object, its metadata or the reference do not authenticate: changed, moved,
    truncated or reordered. No plaintext is returned."""


class AuditUnavailable(ContentError):  # noqa: N818
    """The read could not be recorded in the audit topic, so it was refused."""


class ContentKeyUnavailable(ContentError, KeyUnavailable):  # noqa: N818
    """The tenant key (version) the object needs is missing or destroyed (crypto-shredded)."""


# ------------------------------------------------------------------------------ references


def check_tenant(tenant_id: str) -> str:
    if not _TENANT.match(tenant_id):
        raise ValueError(f"not a usable tenant id for content: {tenant_id!r}")
    return tenant_id


@dataclass(frozen=True)
class ContentRef:
    """What events and databases hold instead of content.

    `str(ref)` is `hotline-content://<tenant>/<object id>?size=..&sha256=..&type=..&kid=..&v=..`
    and `ContentRef.parse` reads it back. size and sha256 are of the plaintext and are checked
    on every read. kid/v are the KEK that wrapped the data key when stored (informational:
    after a rewrap the object's metadata names the newer version).
    """

    tenant_id: str
    object_id: str
    size: int
    sha256: str
    content_type: str
    key_id: str
    kek_version: int

    @property
    def uri(self) -> str:
        return f"{SCHEME}://{self.tenant_id}/{self.object_id}"

    @property
    def object_key(self) -> str:
        return object_key(self.tenant_id, self.object_id)

    def __str__(self) -> str:
        query = urlencode(
            {
                "size": self.size,
                "sha256": self.sha256,
                "type": self.content_type,
                "kid": self.key_id,
                "v": self.kek_version,
            },
            quote_via=quote,
        )
        return f"{self.uri}?{query}"

    @classmethod
    def parse(cls, text: str) -> ContentRef:
        prefix = f"{SCHEME}://"
        if not text.startswith(prefix):
            raise ValueError(f"not a content reference (expected {prefix}...): {text[:80]!r}")
        path, _, query = text[len(prefix) :].partition("?")
        tenant, _, object_id = path.partition("/")
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        try:
            ref = cls(
                check_tenant(tenant),
                object_id,
                int(params["size"]),
                params["sha256"],
                params["type"],
                params.get("kid", ""),
                int(params.get("v", "0")),
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"malformed content reference {text[:120]!r}: {exc!r}") from None
        if not _OBJECT_ID.match(object_id) or not re.fullmatch(r"[0-9a-f]{64}", ref.sha256):
            raise ValueError(f"malformed content reference {text[:120]!r}")
        return ref


def object_key(tenant_id: str, object_id: str) -> str:
    return f"{tenant_id}/{object_id}"


# ------------------------------------------------------------------------------ the format


def chunk_count(size: int, chunk_size: int) -> int:
    """Chunks of a `size`-byte plaintext: an empty one is one empty (final) chunk."""
    return max(1, -(-size // chunk_size))


def ciphertext_size(size: int, chunk_size: int) -> int:
    return size + TAG_BYTES * chunk_count(size, chunk_size)


@dataclass(frozen=True)
class ObjectHeader:
    """Everything needed to open an object except the KEK; kept as the object's S3 metadata.

    Metadata keys (`x-amz-meta-hotline-*`): format, tenant, content-type, chunk-size,
    nonce-prefix (base64), key-id, kek-version, wrapped-key (base64)."""

    tenant_id: str
    object_key: str
    content_type: str
    chunk_size: int
    nonce_prefix: bytes
    wrapped: WrappedKey

    def wrap_context(self) -> bytes:
        """Binds the wrapped data key to this tenant and object key."""
        return wrap_context(self.tenant_id, self.object_key)

    def chunk_aad(self, index: int, last: bool) -> bytes:
        return b"hotline-content/v1\x00%s\x00%s\x00%s\x00%d\x00%d\x00%d" % (
            self.tenant_id.encode(),
            self.object_key.encode(),
            self.content_type.encode(),
            self.chunk_size,
            index,
            1 if last else 0,
        )

    def nonce(self, index: int) -> bytes:
        if not 0 <= index <= MAX_CHUNKS:
            raise ContentError(f"chunk index {index} out of range")
        return self.nonce_prefix + struct.pack(">I", index)

    def to_metadata(self) -> dict[str, str]:
        return {
            f"{META_PREFIX}format": FORMAT,
            f"{META_PREFIX}tenant": self.tenant_id,
            f"{META_PREFIX}content-type": quote(self.content_type, safe=""),
            f"{META_PREFIX}chunk-size": str(self.chunk_size),
            f"{META_PREFIX}nonce-prefix": base64.b64encode(self.nonce_prefix).decode(),
            f"{META_PREFIX}key-id": self.wrapped.key_id,
            f"{META_PREFIX}kek-version": str(self.wrapped.version),
            f"{META_PREFIX}wrapped-key": base64.b64encode(self.wrapped.blob).decode(),
        }

    @classmethod
    def from_metadata(cls, metadata: dict[str, str], tenant_id: str, key: str) -> ObjectHeader:
        """Parse and check the metadata of the object at `key` expected to be `tenant_id`'s."""
        meta = {k.lower(): v for k, v in metadata.items()}

        def field(name: str) -> str:
            value = meta.get(f"{META_PREFIX}{name}")
            if value is None:
                raise ContentCorrupted(f"object {key}: metadata lacks {META_PREFIX}{name}")
            return value

        if field("format") != FORMAT:
            raise ContentCorrupted(
                f"object {key}: format {field('format')!r}, this code reads {FORMAT}"
            )
        if field("tenant") != tenant_id:
            raise ContentCorrupted(
                f"object {key}: metadata names tenant {field('tenant')!r}, "
                f"the reference {tenant_id!r}"
            )
        try:
            header = cls(
                tenant_id,
                key,
                unquote(field("content-type")),
                int(field("chunk-size")),
                base64.b64decode(field("nonce-prefix"), validate=True),
                WrappedKey(
                    field("key-id"),
                    int(field("kek-version")),
                    base64.b64decode(field("wrapped-key"), validate=True),
                ),
            )
        except ValueError as exc:
            raise ContentCorrupted(f"object {key}: malformed metadata ({exc})") from None
        if len(header.nonce_prefix) != NONCE_PREFIX_BYTES or header.chunk_size <= 0:
            raise ContentCorrupted(f"object {key}: malformed nonce prefix or chunk size")
        return header


def wrap_context(tenant_id: str, key: str) -> bytes:
    return b"%s\x00%s" % (tenant_id.encode(), key.encode())


def _plain_chunks(source: bytes | IO[bytes] | Iterable[bytes], size: int) -> Iterator[bytes]:
    """Fixed-size plaintext chunks of any source (bytes, binary file, iterable of bytes)."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        for start in range(0, len(data), size):
            yield data[start : start + size]
        return
    read = getattr(source, "read", None)
    if read is not None:
        while True:
            block = read(size)
            while block and len(block) < size:  # a short read is not the end of a stream
                more = read(size - len(block))
                if not more:
                    break
                block += more
            if not block:
                return
            yield block
        return
    pending = b""
    for piece in source:  # type: ignore[union-attr]
        pending += piece
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


def _with_last(chunks: Iterator[bytes]) -> Iterator[tuple[int, bytes, bool]]:
    """(index, chunk, is_last); an empty source is one empty final chunk."""
    previous = next(chunks, b"")
    index = 0
    for chunk in chunks:
        yield index, previous, False
        previous, index = chunk, index + 1
    yield index, previous, True


def seal_chunks(
    header: ObjectHeader, data_key: bytes, plaintext: bytes | IO[bytes] | Iterable[bytes]
) -> Iterator[tuple[bytes, bytes]]:
    """Yield (plaintext chunk, sealed chunk) for every chunk of the plaintext, in order."""
    aead = AESGCM(data_key)
    for index, chunk, last in _with_last(_plain_chunks(plaintext, header.chunk_size)):
        yield chunk, aead.encrypt(header.nonce(index), chunk, header.chunk_aad(index, last))


def open_chunks(
    header: ObjectHeader, data_key: bytes, sealed: Iterable[bytes], what: str
) -> Iterator[bytes]:
    """Yield the plaintext chunks of a sealed object read as any sequence of byte blocks.

    Raises ContentCorrupted naming the chunk that fails: changed or reordered (a chunk does not
    authenticate), truncated (the final chunk is missing), or extended (data after it)."""
    aead = AESGCM(data_key)
    step = header.chunk_size + TAG_BYTES
    blocks = _plain_chunks(iter(sealed), step)
    current = next(blocks, None)
    if current is None:
        raise ContentCorrupted(f"{what}: object is empty (truncated: no chunk at all)")
    index = 0
    while current is not None:
        following = next(blocks, None)
        last = following is None
        try:
            yield aead.decrypt(header.nonce(index), current, header.chunk_aad(index, last))
        except InvalidTag:
            if last:
                why = (
                    "the object ends here but this chunk was not sealed as the final one "
                    "(truncated), or it was changed"
                )
            else:
                why = "changed, reordered or moved ciphertext, or changed metadata"
            raise ContentCorrupted(
                f"{what}: chunk {index} ({len(current)} bytes) does not authenticate: {why}"
            ) from None
        current, index = following, index + 1


# ------------------------------------------------------------------------------ settings


class ContentSettings(BaseSettings):
    """HOTLINE_OBJECT_STORE_* and HOTLINE_KEYRING_* (same names in the Helm chart)."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    object_store_endpoint: str = "http://127.0.0.1:18333"
    object_store_bucket: str = "hotline-content"
    object_store_region: str = "us-east-1"
    object_store_access_key: str = ""
    object_store_secret_key: str = ""
    keyring_path: str = ".hotline/keyring.json"
    # True in Kubernetes (the keyring is a Secret mounted read-only); also detected.
    keyring_read_only: bool = False

    def s3_client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.object_store_endpoint or None,
            aws_access_key_id=self.object_store_access_key or None,
            aws_secret_access_key=self.object_store_secret_key or None,
            region_name=self.object_store_region,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    def key_provider(self) -> FileKeyProvider:
        path = Path(self.keyring_path)
        read_only = self.keyring_read_only or not writable(path)
        return FileKeyProvider(path, read_only=read_only)


# ------------------------------------------------------------------------------ the store


class AuditPublisher(Protocol):
    """Where audit events go (hotline_platform.bus.EventPublisher fits)."""

    def publish(self, topic: Topic, event: Message) -> None: ...

    def flush(self, timeout: float = 10) -> None: ...


Outcome = ContentAccessed.Outcome


def _s3_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _not_found(exc: Exception) -> bool:
    return _s3_code(exc) in {"NoSuchKey", "404", "NotFound"}


@dataclass(frozen=True)
class _Opened:
    header: ObjectHeader
    data_key: bytes
    body: Any  # botocore StreamingBody
    length: int


class ContentStore:
    """put / get tenant content, encrypted per tenant, every read audited."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        keys: KeyProvider,
        audit: AuditPublisher,
        service: str,
        *,
        instance_id: str = "",
        chunk_size: int = CHUNK_SIZE,
        part_size: int = PART_SIZE,
        audit_timeout_s: float = 10,
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.keys = keys
        self._audit = audit
        self.topic = audit_topic(service)
        if self.topic.name not in BY_NAME:
            raise ValueError(
                f"service {service!r} has no declared audit topic "
                "(hotline_platform.topics.CONTENT_SERVICES)"
            )
        self.producer = f"{service}/{instance_id}" if instance_id else service
        if chunk_size <= 0 or part_size < chunk_size + TAG_BYTES:
            raise ValueError("part_size must hold at least one sealed chunk")
        self.chunk_size = chunk_size
        # Whole sealed chunks per part, so parts never split a chunk (not required, but tidy).
        self.part_size = (part_size // (chunk_size + TAG_BYTES)) * (chunk_size + TAG_BYTES)
        self._audit_timeout_s = audit_timeout_s

    @classmethod
    def from_settings(
        cls,
        settings: ContentSettings,
        audit: AuditPublisher,
        service: str,
        *,
        instance_id: str = "",
        keys: KeyProvider | None = None,
    ) -> ContentStore:
        return cls(
            settings.s3_client(),
            settings.object_store_bucket,
            keys or settings.key_provider(),
            audit,
            service,
            instance_id=instance_id,
        )

    def ensure_bucket(self) -> None:
        """Create the bucket if missing (local stack; in Kubernetes it is provisioned)."""
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            if _s3_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                raise
            self.s3.create_bucket(Bucket=self.bucket)

    # -------------------------------------------------------------------------- put

    def put(
        self,
        tenant_id: str,
        data: bytes | IO[bytes] | Iterable[bytes],
        content_type: str,
        *,
        writer: str = "",
        purpose: str = "",
        interaction_id: str = "",
        expected_size: int | None = None,
        expected_sha256: str | None = None,
    ) -> ContentRef:
        """Encrypt and store `data` (bytes, a binary file, or an iterable of byte blocks).

        Large content is streamed in multipart uploads of `part_size`. `expected_size` /
        `expected_sha256` (when the caller knows them) make a short or altered source fail
        before anything is stored. Returns the reference only once the object is complete;
        on any error nothing is left under the object's key (multipart uploads are aborted).
        """
        check_tenant(tenant_id)
        object_id = uuid.uuid4().hex
        key = object_key(tenant_id, object_id)
        data_key = AESGCM.generate_key(256)
        try:
            wrapped = self.keys.wrap(tenant_id, data_key, wrap_context(tenant_id, key))
        except KeyUnavailable as exc:
            raise ContentKeyUnavailable(f"cannot store content of {tenant_id!r}: {exc}") from exc
        header = ObjectHeader(
            tenant_id, key, content_type, self.chunk_size, os.urandom(NONCE_PREFIX_BYTES), wrapped
        )
        metadata = header.to_metadata()
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []

        def send_part() -> None:
            nonlocal upload_id
            if upload_id is None:
                upload_id = self.s3.create_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    Metadata=metadata,
                    ContentType="application/octet-stream",
                )["UploadId"]
            number = len(parts) + 1
            answer = self.s3.upload_part(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=bytes(buffer),
            )
            parts.append({"ETag": answer["ETag"], "PartNumber": number})
            buffer.clear()

        try:
            for plain, sealed in seal_chunks(header, data_key, data):
                digest.update(plain)
                size += len(plain)
                if len(buffer) + len(sealed) > self.part_size:
                    send_part()
                buffer += sealed
            sha256 = digest.hexdigest()
            if expected_size is not None and size != expected_size:
                raise ContentError(
                    f"content of {tenant_id!r} is {size} bytes, {expected_size} were announced "
                    "(truncated upload?): nothing stored"
                )
            if expected_sha256 is not None and sha256 != expected_sha256.lower():
                raise ContentError(
                    f"content of {tenant_id!r} has SHA-256 {sha256}, {expected_sha256} was "
                    "announced: nothing stored"
                )
            if upload_id is None:
                self.s3.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=bytes(buffer),
                    Metadata=metadata,
                    ContentType="application/octet-stream",
                )
            else:
                send_part()
                self.s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload_id is not None:
                try:
                    self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
                except Exception:
                    log.exception("could not abort multipart upload %s of %s", upload_id, key)
            raise
        ref = ContentRef(
            tenant_id, object_id, size, sha256, content_type, wrapped.key_id, wrapped.version
        )
        self._publish(
            ref.tenant_id,
            interaction_id,
            content_stored=ContentStored(
                content_ref=str(ref),
                writer=writer,
                purpose=purpose,
                size_bytes=size,
                content_type=content_type,
                key_id=wrapped.key_id,
                kek_version=wrapped.version,
            ),
        )
        try:
            self._audit.flush(self._audit_timeout_s)
        except Exception:  # the content is stored; the writer still needs its reference
            log.exception("ContentStored of %s not confirmed by the broker", ref.uri)
        return ref

    # -------------------------------------------------------------------------- get

    def get(
        self,
        ref: ContentRef | str,
        *,
        caller_tenant: str,
        reader: str,
        purpose: str,
        interaction_id: str = "",
    ) -> bytes:
        """The plaintext, once tenant, integrity and the audit record are all confirmed."""
        out = bytearray()
        for chunk in self._read(ref, caller_tenant, reader, purpose, interaction_id, late=True):
            out += chunk
        return bytes(out)

    def get_to_file(
        self,
        ref: ContentRef | str,
        path: Path | str,
        *,
        caller_tenant: str,
        reader: str,
        purpose: str,
        interaction_id: str = "",
    ) -> int:
        """Decrypt into `path` (multi-megabyte content, constant memory). The file appears only
        once the whole content is verified and the read recorded. Returns the size."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
        size = 0
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                for chunk in self._read(
                    ref, caller_tenant, reader, purpose, interaction_id, late=True
                ):
                    fh.write(chunk)
                    size += len(chunk)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return size

    def iter_content(
        self,
        ref: ContentRef | str,
        *,
        caller_tenant: str,
        reader: str,
        purpose: str,
        interaction_id: str = "",
    ) -> Iterator[bytes]:
        """Plaintext chunks as they are decrypted (e.g. to play a recording while it downloads).

        The read is recorded before the first chunk; every chunk is authenticated before it is
        yielded, but truncation and the SHA-256 of the whole are known only at the end: the
        iteration raises ContentCorrupted then (and records it), so a consumer must not act on
        the content before the iteration finished."""
        return self._read(ref, caller_tenant, reader, purpose, interaction_id, late=False)

    def _read(
        self,
        ref_or_text: ContentRef | str,
        caller_tenant: str,
        reader: str,
        purpose: str,
        interaction_id: str,
        *,
        late: bool,
    ) -> Iterator[bytes]:
        if not reader or not purpose:
            raise ValueError("every read names its reader and purpose")
        ref = ContentRef.parse(ref_or_text) if isinstance(ref_or_text, str) else ref_or_text

        def record(outcome: int, detail: str = "") -> None:
            self._publish(
                ref.tenant_id,
                interaction_id,
                content_accessed=ContentAccessed(
                    content_ref=str(ref),
                    reader=reader,
                    purpose=purpose,
                    outcome=outcome,  # type: ignore[arg-type]
                    caller_tenant_id=caller_tenant,
                    detail=detail,
                    size_bytes=ref.size,
                    content_type=ref.content_type,
                ),
            )
            try:
                self._audit.flush(self._audit_timeout_s)
            except Exception as exc:
                raise AuditUnavailable(
                    f"read of {ref.uri} by {reader!r} could not be recorded ({exc}): refused"
                ) from exc

        if ref.tenant_id != caller_tenant:
            detail = f"{ref.uri} belongs to tenant {ref.tenant_id!r}, not {caller_tenant!r}"
            record(Outcome.OUTCOME_DENIED_OTHER_TENANT, detail)
            raise ContentForbidden(detail)
        try:
            opened = self._open(ref)
        except ContentNotFound as exc:
            record(Outcome.OUTCOME_NOT_FOUND, str(exc))
            raise
        except ContentKeyUnavailable as exc:
            record(Outcome.OUTCOME_KEY_UNAVAILABLE, str(exc))
            raise
        except ContentCorrupted as exc:
            record(Outcome.OUTCOME_FAILED_INTEGRITY, str(exc))
            raise
        return self._decrypt(ref, opened, record, late=late)

    def _decrypt(
        self,
        ref: ContentRef,
        opened: _Opened,
        record: Callable[..., None],
        *,
        late: bool,
    ) -> Iterator[bytes]:
        """Authenticated plaintext chunks. `late`: the grant is recorded after the last chunk
        is verified, so the caller (get, get_to_file) must release nothing before the
        iteration ended; otherwise it is recorded before the first chunk (iter_content)."""
        if not late:
            record(Outcome.OUTCOME_GRANTED)
        digest = hashlib.sha256()
        try:
            body = opened.body.iter_chunks(chunk_size=opened.header.chunk_size + TAG_BYTES)
            for chunk in open_chunks(opened.header, opened.data_key, body, ref.uri):
                digest.update(chunk)
                yield chunk
            if digest.hexdigest() != ref.sha256:
                raise ContentCorrupted(
                    f"{ref.uri}: plaintext SHA-256 {digest.hexdigest()} is not the "
                    f"reference's {ref.sha256}"
                )
        except ContentCorrupted as exc:
            record(Outcome.OUTCOME_FAILED_INTEGRITY, str(exc))
            raise
        finally:
            opened.body.close()
        if late:
            record(Outcome.OUTCOME_GRANTED)

    def _open(self, ref: ContentRef) -> _Opened:
        key = ref.object_key
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _not_found(exc):
                raise ContentNotFound(f"{ref.uri}: no object {key} in {self.bucket}") from None
            raise
        body = answer["Body"]
        try:
            header = ObjectHeader.from_metadata(answer.get("Metadata", {}), ref.tenant_id, key)
            if header.content_type != ref.content_type:
                raise ContentCorrupted(
                    f"{ref.uri}: object holds {header.content_type!r}, "
                    f"the reference says {ref.content_type!r}"
                )
            length = int(answer["ContentLength"])
            expected = ciphertext_size(ref.size, header.chunk_size)
            if length != expected:
                raise ContentCorrupted(
                    f"{ref.uri}: object is {length} bytes, {expected} expected for "
                    f"{ref.size} plaintext bytes (truncated or extended)"
                )
            try:
                data_key = self.keys.unwrap(ref.tenant_id, header.wrapped, header.wrap_context())
            except KeyMismatch as exc:
                raise ContentCorrupted(f"{ref.uri}: {exc}") from None
            except KeyUnavailable as exc:
                raise ContentKeyUnavailable(f"{ref.uri}: {exc}") from None
        except BaseException:
            body.close()
            raise
        return _Opened(header, data_key, body, length)

    # -------------------------------------------------------------------------- audit

    def _publish(self, tenant_id: str, interaction_id: str, **body: Message) -> None:
        event = AuditEvent(
            envelope=new_envelope(
                tenant_id=tenant_id, producer=self.producer, interaction_id=interaction_id
            ),
            **body,  # type: ignore[arg-type]
        )
        self._audit.publish(self.topic, event)


# ------------------------------------------------------------------------------ rewrap


@dataclass(frozen=True)
class RewrapResult:
    tenant_id: str
    key_id: str
    version: int
    rewrapped: int
    already_current: int
    failed: tuple[str, ...]  # "<object key>: <reason>"


def rewrap_tenant(s3: Any, bucket: str, keys: KeyProvider, tenant_id: str) -> RewrapResult:
    """Re-wrap the data key of every object of `tenant_id` with the newest KEK version.

    Content is not re-encrypted: each object is copied onto itself with replaced metadata
    (S3 CopyObject, MetadataDirective=REPLACE; objects up to 5 GB). Objects already on the
    newest version are left alone; an object that cannot be re-wrapped is reported."""
    check_tenant(tenant_id)
    current = keys.current(tenant_id)
    if current is None:
        raise KeyUnavailable(f"tenant {tenant_id!r} has no key: nothing to rewrap to")
    key_id, version = current
    rewrapped = already = 0
    failed: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"{tenant_id}/"):
        for item in page.get("Contents", []):
            key = item["Key"]
            try:
                head = s3.head_object(Bucket=bucket, Key=key)
                header = ObjectHeader.from_metadata(head.get("Metadata", {}), tenant_id, key)
                if header.wrapped.key_id == key_id and header.wrapped.version == version:
                    already += 1
                    continue
                context = header.wrap_context()
                data_key = keys.unwrap(tenant_id, header.wrapped, context)
                new = ObjectHeader(
                    header.tenant_id,
                    header.object_key,
                    header.content_type,
                    header.chunk_size,
                    header.nonce_prefix,
                    keys.wrap(tenant_id, data_key, context),
                )
                s3.copy_object(
                    Bucket=bucket,
                    Key=key,
                    CopySource={"Bucket": bucket, "Key": key},
                    CopySourceIfMatch=head["ETag"],
                    Metadata=new.to_metadata(),
                    MetadataDirective="REPLACE",
                    ContentType="application/octet-stream",
                )
                rewrapped += 1
            except (ContentError, KeyUnavailable, KeyMismatch) as exc:
                failed.append(f"{key}: {exc}")
    return RewrapResult(tenant_id, key_id, version, rewrapped, already, tuple(failed))
