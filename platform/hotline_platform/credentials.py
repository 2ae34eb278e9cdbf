"""Hashed API credentials: scrypt hashes in a self-describing string, and a lookup that stays
cheap per request.

Pure (standard library only). A hash string reads

    scrypt$n=16384,r=8,p=1$<salt, base64>$<hash, base64>

scrypt (RFC 7914) is memory-hard: n=2**14, r=8 takes 16 MiB and about 50 ms to verify on one
core of our test machine, so guessing a stolen hash offline is slow. The parameters travel with
the hash, so they can be raised later without invalidating existing hashes.

Tokens come in two forms:

- scoped, ``<key id>.<secret>``: the key id (a tenant id today, an API key's id later) is not
  secret; it names the one hash to check. This is the form `credential_hash` entries accept, so
  a wrong token costs at most one scrypt, whatever the number of tenants.
- unscoped, any other string: the plaintext development credentials of config/hotline.yaml
  and the demo. They are hashed in memory at load with lighter parameters (the plaintext sits
  in the file anyway; the point is that the loaded config holds no secret) and a token is
  checked against each of them, so this form is for development configs with a few tenants.

A token that verified once is remembered by a keyed fingerprint (HMAC-SHA256 under a random
per-process key), so the next request with it costs one HMAC and one dict lookup, not scrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import threading
from dataclasses import dataclass

SCHEME = "scrypt"


class CredentialHashError(ValueError):
    """A hash string that is not one this module wrote (or was altered)."""


@dataclass(frozen=True)
class ScryptParams:
    n: int = 2**14  # CPU/memory cost: 128 * r * n bytes = 16 MiB
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if self.n < 2 or self.n & (self.n - 1) or self.n > 2**20:
            raise CredentialHashError(f"scrypt n={self.n} must be a power of 2 in 2..2**20")
        if not 1 <= self.r <= 32 or not 1 <= self.p <= 16:
            raise CredentialHashError(f"scrypt r={self.r}, p={self.p} out of range")

    @property
    def maxmem(self) -> int:
        return 128 * self.r * self.n * self.p + 1024 * 1024


# What `hotline credentials hash` writes: ~50 ms per verification here.
DEFAULT_PARAMS = ScryptParams()
# For plaintext development credentials hashed in memory at load (~10 ms).
IN_MEMORY_PARAMS = ScryptParams(n=2**12)

SALT_BYTES = 16
HASH_BYTES = 32
_FORMAT = re.compile(r"^scrypt\$n=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")


@dataclass(frozen=True)
class CredentialHash:
    params: ScryptParams
    salt: bytes
    digest: bytes

    @classmethod
    def parse(cls, text: str) -> CredentialHash:
        match = _FORMAT.match(text.strip())
        if not match:
            raise CredentialHashError(
                "not a credential hash: expected scrypt$n=<n>,r=<r>,p=<p>$<salt b64>$<hash b64> "
                "(make one with `hotline credentials hash`)"
            )
        n, r, p, salt_b64, digest_b64 = match.groups()
        try:
            salt = base64.b64decode(salt_b64, validate=True)
            digest = base64.b64decode(digest_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CredentialHashError(f"credential hash: bad base64 ({exc})") from exc
        if len(salt) < 8 or len(digest) < 16:
            raise CredentialHashError(
                f"credential hash: salt ({len(salt)} bytes) or hash ({len(digest)} bytes) "
                "too short; was it truncated?"
            )
        return cls(ScryptParams(int(n), int(r), int(p)), salt, digest)

    def __str__(self) -> str:
        p = self.params
        salt = base64.b64encode(self.salt).decode()
        digest = base64.b64encode(self.digest).decode()
        return f"{SCHEME}$n={p.n},r={p.r},p={p.p}${salt}${digest}"

    def verify(self, secret: str) -> bool:
        candidate = _scrypt(secret, self.salt, self.params, len(self.digest))
        return hmac.compare_digest(candidate, self.digest)


def _scrypt(secret: str, salt: bytes, params: ScryptParams, length: int) -> bytes:
    return hashlib.scrypt(
        secret.encode(), salt=salt, n=params.n, r=params.r, p=params.p,
        maxmem=params.maxmem, dklen=length,
    )


def hash_secret(secret: str, params: ScryptParams = DEFAULT_PARAMS) -> str:
    """The hash string of `secret`, with a fresh random salt."""
    if not secret:
        raise ValueError("cannot hash an empty credential")
    salt = os.urandom(SALT_BYTES)
    return str(CredentialHash(params, salt, _scrypt(secret, salt, params, HASH_BYTES)))


def verify(secret: str, encoded: str) -> bool:
    """Does `secret` match the hash string? Raises CredentialHashError on a malformed string."""
    return CredentialHash.parse(encoded).verify(secret)


def key_id(token: str) -> str:
    """The key id of a scoped token `<key id>.<secret>`; "" for an unscoped token."""
    head, dot, tail = token.partition(".")
    return head if dot and head and tail else ""


def new_token(key: str) -> str:
    """A fresh scoped token for `key` (256 random bits)."""
    if not key or "." in key:
        raise ValueError(f"key id {key!r} must be non-empty and contain no '.'")
    return f"{key}.{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class _Entry:
    owner: str
    hash: CredentialHash
    scoped_only: bool  # accepts only tokens `<owner>.<secret>`


class CredentialIndex:
    """Who owns a token: a scoped token checks one hash, an unscoped token the unscoped
    (development) credentials; tokens that verified are remembered by a keyed fingerprint.

    Thread-safe. At most `max_parallel` scrypt verifications run at once, so a flood of wrong
    tokens costs at most that many cores; already verified tokens never wait for them."""

    def __init__(self, max_parallel: int = 2, max_cached: int = 10_000) -> None:
        self._by_owner: dict[str, _Entry] = {}
        self._unscoped: list[_Entry] = []
        self._key = secrets.token_bytes(32)
        self._verified: dict[bytes, str] = {}
        self._max_cached = max_cached
        self._gate = threading.BoundedSemaphore(max_parallel)

    def add_hash(self, owner: str, encoded: str, *, scoped_only: bool = True) -> None:
        """A stored hash: it accepts only scoped tokens `<owner>.<secret>`, unless
        `scoped_only` is False (the hash of an unscoped development credential, as
        add_plaintext makes: the live directory publishes those hashes)."""
        if owner in self._by_owner:
            raise ValueError(f"{owner!r} has a credential already")
        entry = _Entry(owner, CredentialHash.parse(encoded), scoped_only)
        self._by_owner[owner] = entry
        if not scoped_only:
            self._unscoped.append(entry)

    def add_plaintext(self, owner: str, secret: str) -> None:
        """A plaintext (development) credential, hashed here and not kept."""
        if owner in self._by_owner:
            raise ValueError(f"{owner!r} has a credential already")
        entry = _Entry(
            owner,
            CredentialHash.parse(hash_secret(secret, IN_MEMORY_PARAMS)),
            key_id(secret) == owner,
        )
        self._by_owner[owner] = entry
        if not entry.scoped_only:
            self._unscoped.append(entry)

    def hash_of(self, owner: str) -> str:
        return str(self._by_owner[owner].hash)

    def _fingerprint(self, token: str) -> bytes:
        return hmac.digest(self._key, token.encode(), "sha256")

    def cached(self, token: str) -> str | None:
        """The owner of a token that verified before (no scrypt), else None."""
        return self._verified.get(self._fingerprint(token)) if token else None

    def owner_of(self, token: str) -> str | None:
        if not token:
            return None
        fingerprint = self._fingerprint(token)
        known = self._verified.get(fingerprint)
        if known is not None:
            return known
        candidates = []
        scoped = self._by_owner.get(key_id(token))
        if scoped is not None:
            candidates.append(scoped)
        candidates += [e for e in self._unscoped if e is not scoped]
        with self._gate:
            for entry in candidates:
                if entry.hash.verify(token):
                    if len(self._verified) >= self._max_cached:
                        self._verified.clear()
                    self._verified[fingerprint] = entry.owner
                    return entry.owner
        return None
