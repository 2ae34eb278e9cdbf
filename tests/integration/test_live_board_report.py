"""The wallboard's live figures against the KPI report: the gateway's live board (folded from
the event topics, pushed over the stream) and the analytics sink's report (ClickHouse, over
`GET /reports/kpi`) must give the same counts and the same service level, abandonment rate
and ASA for the same contacts, by the tenant's KPI definitions (shared/KPI.md, here
`missed` with 5 s short abandons), since the two compute them apart.

A real directory, router, analytics sink and gateway on a real broker and ClickHouse; this
test plays ingress-sip (arrivals, answers, hang-ups, abandons on the voice topic) with the
answer and abandon times set on the events: answered after 3 s and after 25 s (beyond T =
20 s), abandoned after 8 s, and a short abandon after 2 s."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from directory_stack import FullStack, start_full, tenant
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from hotline.common.v1 import envelope_pb2
from hotline.interaction.v1 import events_pb2 as interaction_pb2
from hotline_platform import topics
from hotline_platform.bus import EventPublisher
from hotline_platform.envelope import new_envelope

pytestmark = pytest.mark.integration

WAIT_S = 30


@pytest.fixture(scope="module")
def stack(
    broker: str, clickhouse: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FullStack]:
    t = tenant("livekpi", agents=1)
    t["kpi"] = {"service_level": "missed", "short_abandon_s": 5}
    t["queues"][0]["service_level"] = {"threshold_s": 20, "target": 0.8}
    running = start_full(broker, clickhouse, tmp_path_factory.mktemp("live-kpi"), [t])
    try:
        yield running
    finally:
        running.stop()


def rest(stack: FullStack, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{stack.base_url}/v1/tenants/{stack.tenants[0]['id']}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {stack.credential()}",
                 "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{method} {path}: {exc.code} {exc.read().decode()}") from None


class Board:
    """The stream as a page reads it: the snapshot, then every change applied in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.queues: dict[str, dict[str, Any]] = {}
        self.offers: dict[str, dict[str, Any]] = {}
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        snapshot = json.loads(ws.recv(timeout=10))
        (only,) = snapshot["tenants"]
        self.queues = {q["queue_id"]: q for q in only["queues"]}
        self.offers = {o["interaction_id"]: o for o in only["offers"]}

    def until(self, probe: Any, what: str) -> Any:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            found = probe()
            if found:
                return found
            try:
                message = json.loads(self.ws.recv(timeout=0.5))
            except TimeoutError:
                continue
            if message["type"] == "queue":
                self.queues[message["key"]] = message["data"]
            elif message["type"] == "offer":
                self.offers[message["key"]] = message["data"]
        raise AssertionError(f"no {what} within {WAIT_S} s")


class Caller:
    def __init__(self, broker: str, t: dict[str, Any]) -> None:
        self.publisher = EventPublisher(broker, client_id="live-kpi-ingress")
        self.tenant_id = t["id"]
        self.entry_point = t["entry_points"][0]["address"]

    def send(self, iid: str, at_ms: int | None, fill: Any, agent_id: str = "") -> None:
        ev = interaction_pb2.InteractionEvent(envelope=new_envelope(
            tenant_id=self.tenant_id, producer="ingress-sip/live-kpi-test", interaction_id=iid,
            agent_id=agent_id, occurred_at_ms=at_ms))
        fill(ev)
        self.publisher.publish(topics.VOICE_INTERACTIONS, ev)
        self.publisher.flush()

    def arrive(self, iid: str) -> None:
        def fill(ev: Any) -> None:
            ev.arrived.channel = envelope_pb2.CHANNEL_VOICE
            ev.arrived.entry_point_id = self.entry_point
            ev.arrived.to_address = self.entry_point
            ev.arrived.from_address = f"+35191{iid[-4:]}"
            ev.arrived.session_ref = f"call-{iid}"
        self.send(iid, None, fill)

    def answer(self, offer: dict[str, Any], after_s: float) -> None:
        def fill(ev: Any) -> None:
            ev.offer_accepted.offer_id = offer["offer_id"]
            ev.offer_accepted.agent_id = offer["agent_id"]
            ev.offer_accepted.queue_id = offer["queue_id"]
        at = offer["queued_ms"] + int(after_s * 1000)
        self.send(offer["interaction_id"], at, fill, offer["agent_id"])

    def hang_up(self, offer: dict[str, Any], after_s: float) -> None:
        def fill(ev: Any) -> None:
            ev.completed.agent_id = offer["agent_id"]
            ev.completed.ended_by = interaction_pb2.InteractionCompleted.ENDED_BY_CUSTOMER
            ev.completed.talk_ms = 5000
        at = offer["queued_ms"] + int(after_s * 1000)
        self.send(offer["interaction_id"], at, fill, offer["agent_id"])

    def give_up(self, offer: dict[str, Any], after_s: float) -> None:
        def fill(ev: Any) -> None:
            ev.abandoned.stage = interaction_pb2.InteractionAbandoned.STAGE_WHILE_OFFERED
            ev.abandoned.reason = "caller hung up"
        self.send(offer["interaction_id"], offer["queued_ms"] + int(after_s * 1000), fill)


def test_live_figures_agree_with_the_kpi_report(stack: FullStack, broker: str) -> None:
    t = stack.tenants[0]
    agent = t["agents"][0]["id"]
    rest(stack, "POST", f"/agents/{agent}/log-in")
    rest(stack, "POST", f"/agents/{agent}/ready")
    caller = Caller(broker, t)
    url = stack.base_url.replace("http://", "ws://") + f"/v1/tenants/{t['id']}/stream"
    protocols = [Subprotocol("hotline.v1"), Subprotocol(f"bearer.{stack.credential()}")]
    with connect(url, subprotocols=protocols, open_timeout=10) as ws:
        board = Board(ws)

        def offer_of(iid: str) -> dict[str, Any]:
            caller.arrive(iid)
            return dict(board.until(lambda: board.offers.get(iid), f"offer of {iid}"))

        def answered(iid: str, after_s: float) -> None:
            offer = offer_of(iid)
            caller.answer(offer, after_s)
            caller.hang_up(offer, after_s + 5)
            board.until(lambda: board.offers.get(iid, {}).get("status") == "wrap_up",
                        f"wrap-up of {iid}")
            # The board folds the voice topic itself; the router, which takes the command,
            # may read the hang-up a moment later.
            deadline = time.monotonic() + WAIT_S
            while rest(stack, "GET", f"/agents/{agent}")["state"] != "wrap_up":
                assert time.monotonic() < deadline, f"the router never put {agent} in wrap-up"
                time.sleep(0.05)
            rest(stack, "POST", f"/agents/{agent}/finish-wrap-up",
                 {"interaction_id": iid, "disposition": {"code": "other", "resolved": True}})

        run = uuid.uuid4().hex[:6]
        answered(f"{run}-c1", 3)
        answered(f"{run}-c2", 25)  # beyond T
        for iid, after_s in ((f"{run}-c3", 8), (f"{run}-c4", 2)):  # an abandon, a short one
            offer = offer_of(iid)
            caller.give_up(offer, after_s)
            board.until(lambda iid=iid: board.offers.get(iid, {}).get("status") == "ended",
                        f"end of {iid}")
        live = board.until(
            lambda: board.queues["sales"]["today"]["handled"] == 2
            and board.queues["sales"]["today"]["queued"] == 4 and board.queues["sales"],
            "the live figures of 4 contacts")["today"]

    def report() -> dict[str, Any] | None:
        found = rest(stack, "GET", "/reports/kpi?queue=sales")
        sales = next(q for q in found["queues"] if q["queue_id"] == "sales")
        done = sales["queued"] == 4 and sales["handled"] == 2 and sales["waiting"] == 0
        return sales if done else None

    deadline = time.monotonic() + WAIT_S
    while (sales := report()) is None:
        assert time.monotonic() < deadline, "the report never counted the 4 contacts"
        time.sleep(0.5)
    # The same contacts, the same definitions, computed apart: the same figures.
    assert (live["queued"], live["answered"], live["abandoned"], live["handled"]) == (
        sales["queued"], sales["answered"], sales["abandoned"], sales["handled"]) == (4, 2, 1, 2)
    # (the report rounds its ratios to 4 decimals)
    for figure, expected in (("service_level", 1 / 3), ("abandonment_rate", 1 / 3),
                             ("asa_s", 14.0)):
        assert live[figure] == pytest.approx(sales[figure], abs=1e-4), figure
        assert live[figure] == pytest.approx(expected), figure
    assert live["definition"] == "missed"
    caller.publisher.close()
