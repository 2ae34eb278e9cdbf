"""Transaction matching, retransmission schedules and Via stamping of ingress-sip's stack."""

from __future__ import annotations

from ingress_sip_harness import CALLER, Harness, request

from hotline_ingress_sip.domain.sip import SipRequest, parse
from hotline_ingress_sip.domain.transactions import Timing, retransmit_delays, server_key


def test_retransmission_schedules_follow_rfc3261_timers() -> None:
    timing = Timing(500, 4000)
    assert timing.invite_request_delays() == (500, 1000, 2000, 4000, 8000, 16000)  # Timer A
    assert timing.request_delays() == (500, 1000, 2000) + (4000,) * 7  # Timer E, capped at T2
    assert sum(timing.invite_response_delays()) < timing.transaction_ms == 32_000  # G within H
    assert retransmit_delays(100, None, 1000) == (100, 200, 400)


def parsed(data: bytes) -> SipRequest:
    msg = parse(data)
    assert isinstance(msg, SipRequest)
    return msg


def test_ack_and_cancel_find_their_invite_transaction() -> None:
    invite = parsed(request("INVITE"))
    ack = parsed(request("ACK", to_tag="x"))
    cancel = parsed(request("CANCEL"))
    assert server_key(ack) == server_key(invite)
    assert server_key(cancel) != server_key(invite)
    assert server_key(cancel, "INVITE") == server_key(invite)
    other_branch = parsed(request("INVITE", branch="z9hG4bK-other"))
    assert server_key(other_branch) != server_key(invite)


def test_rfc2543_requests_without_magic_cookie_match_on_call_id_and_cseq() -> None:
    first = parsed(request("INVITE", branch="old1"))
    again = parsed(request("INVITE", branch="old1"))
    next_one = parsed(request("INVITE", branch="old1", cseq=2))
    assert server_key(first) == server_key(again) != server_key(next_one)


def test_responses_note_received_and_rport_of_the_request(sip: Harness) -> None:
    data = request("OPTIONS").replace(
        f"SIP/2.0/UDP {CALLER[0]}:{CALLER[1]};branch=z9hG4bK-c1".encode(),
        b"SIP/2.0/UDP phone.example:5061;rport;branch=z9hG4bK-c1",
    )
    sip.send(data)
    [(response, addr)] = sip.sent()
    assert addr == CALLER  # responses go where the request came from
    assert response.headers.get("via") == (
        f"SIP/2.0/UDP phone.example:5061;rport={CALLER[1]};branch=z9hG4bK-c1;received={CALLER[0]}"
    )


def test_a_retransmission_before_any_response_is_absorbed_silently(sip: Harness) -> None:
    def slow(_txn: object) -> None:
        return None  # an INVITE handler that does not answer (yet)

    sip.calls._on_invite = slow  # type: ignore[method-assign]
    sip.send(request("INVITE"))
    sip.send(request("INVITE"))
    assert sip.sent() == []
    assert sip.stack.stats.retransmissions_absorbed == 1


def test_non_invite_requests_are_always_answered(sip: Harness) -> None:
    sip.calls._on_bye = lambda _txn: None  # type: ignore[method-assign]
    sip.send(request("BYE", to_tag="t"))
    [(response, _)] = sip.sent()
    assert response.status == 500
