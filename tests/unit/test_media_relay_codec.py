"""bencode for rtpengine's ng protocol, and the reading of rtpengine's DTMF reports."""

from __future__ import annotations

import json

import pytest

from hotline_platform.media_relay import DtmfEvents, bdecode, bencode, parse_address


def test_encodes_the_bencode_types_with_sorted_keys() -> None:
    encoded = bencode({"sdp": "v=0\r\n", "command": "offer", "flags": ["a", b"b"], "n": -3})
    assert encoded == b"d7:command5:offer5:flagsl1:a1:be1:ni-3e3:sdp5:v=0\r\ne"


def test_decodes_byte_strings_to_str_and_round_trips() -> None:
    value = {
        "result": "ok",
        "sdp": "v=0\r\ns=é\r\n",
        "tags": {"x": {"medias": [{"port": 30000}, []]}},
        "empty": {},
    }
    assert bdecode(bencode(value)) == value


def test_invalid_utf8_survives_a_round_trip() -> None:
    raw = b"d3:key2:\xff\xfee"
    assert bencode(bdecode(raw)) == raw


def test_string_length_counts_bytes_not_characters() -> None:
    assert bencode("中") == b"3:\xe4\xb8\xad"
    assert bdecode(b"3:\xe4\xb8\xad") == "中"


@pytest.mark.parametrize("value", [True, None, 1.5, {1: "x"}])
def test_refuses_what_bencode_cannot_say(value: object) -> None:
    with pytest.raises(TypeError):
        bencode(value)


@pytest.mark.parametrize("data", [b"", b"i3", b"5:abc", b"d1:a", b"x", b"i1ei2e", b"di1ei2ee"])
def test_rejects_malformed_input(data: bytes) -> None:
    with pytest.raises(ValueError):
        bdecode(data)


def test_parse_address() -> None:
    assert parse_address("127.0.0.1:22222") == ("127.0.0.1", 22222)
    for bad in ("127.0.0.1", ":1", "host:port"):
        with pytest.raises(ValueError):
            parse_address(bad)


def report(event: int, **extra: object) -> bytes:
    # The exact shape rtpengine 10.5 sends to dtmf-log-dest.
    return json.dumps({
        "callid": "c1", "source_tag": "ft", "tags": ["tt", "ft"], "type": "DTMF",
        "timestamp": 1795982486, "source_ip": "127.0.0.1", "event": event, "duration": 120,
        "volume": 10, **extra,
    }).encode()  # fmt: skip


def test_dtmf_reports_map_event_codes_to_keys() -> None:
    digits: list[tuple[str, str, str]] = []
    events = DtmfEvents(("127.0.0.1", 0), lambda *digit: digits.append(digit))
    for code in range(16):
        events._received(report(code))
    assert "".join(d for _, _, d in digits) == "0123456789*#ABCD"
    assert digits[0][:2] == ("c1", "ft")


def test_dtmf_reports_that_are_not_keys_are_ignored() -> None:
    digits: list[tuple[str, str, str]] = []
    events = DtmfEvents(("127.0.0.1", 0), lambda *digit: digits.append(digit))
    events._received(report(16))  # flash
    events._received(report(5, type="other"))
    events._received(b"not json")
    events._received(b'{"callid": "c1"}')
    assert digits == []
