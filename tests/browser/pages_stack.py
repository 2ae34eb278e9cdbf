"""What the browser tests and the wallboard bench start: a real router, WFM and gateway on a
real broker (tests/integration/gateway_stack.py) and the analytics sink on ClickHouse (the
desktop's screen-pop) with users who sign in, a headless Chromium
(Debian `chromium` driven by Playwright, INFRA.md "Browser tests"), and a stand-in for
ingress-sip that publishes voice interaction facts the router then queues and offers."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from integration.gateway_stack import GatewayStack, spawn, start, wait_grpc

from hotline.common.v1 import envelope_pb2
from hotline.interaction.v1 import events_pb2 as interaction_pb2
from hotline_cli.embedded import find_free_port
from hotline_platform import topics
from hotline_platform.bus import EventPublisher
from hotline_platform.envelope import new_envelope

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PASSWORD = "correct-horse-battery"
DELEGATION_KEY = "browser-tests-delegation-key-0123456789"


NAMES = ["Ana Silva", "Bruno Costa", "Carla Reyes", "Dan Cruz"]


def tenant(prefix: str, agents: int = 3) -> dict[str, Any]:
    tid = f"{prefix}-{uuid.uuid4().hex[:6]}"
    codes = [{"code": "sale", "label": "Sale"}, {"code": "info", "label": "Information"}]
    return {
        "id": tid,
        "name": f"{prefix.title()} Company",
        "credential": f"cred-{tid}",
        # An abandon (after 5 s) counts against the service level (shared/KPI.md "missed").
        "kpi": {"service_level": "missed", "short_abandon_s": 5},
        "not_ready_reasons": [{"code": "break", "label": "Break"},
                              {"code": "training", "label": "Training"}],
        "queues": [
            {"id": "sales", "required_skills": [{"name": "sales", "level": 1}],
             "service_level": {"threshold_s": 20, "target": 0.8},
             "ring_timeout_s": 60, "wrap_up_timeout_s": 300, "wrap_up_codes": codes},
            {"id": "support", "required_skills": [{"name": "support", "level": 1}],
             "service_level": {"threshold_s": 30, "target": 0.9}, "wrap_up_codes": codes},
        ],
        "entry_points": [{"address": f"ep-{tid}", "queue": "sales", "site": "lisbon"}],
        "agents": [
            {"id": f"{tid}-a{i}", "name": name, "site": "lisbon" if i < 2 else "manila",
             "skills": ["sales", "support"] if i < 2 else ["support"],
             "phone": f"sip:a{i}@127.0.0.1:{16000 + i}"}
            for i, name in enumerate(NAMES[:agents])
        ],
        "users": [
            {"id": "ana", "name": "Ana Silva", "roles": ["agent"], "agent": f"{tid}-a0",
             "locale": "en", "password": PASSWORD},
            {"id": "sam", "name": "Sam Supervisor", "roles": ["supervisor"], "locale": "en",
             "password": PASSWORD},
            {"id": "li", "name": "李娜", "roles": ["supervisor"], "locale": "zh-CN",
             "password": PASSWORD},
        ],
    }


@contextmanager
def pages_stack(
    broker: str, workdir: Path, tenants: list[dict[str, Any]], clickhouse: Any
) -> Iterator[GatewayStack]:
    """The gateway stack, and the analytics sink on ClickHouse (the desktop's screen-pop)."""
    os.environ["HOTLINE_DELEGATION_KEY"] = DELEGATION_KEY  # gateway, router, sink share it
    operators = [{"id": "olga", "name": "Olga Operator", "roles": ["operator"],
                  "tenants": "all", "password": PASSWORD}]
    analytics_port = find_free_port()
    try:
        stack = start(broker, workdir, tenants, operators=operators,
                      sites=("lisbon", "manila"),
                      HOTLINE_ANALYTICS_ADDRESS=f"127.0.0.1:{analytics_port}")
        try:
            run = uuid.uuid4().hex[:8]
            sink = spawn("analytics-sink", "hotline_analytics", workdir / "analytics-sink.log", {
                "HOTLINE_KAFKA_BOOTSTRAP": broker,
                "HOTLINE_CONFIG_PATH": str(workdir / "hotline.yaml"),  # start() wrote it
                "HOTLINE_GRPC_PORT": str(analytics_port),
                "HOTLINE_INSTANCE_ID": f"analytics-sink-{run}",
                "HOTLINE_CLICKHOUSE_HOST": clickhouse.host,
                "HOTLINE_CLICKHOUSE_PORT": str(clickhouse.tcp_port),
                "HOTLINE_CLICKHOUSE_DATABASE": f"pages_{run}",
                "HOTLINE_CONSUMER_GROUP": f"hotline-pages-{run}",
                "HOTLINE_BATCH_MAX_WAIT_S": "0.1",
            })
            stack.procs["analytics-sink"] = sink
            wait_grpc(sink, analytics_port)
        except BaseException:
            stack.stop()
            if "analytics-sink" in stack.procs:
                stack.procs["analytics-sink"].stop()
            raise
    finally:
        os.environ.pop("HOTLINE_DELEGATION_KEY", None)
    try:
        yield stack
    finally:
        stack.stop()
        stack.procs["analytics-sink"].stop()


def rest(stack: GatewayStack, method: str, path: str, credential: str,
         body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{stack.base_url}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {credential}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read() or b"null")


class Ingress:
    """Plays ingress-sip for one tenant: arrivals, answers, hang-ups on the voice topic."""

    def __init__(self, broker: str, tenant_id: str, entry_point: str) -> None:
        self.publisher = EventPublisher(broker, client_id="browser-test-ingress")
        self.tenant_id = tenant_id
        self.entry_point = entry_point

    def _event(self, iid: str, agent_id: str = "") -> interaction_pb2.InteractionEvent:
        return interaction_pb2.InteractionEvent(envelope=new_envelope(
            tenant_id=self.tenant_id, producer="ingress-sip/browser-test", interaction_id=iid,
            agent_id=agent_id))

    def _send(self, event: interaction_pb2.InteractionEvent) -> None:
        self.publisher.publish(topics.VOICE_INTERACTIONS, event)
        self.publisher.flush()

    def arrive(self, iid: str, caller: str) -> None:
        ev = self._event(iid)
        ev.arrived.channel = envelope_pb2.CHANNEL_VOICE
        ev.arrived.direction = envelope_pb2.DIRECTION_INBOUND
        ev.arrived.entry_point_id = self.entry_point
        ev.arrived.to_address = self.entry_point
        ev.arrived.from_address = caller
        ev.arrived.session_ref = f"call-{iid}"
        ev.arrived.identity_hints.add(kind=interaction_pb2.IDENTITY_KIND_PHONE, value=caller)
        self._send(ev)

    def answer(self, iid: str, offer_id: str, agent_id: str, queue_id: str) -> None:
        ev = self._event(iid, agent_id)
        ev.offer_accepted.offer_id = offer_id
        ev.offer_accepted.agent_id = agent_id
        ev.offer_accepted.queue_id = queue_id
        self._send(ev)

    def hang_up(self, iid: str, agent_id: str) -> None:
        ev = self._event(iid, agent_id)
        ev.completed.agent_id = agent_id
        ev.completed.ended_by = interaction_pb2.InteractionCompleted.ENDED_BY_CUSTOMER
        self._send(ev)

    def hold(self, iid: str, agent_id: str, held: bool = True) -> None:
        """`held` (or `resumed`), as ingress-sip says when it did a hold command."""
        ev = self._event(iid, agent_id)
        if held:
            ev.held.agent_id = agent_id
        else:
            ev.resumed.agent_id = agent_id
            ev.resumed.held_ms = 1000
        self._send(ev)

    def abandon(self, iid: str) -> None:
        ev = self._event(iid)
        ev.abandoned.stage = interaction_pb2.InteractionAbandoned.STAGE_WHILE_OFFERED
        ev.abandoned.reason = "caller hung up"
        self._send(ev)

    def close(self) -> None:
        self.publisher.close()
