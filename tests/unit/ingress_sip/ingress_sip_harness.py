"""A SIP harness for ingress-sip's use cases: the real stack and call handling over in-memory
fakes (hand-driven clock and timers, recording transport and event sink). No network."""

from __future__ import annotations

import itertools

from hotline_ingress_sip.adapters.memory import (
    ManualClock,
    ManualTimers,
    RecordingEvents,
    RecordingTransport,
)
from hotline_ingress_sip.application.calls import CallHandling
from hotline_ingress_sip.application.sip_stack import SipStack
from hotline_ingress_sip.domain.events import EntryPoint, Offer, OfferWithdrawn
from hotline_ingress_sip.domain.sip import (
    SipMessage,
    SipRequest,
    SipResponse,
    build_response,
    parse,
    serialize,
)

US = ("198.51.100.1", 5060)
CALLER = ("192.0.2.10", 5061)
AGENT = ("192.0.2.20", 15101)
QUEUE = "+35121000001"
ANNOUNCE = "announce-acme"
CALLER_SDP = "v=0\r\no=caller 1 1 IN IP4 192.0.2.10\r\nm=audio 6000 RTP/AVP 8\r\n"
AGENT_SDP = "v=0\r\no=agent 1 1 IN IP4 192.0.2.20\r\nm=audio 7000 RTP/AVP 8\r\n"
OUR_SDP = b"v=0\r\no=hotline 1 1 IN IP4 198.51.100.1\r\n"
ENTRY_POINTS = {
    QUEUE: EntryPoint(QUEUE, "acme", "lisbon", "support-en"),
    ANNOUNCE: EntryPoint(ANNOUNCE, "acme", "lisbon", announcement=True),
}


def request(
    method: str,
    *,
    call_id: str = "call-1",
    branch: str = "z9hG4bK-c1",
    cseq: int = 1,
    cseq_method: str | None = None,
    to_tag: str = "",
    user: str = QUEUE,
    body: str = "",
    from_tag: str = "ct1",
) -> bytes:
    lines = [
        f"{method} sip:{user}@{US[0]}:{US[1]} SIP/2.0",
        f"Via: SIP/2.0/UDP {CALLER[0]}:{CALLER[1]};branch={branch}",
        f'From: "Caller" <sip:911@{CALLER[0]}:{CALLER[1]}>;tag={from_tag}',
        f"To: <sip:{user}@{US[0]}:{US[1]}>" + (f";tag={to_tag}" if to_tag else ""),
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {cseq_method or method}",
        f"Contact: <sip:911@{CALLER[0]}:{CALLER[1]}>",
        "Max-Forwards: 70",
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def answer(req: SipRequest, status: int, *, to_tag: str = "at1", body: str = "") -> bytes:
    """What the agent's phone answers to one of our requests."""
    extra = [("Contact", f"<sip:a1@{AGENT[0]}:{AGENT[1]}>")]
    if body:
        extra.append(("Content-Type", "application/sdp"))
    return serialize(build_response(req, status, to_tag=to_tag, extra=extra, body=body.encode()))


class Harness:
    def __init__(self) -> None:
        self.clock = ManualClock()
        self.timers = ManualTimers(self.clock)
        self.net = RecordingTransport()
        self.events = RecordingEvents()
        self.stack = SipStack(
            self.net, self.timers, self.clock, advertised_host=US[0], advertised_port=US[1]
        )
        ids = itertools.count(1)
        self.calls = CallHandling(
            self.stack,
            self.events,
            self.clock,
            self.timers,
            ENTRY_POINTS,
            sdp=OUR_SDP,
            interaction_id_for=lambda _invite: f"i-{next(ids)}",
        )
        self.stack.start()

    def send(self, data: bytes, addr: tuple[str, int] = CALLER) -> None:
        self.stack.on_datagram(data, addr)

    def sent(self) -> list[tuple[SipMessage, tuple[str, int]]]:
        """Messages sent since the last call, with their destinations."""
        out = [(parse(data), addr) for data, addr in self.net.sent]
        self.net.sent.clear()
        return out

    def sent_to(self, addr: tuple[str, int]) -> list[SipMessage]:
        return [m for m, a in self.sent() if a == addr]

    def advance(self, ms: int) -> None:
        self.timers.advance(ms)

    def kinds(self) -> list[str]:
        return [type(f).__name__ for f in self.events.facts]

    def offer(
        self, interaction_id: str = "i-1", n: int = 1, ring_ms: int = 10_000, tenant: str = "acme"
    ) -> None:
        self.calls.on_offers(
            [
                Offer(
                    interaction_id,
                    tenant,
                    f"o-{n}",
                    f"a{n}",
                    "support-en",
                    f"sip:a{n}@{AGENT[0]}:{AGENT[1]}",
                    ring_ms,
                    n,
                    f"e-{n}",
                )
            ]
        )

    def withdraw(self, interaction_id: str = "i-1", n: int = 1, tenant: str = "acme") -> None:
        """The router's own `offer_timed_out` of offer n (as `offer` names it)."""
        self.calls.on_offers([OfferWithdrawn(interaction_id, tenant, f"o-{n}", f"a{n}")])

    def agent_invite(self) -> SipRequest:
        """The INVITE just sent to the agent (and nothing else)."""
        msgs = self.sent_to(AGENT)
        assert len(msgs) == 1 and isinstance(msgs[0], SipRequest), msgs
        assert msgs[0].method == "INVITE"
        return msgs[0]

    def connect(self, call_id: str = "call-1") -> tuple[SipRequest, SipResponse]:
        """Caller INVITE, router offer, agent answers, caller ACKs: a connected call."""
        self.send(request("INVITE", call_id=call_id, branch=f"z9hG4bK-{call_id}", body=CALLER_SDP))
        ringing = [m for m, _ in self.sent() if isinstance(m, SipResponse)][-1]
        interaction = self.events.facts[-1].interaction_id
        self.offer(interaction)
        invite = self.agent_invite()
        self.send(answer(invite, 180), AGENT)
        self.send(answer(invite, 200, body=AGENT_SDP), AGENT)
        self.sent()
        self.send(
            request("ACK", call_id=call_id, branch=f"z9hG4bK-{call_id}-ack", to_tag=ringing.to_tag)
        )
        return invite, ringing
