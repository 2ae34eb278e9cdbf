"""SIP messages (RFC 3261 subset): model, parser, serializer and header-value helpers.

Pure: bytes in, objects out, and back. The parser is lenient where RFC 3261 asks receivers to be
(case-insensitive and compact header names, LF-only line ends, folded lines, several Via values
in one header line, a missing Content-Length on UDP) and strict where a reply would otherwise be
built on garbage (mandatory headers, CSeq, Content-Length). A request that cannot be used raises
`SipParseError` carrying whatever could be parsed, so the caller can still answer 400 with a
reason phrase that says what was wrong.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

SIP_VERSION = "SIP/2.0"
MAGIC_COOKIE = "z9hG4bK"

# RFC 3261 7.3.3 and the IANA registry: compact form -> full (lower-case) name.
COMPACT_FORMS = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "n": "identity-info",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}

# How a header is written on the wire; anything else is written in Title-Case.
_DISPLAY_NAMES = {
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "mime-version": "MIME-Version",
}

_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~\-]+$")
_DISPLAY_CACHE: dict[str, str] = {}


def display_name(key: str) -> str:
    """Wire spelling of a lower-case header name (`call-id` -> `Call-ID`)."""
    name = _DISPLAY_CACHE.get(key)
    if name is None:
        name = _DISPLAY_NAMES.get(key) or "-".join(p.capitalize() for p in key.split("-"))
        _DISPLAY_CACHE[key] = name
    return name


def canonical_key(name: str) -> str:
    """Lower-case full header name, expanding compact forms (`i` -> `call-id`)."""
    key = name.strip().lower()
    return COMPACT_FORMS.get(key, key)


class Headers:
    """Ordered, case-insensitive multi-map of header values, keyed by full lower-case name."""

    __slots__ = ("_items",)

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        self._items: list[tuple[str, str]] = items if items is not None else []

    def get(self, name: str) -> str | None:
        key = canonical_key(name)
        for k, v in self._items:
            if k == key:
                return v
        return None

    def get_all(self, name: str) -> list[str]:
        key = canonical_key(name)
        return [v for k, v in self._items if k == key]

    def add(self, name: str, value: str) -> None:
        self._items.append((canonical_key(name), value))

    def set(self, name: str, value: str) -> None:
        """Replace every value of `name` by one value, in the position of the first."""
        key = canonical_key(name)
        out: list[tuple[str, str]] = []
        placed = False
        for k, v in self._items:
            if k == key:
                if not placed:
                    out.append((key, value))
                    placed = True
            else:
                out.append((k, v))
        if not placed:
            out.append((key, value))
        self._items = out

    def remove(self, name: str) -> None:
        key = canonical_key(name)
        self._items = [(k, v) for k, v in self._items if k != key]

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __len__(self) -> int:
        return len(self._items)

    def copy(self) -> Headers:
        return Headers(list(self._items))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class _DialogHeaders:
    """What requests and responses both read from their headers."""

    __slots__ = ()
    headers: Headers

    @property
    def call_id(self) -> str:
        return self.headers.get("call-id") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        return parse_cseq(self.headers.get("cseq") or "")

    @property
    def top_via(self) -> Via:
        return parse_via(self.headers.get("via") or "")

    @property
    def from_tag(self) -> str:
        return tag_of(self.headers.get("from") or "")

    @property
    def to_tag(self) -> str:
        return tag_of(self.headers.get("to") or "")


@dataclass(slots=True)
class SipRequest(_DialogHeaders):
    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    def skeleton(self) -> SipRequest:
        """Method, Call-ID and CSeq only: what a finished transaction keeps (saves memory)."""
        headers = Headers()
        for key in ("call-id", "cseq"):
            value = self.headers.get(key)
            if value is not None:
                headers._items.append((key, value))
        return SipRequest(self.method, "", headers)


@dataclass(slots=True)
class SipResponse(_DialogHeaders):
    status: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""


SipMessage = SipRequest | SipResponse


class SipParseError(ValueError):
    """A datagram that is not a usable SIP message.

    `reason` says what was wrong (it becomes the 400 reason phrase); `status` is the response
    code to answer with; `partial` is the request as far as it could be parsed (None when not
    even a request line was recognised, in which case nothing can be answered).
    """

    def __init__(self, reason: str, *, status: int = 400, partial: SipRequest | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.partial = partial


# ---------------------------------------------------------------------------- header values


@dataclass(frozen=True, slots=True)
class SipUri:
    scheme: str
    user: str
    host: str
    port: int | None
    params: dict[str, str]

    @property
    def host_port(self) -> tuple[str, int]:
        return self.host, self.port or 5060

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        out = f"{self.scheme}:{self.user + '@' if self.user else ''}{host}"
        if self.port:
            out += f":{self.port}"
        for k, v in self.params.items():
            out += f";{k}={v}" if v else f";{k}"
        return out


def _split_host_port(text: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]` or `[v6]:port` -> (host, port)."""
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"unterminated IPv6 reference in {text!r}")
        host, rest = text[1:end], text[end + 1 :]
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise ValueError(f"garbage after IPv6 reference in {text!r}")
        port_text = rest[1:]
    else:
        host, sep, port_text = text.partition(":")
        if not sep:
            port_text = ""
    if not host:
        raise ValueError(f"empty host in {text!r}")
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"bad port {port_text!r}")
    return host, int(port_text)


def _params(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if part:
            name, _, value = part.partition("=")
            out[name.strip().lower()] = value.strip()
    return out


def parse_uri(text: str) -> SipUri:
    """Parse a sip:/sips: URI; raise ValueError naming the problem."""
    text = text.strip()
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in ("sip", "sips"):
        raise ValueError(f"not a sip: URI: {text!r}")
    rest = rest.split("?", 1)[0]
    user = ""
    at = rest.rfind("@")
    if at >= 0:
        user = rest[:at].split(":", 1)[0]  # drop a password
        rest = rest[at + 1 :]
    hostport, _, params = rest.partition(";")
    host, port = _split_host_port(hostport)
    return SipUri(scheme, user, host, port, _params(params))


@dataclass(frozen=True, slots=True)
class NameAddr:
    display: str
    uri: str
    params: dict[str, str]

    @property
    def tag(self) -> str:
        return self.params.get("tag", "")


def parse_name_addr(text: str) -> NameAddr:
    """From/To/Contact value: `"Bob" <sip:b@h>;tag=x` or `sip:b@h;tag=x`."""
    text = text.strip()
    lt = text.find("<")
    if lt >= 0:
        gt = text.find(">", lt)
        if gt < 0:
            raise ValueError("'<' without '>'")
        display = text[:lt].strip().strip('"')
        uri = text[lt + 1 : gt].strip()
        params = _params(text[gt + 1 :])
    else:
        uri, _, rest = text.partition(";")
        display = ""
        uri = uri.strip()
        params = _params(rest)
    if ":" not in uri:
        raise ValueError(f"no URI in {text!r}")
    return NameAddr(display, uri, params)


def tag_of(value: str) -> str:
    """The tag parameter of a From/To value ('' when absent); cheap, used per message."""
    i = value.find(";tag=")
    if i < 0:
        i = value.lower().find(";tag=")
        if i < 0:
            return ""
    start = i + 5
    end = len(value)
    for stop in (";", ",", " ", ">"):
        j = value.find(stop, start)
        if 0 <= j < end:
            end = j
    return value[start:end]


def without_tag(value: str) -> str:
    i = value.lower().find(";tag=")
    if i < 0:
        return value
    end = value.find(";", i + 1)
    return value[:i] + (value[end:] if end >= 0 else "")


@dataclass(frozen=True, slots=True)
class Via:
    transport: str
    host: str
    port: int | None
    params: dict[str, str]

    @property
    def branch(self) -> str:
        return self.params.get("branch", "")

    @property
    def sent_by(self) -> str:
        return f"{self.host}:{self.port or 5060}"


def parse_via(text: str) -> Via:
    """One Via value: `SIP/2.0/UDP host:port;branch=...`; raise ValueError."""
    proto, _, rest = text.strip().partition(" ")
    parts = proto.split("/")
    if len(parts) != 3 or parts[0].upper() != "SIP":
        raise ValueError(f"bad Via protocol {proto!r}")
    sent_by, _, params = rest.strip().partition(";")
    host, port = _split_host_port(sent_by)
    return Via(parts[2].upper(), host, port, _params(params))


def parse_cseq(text: str) -> tuple[int, str]:
    num, _, method = text.strip().partition(" ")
    method = method.strip()
    if not num.isdigit() or not method or not _TOKEN.match(method):
        raise ValueError(f"malformed CSeq {text!r}")
    value = int(num)
    if value >= 2**31:
        raise ValueError(f"CSeq number {value} out of range")
    return value, method


def split_commas(text: str) -> list[str]:
    """Split a header value on commas that are outside quotes and <...>."""
    if "," not in text:
        return [text]
    out: list[str] = []
    depth = 0
    quoted = False
    start = 0
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    out.append(text[start:].strip())
    return [p for p in out if p]


# ------------------------------------------------------------------------------- parser

_REQUIRED_REQUEST_HEADERS = ("via", "from", "to", "call-id", "cseq")
_REQUIRED_RESPONSE_HEADERS = ("via", "call-id", "cseq")


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    i = data.find(b"\r\n\r\n")
    j = data.find(b"\n\n")
    if i >= 0 and (j < 0 or i < j):
        return data[:i], data[i + 4 :]
    if j >= 0:
        return data[:j], data[j + 2 :]
    return data, b""


def parse(data: bytes) -> SipMessage:
    """Parse one datagram. Raise SipParseError (see the class) when it cannot be used."""
    data = data.lstrip(b"\r\n")
    if not data:
        raise SipParseError("empty datagram (keep-alive)")
    head_bytes, body = _split_head(data)
    head = head_bytes.decode("utf-8", "surrogateescape")
    lines = head.split("\n")
    start = lines[0].rstrip("\r")
    errors: list[tuple[str, int]] = []

    request: SipRequest | None = None
    response: SipResponse | None = None
    if start.startswith("SIP/"):
        parts = start.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit() or not 100 <= int(parts[1]) <= 699:
            raise SipParseError(f"malformed status line {start[:60]!r}")
        if parts[0].upper() != SIP_VERSION:
            raise SipParseError(f"unsupported version {parts[0][:20]!r}")
        response = SipResponse(int(parts[1]), parts[2] if len(parts) > 2 else "")
        headers = response.headers
    else:
        parts = start.split(" ")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            if len(parts) >= 3 and parts[-1].upper().startswith("SIP/") and _TOKEN.match(parts[0]):
                request = SipRequest(parts[0], " ".join(parts[1:-1]))
                errors.append(("malformed request line (spaces in the Request-URI)", 400))
            else:
                raise SipParseError(f"not a SIP request or status line: {start[:60]!r}")
        else:
            method, uri, version = parts
            if not _TOKEN.match(method):
                raise SipParseError(f"bad method token {method[:20]!r}")
            request = SipRequest(method, uri)
            if version.upper() != SIP_VERSION:
                errors.append((f"SIP version {version[:20]} not supported", 505))
            elif ":" not in uri:
                errors.append((f"malformed Request-URI {uri[:40]!r}", 400))
        headers = request.headers

    items: list[tuple[str, str]] = []
    for raw_line in lines[1:]:
        line = raw_line.rstrip("\r")
        if not line:
            continue
        if line[0] in " \t":  # folded continuation of the previous header
            if items:
                key, value = items[-1]
                items[-1] = (key, f"{value} {line.strip()}")
            else:
                errors.append(("header continuation before any header", 400))
            continue
        colon = line.find(":")
        name = line[:colon].strip() if colon > 0 else ""
        if not name or not _TOKEN.match(name):
            errors.append((f"malformed header line {line[:40]!r}", 400))
            continue
        key = name.lower()
        key = COMPACT_FORMS.get(key, key)
        items.append((key, line[colon + 1 :].strip()))
    for key, value in items:
        if key == "via":
            for one in split_commas(value):
                headers.add("via", one)
        else:
            headers.add(key, value)

    # Body and Content-Length (RFC 3261 18.3: on UDP a missing Content-Length means "to the
    # end of the datagram"; bytes beyond Content-Length are discarded).
    length_text = headers.get("content-length")
    if length_text is not None:
        if not length_text.isdigit():
            errors.append((f"invalid Content-Length {length_text[:20]!r}", 400))
        else:
            length = int(length_text)
            if length > len(body):
                errors.append(
                    (f"Content-Length {length} exceeds the {len(body)} body bytes received", 400)
                )
            else:
                body = body[:length]

    if response is not None:
        response.body = body
        if errors:
            raise SipParseError(errors[0][0], status=errors[0][1])
        for key in _REQUIRED_RESPONSE_HEADERS:
            if key not in headers:
                raise SipParseError(f"response lacks {display_name(key)}")
        try:
            parse_cseq(headers.get("cseq") or "")
            parse_via(headers.get("via") or "")
        except ValueError as exc:
            raise SipParseError(str(exc)) from exc
        return response

    if request is None:  # unreachable: the start line was a request or a response
        raise SipParseError("internal: no start line")
    request.body = body
    for key in _REQUIRED_REQUEST_HEADERS:
        if key not in headers:
            errors.append((f"missing {display_name(key)} header", 400))
    _check_request_headers(request, errors)
    if errors:
        reason, status = errors[0]
        raise SipParseError(reason, status=status, partial=request)
    return request


def _check_request_headers(request: SipRequest, errors: list[tuple[str, int]]) -> None:
    headers = request.headers
    cseq = headers.get("cseq")
    if cseq is not None:
        try:
            _num, method = parse_cseq(cseq)
        except ValueError as exc:
            errors.append((str(exc), 400))
        else:
            if method != request.method:
                errors.append(
                    (f"CSeq method {method} does not match request method {request.method}", 400)
                )
    via = headers.get("via")
    if via is not None:
        try:
            parse_via(via)
        except ValueError as exc:
            errors.append((f"malformed Via: {exc}", 400))
    for key in ("from", "to"):
        value = headers.get(key)
        if value is not None:
            try:
                parse_name_addr(value)
            except ValueError as exc:
                errors.append((f"malformed {display_name(key)}: {exc}", 400))
    max_forwards = headers.get("max-forwards")
    if max_forwards is not None and not max_forwards.isdigit():
        errors.append((f"invalid Max-Forwards {max_forwards[:20]!r}", 400))


# ----------------------------------------------------------------------------- serializer


def serialize(message: SipMessage) -> bytes:
    """Wire form; Content-Length is always written from the body."""
    if isinstance(message, SipRequest):
        start = f"{message.method} {message.uri} {SIP_VERSION}"
    else:
        start = f"{SIP_VERSION} {message.status} {message.reason}"
    lines = [start]
    for key, value in message.headers._items:
        if key != "content-length":
            lines.append(f"{display_name(key)}: {value}")
    lines.append(f"Content-Length: {len(message.body)}")
    lines.append("")
    lines.append("")
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + message.body


# Reason phrases for the codes this service sends.
REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    416: "Unsupported URI Scheme",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "Version Not Supported",
}


def build_response(
    request: SipRequest,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str = "",
    extra: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> SipResponse:
    """A response to `request` (RFC 3261 8.2.6): Via, From, To, Call-ID, CSeq copied.

    A To tag is added when `to_tag` is given and the request's To has none.
    """
    headers = Headers()
    for key, value in request.headers._items:
        if key == "via" or key == "from" or key == "call-id" or key == "cseq":
            headers._items.append((key, value))
        elif key == "to":
            if to_tag and ";tag=" not in value.lower():
                value = f"{value};tag={to_tag}"
            headers._items.append((key, value))
    if extra:
        for key, value in extra:
            headers._items.append((canonical_key(key), value))
    return SipResponse(status, reason or REASONS.get(status, ""), headers, body)


# Fixed for ever: changing it would give calls already in the log other ids.
INTERACTION_NAMESPACE = uuid.UUID("84015775-729e-441f-928f-d92311773e9a")


def interaction_id_for(invite: SipRequest) -> str:
    """The interaction an initial INVITE starts, derived from what identifies its transaction
    (Call-ID, From tag, top Via branch, CSeq number; RFC 3261 17.2.3) and where it goes,
    rather than drawn at
    random: a retransmission of the INVITE that reaches a restarted process (the first one
    died after recording `arrived` but before the caller heard an answer) names the same
    interaction, so the call cannot become two."""
    number, _method = invite.cseq
    identity = "\n".join(
        (invite.uri, invite.call_id, invite.from_tag, invite.top_via.branch, str(number))
    )
    return str(uuid.uuid5(INTERACTION_NAMESPACE, identity))
