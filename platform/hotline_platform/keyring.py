"""Tenant key-encryption keys (KEKs): the `KeyProvider` port and its file implementation.

Key hierarchy (docs/content.md): every tenant has one key (a `key_id`) with numbered versions;
each version is a 256-bit KEK. Every stored object has its own data key (DEK) that only ever
leaves memory wrapped by the tenant's newest KEK version. Rotation adds a version (new objects
use it, old ones stay readable); rewrap re-wraps old objects' DEKs with the newest version;
destroying the tenant's key makes every object of the tenant unreadable (crypto-shredding).

The port is shaped like a KMS (wrap / unwrap a data key under a context), not like a key store,
so an external KMS plugs in without KEKs ever reaching the services:

* HashiCorp Vault transit: one transit key per tenant (`hotline-<tenant>`), `wrap` =
  `POST transit/encrypt/<key>` with the context as `context` (derived keys) or in the
  plaintext's associated data, `unwrap` = `transit/decrypt`; the version is the `vault:vN:`
  prefix of the ciphertext; `rotate` = `transit/keys/<key>/rotate`; `destroy` = delete the key
  (`deletion_allowed`); `rewrap` can use `transit/rewrap` instead of unwrap + wrap.
* AWS KMS: one key (or alias `alias/hotline-<tenant>`) per tenant; `wrap` = `Encrypt` (or
  `GenerateDataKey`) with `EncryptionContext={"hotline": context}`, `unwrap` = `Decrypt` with
  the same context; KMS rotates key material itself, so `version` is a counter kept by the
  provider; `destroy` = `ScheduleKeyDeletion`.

Only `FileKeyProvider` is implemented: a JSON keyring (mode 0600) in the state folder, created
with a fresh KEK for a tenant on first use. In Kubernetes the same file is mounted read-only
from a Secret (`read_only=True`, or detected when the file cannot be written): it is re-read
when the Secret changes, and a tenant without a key is an error instead of a new key.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEK_BYTES = 32
WRAP_NONCE_BYTES = 12
KEYRING_FORMAT = 1


class KeyUnavailable(RuntimeError):  # noqa: N818 (a state, like FileNotFoundError's cousins)
    """The key (version) needed is missing, destroyed, or the provider cannot be reached."""


class KeyMismatch(ValueError):  # noqa: N818
    """A wrapped data key does not authenticate under its KEK and context (changed or moved)."""


@dataclass(frozen=True)
class WrappedKey:
    """A data key wrapped by version `version` of the tenant key `key_id`."""

    key_id: str
    version: int
    blob: bytes  # provider-specific: here nonce (12 B) || AES-256-GCM(KEK, DEK, context)


@dataclass(frozen=True)
class KeyInfo:
    tenant_id: str
    key_id: str
    versions: tuple[int, ...]
    current: int
    created_at: str
    destroyed_at: str = ""  # set for a destroyed (crypto-shredded) key; versions are then ()


class KeyProvider(Protocol):
    """Port to whatever holds the tenants' KEKs (file keyring here; Vault or AWS KMS later).

    `context` binds a wrapped key to the object it belongs to (tenant, object key): unwrapping
    with another context fails (KeyMismatch)."""

    def wrap(self, tenant_id: str, data_key: bytes, context: bytes) -> WrappedKey:
        """Wrap with the tenant's newest KEK version (creating the tenant's key if allowed)."""
        ...

    def unwrap(self, tenant_id: str, wrapped: WrappedKey, context: bytes) -> bytes:
        """The data key; KeyUnavailable if the version is gone, KeyMismatch if tampered."""
        ...

    def current(self, tenant_id: str) -> tuple[str, int] | None:
        """(key id, newest version) of the tenant's key, None if it has none."""
        ...

    def rotate(self, tenant_id: str) -> tuple[str, int]:
        """Add a KEK version (creating the key if needed); returns (key id, new version)."""
        ...

    def destroy(self, tenant_id: str) -> KeyInfo:
        """Destroy every version of the tenant's key (crypto-shred). Irreversible."""
        ...

    def list_keys(self) -> list[KeyInfo]: ...


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def seal_data_key(kek: bytes, data_key: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(WRAP_NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, data_key, aad)


def open_data_key(kek: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) <= WRAP_NONCE_BYTES + 16:
        raise KeyMismatch(f"wrapped data key is {len(blob)} bytes, too short")
    try:
        return AESGCM(kek).decrypt(blob[:WRAP_NONCE_BYTES], blob[WRAP_NONCE_BYTES:], aad)
    except InvalidTag:
        raise KeyMismatch(
            "the wrapped data key does not authenticate under its KEK and this object "
            "(metadata changed, or the object was moved or copied from another key)"
        ) from None


def _wrap_aad(tenant_id: str, key_id: str, version: int, context: bytes) -> bytes:
    return b"hotline-dek/v1\x00%s\x00%s\x00%d\x00%s" % (
        tenant_id.encode(),
        key_id.encode(),
        version,
        context,
    )


class FileKeyProvider:
    """KeyProvider over a JSON keyring file. Thread- and process-safe (flock around writes).

    File layout (`format` 1):
    {"format": 1,
     "tenants": {"<tenant>": {"key_id": "k-<hex>", "created_at": "...", "current": 2,
                              "versions": {"1": {"kek": "<base64>", "created_at": "..."}, ...}}},
     "destroyed": {"<key id>": {"tenant_id": "...", "destroyed_at": "...", "versions": [1, 2]}}}
    """

    def __init__(
        self, path: Path | str, *, read_only: bool = False, create_on_first_use: bool = True
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.create_on_first_use = create_on_first_use and not read_only
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {"format": KEYRING_FORMAT, "tenants": {}, "destroyed": {}}
        self._stamp: tuple[int, int] | None = None

    # ------------------------------------------------------------------ file handling

    def _load_locked(self) -> dict[str, Any]:
        """The keyring as on disk now (re-read when the file changed, e.g. a CLI rotation)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._stamp = None
            self._data = {"format": KEYRING_FORMAT, "tenants": {}, "destroyed": {}}
            return self._data
        stamp = (st.st_ino, st.st_mtime_ns)
        if stamp != self._stamp:
            try:
                raw = json.loads(self.path.read_text())
            except (OSError, ValueError) as exc:
                raise KeyUnavailable(f"keyring {self.path} cannot be read: {exc}") from exc
            if raw.get("format") != KEYRING_FORMAT:
                raise KeyUnavailable(
                    f"keyring {self.path} has format {raw.get('format')!r}, "
                    f"this code reads {KEYRING_FORMAT}"
                )
            raw.setdefault("tenants", {})
            raw.setdefault("destroyed", {})
            self._data, self._stamp = raw, stamp
        return self._data

    @contextmanager
    def _editing(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write under an exclusive lock; the file is replaced atomically (0600)."""
        if self.read_only:
            raise KeyUnavailable(
                f"keyring {self.path} is read-only (e.g. mounted from a Kubernetes Secret): "
                "change keys where the Secret is made"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with self._lock, open(lock_path, "a") as lock:
            os.chmod(lock_path, 0o600)
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._stamp = None  # always re-read under the lock
                data = json.loads(json.dumps(self._load_locked()))
                yield data
                tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as fh:
                    json.dump(data, fh, indent=1, sort_keys=True)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
                self._stamp = None
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self._load_locked()

    @staticmethod
    def _new_tenant_key() -> dict[str, Any]:
        return {
            "key_id": "k-" + secrets.token_hex(8),
            "created_at": _now(),
            "current": 1,
            "versions": {"1": {"kek": _b64(AESGCM.generate_key(256)), "created_at": _now()}},
        }

    def _kek(self, tenant_id: str, key_id: str, version: int) -> bytes:
        data = self._snapshot()
        entry = data["tenants"].get(tenant_id)
        if entry is None or entry["key_id"] != key_id:
            gone = data["destroyed"].get(key_id)
            if gone is not None:
                raise KeyUnavailable(
                    f"key {key_id} of tenant {gone['tenant_id']!r} was destroyed at "
                    f"{gone['destroyed_at']} (crypto-shredded): its content is unreadable"
                )
            known = f"its key is {entry['key_id']}" if entry else "it has no key"
            raise KeyUnavailable(
                f"key {key_id} of tenant {tenant_id!r} is not in keyring {self.path} ({known})"
            )
        found = entry["versions"].get(str(version))
        if found is None:
            raise KeyUnavailable(
                f"key {key_id} of tenant {tenant_id!r} has no version {version} "
                f"(versions: {', '.join(sorted(entry['versions'], key=int))})"
            )
        return base64.b64decode(found["kek"])

    # ------------------------------------------------------------------ the port

    def current(self, tenant_id: str) -> tuple[str, int] | None:
        entry = self._snapshot()["tenants"].get(tenant_id)
        return None if entry is None else (str(entry["key_id"]), int(entry["current"]))

    def _current_or_create(self, tenant_id: str) -> tuple[str, int]:
        found = self.current(tenant_id)
        if found is not None:
            return found
        if not self.create_on_first_use:
            raise KeyUnavailable(
                f"tenant {tenant_id!r} has no key in keyring {self.path}"
                + (" (read-only: add it where the Secret is made)" if self.read_only else "")
            )
        with self._editing() as data:
            entry = data["tenants"].setdefault(tenant_id, self._new_tenant_key())
            return str(entry["key_id"]), int(entry["current"])

    def wrap(self, tenant_id: str, data_key: bytes, context: bytes) -> WrappedKey:
        key_id, version = self._current_or_create(tenant_id)
        kek = self._kek(tenant_id, key_id, version)
        blob = seal_data_key(kek, data_key, _wrap_aad(tenant_id, key_id, version, context))
        return WrappedKey(key_id, version, blob)

    def unwrap(self, tenant_id: str, wrapped: WrappedKey, context: bytes) -> bytes:
        kek = self._kek(tenant_id, wrapped.key_id, wrapped.version)
        aad = _wrap_aad(tenant_id, wrapped.key_id, wrapped.version, context)
        return open_data_key(kek, wrapped.blob, aad)

    def rotate(self, tenant_id: str) -> tuple[str, int]:
        with self._editing() as data:
            entry = data["tenants"].get(tenant_id)
            if entry is None:
                entry = data["tenants"][tenant_id] = self._new_tenant_key()
            else:
                version = max(int(v) for v in entry["versions"]) + 1
                entry["versions"][str(version)] = {
                    "kek": _b64(AESGCM.generate_key(256)),
                    "created_at": _now(),
                }
                entry["current"] = version
            return str(entry["key_id"]), int(entry["current"])

    def destroy(self, tenant_id: str) -> KeyInfo:
        with self._editing() as data:
            entry = data["tenants"].pop(tenant_id, None)
            if entry is None:
                raise KeyUnavailable(f"tenant {tenant_id!r} has no key in keyring {self.path}")
            versions = sorted(int(v) for v in entry["versions"])
            at = _now()
            data["destroyed"][entry["key_id"]] = {
                "tenant_id": tenant_id,
                "destroyed_at": at,
                "versions": versions,
            }
        return KeyInfo(tenant_id, entry["key_id"], (), max(versions), entry["created_at"], at)

    def list_keys(self) -> list[KeyInfo]:
        data = self._snapshot()
        out = [
            KeyInfo(
                tenant,
                e["key_id"],
                tuple(sorted(int(v) for v in e["versions"])),
                int(e["current"]),
                e["created_at"],
            )
            for tenant, e in sorted(data["tenants"].items())
        ]
        out += [
            KeyInfo(d["tenant_id"], key_id, (), max(d["versions"]), "", d["destroyed_at"])
            for key_id, d in sorted(data["destroyed"].items())
        ]
        return out


def writable(path: Path) -> bool:
    """Whether a keyring at `path` can be written (False for a read-only Secret mount)."""
    if path.exists():
        return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return os.access(parent, os.W_OK)
