"""Tenants' own IVR prompts as the files the media relay plays.

A tenant uploads a prompt over REST; the gateway stores the WAV file encrypted in the content
store and the directory names it (`PromptDefined`, TenancyConfig.prompts). This cache follows
the directory and keeps `<prompts dir>/<tenant>/<language>/<name>.wav` equal to it (which
PromptFolder prefers over the default `<prompts dir>/<language>/<name>.wav`): it fetches a
prompt that is new or changed (content store `get_to_file`: decrypted, verified against the
reference's size and SHA-256, the read audited with purpose "ivr prompt", written 0600 to a
temporary file renamed into place, so rtpengine never reads half a file) and removes the files
of prompts removed from the directory.

Concurrency: one worker thread does every fetch and removal (never the SIP loop, never the
directory follower's thread); `update` only hands it the latest wanted set. A failed fetch is
retried after `retry_s` and at the next directory change; the file already there (if any) keeps
playing meanwhile.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hotline_platform import prompts
from hotline_platform.tenancy import TenancyConfig

log = logging.getLogger(__name__)

PURPOSE = "ivr prompt"


class ContentFiles(Protocol):
    """hotline_platform.content.ContentStore, as far as the cache uses it."""

    def get_to_file(
        self, ref: str, path: Path | str, *, caller_tenant: str, reader: str, purpose: str
    ) -> int: ...


@dataclass(frozen=True)
class _Wanted:
    content_ref: str
    sha256: str


def _digest(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class PromptCache:
    def __init__(
        self, folder: str | Path, content: ContentFiles, reader: str, retry_s: float = 30.0
    ) -> None:
        self._folder = Path(folder)
        self._content = content
        self._reader = reader
        self._retry_s = retry_s
        self._lock = threading.Lock()
        self._wanted: dict[tuple[str, str, str], _Wanted] | None = None
        self._tenants: set[str] = set()  # every tenant seen: its folder is ours to clean
        # Files known to hold a SHA-256 (by size and mtime): not hashed again on each pass.
        self._known: dict[Path, tuple[int, int, str]] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prompt-cache", daemon=True)
        self.fetched = 0
        self.removed = 0
        self.failed = 0

    def update(self, config: TenancyConfig) -> None:
        """The directory changed (any thread): sync to its prompts, on the worker."""
        wanted = {
            key: _Wanted(p.content_ref, p.sha256)
            for key, p in config.prompts.items()
            if not prompts.problems_of_ids(p.language, p.name)  # path segments stay safe
        }
        with self._lock:
            self._wanted = wanted
            self._tenants |= set(config.tenants) | {t for t, _, _ in wanted}
        self._wake.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def path(self, tenant_id: str, language: str, name: str) -> Path:
        return self._folder / tenant_id / language / f"{name}.wav"

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                wanted, tenants = self._wanted, set(self._tenants)
            complete = True
            if wanted is not None:
                try:
                    complete = self.sync(wanted, tenants)
                except Exception:  # noqa: BLE001 - the worker must outlive one bad pass
                    log.exception("prompt cache pass failed")
                    complete = False
            self._wake.wait(None if complete else self._retry_s)
            self._wake.clear()

    def sync(self, wanted: dict[tuple[str, str, str], _Wanted], tenants: set[str]) -> bool:
        """One pass: fetch what is missing or different, remove what is no longer wanted.
        True when every wanted file is in place."""
        complete = True
        keep: set[Path] = set()
        for (tenant, language, name), want in sorted(wanted.items()):
            if self._stop.is_set():
                return False
            path = self.path(tenant, language, name)
            keep.add(path)
            if self._holds(path, want.sha256):
                continue
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._content.get_to_file(
                    want.content_ref, path, caller_tenant=tenant, reader=self._reader,
                    purpose=PURPOSE,
                )
            except Exception as exc:  # noqa: BLE001 - content errors, S3, disk: retried
                self.failed += 1
                complete = False
                log.warning("prompt %s/%s/%s not fetched (retried): %s", tenant, language,
                            name, exc)
                continue
            self.fetched += 1
            log.info("prompt %s/%s/%s written to %s", tenant, language, name, path)
        for tenant in sorted(tenants):
            for path in (self._folder / tenant).glob("*/*.wav"):
                if path not in keep:
                    path.unlink(missing_ok=True)
                    self._known.pop(path, None)
                    self.removed += 1
                    log.info("prompt file %s removed (no longer in the directory)", path)
        return complete

    def _holds(self, path: Path, sha256: str) -> bool:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return False
        known = self._known.get(path)
        if known is None or known[:2] != (stat.st_size, stat.st_mtime_ns):
            known = (stat.st_size, stat.st_mtime_ns, _digest(path))
            self._known[path] = known
        return known[2] == sha256

