"""SIP digest authentication (RFC 7616, RFC 2617 as RFC 3261 22 uses it): challenges, nonces
and response verification, MD5 and SHA-256, qop=auth.

Pure. Nonces are stateless: `<issued at, hex seconds>.<salt>.<HMAC-SHA-256(secret, issued at
. salt . realm)>`, so no nonce table is kept and any replica holding the same secret verifies
a nonce another one issued; a nonce older than its lifetime is stale (the phone retries with
the fresh one of a `stale=true` challenge, without asking its user). Replaying a whole
Authorization within a nonce's lifetime is not detected (no nonce-count table): the lifetime
bounds it.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

# Digest algorithm name -> hashlib name.
ALGORITHMS = {"SHA-256": "sha256", "MD5": "md5"}
# The challenges offered, preferred first (RFC 7616 3.7 / RFC 8760: one per algorithm; the
# client uses the first it supports). Phones built on libre before 2.x (Debian's baresip
# 1.0.0, measured) fail with ENOSYS on any SHA-256 challenge instead of skipping it: serve
# them with ("MD5",) alone.
DEFAULT_ORDER = ("SHA-256", "MD5")


def _h(algorithm: str, text: str) -> str:
    return hashlib.new(ALGORITHMS[algorithm], text.encode()).hexdigest()


def ha1(algorithm: str, username: str, realm: str, password: str) -> str:
    """H(username ":" realm ":" password): what the directory stores (computed there by
    hotline_platform.sip_digest, the domain importing nothing but the standard library)."""
    return _h(algorithm, f"{username}:{realm}:{password}")


@dataclass(frozen=True, slots=True)
class Credentials:
    """The parameters of an `Authorization: Digest ...` header."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"  # RFC 2617: absent means MD5
    qop: str = ""
    nc: str = ""
    cnonce: str = ""
    opaque: str = ""


_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*(?:,|$)')


def parse_authorization(value: str) -> Credentials:
    """Parse a Digest credentials header value; ValueError when it is not usable."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise ValueError(f"not a Digest credential: {scheme[:20]!r}")
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        match = _PARAM.match(rest, pos)
        if match is None or match.end() == pos:
            raise ValueError("malformed Digest parameters")
        raw = match.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[match.group(1).lower()] = raw
        pos = match.end()
    missing = [k for k in ("username", "realm", "nonce", "uri", "response") if k not in params]
    if missing:
        raise ValueError(f"Digest credential lacks {', '.join(missing)}")
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported digest algorithm {algorithm[:20]!r}")
    qop = params.get("qop", "")
    if qop and (qop != "auth" or not params.get("nc") or not params.get("cnonce")):
        raise ValueError("qop must be auth, with nc and cnonce")
    return Credentials(
        username=params["username"],
        realm=params["realm"],
        nonce=params["nonce"],
        uri=params["uri"],
        response=params["response"].lower(),
        algorithm=algorithm,
        qop=qop,
        nc=params.get("nc", ""),
        cnonce=params.get("cnonce", ""),
        opaque=params.get("opaque", ""),
    )


def expected_response(credentials: Credentials, method: str, ha1_hex: str) -> str:
    """The response a client knowing `ha1_hex` computes (RFC 7616 3.4.1; RFC 2069 form when
    the client sent no qop)."""
    alg = credentials.algorithm
    ha2 = _h(alg, f"{method}:{credentials.uri}")
    if credentials.qop:
        c = credentials
        return _h(alg, f"{ha1_hex}:{c.nonce}:{c.nc}:{c.cnonce}:{c.qop}:{ha2}")
    return _h(alg, f"{ha1_hex}:{credentials.nonce}:{ha2}")


def response_matches(credentials: Credentials, method: str, ha1_hex: str) -> bool:
    expected = expected_response(credentials, method, ha1_hex)
    return hmac.compare_digest(expected.encode(), credentials.response.encode())


class NonceCheck(enum.Enum):
    VALID = "valid"
    STALE = "stale"  # ours, but older than its lifetime
    INVALID = "invalid"  # not ours (forged, another realm, another secret)


@dataclass(frozen=True, slots=True)
class Nonces:
    """Issues and checks HMAC-signed, timestamped nonces (see the module docstring)."""

    secret: bytes
    lifetime_ms: int = 300_000

    def _mac(self, issued_s: str, salt: str, realm: str) -> str:
        text = f"{issued_s}.{salt}.{realm}".encode()
        return hmac.new(self.secret, text, hashlib.sha256).hexdigest()[:32]

    def issue(self, realm: str, now_ms: int, salt: str | None = None) -> str:
        issued = format(now_ms // 1000, "x")
        salt = salt if salt is not None else secrets.token_hex(6)
        return f"{issued}.{salt}.{self._mac(issued, salt, realm)}"

    def check(self, nonce: str, realm: str, now_ms: int) -> NonceCheck:
        parts = nonce.split(".")
        if len(parts) != 3:
            return NonceCheck.INVALID
        issued, salt, mac = parts
        try:
            issued_ms = int(issued, 16) * 1000
        except ValueError:
            return NonceCheck.INVALID
        if not hmac.compare_digest(mac.encode(), self._mac(issued, salt, realm).encode()):
            return NonceCheck.INVALID
        # A nonce from the future (clock skew between replicas) is fine for a second or so.
        if now_ms - issued_ms > self.lifetime_ms or issued_ms - now_ms > 5_000:
            return NonceCheck.STALE
        return NonceCheck.VALID

    def opaque(self, realm: str) -> str:
        """A fixed opaque per realm (RFC 7616 3.3: returned unchanged by the client)."""
        return hmac.new(self.secret, f"opaque.{realm}".encode(), hashlib.sha256).hexdigest()[:16]


def challenges(
    realm: str, nonce: str, opaque: str, *, stale: bool = False,
    order: tuple[str, ...] = DEFAULT_ORDER,
) -> list[str]:
    """`WWW-Authenticate` values: one per algorithm of `order`, all with qop=auth."""
    out = []
    for algorithm in order:
        value = (
            f'Digest realm="{_quote(realm)}", nonce="{nonce}", opaque="{opaque}", '
            f'algorithm={algorithm}, qop="auth"'
        )
        if stale:
            value += ", stale=true"
        out.append(value)
    return out


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
