"""The web pages' files: every text comes from the message catalogue, in English and
Simplified Chinese alike; the pages are served with their security headers; the live hub
skips a fact it cannot fold and stays live."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from gateway_fakes import make_world

from hotline_gateway.adapters.http.pages import WEB
from hotline_gateway.application.live import LiveHub
from hotline_gateway.domain.live import STATES, Fact, LiveBoard, TenantSetup

CATALOGUES = {locale: json.loads((WEB / "i18n" / f"{locale}.json").read_text())
              for locale in ("en", "zh-CN")}
# Keys the scripts build from values (`state.${state}` ...): every value they can take.
DYNAMIC = {
    "state": STATES,
    "channel": ("voice", "chat", "email", "fax", "unspecified"),
    "identity": ("phone", "email", "chat_id", "account", "unspecified"),
    "outcome": ("answered", "short_abandoned", "abandoned", "callback", "flowed_out", "waiting",
                "contained", "left_in_self_service", "abandoned_before_queue", "not_queued",
                "ended"),
}


def used_keys() -> set[str]:
    keys: set[str] = set()
    for page in WEB.glob("*.html"):
        text = page.read_text()
        keys.update(re.findall(r'data-i18n="([^"]+)"', text))
        for attrs in re.findall(r'data-i18n-attr="([^"]+)"', text):
            keys.update(pair.split(":")[1].strip() for pair in attrs.split(";") if ":" in pair)
    for script in WEB.glob("*.js"):
        keys.update(re.findall(r'\bt\("([a-z_]+\.[a-z_0-9.]+)"', script.read_text()))
    for prefix, values in DYNAMIC.items():
        keys.update(f"{prefix}.{value}" for value in values)
    return keys


def test_both_catalogues_have_every_text_the_pages_use() -> None:
    assert set(CATALOGUES["en"]) == set(CATALOGUES["zh-CN"])
    keys = used_keys()
    assert len(keys) > 80
    for locale, catalogue in CATALOGUES.items():
        missing = sorted(keys - set(catalogue))
        assert not missing, f"{locale} lacks {missing}"
        assert all(text.strip() for text in catalogue.values()), locale


def test_chinese_is_chinese() -> None:
    zh = CATALOGUES["zh-CN"]
    same = [k for k, v in zh.items() if v == CATALOGUES["en"][k] and re.search("[A-Za-z]{3}", v)]
    assert same == [], same  # nothing left untranslated (names like "IVR" aside)


def test_pages_and_files_are_served_with_their_headers() -> None:
    world = make_world()
    for path in ("/login/", "/desk/", "/wallboard/"):
        reply = world.client.get(path)
        assert reply.status_code == 200, path
        assert reply.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in reply.headers["content-security-policy"]
        assert reply.headers["x-content-type-options"] == "nosniff"
    assert "javascript" in world.client.get("/web/common.js").headers["content-type"]
    assert world.client.get("/web/i18n/zh-CN.json").json()["state.ready"] == "就绪"
    missing = world.client.get("/web/nothing.js")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert world.client.get("/").headers["location"] == "/login/"
    world.client.close()


def test_the_hub_skips_a_fact_it_cannot_fold() -> None:
    now = int(time.time() * 1000)
    board = LiveBoard(lambda t: TenantSetup(t), lambda: now)

    class NoIdentity:
        pass

    hub = LiveHub(board, NoIdentity(), lambda: ["acme"], lambda: now)  # type: ignore[arg-type]
    bad = Fact("state_changed", "acme", now, agent_id="a1",
               body={"state": "ready", "previous_state": "not_ready", "previous_state_ms": "x"})
    good = Fact("state_changed", "acme", now, agent_id="a2", body={"state": "ready"})
    hub.apply([bad, good])
    assert hub.skipped == 1
    assert board.agent_today("acme", "a2")["state"] == "ready"


def test_every_page_file_exists() -> None:
    for page in WEB.glob("*.html"):
        for ref in re.findall(r'(?:src|href)="/web/([^"]+)"', page.read_text()):
            assert (WEB / ref).is_file(), f"{page.name}: {ref}"
    assert Path(WEB / "i18n").is_dir()
