"""SIP parser and serializer of ingress-sip, on good and malformed messages (no network)."""

from __future__ import annotations

import pytest

from hotline_ingress_sip.domain.sip import (
    Headers,
    SipParseError,
    SipRequest,
    SipResponse,
    build_response,
    parse,
    parse_cseq,
    parse_name_addr,
    parse_uri,
    parse_via,
    serialize,
    split_commas,
    tag_of,
    without_tag,
)

INVITE = (
    "INVITE sip:+35121000001@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-1-0\r\n"
    "From: sipp <sip:sipp@127.0.0.1:5061>;tag=abc\r\n"
    "To: <sip:+35121000001@127.0.0.1:5060>\r\n"
    "Call-ID: 1-100@127.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: sip:sipp@127.0.0.1:5061\r\n"
    "Max-Forwards: 70\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 14\r\n"
    "\r\n"
    "v=0\r\no=x 1 1\r\n"
)


def test_parses_a_request_with_body() -> None:
    msg = parse(INVITE.encode())
    assert isinstance(msg, SipRequest)
    assert msg.method == "INVITE"
    assert msg.uri == "sip:+35121000001@127.0.0.1:5060"
    assert msg.call_id == "1-100@127.0.0.1"
    assert msg.cseq == (1, "INVITE")
    assert msg.from_tag == "abc"
    assert msg.to_tag == ""
    assert msg.top_via.branch == "z9hG4bK-1-1-0"
    assert msg.top_via.sent_by == "127.0.0.1:5061"
    assert msg.body == b"v=0\r\no=x 1 1\r\n"


def test_header_names_are_case_insensitive_and_compact_forms_expand() -> None:
    text = (
        "OPTIONS sip:x@h SIP/2.0\n"  # LF-only line ends
        "v: SIP/2.0/UDP a:1;branch=z9hG4bK1\n"
        "f: <sip:a@b>;tag=1\n"
        "t: <sip:x@h>\n"
        "i: cid\n"
        "cSEQ: 7 OPTIONS\n"
        "m: <sip:a@b>\n"
        "l: 0\n"
        "\n"
    )
    msg = parse(text.encode())
    assert isinstance(msg, SipRequest)
    assert msg.call_id == "cid"
    assert msg.headers.get("CALL-ID") == "cid"
    assert msg.headers.get("contact") == "<sip:a@b>"
    assert msg.cseq == (7, "OPTIONS")
    assert msg.from_tag == "1"


def test_several_via_values_in_one_line_and_in_several_lines_keep_their_order() -> None:
    text = INVITE.replace(
        "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-1-0\r\n",
        "Via: SIP/2.0/UDP p1:5060;branch=z9hG4bKa, SIP/2.0/UDP p2;branch=z9hG4bKb\r\n"
        "v: SIP/2.0/UDP p3:5062;branch=z9hG4bKc\r\n",
    )
    msg = parse(text.encode())
    assert [parse_via(v).host for v in msg.headers.get_all("via")] == ["p1", "p2", "p3"]
    assert msg.top_via.branch == "z9hG4bKa"
    response = build_response(msg, 180, to_tag="t1")  # type: ignore[arg-type]
    assert response.headers.get_all("via") == msg.headers.get_all("via")


def test_folded_header_lines_are_joined() -> None:
    text = INVITE.replace("Subject", "X").replace(
        "Max-Forwards: 70\r\n", "Subject: first\r\n  second\r\nMax-Forwards: 70\r\n"
    )
    msg = parse(text.encode())
    assert msg.headers.get("subject") == "first second"


def test_content_length_truncates_extra_bytes_and_missing_length_takes_the_rest() -> None:
    msg = parse(INVITE.encode() + b"garbage")
    assert msg.body == b"v=0\r\no=x 1 1\r\n"
    no_length = INVITE.replace("Content-Length: 14\r\n", "")
    assert parse(no_length.encode() + b"a=x").body == b"v=0\r\no=x 1 1\r\na=x"
    shorter = INVITE.replace("Content-Length: 14", "Content-Length: 3")
    assert parse(shorter.encode()).body == b"v=0"


def test_parses_a_response() -> None:
    text = (
        "SIP/2.0 180 Ringing\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-x-1;rport\r\n"
        "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    msg = parse(text.encode())
    assert isinstance(msg, SipResponse)
    assert (msg.status, msg.reason) == (180, "Ringing")
    assert msg.to_tag == "2"
    assert msg.top_via.params == {"branch": "z9hG4bK-x-1", "rport": ""}


def test_serialize_round_trips_and_writes_content_length() -> None:
    msg = parse(INVITE.encode())
    wire = serialize(msg)
    assert wire.startswith(b"INVITE sip:+35121000001@127.0.0.1:5060 SIP/2.0\r\n")
    assert b"\r\nCall-ID: 1-100@127.0.0.1\r\n" in wire
    assert b"\r\nContent-Length: 14\r\n\r\nv=0" in wire
    again = parse(wire)
    assert again == msg


def test_build_response_copies_dialog_headers_and_adds_the_to_tag() -> None:
    request = parse(INVITE.encode())
    assert isinstance(request, SipRequest)
    response = build_response(request, 180, to_tag="ours", extra=[("Contact", "<sip:h@i>")])
    assert response.reason == "Ringing"
    assert response.headers.get("to") == "<sip:+35121000001@127.0.0.1:5060>;tag=ours"
    assert response.headers.get("from") == request.headers.get("from")
    assert response.headers.get("call-id") == request.call_id
    assert response.headers.get("cseq") == "1 INVITE"
    assert response.headers.get("contact") == "<sip:h@i>"
    assert "content-type" not in response.headers


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda t: t.replace("Call-ID: 1-100@127.0.0.1\r\n", ""), "missing Call-ID header"),
        (lambda t: t.replace("CSeq: 1 INVITE", "CSeq: one INVITE"), "malformed CSeq"),
        (lambda t: t.replace("CSeq: 1 INVITE", "CSeq: 1 BYE"), "does not match request method"),
        (lambda t: t.replace("Content-Length: 14", "Content-Length: 99"), "exceeds the 14 body"),
        (lambda t: t.replace("Content-Length: 14", "Content-Length: x"), "invalid Content-Length"),
        (lambda t: t.replace("Max-Forwards: 70\r\n", "Max-Forwards 70\r\n"), "malformed header"),
        (lambda t: t.replace("Max-Forwards: 70", "Max-Forwards: many"), "invalid Max-Forwards"),
        (lambda t: t.replace("5061>;tag=abc", "5061;tag=abc"), "malformed From"),
        (lambda t: t.replace("SIP/2.0/UDP 127.0.0.1:5061", "UDP 127.0.0.1:5061"), "malformed Via"),
        (lambda t: t.replace("sip:+35121000001@127.0.0.1:5060 SIP", "nocolon SIP"), "Request-URI"),
    ],
)
def test_malformed_requests_say_what_is_wrong_and_keep_what_was_parsed(mutate, reason) -> None:
    with pytest.raises(SipParseError) as info:
        parse(mutate(INVITE).encode())
    assert reason in info.value.reason
    assert info.value.status == 400
    partial = info.value.partial
    assert partial is not None and partial.method == "INVITE"


def test_other_sip_versions_get_505() -> None:
    with pytest.raises(SipParseError) as info:
        parse(INVITE.replace("5060 SIP/2.0\r\n", "5060 SIP/3.0\r\n", 1).encode())
    assert info.value.status == 505


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n\r\n",
        b"hello world",
        b"\x00\xff\xfe garbage",
        b"GET / HTTP/1.1\r\n\r\n",
        b"SIP/2.0 abc OK\r\n\r\n",
        b"INVITE sip:x SIP/2.0",
    ],
)
def test_garbage_cannot_be_answered(data: bytes) -> None:
    with pytest.raises(SipParseError) as info:
        parse(data)
    partial = info.value.partial
    # either not a request at all, or a request without the headers needed to reply
    assert partial is None or "via" not in partial.headers


def test_responses_without_mandatory_headers_are_rejected() -> None:
    with pytest.raises(SipParseError, match="lacks Call-ID"):
        parse(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nCSeq: 1 BYE\r\n\r\n")


def test_uri_and_name_addr_helpers() -> None:
    uri = parse_uri("sip:acme-a1@127.0.0.1:15101;transport=udp")
    assert (uri.user, uri.host, uri.port, uri.params) == (
        "acme-a1",
        "127.0.0.1",
        15101,
        {"transport": "udp"},
    )
    assert parse_uri("sips:bob:secret@[::1]").host_port == ("::1", 5060)
    assert parse_uri("sip:+35121000001@example.org;user=phone").user == "+35121000001"
    with pytest.raises(ValueError):
        parse_uri("tel:+351")
    with pytest.raises(ValueError):
        parse_uri("sip:a@host:99999")
    addr = parse_name_addr('"Ana, Support" <sip:a@b;lr>;tag=9;x=1')
    assert (addr.display, addr.uri, addr.tag) == ("Ana, Support", "sip:a@b;lr", "9")
    assert parse_name_addr("sip:a@b;tag=7").uri == "sip:a@b"
    assert tag_of("<sip:a@b>;tag=xyz;foo=1") == "xyz"
    assert tag_of("<sip:a@b>;TAG=up") == "up"
    assert without_tag("<sip:a@b>;tag=xyz;foo=1") == "<sip:a@b>;foo=1"
    assert parse_cseq("  12   BYE ") == (12, "BYE")
    assert split_commas('"a, b" <sip:x>, <sip:y,z>') == ['"a, b" <sip:x>', "<sip:y,z>"]


def test_headers_multimap() -> None:
    headers = Headers()
    headers.add("Via", "1")
    headers.add("v", "2")
    headers.add("Call-ID", "x")
    headers.set("via", "3")
    assert headers.get_all("VIA") == ["3"]
    assert headers.items()[0] == ("via", "3")
    headers.remove("i")
    assert "call-id" not in headers
