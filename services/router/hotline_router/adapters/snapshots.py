"""Snapshots of the router's state per partition, in the content store.

One snapshot of partition p = the state of each of p's tenants at one point of the log, the
next offset of every state topic at that point, the partition's owner claims (the fence), and
the ids of facts already applied but not yet read back. Layout in the content bucket:

* each tenant's state is one content object of that tenant (`ContentStore.put`: encrypted
  with the tenant's key, so crypto-shredding a tenant shreds its router state too; reads are
  audited like any content read);
* `router-snapshots/partition-NN.json` (plain JSON, no tenant data) points at them: format,
  fingerprint, offsets, claims, references. It is written last, so a snapshot is complete or
  not seen; the objects of the snapshot it replaces are deleted after.

The tenant state is pickled (the domain's dataclasses, whatever fields they gain). A snapshot is
used only if its `fingerprint` (the field names and types of every class of the router's domain
package) and `format` match this code: a snapshot of another version is ignored and the
partition is replayed from its start. Pickle runs code when loaded: only objects that
authenticate under the tenant's key (AES-GCM, content store) are loaded.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib
import inspect
import json
import logging
import pickle
import pkgutil
import time
from dataclasses import dataclass
from typing import Any

import hotline_router.domain
from hotline_platform.content import ContentRef, ContentStore
from hotline_platform.fencing import Claim
from hotline_router.domain.model import TenantState

log = logging.getLogger(__name__)

FORMAT = 1
PREFIX = "router-snapshots"
CONTENT_TYPE = "application/x-hotline-router-state"
PURPOSE = "router-state-snapshot"


def state_fingerprint() -> str:
    """A hash of the shape of every class of the router's domain (dataclass fields with their
    types, slots, annotations, enum members): changes when a field is added, removed, renamed
    or retyped anywhere the state may hold."""
    shapes: list[str] = []
    package = hotline_router.domain
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, cls in sorted(inspect.getmembers(module, inspect.isclass)):
            if cls.__module__ != module.__name__:
                continue
            if dataclasses.is_dataclass(cls):
                shape: Any = [(f.name, str(f.type)) for f in dataclasses.fields(cls)]
            elif issubclass(cls, enum.Enum):
                shape = [(m.name, repr(m.value)) for m in cls]
            else:
                shape = [
                    sorted(getattr(cls, "__slots__", ())),
                    sorted((k, str(v)) for k, v in vars(cls).get("__annotations__", {}).items()),
                ]
            shapes.append(f"{module.__name__}.{name}:{shape!r}")
    return hashlib.sha256("\n".join(shapes).encode()).hexdigest()


def manifest_key(partition: int) -> str:
    return f"{PREFIX}/partition-{partition:02d}.json"


@dataclass
class Captured:
    """What the pump captured under the state lock: pickled tenants and their position."""

    partition: int
    tenants: dict[str, bytes]
    in_flight: dict[str, str]
    offsets: dict[str, int]
    claims: dict[str, Claim]
    epoch: int


def encode_tenants(tenants: dict[str, TenantState], in_flight: dict[str, str]) -> tuple[
    dict[str, bytes], dict[str, str]
]:
    """Run under the state lock: copies (pickles) the state, so it may change afterwards."""
    blobs = {t: pickle.dumps(s, protocol=pickle.HIGHEST_PROTOCOL) for t, s in tenants.items()}
    return blobs, dict(in_flight)


@dataclass
class Loaded:
    partition: int
    tenants: dict[str, TenantState]
    in_flight: dict[str, str]
    offsets: dict[str, int]
    claims: dict[str, Claim]
    taken_at_ms: int


class SnapshotStore:
    """Save and load partition snapshots (content objects + a manifest per partition)."""

    def __init__(self, store: ContentStore, reader: str, fingerprint: str | None = None) -> None:
        self._store = store
        self._reader = reader
        self.fingerprint = fingerprint or state_fingerprint()

    def ensure_bucket(self) -> None:
        self._store.ensure_bucket()

    def save(self, captured: Captured) -> dict[str, Any]:
        previous = self._manifest(captured.partition)
        refs = {
            tenant: str(
                self._store.put(tenant, blob, CONTENT_TYPE, writer=self._reader, purpose=PURPOSE)
            )
            for tenant, blob in sorted(captured.tenants.items())
        }
        manifest = {
            "format": FORMAT,
            "fingerprint": self.fingerprint,
            "partition": captured.partition,
            "taken_at_ms": int(time.time() * 1000),
            "writer": self._reader,
            "epoch": captured.epoch,
            "offsets": captured.offsets,
            "claims": {t: dataclasses.asdict(c) for t, c in captured.claims.items()},
            "in_flight": captured.in_flight,
            "tenants": refs,
        }
        self._store.s3.put_object(
            Bucket=self._store.bucket,
            Key=manifest_key(captured.partition),
            Body=json.dumps(manifest, sort_keys=True).encode(),
            ContentType="application/json",
        )
        for ref in (previous or {}).get("tenants", {}).values():
            try:
                self._store.s3.delete_object(
                    Bucket=self._store.bucket, Key=ContentRef.parse(ref).object_key
                )
            except Exception:  # noqa: BLE001 - an orphan object is harmless
                log.warning("could not delete the replaced snapshot object %s", ref)
        return manifest

    def load(self, partition: int) -> Loaded | None:
        """The newest usable snapshot of `partition`, or None (none, or of another version,
        or unreadable: the caller replays from the start)."""
        try:
            manifest = self._manifest(partition)
            if manifest is None:
                return None
            if manifest.get("format") != FORMAT or manifest.get("fingerprint") != self.fingerprint:
                log.warning(
                    "snapshot of partition %d ignored: written by another version of the "
                    "router (format %s, fingerprint %s; this one %s, %s)",
                    partition, manifest.get("format"), str(manifest.get("fingerprint"))[:12],
                    FORMAT, self.fingerprint[:12],
                )  # fmt: skip
                return None
            tenants: dict[str, TenantState] = {}
            for tenant, ref in manifest["tenants"].items():
                blob = self._store.get(
                    ref, caller_tenant=tenant, reader=self._reader, purpose=PURPOSE
                )
                state = pickle.loads(blob)  # noqa: S301 - authenticated under the tenant's key
                if not isinstance(state, TenantState):
                    raise TypeError(f"tenant {tenant}: not a TenantState")
                tenants[tenant] = state
            return Loaded(
                partition,
                tenants,
                dict(manifest["in_flight"]),
                {t: int(o) for t, o in manifest["offsets"].items()},
                {t: Claim(**c) for t, c in manifest["claims"].items()},
                int(manifest["taken_at_ms"]),
            )
        except Exception:  # noqa: BLE001 - a bad snapshot costs a full replay, nothing more
            log.exception("snapshot of partition %d unusable: replaying from the start", partition)
            return None

    def _manifest(self, partition: int) -> dict[str, Any] | None:
        try:
            answer = self._store.s3.get_object(
                Bucket=self._store.bucket, Key=manifest_key(partition)
            )
        except Exception as exc:
            code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
            if code in {"NoSuchKey", "404", "NotFound"}:
                return None
            raise
        found: dict[str, Any] = json.loads(answer["Body"].read())
        return found
