"""The web pages in a real headless Chromium (Debian `chromium` + Playwright) against a real
gateway, router and WFM on a real broker: sign in, the wallboard following an agent's state
change within 2 s, the agent desktop showing an offer (screen-pop) and finishing its wrap-up,
an axe-core audit of both pages in English and Simplified Chinese, and a tenant's user refused
another tenant's stream.

`HOTLINE_WRITE_SCREENSHOTS=1` also writes docs/desktop.png and docs/wallboard.png."""

from __future__ import annotations

import contextlib
import os
import time
import urllib.error
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from integration.gateway_stack import GatewayStack
from pages_stack import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    Ingress,
    pages_stack,
    rest,
    tenant,
)
from playwright.sync_api import Browser, Page, expect, sync_playwright

from hotline_platform import topics
from hotline_platform.bus import assign_from_start, new_consumer
from hotline_platform.codec import decode

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FRESH_S = 2.0  # the issue: a change shows within 2 s of its event


@pytest.fixture(scope="module")
def tenants() -> list[dict[str, Any]]:
    return [tenant("acme", agents=4), tenant("globex", agents=2)]


@pytest.fixture(scope="module")
def stack(broker: str, clickhouse: Any, tmp_path_factory: pytest.TempPathFactory,
          tenants: list[dict[str, Any]]) -> Iterator[GatewayStack]:
    with pages_stack(broker, tmp_path_factory.mktemp("pages"), tenants, clickhouse) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (scripts/install-system-deps.sh)")
    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield found
        found.close()


def sign_in(browser: Browser, stack: GatewayStack, tenant_id: str, user: str,
            locale: str = "en-GB") -> Page:
    context = browser.new_context(base_url=stack.base_url, locale=locale,
                                  viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("Tenant" if locale.startswith("en") else "租户").fill(tenant_id)
    page.locator("#username").fill(user)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")  # the keyboard submits the form
    page.wait_for_url("**/desk/" if user == "ana" else "**/wallboard/")
    page.wait_for_selector("#connection.status-live")
    return page


def agents(t: dict[str, Any]) -> list[str]:
    return [a["id"] for a in t["agents"]]


def test_sign_in_refuses_a_wrong_password(browser: Browser, stack: GatewayStack,
                                          tenants: list[dict[str, Any]]) -> None:
    page = browser.new_page(base_url=stack.base_url)
    page.goto("/login/")
    page.locator("#tenant").fill(tenants[0]["id"])
    page.locator("#username").fill("sam")
    page.locator("#password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Unknown tenant, user or password.")
    page.context.close()


def test_wallboard_shows_an_agent_state_change_within_2_s(
    browser: Browser, stack: GatewayStack, tenants: list[dict[str, Any]]
) -> None:
    t = tenants[0]
    page = sign_in(browser, stack, t["id"], "sam")
    agent = agents(t)[1]
    row = f"tr[data-agent='{agent}']"
    page.wait_for_selector(f"{row}[data-state='logged_out']")
    base = f"/v1/tenants/{t['id']}/agents/{agent}"
    rest(stack, "POST", f"{base}/log-in", t["credential"])
    page.wait_for_selector(f"{row}[data-state='not_ready']", timeout=FRESH_S * 1000)
    sent = time.monotonic()
    rest(stack, "POST", f"{base}/ready", t["credential"])
    page.wait_for_selector(f"{row}[data-state='ready']", timeout=FRESH_S * 1000)
    assert time.monotonic() - sent < FRESH_S
    assert page.locator(f"{row} [data-field=state]").inner_text() == "Ready"
    ready = page.locator(f"[data-tenant='{t['id']}'] tr[data-queue='sales'] "
                         "[data-field=agents-ready]")
    assert int(ready.inner_text()) >= 1
    page.context.close()


# Keeps every WebSocket the page opens, so a test can drop one.
KEEP_SOCKETS = """
(() => {
  const Original = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Original {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
})();
"""


def test_the_wallboard_resumes_after_a_dropped_connection_without_losing_a_change(
    browser: Browser, stack: GatewayStack, tenants: list[dict[str, Any]]
) -> None:
    t = tenants[0]
    agent = agents(t)[3]
    context = browser.new_context(base_url=stack.base_url)
    context.add_init_script(KEEP_SOCKETS)
    page = context.new_page()
    page.goto("/login/")
    page.locator("#tenant").fill(t["id"])
    page.locator("#username").fill("sam")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url("**/wallboard/")
    page.wait_for_selector("#connection.status-live")
    row = f"tr[data-agent='{agent}']"
    page.wait_for_selector(row)
    page.evaluate("() => window.__sockets[window.__sockets.length - 1].close()")
    page.wait_for_selector("#connection.status-down")
    # While the page is disconnected, the agent changes state.
    base = f"/v1/tenants/{t['id']}/agents/{agent}"
    with contextlib.suppress(urllib.error.HTTPError):
        rest(stack, "POST", f"{base}/log-in", t["credential"])
    rest(stack, "POST", f"{base}/not-ready", t["credential"], {"reason_code": "training"})
    page.wait_for_selector("#connection.status-live")
    page.wait_for_selector(f"{row}[data-state='not_ready']")
    expect(page.locator(row)).to_contain_text("Training")
    urls = page.evaluate("() => window.__sockets.map((s) => s.url)")
    assert len(urls) == 2 and "after=" not in urls[0], urls
    assert "after=" in urls[1] and "epoch=" in urls[1], urls  # resumed, not restarted
    context.close()


def recorded(broker: str, topic: topics.Topic, tenant_id: str, iid: str, kind: str,
             timeout: float = 10) -> Any:  # fmt: skip
    """The first `kind` of interaction `iid` on `topic`."""
    consumer = new_consumer(broker, f"browser-test-{uuid.uuid4().hex[:6]}")
    assign_from_start(consumer, [topic])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or msg.error() is not None:
                continue
            event: Any = decode(topic, msg.value(), msg.key())
            env = event.envelope
            if (env.tenant_id, env.interaction_id, event.WhichOneof("event")) == (
                    tenant_id, iid, kind):
                return event
    finally:
        consumer.close()
    raise AssertionError(f"no {kind} of {iid} on {topic.name}")


def offered(broker: str, tenant_id: str, iid: str, timeout: float = 10) -> Any:
    return recorded(broker, topics.ROUTING_INTERACTIONS, tenant_id, iid, "offered",
                    timeout).offered


def test_agent_desktop_shows_the_offer_and_finishes_wrap_up(
    browser: Browser, stack: GatewayStack, broker: str, tenants: list[dict[str, Any]]
) -> None:
    t = tenants[0]
    me = agents(t)[0]
    for other in agents(t)[1:]:  # the offer must come to this agent: nobody else ready
        with contextlib.suppress(urllib.error.HTTPError):  # 409: not logged in
            rest(stack, "POST", f"/v1/tenants/{t['id']}/agents/{other}/not-ready",
                 t["credential"], {"reason_code": "break"})
    page = sign_in(browser, stack, t["id"], "ana")
    page.wait_for_selector("#state[data-state='logged_out']")
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_selector("#state[data-state='not_ready']")
    page.get_by_role("button", name="Ready", exact=True).focus()
    page.keyboard.press("Enter")  # keyboard-usable: a focused button acts on Enter
    page.wait_for_selector("#state[data-state='ready']")
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    try:
        iid = f"call-{uuid.uuid4().hex[:8]}"
        ingress.arrive(iid, "+351912345678")
        page.wait_for_selector("#contact-panel[data-status='ringing']", timeout=5000)
        assert "answer it on your phone" in page.locator("#contact-status").inner_text()
        assert page.locator("[data-field=customer]").inner_text() == "+351912345678"
        assert page.locator("[data-field=queue]").inner_text() == "sales"
        assert page.get_by_role("button", name="Accept").count() == 0  # voice: the phone rings
        offer = offered(broker, t["id"], iid)
        ingress.answer(iid, offer.offer_id, me, offer.queue_id)
        page.wait_for_selector("#contact-panel[data-status='connected']")
        page.wait_for_selector("#history table, #history [data-field=no-history], "
                               "#history .error")
        ingress.hang_up(iid, me)
        page.wait_for_selector("#wrap-up:not([hidden])")
        page.get_by_label("Disposition").select_option("sale")
        page.get_by_label("Resolved").check()
        page.get_by_role("button", name="Finish wrap-up").click()
        page.wait_for_selector("#state[data-state='ready']")
        page.wait_for_selector("#contact-panel[data-status='none']")
        expect(page.locator("[data-field=handled]")).to_have_text("1")
        # The same customer calls again: the screen-pop shows the first call, wrapped up.
        again = f"call-{uuid.uuid4().hex[:8]}"
        ingress.arrive(again, "+351912345678")
        page.wait_for_selector("#contact-panel[data-status='ringing']")
        row = page.locator(f"#history tr[data-interaction='{iid}']")
        expect(row).to_contain_text("sale")
        expect(row).to_contain_text("Answered")
        expect(row).to_contain_text("Yes")  # resolved
        ingress.abandon(again)  # the caller hangs up while it rings: the agent is free again
        page.wait_for_selector("#contact-panel[data-status='none']")
    finally:
        ingress.close()
        page.context.close()


def test_agent_desktop_holds_resumes_and_transfers_the_connected_call(
    browser: Browser, stack: GatewayStack, broker: str, tenants: list[dict[str, Any]]
) -> None:
    """The buttons show while a voice call is connected; each asks the gateway, which records
    the command for ingress-sip (played here: its `held` / `resumed` come back on the stream);
    the page stays accessible with them on screen."""
    t = tenants[0]
    me = agents(t)[0]
    for other in agents(t)[1:]:
        with contextlib.suppress(urllib.error.HTTPError):  # 409: not logged in
            rest(stack, "POST", f"/v1/tenants/{t['id']}/agents/{other}/not-ready",
                 t["credential"], {"reason_code": "break"})
    for step, body in (("log-in", {}), ("ready", {})):
        with contextlib.suppress(urllib.error.HTTPError):  # 409: already there
            rest(stack, "POST", f"/v1/tenants/{t['id']}/agents/{me}/{step}", t["credential"], body)
    page = sign_in(browser, stack, t["id"], "ana")
    page.wait_for_selector("#state[data-state='ready']")
    expect(page.locator("#call-controls")).to_be_hidden()
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    try:
        iid = f"call-{uuid.uuid4().hex[:8]}"
        ingress.arrive(iid, "+351913000111")
        page.wait_for_selector("#contact-panel[data-status='ringing']")
        expect(page.locator("#call-controls")).to_be_hidden()  # nothing to hold yet
        offer = offered(broker, t["id"], iid)
        ingress.answer(iid, offer.offer_id, me, offer.queue_id)
        page.wait_for_selector("#contact-panel[data-status='connected']")
        hold = page.get_by_role("button", name="Hold", exact=True)
        resume = page.get_by_role("button", name="Resume", exact=True)
        expect(hold).to_be_enabled()
        expect(resume).to_be_disabled()
        assert serious(page) == [], "the desktop with its call buttons"

        hold.click()
        command = recorded(broker, topics.VOICE_COMMANDS, t["id"], iid, "hold")
        assert command.envelope.agent_id == me
        ingress.hold(iid, me)
        expect(page.locator("#contact-status")).to_contain_text("On hold")
        expect(hold).to_be_disabled()
        resume.click()
        recorded(broker, topics.VOICE_COMMANDS, t["id"], iid, "resume")
        ingress.hold(iid, me, held=False)
        expect(hold).to_be_enabled()
        expect(page.locator("#contact-status")).to_contain_text("Connected")

        transfer_to = page.get_by_label("Transfer to queue")
        expect(transfer_to.locator("option")).to_have_text(["support"])  # not its own queue
        page.get_by_role("button", name="Transfer", exact=True).click()
        command = recorded(broker, topics.VOICE_COMMANDS, t["id"], iid, "transfer")
        assert command.transfer.to_queue_id == "support"
        assert page.locator("#command-error").inner_text() == ""

        ingress.hang_up(iid, me)  # ingress-sip played no transfer: the call ends here
        page.wait_for_selector("#wrap-up:not([hidden])")
        expect(page.locator("#call-controls")).to_be_hidden()
        page.get_by_label("Disposition").select_option("info")
        page.get_by_role("button", name="Finish wrap-up").click()
        page.wait_for_selector("#state[data-state='ready']")
    finally:
        ingress.close()
        page.context.close()


def test_a_queue_turns_red_when_it_misses_its_target(
    browser: Browser, stack: GatewayStack, broker: str, tenants: list[dict[str, Any]]
) -> None:
    t = tenants[1]  # nobody of this tenant is ready: the call waits, then the caller gives up
    page = sign_in(browser, stack, t["id"], "sam")
    row = page.locator(f"[data-tenant='{t['id']}'] tr[data-queue='sales']")
    expect(row).not_to_have_class("missed")
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    try:
        iid = f"call-{uuid.uuid4().hex[:8]}"
        ingress.arrive(iid, "+4930111222")
        expect(row.locator("[data-field=waiting]")).to_have_text("1")
        time.sleep(5.5)  # longer than the short-abandon time: a real abandon
        ingress.abandon(iid)
        expect(row).to_have_class("missed", timeout=FRESH_S * 1000)
        expect(row).to_contain_text("below target")
        expect(row.locator("[data-field=service-level]")).to_have_text("0% / 80%")
        expect(row.locator("[data-field=abandon]")).to_have_text("100%")
    finally:
        ingress.close()
        page.context.close()


def serious(page: Page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in violations
            if v["impact"] in ("serious", "critical")]


def test_the_audit_finds_what_it_should(browser: Browser) -> None:
    page = browser.new_page()
    page.set_content("<html><body><input type=text><button></button></body></html>")
    found = serious(page)
    assert any(v.startswith("button-name") for v in found), found
    page.close()


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_both_pages_pass_an_accessibility_audit(
    browser: Browser, stack: GatewayStack, tenants: list[dict[str, Any]], locale: str
) -> None:
    t = tenants[0]
    for user in ("sam", "ana"):
        page = sign_in(browser, stack, t["id"], user)
        page.get_by_label("Language").select_option(locale)
        expect(page.locator("html")).to_have_attribute("lang", locale)
        heading = {"sam": {"en": "Wallboard", "zh-CN": "监控大屏"},
                   "ana": {"en": "Agent desktop", "zh-CN": "坐席工作台"}}[user][locale]
        assert page.locator("h1").inner_text() == heading
        expect(page.locator("#connection")).to_have_text("Live" if locale == "en" else "实时")
        page.wait_for_timeout(300)  # one render after the snapshot
        assert serious(page) == [], f"{user} in {locale}"
        page.get_by_label("Language" if locale == "en" else "语言").select_option("en")
        page.context.close()


def test_the_users_language_comes_from_the_session(
    browser: Browser, stack: GatewayStack, tenants: list[dict[str, Any]]
) -> None:
    page = sign_in(browser, stack, tenants[0]["id"], "li")  # li's locale: zh-CN
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "监控大屏"
    page.context.close()


def test_before_sign_in_the_language_is_the_browsers(browser: Browser, stack: GatewayStack
                                                     ) -> None:
    context = browser.new_context(base_url=stack.base_url, locale="zh-CN")  # Accept-Language
    page = context.new_page()
    page.goto("/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    page.get_by_label("语言").select_option("en")  # the switch
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    context.close()


def test_a_tenants_user_cannot_open_another_tenants_stream(
    browser: Browser, stack: GatewayStack, tenants: list[dict[str, Any]]
) -> None:
    page = sign_in(browser, stack, tenants[1]["id"], "sam")
    closed = page.evaluate("""(tenant) => new Promise((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/v1/tenants/${tenant}/stream`);
        ws.onclose = (e) => resolve({code: e.code, reason: e.reason});
    })""", tenants[0]["id"])
    assert closed["code"] == 4403, closed
    assert tenants[0]["id"] in closed["reason"]
    page.context.close()


def test_an_operator_sees_every_tenant_on_one_wallboard(
    browser: Browser, stack: GatewayStack, tenants: list[dict[str, Any]]
) -> None:
    page = sign_in(browser, stack, "", "olga")
    for t in tenants:
        page.wait_for_selector(f"section[data-tenant='{t['id']}']")
    page.context.close()


def test_the_wallboard_comes_back_after_the_gateway_restarts(
    browser: Browser, stack: GatewayStack, tenants: list[dict[str, Any]]
) -> None:
    """A restarted gateway rebuilds its board from the log (another epoch): the page
    reconnects by itself, with its session (kept on the sessions topic), and gets a
    snapshot that holds what changed while the gateway was down."""
    t = tenants[1]
    agent = agents(t)[0]
    page = sign_in(browser, stack, t["id"], "sam")
    row = f"tr[data-agent='{agent}']"
    page.wait_for_selector(row)
    stack.procs["gateway"].stop()
    page.wait_for_selector("#connection.status-down")
    base = f"/v1/tenants/{t['id']}/agents/{agent}"
    stack.restart("gateway")
    with contextlib.suppress(urllib.error.HTTPError):  # 409: logged in already
        rest(stack, "POST", f"{base}/log-in", t["credential"])
    rest(stack, "POST", f"{base}/not-ready", t["credential"], {"reason_code": "training"})
    page.wait_for_selector("#connection.status-live", timeout=20_000)
    page.wait_for_selector(f"{row}[data-state='not_ready']")
    expect(page.locator(row)).to_contain_text("Training")
    page.context.close()


@pytest.mark.skipif(not os.environ.get("HOTLINE_WRITE_SCREENSHOTS"),
                    reason="set HOTLINE_WRITE_SCREENSHOTS=1 to write docs/*.png")
def test_write_screenshots(browser: Browser, stack: GatewayStack, broker: str,
                           tenants: list[dict[str, Any]]) -> None:
    t = tenants[0]
    ids = agents(t)
    for agent in ids[1:]:
        base = f"/v1/tenants/{t['id']}/agents/{agent}"
        with contextlib.suppress(urllib.error.HTTPError):  # 409: logged in by another test
            rest(stack, "POST", f"{base}/log-in", t["credential"])
    rest(stack, "POST", f"/v1/tenants/{t['id']}/agents/{ids[2]}/ready", t["credential"])
    rest(stack, "POST", f"/v1/tenants/{t['id']}/agents/{ids[3]}/not-ready", t["credential"],
         {"reason_code": "training"})
    desk = sign_in(browser, stack, t["id"], "ana")
    if desk.locator("#state").get_attribute("data-state") == "logged_out":
        desk.get_by_role("button", name="Log in", exact=True).click()
    desk.wait_for_selector("#state[data-state='not_ready'], #state[data-state='ready']")
    if desk.locator("#state").get_attribute("data-state") == "not_ready":
        desk.get_by_role("button", name="Ready", exact=True).click()
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    try:
        iid = f"call-{uuid.uuid4().hex[:8]}"
        ingress.arrive(iid, "+351912345678")
        desk.wait_for_selector("#contact-panel[data-status='ringing']")
        gone = f"call-{uuid.uuid4().hex[:8]}"
        ingress.arrive(gone, "+351934567890")  # waits, and gives up: the queue turns red
        desk.wait_for_timeout(5500)
        ingress.abandon(gone)
        ingress.arrive(f"call-{uuid.uuid4().hex[:8]}", "+351956789012")  # waits in the queue
        desk.wait_for_timeout(2500)
        desk.screenshot(path=str(ROOT / "docs" / "desktop.png"))
        board = sign_in(browser, stack, t["id"], "sam")
        board.wait_for_timeout(1500)
        board.screenshot(path=str(ROOT / "docs" / "wallboard.png"), full_page=True)
        board.context.close()
    finally:
        ingress.close()
        desk.context.close()
