"""ingress-sip's call handling end to end over the SIP stack, with fakes for network, time and
Kafka: the flows of docs/flow.md, and what a B2BUA must answer to odd or broken input."""

from __future__ import annotations

from ingress_sip_harness import (
    AGENT,
    AGENT_SDP,
    ANNOUNCE,
    CALLER,
    CALLER_SDP,
    OUR_SDP,
    Harness,
    answer,
    request,
)

from hotline_ingress_sip.domain import events as facts
from hotline_ingress_sip.domain.call import CallState
from hotline_ingress_sip.domain.sip import SipRequest, SipResponse, parse_via


def statuses(messages: list) -> list[int]:
    return [m.status for m in messages if isinstance(m, SipResponse)]


def test_invite_to_a_queue_rings_the_caller_and_publishes_arrived(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    out = sip.sent_to(CALLER)
    assert statuses(out) == [180]
    [ringing] = out
    assert ringing.to_tag != ""
    assert ringing.headers.get("contact") == "<sip:hotline@198.51.100.1:5060>"
    assert ringing.headers.get("call-id") == "call-1"
    [arrived] = sip.events.facts
    assert isinstance(arrived, facts.CallArrived)
    assert arrived.interaction_id == "i-1"
    assert (arrived.tenant_id, arrived.site_id, arrived.entry_point_id) == (
        "acme",
        "lisbon",
        "+35121000001",
    )
    assert arrived.session_ref == "call-1"
    assert arrived.from_address == "sip:911@192.0.2.10:5061"
    assert arrived.caller_id == "911"


def test_a_retransmitted_invite_gets_the_last_response_again_not_a_second_call(sip: Harness):
    sip.send(request("INVITE", body=CALLER_SDP))
    first = sip.sent_to(CALLER)
    sip.send(request("INVITE", body=CALLER_SDP))
    again = sip.sent_to(CALLER)
    assert statuses(again) == [180]
    assert again[0].to_tag == first[0].to_tag
    assert sip.kinds() == ["CallArrived"]
    assert sip.stack.stats.retransmissions_absorbed == 1


def test_an_offer_naming_another_tenant_rings_nobody(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.sent()
    sip.offer("i-1", tenant="other-tenant")
    assert sip.sent_to(AGENT) == []
    assert sip.calls.stats.offers_ignored == 1
    sip.offer("i-1")  # the right tenant's offer still rings
    assert sip.agent_invite().uri == f"sip:a1@{AGENT[0]}:{AGENT[1]}"


def test_offer_rings_the_agent_and_the_answer_connects_both_legs(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.sent()
    sip.offer("i-1")
    invite = sip.agent_invite()
    assert invite.uri == f"sip:a1@{AGENT[0]}:{AGENT[1]}"
    assert invite.body == CALLER_SDP.encode()
    assert invite.headers.get("content-type") == "application/sdp"
    assert invite.headers.get("x-hotline-interaction") == "i-1"
    assert invite.headers.get("from").startswith('"Caller" <sip:911@')
    assert invite.call_id != "call-1"
    sip.send(answer(invite, 180), AGENT)
    assert sip.sent() == []
    sip.send(answer(invite, 200, body=AGENT_SDP), AGENT)
    to_agent = sip.sent_to(AGENT)  # (sent() clears: read both lists from one snapshot)
    assert [m.method for m in to_agent if isinstance(m, SipRequest)] == ["ACK"]
    ack = to_agent[0]
    assert ack.to_tag == "at1" and ack.cseq == (1, "ACK")
    assert ack.uri == f"sip:a1@{AGENT[0]}:{AGENT[1]}"  # the agent's Contact
    assert parse_via(ack.headers.get("via")).branch != invite.top_via.branch


def test_connected_call_200_carries_agent_sdp_and_caller_bye_completes(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    ringing = sip.sent_to(CALLER)[-1]
    sip.offer("i-1")
    invite = sip.agent_invite()
    sip.clock.now += 2_000
    sip.send(answer(invite, 200, body=AGENT_SDP), AGENT)
    out = sip.sent()
    [ok] = [m for m, a in out if a == CALLER]
    assert ok.status == 200 and ok.body == AGENT_SDP.encode()
    assert ok.to_tag == ringing.to_tag
    accepted = sip.events.facts[-1]
    assert isinstance(accepted, facts.OfferAccepted)
    assert (accepted.offer_id, accepted.agent_id, accepted.since_arrival_ms) == ("o-1", "a1", 2000)
    assert accepted.causation_id == "e-1"
    sip.send(request("ACK", branch="z9hG4bK-ack", to_tag=ringing.to_tag))
    sip.clock.now += 30_000
    bye = request("BYE", branch="z9hG4bK-bye", cseq=2, to_tag=ringing.to_tag)
    sip.send(bye)
    out = sip.sent()
    assert [m.status for m, a in out if a == CALLER] == [200]
    [agent_bye] = [m for m, a in out if a == AGENT]
    assert agent_bye.method == "BYE" and agent_bye.call_id == invite.call_id
    assert agent_bye.to_tag == "at1" and agent_bye.cseq == (2, "BYE")
    completed = sip.events.facts[-1]
    assert isinstance(completed, facts.CallCompleted)
    assert (completed.ended_by, completed.agent_id, completed.talk_ms) == (
        facts.EndedBy.CUSTOMER,
        "a1",
        30_000,
    )
    # a retransmitted BYE is answered the same, and nothing is published twice
    sip.send(bye)
    assert statuses(sip.sent_to(CALLER)) == [200]
    assert sip.kinds().count("CallCompleted") == 1
    sip.send(answer(agent_bye, 200), AGENT)
    assert sip.sent() == []


def test_agent_bye_is_forwarded_to_the_caller(sip: Harness) -> None:
    invite, ringing = sip.connect()
    agent_bye = (
        f"BYE sip:hotline@198.51.100.1:5060 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {AGENT[0]}:{AGENT[1]};branch=z9hG4bK-ab1\r\n"
        f"From: <sip:a1@{AGENT[0]}:{AGENT[1]}>;tag=at1\r\n"
        f"To: {invite.headers.get('from')}\r\n"
        f"Call-ID: {invite.call_id}\r\nCSeq: 5 BYE\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    sip.send(agent_bye, AGENT)
    out = sip.sent()
    assert [m.status for m, a in out if a == AGENT] == [200]
    [bye] = [m for m, a in out if a == CALLER]
    assert bye.method == "BYE" and bye.call_id == "call-1"
    assert bye.uri == f"sip:911@{CALLER[0]}:{CALLER[1]}"
    assert bye.from_tag == ringing.to_tag and bye.to_tag == "ct1"
    completed = sip.events.facts[-1]
    assert isinstance(completed, facts.CallCompleted)
    assert completed.ended_by is facts.EndedBy.AGENT
    # our BYE is retransmitted until the caller answers it
    sip.advance(500)
    assert [m.method for m in sip.sent_to(CALLER)] == ["BYE"]
    sip.send(answer(bye, 200), CALLER)
    sip.advance(10_000)
    assert sip.sent() == []


def test_ring_timeout_cancels_the_agent_leg_and_publishes_offer_timed_out(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.sent()
    sip.offer("i-1", ring_ms=10_000)
    invite = sip.agent_invite()
    sip.send(answer(invite, 180), AGENT)
    sip.advance(9_999)
    assert sip.kinds() == ["CallArrived"]
    sip.advance(1)
    [cancel] = sip.sent_to(AGENT)
    assert cancel.method == "CANCEL" and cancel.top_via.branch == invite.top_via.branch
    assert cancel.cseq == (1, "CANCEL")
    timed_out = sip.events.facts[-1]
    assert isinstance(timed_out, facts.OfferTimedOut)
    assert (timed_out.offer_id, timed_out.rang_ms) == ("o-1", 10_000)
    sip.send(answer(cancel, 200), AGENT)
    sip.send(answer(invite, 487), AGENT)
    [ack] = sip.sent_to(AGENT)
    assert ack.method == "ACK" and ack.top_via.branch == invite.top_via.branch
    assert sip.calls.session_for_interaction("i-1").call.state is CallState.WAITING
    # the caller still waits: the next offer rings the next agent
    sip.offer("i-1", n=2)
    assert sip.agent_invite().uri.startswith("sip:a2@")


def test_ring_timeout_before_any_provisional_cancels_once_one_arrives(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.offer("i-1", ring_ms=300)
    invite = sip.agent_invite()
    sip.advance(300)
    assert sip.kinds()[-1] == "OfferTimedOut"
    assert sip.sent_to(AGENT) == []  # RFC 3261 9.1: no CANCEL before a provisional
    sip.send(answer(invite, 180), AGENT)
    assert [m.method for m in sip.sent_to(AGENT)] == ["CANCEL"]


def test_offer_timed_out_by_the_router_cancels_the_ringing_leg_without_a_second_outcome(
    sip: Harness,
) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.sent()
    sip.offer("i-1", n=1, ring_ms=10_000)
    invite = sip.agent_invite()
    sip.send(answer(invite, 180), AGENT)
    sip.advance(2_000)
    sip.withdraw("i-1", n=1)
    [cancel] = sip.sent_to(AGENT)
    assert cancel.method == "CANCEL" and cancel.top_via.branch == invite.top_via.branch
    assert sip.kinds() == ["CallArrived"]  # the router published the time-out, not us
    assert sip.calls.stats.offers_withdrawn == 1
    assert sip.calls.session_for_interaction("i-1").call.state is CallState.WAITING
    sip.send(answer(cancel, 200), AGENT)
    sip.send(answer(invite, 487), AGENT)
    assert [m.method for m in sip.sent_to(AGENT)] == ["ACK"]
    sip.withdraw("i-1", n=1)  # redelivered: nothing more
    assert sip.sent() == []
    # the next offer rings the next agent instead of being refused as not_offerable
    sip.offer("i-1", n=2, ring_ms=10_000)
    second = sip.agent_invite()
    assert second.uri.startswith("sip:a2@") and second.call_id != invite.call_id
    sip.advance(20_000)  # the first offer's ring timer was stopped
    assert sip.kinds().count("OfferTimedOut") == 1
    [timed_out] = sip.events.of_type(facts.OfferTimedOut)
    assert timed_out.offer_id == "o-2"
    assert sip.kinds().count("OfferRejected") == 0


def test_offer_withdrawn_before_any_provisional_cancels_once_one_arrives(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.offer("i-1")
    invite = sip.agent_invite()
    sip.withdraw("i-1")
    assert sip.sent_to(AGENT) == []  # RFC 3261 9.1: no CANCEL before a provisional
    sip.send(answer(invite, 180), AGENT)
    assert [m.method for m in sip.sent_to(AGENT)] == ["CANCEL"]
    assert sip.kinds() == ["CallArrived"]


def test_agent_answering_after_the_router_withdrew_the_offer_is_hung_up(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.offer("i-1")
    invite = sip.agent_invite()
    sip.withdraw("i-1")
    sip.send(answer(invite, 200, body=AGENT_SDP), AGENT)
    assert [m.method for m in sip.sent_to(AGENT)] == ["ACK", "BYE"]
    assert sip.kinds() == ["CallArrived"]
    assert sip.calls.session_for_interaction("i-1").call.state is CallState.WAITING


def test_withdrawal_of_an_offer_that_no_longer_rings_changes_nothing(sip: Harness) -> None:
    sip.withdraw("someone-elses-interaction")  # a call held elsewhere
    assert sip.sent() == [] and sip.events.facts == []
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.sent()
    sip.withdraw("i-1", n=1)  # never offered here
    sip.offer("i-1", n=1)
    invite = sip.agent_invite()
    sip.send(answer(invite, 180), AGENT)
    sip.withdraw("i-1", n=7)  # another offer than the ringing one
    sip.withdraw("i-1", n=1, tenant="other-tenant")  # never across tenants
    assert sip.sent() == []
    assert sip.calls.session_for_interaction("i-1").call.state is CallState.OFFERING
    sip.send(answer(invite, 200, body=AGENT_SDP), AGENT)
    sip.sent()
    sip.withdraw("i-1", n=1)  # answered before the router's time-out was read: acceptance wins
    assert sip.sent() == []
    assert sip.kinds() == ["CallArrived", "OfferAccepted"]
    assert sip.calls.session_for_interaction("i-1").call.state is CallState.CONNECTED
    assert sip.calls.stats.offers_withdrawn == 0


def test_withdrawal_after_our_own_ring_timeout_changes_nothing(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.offer("i-1", ring_ms=1_000)
    invite = sip.agent_invite()
    sip.send(answer(invite, 180), AGENT)
    sip.advance(1_000)
    assert [m.method for m in sip.sent_to(AGENT)] == ["CANCEL"]
    sip.withdraw("i-1", n=1)  # the router timed it out too: no second CANCEL, no new fact
    assert sip.sent() == []
    assert sip.kinds() == ["CallArrived", "OfferTimedOut"]
    sip.offer("i-1", n=2)
    assert sip.agent_invite().uri.startswith("sip:a2@")


def test_agent_rejection_publishes_offer_rejected_and_acks(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.offer("i-1")
    invite = sip.agent_invite()
    sip.send(answer(invite, 486), AGENT)
    [ack] = sip.sent_to(AGENT)
    assert ack.method == "ACK"
    rejected = sip.events.facts[-1]
    assert isinstance(rejected, facts.OfferRejected)
    assert (rejected.offer_id, rejected.reason) == ("o-1", "sip:486")
    # a retransmitted 486 is re-ACKed, not published again
    sip.send(answer(invite, 486), AGENT)
    assert [m.method for m in sip.sent_to(AGENT)] == ["ACK"]
    assert sip.kinds().count("OfferRejected") == 1
    sip.advance(20_000)
    assert sip.kinds().count("OfferTimedOut") == 0  # the ring timer was stopped


def test_silent_agent_phone_gets_invite_retransmissions_then_is_unreachable(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.offer("i-1", ring_ms=60_000)
    sip.agent_invite()
    sip.advance(31_999)
    resent = sip.sent_to(AGENT)
    assert len(resent) == 6 and all(m.method == "INVITE" for m in resent)  # Timer A
    sip.advance(1)
    rejected = sip.events.facts[-1]
    assert isinstance(rejected, facts.OfferRejected) and rejected.reason == "unreachable"
    sip.advance(60_000)
    assert sip.kinds().count("OfferTimedOut") == 0


def test_caller_cancel_while_agent_rings_abandons_and_cancels_the_agent(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.sent()
    sip.offer("i-1")
    invite = sip.agent_invite()
    sip.send(answer(invite, 180), AGENT)
    sip.clock.now += 4_000
    cancel = request("CANCEL", cseq=1)  # same branch as the INVITE
    sip.send(cancel)
    out = sip.sent()
    assert [m.status for m, a in out if a == CALLER] == [200, 487]
    terminated = [m for m, a in out if a == CALLER][1]
    assert terminated.cseq == (1, "INVITE") and terminated.to_tag
    assert [m.method for m, a in out if a == AGENT] == ["CANCEL"]
    abandoned = sip.events.facts[-1]
    assert isinstance(abandoned, facts.CallAbandoned)
    assert abandoned.stage is facts.AbandonStage.WHILE_OFFERED
    assert abandoned.waited_ms == 4_000
    # retransmitted CANCEL: 200 again, nothing new; the 487 is retransmitted until the ACK
    sip.send(cancel)
    assert statuses(sip.sent_to(CALLER)) == [200]
    sip.advance(500)
    assert statuses(sip.sent_to(CALLER)) == [487]
    sip.send(request("ACK", cseq=1, to_tag=terminated.to_tag))
    sip.advance(5_000)
    assert sip.sent_to(CALLER) == []
    assert sip.kinds().count("CallAbandoned") == 1
    assert sip.calls.session_for_call_id("call-1") is None  # forgotten at once


def test_caller_cancel_before_any_offer_is_in_queue(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.send(request("CANCEL"))
    [abandoned] = sip.events.of_type(facts.CallAbandoned)
    assert abandoned.stage is facts.AbandonStage.IN_QUEUE
    sip.offer("i-1")  # the router had not seen the abandon yet: too late, nothing rings
    assert sip.sent_to(AGENT) == []


def test_agent_answering_after_the_caller_left_is_acked_and_hung_up(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.offer("i-1")
    invite = sip.agent_invite()
    sip.send(answer(invite, 180), AGENT)
    sip.send(request("CANCEL"))
    sip.sent()
    sip.send(answer(invite, 200, body=AGENT_SDP), AGENT)
    assert [m.method for m in sip.sent_to(AGENT)] == ["ACK", "BYE"]
    assert "OfferAccepted" not in sip.kinds()


def test_retransmitted_agent_200_is_acked_again(sip: Harness) -> None:
    invite, _ = sip.connect()
    sip.sent()
    sip.send(answer(invite, 200, body=AGENT_SDP), AGENT)
    [ack] = sip.sent_to(AGENT)
    assert ack.method == "ACK"
    assert sip.kinds().count("OfferAccepted") == 1


def test_our_200_is_retransmitted_until_the_ack(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.offer("i-1")
    invite = sip.agent_invite()
    sip.send(answer(invite, 200, body=AGENT_SDP), AGENT)
    sip.sent()
    sip.advance(500)
    assert statuses(sip.sent_to(CALLER)) == [200]
    sip.advance(1_000)
    assert statuses(sip.sent_to(CALLER)) == [200]
    session = sip.calls.session_for_call_id("call-1")
    sip.send(request("ACK", branch="z9hG4bK-a", to_tag=session.dialog.local_tag))
    sip.advance(30_000)
    assert sip.sent() == []


def test_a_200_never_acknowledged_ends_the_call(sip: Harness) -> None:
    sip.send(request("INVITE", user=ANNOUNCE))
    sip.sent()
    sip.advance(31_500)
    out = sip.sent_to(CALLER)
    assert statuses(out) == [200] * 9  # Timer G: 0.5, 1, 2, 4, 4 ... s
    assert [m.method for m in out if isinstance(m, SipRequest)] == ["BYE"]
    finished = sip.events.facts[-1]
    assert isinstance(finished, facts.SelfServiceFinished)
    assert finished.outcome is facts.SelfServiceOutcome.CUSTOMER_LEFT


def test_announcement_is_answered_at_once_and_bye_finishes_self_service(sip: Harness) -> None:
    sip.send(request("INVITE", user=ANNOUNCE, body=CALLER_SDP))
    [ok] = sip.sent_to(CALLER)
    assert ok.status == 200 and ok.body == OUR_SDP and ok.to_tag
    assert ok.headers.get("content-type") == "application/sdp"
    sip.send(request("ACK", user=ANNOUNCE, branch="z9hG4bK-a", to_tag=ok.to_tag))
    sip.clock.now += 1_500
    sip.send(request("BYE", user=ANNOUNCE, branch="z9hG4bK-b", cseq=2, to_tag=ok.to_tag))
    assert statuses(sip.sent_to(CALLER)) == [200]
    assert sip.kinds() == ["CallArrived", "SelfServiceFinished"]
    finished = sip.events.facts[-1]
    assert finished.outcome is facts.SelfServiceOutcome.CONTAINED
    assert finished.duration_ms == 1_500
    sip.advance(40_000)
    assert sip.sent() == []


def test_unknown_entry_point_gets_404_and_publishes_nothing(sip: Harness) -> None:
    sip.send(request("INVITE", user="nobody"))
    [resp] = sip.sent_to(CALLER)
    assert resp.status == 404
    assert sip.events.facts == []


def test_options_unsupported_and_unknown_methods(sip: Harness) -> None:
    sip.send(request("OPTIONS", branch="z9hG4bK-o"))
    [ok] = sip.sent_to(CALLER)
    assert ok.status == 200 and "INVITE" in ok.headers.get("allow")
    sip.send(request("SUBSCRIBE", branch="z9hG4bK-s"))
    [not_allowed] = sip.sent_to(CALLER)
    assert not_allowed.status == 405 and not_allowed.headers.get("allow")
    sip.send(request("FROBNICATE", branch="z9hG4bK-f"))
    assert statuses(sip.sent_to(CALLER)) == [501]
    sip.send(request("BYE", branch="z9hG4bK-b", to_tag="nope"))
    assert statuses(sip.sent_to(CALLER)) == [481]
    sip.send(request("CANCEL", branch="z9hG4bK-nothing"))
    assert statuses(sip.sent_to(CALLER)) == [481]
    sip.send(request("ACK", branch="z9hG4bK-stray", to_tag="x"))
    assert sip.sent() == []


def test_in_dialog_reinvite_and_merged_invite(sip: Harness) -> None:
    _, ringing = sip.connect()
    sip.sent()
    reinvite = request("INVITE", branch="z9hG4bK-re", cseq=3, to_tag=ringing.to_tag)
    sip.send(reinvite)
    assert statuses(sip.sent_to(CALLER)) == [488]
    sip.send(request("INVITE", branch="z9hG4bK-other"))  # same Call-ID, no tag, new branch
    assert statuses(sip.sent_to(CALLER)) == [482]


def test_malformed_requests_get_400_with_the_reason_and_the_next_call_works(sip: Harness):
    bad = request("INVITE", body=CALLER_SDP).replace(b"CSeq: 1 INVITE", b"CSeq: x INVITE")
    sip.send(bad)
    [(data, addr)] = sip.net.sent  # raw: our 400 echoes the broken CSeq, which parse() refuses
    sip.net.sent.clear()
    status_line, _, rest = data.partition(b"\r\n")
    assert addr == CALLER
    assert status_line == b"SIP/2.0 400 Bad Request - malformed CSeq 'x INVITE'"
    assert b"\r\nCall-ID: call-1\r\n" in rest and b"CSeq: x INVITE" in rest
    sip.send(b"\x16\x03\x01 definitely not SIP")
    sip.send(b"INVITE sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n")  # nowhere to answer
    sip.send(b"\r\n\r\n")  # keep-alive
    assert sip.sent() == []
    assert sip.stack.stats.malformed == 4 and sip.stack.stats.answered_malformed == 1
    sip.send(request("INVITE", call_id="call-2", branch="z9hG4bK-2", body=CALLER_SDP))
    assert statuses(sip.sent_to(CALLER)) == [180]
    assert sip.kinds() == ["CallArrived"]


def test_an_error_in_one_call_does_not_stop_the_others(sip: Harness, monkeypatch) -> None:
    def boom(*_a, **_k):
        raise RuntimeError("bug")

    monkeypatch.setattr(sip.calls, "_on_invite", boom)
    sip.send(request("INVITE", call_id="broken"))
    assert statuses(sip.sent_to(CALLER)) == [500]
    assert sip.stack.stats.errors == 1
    monkeypatch.undo()
    sip.send(request("INVITE", call_id="fine", branch="z9hG4bK-fine"))
    assert statuses(sip.sent_to(CALLER)) == [180]


def test_offers_for_calls_held_elsewhere_are_ignored(sip: Harness) -> None:
    sip.offer("someone-elses-interaction")
    assert sip.sent() == [] and sip.events.facts == []
    assert sip.calls.stats.offers_ignored == 1


def test_second_offer_while_ringing_is_rejected_and_duplicates_are_ignored(sip: Harness) -> None:
    sip.send(request("INVITE", body=CALLER_SDP))
    sip.offer("i-1", n=1)
    sip.offer("i-1", n=1)  # redelivered
    sip.agent_invite()
    sip.offer("i-1", n=2)
    rejected = sip.events.facts[-1]
    assert isinstance(rejected, facts.OfferRejected)
    assert (rejected.offer_id, rejected.reason) == ("o-2", "not_offerable:offering")


def test_finished_calls_and_transactions_are_forgotten(sip: Harness) -> None:
    for n in range(3):
        cid = f"c{n}"
        sip.send(request("INVITE", user=ANNOUNCE, call_id=cid, branch=f"z9hG4bK-i{n}"))
        tag = sip.sent_to(CALLER)[-1].to_tag
        sip.send(request("ACK", user=ANNOUNCE, call_id=cid, branch=f"z9hG4bK-a{n}", to_tag=tag))
        bye = request("BYE", user=ANNOUNCE, call_id=cid, branch=f"z9hG4bK-b{n}", cseq=2, to_tag=tag)
        sip.send(bye)
    assert sip.stack.sizes["server_transactions"] == 6
    sip.advance(33_000)
    assert sip.stack.sizes["server_transactions"] == 0
    assert sip.stack.sizes["pending_2xx"] == 0
    assert sip.calls.session_for_call_id("c0") is None
    assert sip.timers.pending == 1  # only the sweeper


def test_drain_refuses_new_calls_and_ends_live_ones(sip: Harness) -> None:
    sip.send(request("INVITE", call_id="waiting", branch="z9hG4bK-w", body=CALLER_SDP))
    sip.connect("talking")
    sip.sent()
    assert sip.calls.drain() == 2
    out = sip.sent()
    assert [m.status for m, a in out if a == CALLER and isinstance(m, SipResponse)] == [503]
    assert sorted(m.method for m, _ in out if isinstance(m, SipRequest)) == ["BYE", "BYE"]
    assert sip.kinds()[-2:] == ["CallAbandoned", "CallCompleted"]
    sip.send(request("INVITE", call_id="late", branch="z9hG4bK-late"))
    assert statuses(sip.sent_to(CALLER)) == [503]


def test_the_caller_hears_nothing_until_arrived_is_recorded(sip: Harness) -> None:
    """A crash before `arrived` is durable must leave the INVITE unanswered, so that the
    caller retransmits it to the restarted process (nothing accepted is lost)."""
    sip.events.record_at_once = False
    sip.send(request("INVITE", body=CALLER_SDP))
    assert sip.sent_to(CALLER) == []
    [arrived] = sip.events.facts
    assert isinstance(arrived, facts.CallArrived)
    sip.send(request("INVITE", body=CALLER_SDP))  # a retransmission: absorbed, still silent
    assert sip.sent_to(CALLER) == [] and len(sip.events.facts) == 1
    sip.events.record_pending()
    assert statuses(sip.sent_to(CALLER)) == [180]
