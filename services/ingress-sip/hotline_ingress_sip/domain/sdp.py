"""Just enough SDP (RFC 4566) for anchoring a call's audio: read the audio stream of an offer,
choose a codec both sides can use, and rewrite what the relay needs.

The platform speaks G.711 (PCMU 0, PCMA 8) and RFC 4733 telephone-event. An offer is
narrowed to one G.711 codec (and telephone-event) before it reaches the media relay, so the
caller's answer, the prompts played to it and every agent leg use that one codec: the caller's
dialog never has to change when an agent, a hold or a transfer changes the other side.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass

# Static payload types of RFC 3551 we accept, by encoding name.
G711 = {"PCMU": 0, "PCMA": 8}
_G711_BY_PAYLOAD_TYPE = {str(pt): name for name, pt in G711.items()}
TELEPHONE_EVENT = "telephone-event"


class SdpError(ValueError):
    """An offer or answer we cannot anchor; the message says why (it becomes the 488 reason)."""


class Direction(enum.Enum):
    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"


_DIRECTIONS = {f"a={d.value}": d for d in Direction}


@dataclass(frozen=True, slots=True)
class AudioStream:
    address: str  # connection address of the audio stream
    port: int
    codec: str  # the G.711 encoding chosen: "PCMU" or "PCMA"
    payload_type: int
    event_payload_type: int | None  # telephone-event, if offered
    direction: Direction

    @property
    def on_hold(self) -> bool:
        """RFC 3264 8.4: a party that stops receiving (sendonly/inactive, or the old
        c=0.0.0.0) puts the other on hold."""
        return (
            self.direction in (Direction.SENDONLY, Direction.INACTIVE)
            or self.address == "0.0.0.0"
        )


def _lines(body: bytes) -> list[str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SdpError("SDP is not UTF-8") from exc
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def parse_audio(body: bytes) -> AudioStream:
    """The first active audio stream of an SDP body, with the G.711 codec to use."""
    if not body:
        raise SdpError("no SDP")
    lines = _lines(body)
    if not lines or not lines[0].startswith("v=0"):
        raise SdpError("not an SDP body")
    session_address = ""
    session_direction = Direction.SENDRECV
    media: list[list[str]] = []
    for line in lines:
        if line.startswith("m="):
            media.append([line])
        elif media:
            media[-1].append(line)
        elif line.startswith("c="):
            session_address = _connection(line)
        elif line in _DIRECTIONS:
            session_direction = _DIRECTIONS[line]
    for block in media:
        fields = block[0][2:].split()
        if len(fields) < 4 or fields[0] != "audio":
            continue
        try:
            port = int(fields[1])
        except ValueError as exc:
            raise SdpError(f"bad audio port {fields[1]!r}") from exc
        if port == 0:
            continue  # a declined stream
        if not 0 < port < 65536:
            raise SdpError(f"bad audio port {port}")
        if fields[2] not in ("RTP/AVP", "RTP/AVPF"):
            raise SdpError(f"unsupported audio transport {fields[2]}")
        formats = fields[3:]
        address = session_address
        direction = session_direction
        names: dict[str, str] = {}
        for line in block[1:]:
            if line.startswith("c="):
                address = _connection(line)
            elif line.startswith("a=rtpmap:"):
                pt, _, rest = line[len("a=rtpmap:"):].partition(" ")
                names[pt] = rest.split("/")[0].strip()
            elif line in _DIRECTIONS:
                direction = _DIRECTIONS[line]
        if not address:
            raise SdpError("no connection address for the audio stream")
        codec, payload_type, event_pt = _choose(formats, names)
        return AudioStream(address, port, codec, payload_type, event_pt, direction)
    raise SdpError("no audio stream")


def _connection(line: str) -> str:
    fields = line[2:].split()
    if len(fields) != 3 or fields[0] != "IN" or fields[1] not in ("IP4", "IP6"):
        raise SdpError(f"bad connection line {line!r}")
    address = fields[2].split("/")[0]
    try:
        ipaddress.ip_address(address)
    except ValueError as exc:
        raise SdpError(f"bad connection address {address!r}") from exc
    return address


def _choose(formats: list[str], names: dict[str, str]) -> tuple[str, int, int | None]:
    """The first G.711 format in the offerer's order of preference, and telephone-event."""
    chosen: tuple[str, int] | None = None
    event_pt: int | None = None
    for fmt in formats:
        if not fmt.isdigit():
            raise SdpError(f"bad payload type {fmt!r}")
        name = names.get(fmt, "").upper()
        if not name:  # static payload types may come without rtpmap
            name = _G711_BY_PAYLOAD_TYPE.get(fmt, "")
        if chosen is None and name in G711:
            chosen = (name, int(fmt))
        elif name == TELEPHONE_EVENT.upper() and event_pt is None:
            event_pt = int(fmt)
    if chosen is None:
        raise SdpError("no common codec (the platform speaks PCMU and PCMA)")
    return chosen[0], chosen[1], event_pt


def narrowed(body: bytes, stream: AudioStream) -> bytes:
    """The offer with its audio stream narrowed to the chosen codec and telephone-event, and
    any other stream declined (port 0), so every leg agrees on one codec."""
    keep = {str(stream.payload_type)}
    if stream.event_payload_type is not None:
        keep.add(str(stream.event_payload_type))
    out: list[str] = []
    in_audio = False
    done = False
    for line in _lines(body):
        if line.startswith("m="):
            fields = line[2:].split()
            in_audio = not done and fields[0] == "audio" and fields[1] != "0"
            if in_audio:
                done = True
                formats = [f for f in fields[3:] if f in keep]
                line = "m=" + " ".join(fields[:3] + formats)
            else:
                line = "m=" + " ".join([fields[0], "0", *fields[2:]])
        elif in_audio and line.startswith(("a=rtpmap:", "a=fmtp:")):
            pt = line.split(":", 1)[1].split(" ", 1)[0]
            if pt not in keep:
                continue
        out.append(line)
    return ("\r\n".join(out) + "\r\n").encode()


def placeholder_answer(stream: AudioStream, host: str) -> bytes:
    """The answer the relay gets for the platform's own side before any agent is connected:
    the same codec, media sent to the discard port (RFC 863) so nothing reaches anyone."""
    family = "IP6" if ":" in host else "IP4"
    formats = [str(stream.payload_type)]
    attributes = [f"a=rtpmap:{stream.payload_type} {stream.codec}/8000"]
    if stream.event_payload_type is not None:
        formats.append(str(stream.event_payload_type))
        attributes.append(f"a=rtpmap:{stream.event_payload_type} {TELEPHONE_EVENT}/8000")
        attributes.append(f"a=fmtp:{stream.event_payload_type} 0-16")
    lines = [
        "v=0",
        f"o=hotline 1 1 IN {family} {host}",
        "s=Hotline",
        f"c=IN {family} {host}",
        "t=0 0",
        f"m=audio 9 RTP/AVP {' '.join(formats)}",
        *attributes,
        "a=sendrecv",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def with_direction(body: bytes, direction: Direction) -> bytes:
    """The SDP with the direction of its first audio stream set (answering a hold
    re-INVITE); other direction attributes of that stream and the session are dropped."""
    out: list[str] = []
    state = "session"  # -> "audio" (the first audio stream) -> "after"
    for line in _lines(body):
        if line.startswith("m="):
            if state == "audio":
                out.append(f"a={direction.value}")
                state = "after"
            elif state == "session" and line.startswith("m=audio"):
                state = "audio"
        elif state != "after" and line in _DIRECTIONS:
            continue
        out.append(line)
    if state == "audio":
        out.append(f"a={direction.value}")
    return ("\r\n".join(out) + "\r\n").encode()
