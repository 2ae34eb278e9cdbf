"""SIP transaction and dialog state (RFC 3261 sections 12 and 17), without clocks or sockets.

The application layer owns the timers; this module says which transaction a message belongs
to, when to retransmit, and how in-dialog requests are built.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from hotline_ingress_sip.domain.sip import (
    MAGIC_COOKIE,
    Headers,
    SipRequest,
    SipResponse,
    parse_name_addr,
    tag_of,
    without_tag,
)

T1_MS = 500  # RTT estimate
T2_MS = 4000  # maximum retransmit interval for non-INVITE requests and INVITE responses
MAX_FORWARDS = "70"


class Cancellable(Protocol):
    def cancel(self) -> None: ...


def retransmit_delays(t1_ms: int, t2_ms: int | None, total_ms: int) -> tuple[int, ...]:
    """Delays between successive sends: T1, 2*T1, 4*T1 ... (capped at T2 when given), as long
    as the time elapsed stays below `total_ms` (64*T1: Timers B, F, H)."""
    delays: list[int] = []
    elapsed = 0
    delay = t1_ms
    while elapsed + delay < total_ms:
        delays.append(delay)
        elapsed += delay
        delay = delay * 2 if t2_ms is None else min(delay * 2, t2_ms)
    return tuple(delays)


@dataclass(frozen=True, slots=True)
class Timing:
    t1_ms: int = T1_MS
    t2_ms: int = T2_MS

    @property
    def transaction_ms(self) -> int:
        """64*T1: how long a transaction may take (Timers B, F, H) and how long a completed
        one is kept to absorb retransmissions (Timer J)."""
        return 64 * self.t1_ms

    def invite_request_delays(self) -> tuple[int, ...]:  # Timer A
        return retransmit_delays(self.t1_ms, None, self.transaction_ms)

    def request_delays(self) -> tuple[int, ...]:  # Timer E
        return retransmit_delays(self.t1_ms, self.t2_ms, self.transaction_ms)

    def invite_response_delays(self) -> tuple[int, ...]:  # Timer G and 2xx (13.3.1.4)
        return retransmit_delays(self.t1_ms, self.t2_ms, self.transaction_ms)


ServerKey = tuple[str, str, str]


def server_key(request: SipRequest, method: str | None = None) -> ServerKey:
    """Key of the server transaction a request belongs to (RFC 3261 17.2.3).

    An ACK belongs to the INVITE transaction (non-2xx) it acknowledges; pass method="INVITE"
    to find the INVITE a CANCEL refers to. Requests without the RFC 3261 magic cookie fall
    back to Call-ID, CSeq number and From tag (RFC 2543 matching, simplified).
    """
    via = request.top_via
    if method is None:
        method = "INVITE" if request.method == "ACK" else request.method
    if via.branch.startswith(MAGIC_COOKIE):
        return via.branch, via.sent_by, method
    num, _ = request.cseq
    return f"{request.call_id}|{num}|{request.from_tag}", via.sent_by, method


class ServerState(enum.Enum):
    PROCEEDING = "proceeding"  # no final response yet
    COMPLETED = "completed"  # final response sent (INVITE: retransmitted until ACK)
    CONFIRMED = "confirmed"  # INVITE: ACK received


@dataclass(eq=False, slots=True)
class ServerTransaction:
    key: ServerKey
    request: SipRequest
    source: tuple[str, int]
    state: ServerState = ServerState.PROCEEDING
    status: int = 0  # last status sent
    last_response: bytes | None = None
    timer: Cancellable | None = None  # response retransmission (INVITE final)
    attempt: int = 0

    @property
    def is_invite(self) -> bool:
        return self.request.method == "INVITE"


class ClientState(enum.Enum):
    CALLING = "calling"  # sent, nothing heard (retransmitting)
    PROCEEDING = "proceeding"  # provisional received
    COMPLETED = "completed"  # final received
    TERMINATED = "terminated"  # timed out or abandoned


@dataclass(eq=False, slots=True)
class ClientTransaction:
    branch: str
    request: SipRequest
    data: bytes
    dest: tuple[str, int]
    state: ClientState = ClientState.CALLING
    status: int = 0  # last status received
    ack: bytes | None = None  # our ACK to a non-2xx final response (resent on retransmission)
    timer: Cancellable | None = None
    deadline: Cancellable | None = None
    attempt: int = 0

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def key(self) -> tuple[str, str]:
        return self.branch, self.request.method


def ack_for_non_2xx(invite: SipRequest, response: SipResponse) -> SipRequest:
    """The ACK an INVITE client transaction sends for a 3xx-6xx (RFC 3261 17.1.1.3)."""
    headers = Headers()
    headers.add("via", invite.headers.get("via") or "")
    headers.add("max-forwards", MAX_FORWARDS)
    headers.add("from", invite.headers.get("from") or "")
    headers.add("to", response.headers.get("to") or invite.headers.get("to") or "")
    headers.add("call-id", invite.call_id)
    headers.add("cseq", f"{invite.cseq[0]} ACK")
    return SipRequest("ACK", invite.uri, headers)


def cancel_for(invite: SipRequest) -> SipRequest:
    """The CANCEL of a pending INVITE we sent (RFC 3261 9.1): same branch, same CSeq number."""
    headers = Headers()
    headers.add("via", invite.headers.get("via") or "")
    headers.add("max-forwards", MAX_FORWARDS)
    headers.add("from", invite.headers.get("from") or "")
    headers.add("to", invite.headers.get("to") or "")
    headers.add("call-id", invite.call_id)
    headers.add("cseq", f"{invite.cseq[0]} CANCEL")
    return SipRequest("CANCEL", invite.uri, headers)


@dataclass(eq=False, slots=True)
class Dialog:
    """One leg's dialog as seen by this B2BUA (RFC 3261 12)."""

    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str  # our From value for requests we send, without tag
    remote_uri: str  # their address (our To), without tag
    remote_target: str  # Request-URI of in-dialog requests (their Contact)
    local_cseq: int = 0
    confirmed: bool = False

    @classmethod
    def as_uas(cls, invite: SipRequest, local_tag: str) -> Dialog:
        """The dialog an incoming INVITE creates once we answer it with `local_tag`."""
        target = _contact_uri(invite.headers.get("contact")) or invite.uri
        return cls(
            call_id=invite.call_id,
            local_tag=local_tag,
            remote_tag=invite.from_tag,
            local_uri=without_tag(invite.headers.get("to") or ""),
            remote_uri=without_tag(invite.headers.get("from") or ""),
            remote_target=target,
            local_cseq=0,
        )

    @classmethod
    def as_uac(cls, invite: SipRequest, response: SipResponse) -> Dialog:
        """The dialog a 2xx to an INVITE we sent creates."""
        target = _contact_uri(response.headers.get("contact")) or invite.uri
        return cls(
            call_id=invite.call_id,
            local_tag=invite.from_tag,
            remote_tag=response.to_tag,
            local_uri=without_tag(invite.headers.get("from") or ""),
            remote_uri=without_tag(response.headers.get("to") or ""),
            remote_target=target,
            local_cseq=invite.cseq[0],
            confirmed=True,
        )

    def request(self, method: str, via: str, *, cseq: int | None = None) -> SipRequest:
        """An in-dialog request; a new CSeq number unless `cseq` is given (ACK reuses the
        INVITE's)."""
        if cseq is None:
            self.local_cseq += 1
            cseq = self.local_cseq
        headers = Headers()
        headers.add("via", via)
        headers.add("max-forwards", MAX_FORWARDS)
        headers.add("from", f"{self.local_uri};tag={self.local_tag}")
        to = self.remote_uri
        if self.remote_tag:
            to = f"{to};tag={self.remote_tag}"
        headers.add("to", to)
        headers.add("call-id", self.call_id)
        headers.add("cseq", f"{cseq} {method}")
        return SipRequest(method, self.remote_target, headers)

    def matches(self, request: SipRequest) -> bool:
        """Whether an in-dialog request (To tag = ours) belongs to this dialog."""
        return tag_of(request.headers.get("to") or "") == self.local_tag


def _contact_uri(contact: str | None) -> str:
    if not contact:
        return ""
    try:
        return parse_name_addr(contact).uri
    except ValueError:
        return ""
