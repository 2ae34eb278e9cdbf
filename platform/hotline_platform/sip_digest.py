"""Agents' SIP digest secrets (RFC 7616): HA1 = H(username ":" realm ":" password).

The directory keeps HA1s, never a phone's password; ingress-sip's registrar verifies digest
responses with them (services/ingress-sip/.../domain/digest.py). The realm is the tenant id,
so a tenant's HA1s are computed once, at load or with `hotline credentials sip-hash`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

# Digest algorithm name (as in WWW-Authenticate) -> hashlib name, preferred first.
ALGORITHMS: Mapping[str, str] = {"SHA-256": "sha256", "MD5": "md5"}
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~+-]{0,63}$")


def digest_hex(algorithm: str, text: str) -> str:
    return hashlib.new(ALGORITHMS[algorithm], text.encode()).hexdigest()


def ha1(algorithm: str, username: str, realm: str, password: str) -> str:
    """H(username ":" realm ":" password), lower-case hex."""
    return digest_hex(algorithm, f"{username}:{realm}:{password}")


def is_ha1(algorithm: str, value: str) -> bool:
    """A well-formed HA1 of `algorithm`: lower-case hex of the hash's length."""
    size = hashlib.new(ALGORITHMS[algorithm]).digest_size * 2
    return len(value) == size and all(c in "0123456789abcdef" for c in value)


def is_username(value: str) -> bool:
    """A SIP user part we accept as an agent's username: 1-64 unreserved characters (no
    escaping, nothing a phone would encode differently in its To and its Authorization)."""
    return bool(_USERNAME.match(value))
