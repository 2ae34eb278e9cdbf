"""The router against a real Tansu broker, as a subprocess (`python -m hotline_router`).

The test plays ingress-sip (publishing voice interaction facts) and the agent desktops (the
real gRPC API), and reads the router's output topics. Every wait polls with a deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from support import polling
from support.grpc_matrix import sample_request

from hotline.agent.v1 import events_pb2 as agent_pb2
from hotline.ingress.v1 import events_pb2 as ingress_pb2
from hotline.interaction.v1 import events_pb2 as interaction_pb2
from hotline.router.v1 import router_pb2, router_pb2_grpc
from hotline_cli.embedded import find_free_port
from hotline_platform import codec, policy, topics
from hotline_platform.bus import EventPublisher, ensure_topics, new_consumer
from hotline_platform.envelope import ContractViolation, new_envelope, now_ms
from hotline_platform.grpc_server import is_serving

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
WAIT_S = 20


# --------------------------------------------------------------------------- helpers


eventually = partial(polling.eventually, timeout=WAIT_S)


def _tenant(prefix: str, agents: list[dict[str, Any]], **queue: Any) -> dict[str, Any]:
    tid = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return {
        "id": tid,
        "credential": f"cred-{tid}",
        "queues": [
            {
                "id": "sales",
                "required_skills": [{"name": "sales", "level": 1}],
                "ring_timeout_s": 30,
                "wrap_up_timeout_s": 60,
                **queue,
            }
        ],
        "entry_points": [{"address": f"ep-{tid}", "queue": "sales"}],
        "agents": [
            {**a, "id": f"{tid}-{a['id']}", "phone": f"sip:{a['id']}@127.0.0.1:{15000 + i}"}
            for i, a in enumerate(agents)
        ],
    }


@dataclass
class RouterProcess:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@dataclass
class Desk:
    """The agent desktop's view of the router: the real gRPC API with a tenant credential."""

    channel: grpc.Channel
    tenant_id: str
    credential: str | None

    def __post_init__(self) -> None:
        self.agents = router_pb2_grpc.AgentServiceStub(self.channel)
        self.queues = router_pb2_grpc.QueueServiceStub(self.channel)

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.credential}"),) if self.credential else ()

    def call(self, method: str, request: Any) -> Any:
        stub = self.queues if method in ("ListQueues", "RequestCallback") else self.agents
        reply = getattr(stub, method)(request, metadata=self.metadata, timeout=10)
        return next(reply) if method == "WatchAgent" else reply  # a stream: its first view

    def ids(self, agent_id: str) -> dict[str, str]:
        return {"tenant_id": self.tenant_id, "agent_id": agent_id}

    def ready(self, agent_id: str) -> Any:
        self.call("LogIn", router_pb2.LogInRequest(**self.ids(agent_id)))
        return self.call("SetReady", router_pb2.SetReadyRequest(**self.ids(agent_id)))

    def agent(self, agent_id: str) -> Any:
        return self.call("GetAgent", router_pb2.GetAgentRequest(**self.ids(agent_id)))

    def queue(self, queue_id: str = "sales") -> Any:
        reply = self.call("ListQueues", router_pb2.ListQueuesRequest(tenant_id=self.tenant_id))
        return next(q for q in reply.queues if q.queue_id == queue_id)


class Ingress:
    """Plays ingress-sip: publishes voice interaction facts."""

    def __init__(self, broker: str, tenant_id: str, entry_point: str) -> None:
        self.publisher = EventPublisher(broker, client_id="test-ingress")
        self.tenant_id = tenant_id
        self.entry_point = entry_point

    def event(
        self, iid: str, agent_id: str = "", producer: str = "ingress-sip/test"
    ) -> interaction_pb2.InteractionEvent:
        return interaction_pb2.InteractionEvent(
            envelope=new_envelope(
                tenant_id=self.tenant_id,
                producer=producer,
                interaction_id=iid,
                agent_id=agent_id,
            )
        )

    def send(self, *events: interaction_pb2.InteractionEvent) -> None:
        for event in events:
            self.publisher.publish(topics.VOICE_INTERACTIONS, event)
        self.publisher.flush()

    def liveness(self, kind: str, instance: str, at_ms: int, started_at_ms: int = 0) -> None:
        """Publish an ingress instance's `started` or `heartbeat` (occurred at `at_ms`)."""
        ev = ingress_pb2.IngressEvent(
            envelope=new_envelope(
                tenant_id=self.tenant_id, producer=f"ingress-sip/{instance}", occurred_at_ms=at_ms
            )
        )
        body = getattr(ev, kind)
        body.instance_id = instance
        body.incarnation_id = f"{instance}-{at_ms}"
        if kind == "heartbeat":
            body.started_at_ms = started_at_ms
        self.publisher.publish(topics.INGRESS_LIVENESS, ev)
        self.publisher.flush()

    def arrived(
        self, iid: str, producer: str = "ingress-sip/test"
    ) -> interaction_pb2.InteractionEvent:
        ev = self.event(iid, producer=producer)
        ev.arrived.entry_point_id = self.entry_point
        ev.arrived.to_address = self.entry_point
        ev.arrived.session_ref = f"call-{iid}"
        return ev

    def answered(
        self, offer: interaction_pb2.InteractionEvent, kind: str = "offer_accepted"
    ) -> interaction_pb2.InteractionEvent:
        o = offer.offered
        ev = self.event(offer.envelope.interaction_id, o.agent_id)
        getattr(ev, kind).offer_id = o.offer_id
        getattr(ev, kind).agent_id = o.agent_id
        getattr(ev, kind).queue_id = o.queue_id
        return ev

    def completed(self, iid: str, agent_id: str) -> interaction_pb2.InteractionEvent:
        ev = self.event(iid, agent_id)
        ev.completed.agent_id = agent_id
        ev.completed.ended_by = interaction_pb2.InteractionCompleted.ENDED_BY_CUSTOMER
        return ev


@dataclass
class Output:
    """Reads the router's output topics (and its dead-letter topic) for one tenant."""

    broker: str
    tenant_id: str
    events: list[Any] = field(default_factory=list)
    dead: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        from confluent_kafka import TopicPartition

        self.consumer = new_consumer(self.broker, f"test-{uuid.uuid4().hex}")
        p = topics.partition_for(self.tenant_id)
        dl = topics.dead_letter_topic("router")
        self.consumer.assign(
            [
                TopicPartition(topics.ROUTING_INTERACTIONS.name, p, 0),
                TopicPartition(topics.AGENTS.name, p, 0),
                TopicPartition(dl.name, 0, 0),
            ]
        )

    def _drain(self) -> None:
        while (msg := self.consumer.poll(0.05)) is not None:
            if msg.error():
                continue
            if msg.topic().startswith("hotline.deadletter."):
                if msg.key() == self.tenant_id.encode():
                    self.dead.append(msg)
                continue
            try:
                event = codec.decode(msg.topic(), msg.value(), msg.key())
            except ContractViolation:
                continue  # the broker is shared: other tests put garbage on these topics
            if event.envelope.tenant_id == self.tenant_id:
                self.events.append(event)

    def of(self, kind: str, iid: str | None = None) -> list[Any]:
        self._drain()
        return [
            e
            for e in self.events
            if e.WhichOneof("event") == kind and (iid is None or e.envelope.interaction_id == iid)
        ]

    def wait(self, kind: str, iid: str | None = None, count: int = 1) -> list[Any]:
        def enough() -> list[Any] | None:
            found = self.of(kind, iid)
            return found if len(found) >= count else None

        return eventually(enough, f"{count} {kind} for {iid or 'any'}")

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def rig(broker: str, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """rig(tenants, **env) -> start(): write the config, start routers on demand, clean up."""
    started: list[RouterProcess] = []
    channels: list[grpc.Channel] = []
    outputs: list[Output] = []
    ensure_topics(broker)

    def make(tenants: list[dict[str, Any]], **env: str) -> Callable[..., RouterProcess]:
        config = tmp_path / "hotline.yaml"
        config.write_text(yaml.safe_dump({"sites": [{"id": "lisbon"}], "tenants": tenants}))

        def start(**start_env: str) -> RouterProcess:
            port = find_free_port()
            log = tmp_path / f"router-{len(started)}.log"
            child_env = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    [str(ROOT / "services" / "router"), os.environ.get("PYTHONPATH", "")]
                ),
                "HOTLINE_KAFKA_BOOTSTRAP": broker,
                "HOTLINE_CONFIG_PATH": str(config),
                "HOTLINE_GRPC_PORT": str(port),
                "HOTLINE_INSTANCE_ID": f"router-test-{len(started)}",
                "HOTLINE_METRICS_PORT": "0",
                # The test's ingress publishes no heartbeats unless a test is about them.
                "HOTLINE_INGRESS_LOST_AFTER_MS": "600000",
                **env,
                **start_env,
            }
            with log.open("ab") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "hotline_router"],
                    env=child_env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            router = RouterProcess(proc, port, log)
            started.append(router)
            deadline = time.monotonic() + START_TIMEOUT_S
            while not is_serving(router.address, timeout=0.5):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"router did not start:\n{log.read_text()[-4000:]}")
                time.sleep(0.1)
            return router

        return start

    def desk(router: RouterProcess, tenant: dict[str, Any], credential: str | None = "") -> Desk:
        channel = grpc.insecure_channel(router.address)
        channels.append(channel)
        cred = tenant["credential"] if credential == "" else credential
        return Desk(channel, tenant["id"], cred)

    def output(tenant: dict[str, Any]) -> Output:
        out = Output(broker, tenant["id"])
        outputs.append(out)
        return out

    make.desk = desk  # type: ignore[attr-defined]
    make.output = output  # type: ignore[attr-defined]
    try:
        yield make
    finally:
        for channel in channels:
            channel.close()
        for out in outputs:
            out.close()
        for router in started:
            if router.proc.poll() is None:
                # Popen.wait, not stop_process: it must see the real exit status.
                router.proc.terminate()
                try:
                    code = router.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    router.proc.kill()
                    code = router.proc.wait()
                assert code == 0, router.log.read_text()[-3000:]


def _agent(t: dict[str, Any], short: str) -> str:
    return f"{t['id']}-{short}"


# --------------------------------------------------------------------------- tests


def test_arrived_is_queued_and_offered_to_the_right_agent_then_handled(
    rig: Any, broker: str
) -> None:
    t = _tenant(
        "route",
        [
            {"id": "novice", "skills": [{"name": "sales", "level": 1}]},
            {"id": "expert", "skills": [{"name": "sales", "level": 4}]},
            {"id": "other", "skills": [{"name": "billing", "level": 9}]},
        ],
        required_skills=[{"name": "sales", "level": 3}],
    )
    router = rig([t])()
    desk, out = rig.desk(router, t), rig.output(t)
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    novice, expert, other = (_agent(t, s) for s in ("novice", "expert", "other"))
    desk.ready(other)
    desk.ready(novice)  # idle longest among sales agents, but its level is too low
    desk.ready(expert)
    watch = desk.agents.WatchAgent(
        router_pb2.GetAgentRequest(**desk.ids(expert)), metadata=desk.metadata, timeout=60
    )
    assert next(watch).state == agent_pb2.AGENT_STATE_READY

    ingress.send(ingress.arrived("c1"))
    queued = out.wait("queued", "c1")[0].queued
    assert (queued.queue_id, [(s.name, s.level) for s in queued.required_skills]) == (
        "sales",
        [("sales", 3)],
    )
    offer = out.wait("offered", "c1")[0]
    assert offer.offered.agent_id == expert
    assert offer.offered.agent_endpoint == t["agents"][1]["phone"]
    assert (offer.offered.attempt, offer.offered.ring_timeout_ms) == (1, 30_000)
    assert offer.envelope.causation_id == out.of("queued", "c1")[0].envelope.event_id
    view = desk.agent(expert)
    assert (view.state, view.interaction_id) == (agent_pb2.AGENT_STATE_RESERVED, "c1")
    assert next(watch).state == agent_pb2.AGENT_STATE_RESERVED
    reserved = [e for e in out.of("state_changed") if e.envelope.agent_id == expert][-1]
    assert reserved.state_changed.previous_state == agent_pb2.AGENT_STATE_READY
    assert reserved.envelope.causation_id == offer.envelope.event_id

    ingress.send(ingress.answered(offer))
    assert next(watch).state == agent_pb2.AGENT_STATE_BUSY
    ingress.send(ingress.completed("c1", expert))
    wrap = next(watch)
    assert (wrap.state, wrap.interaction_id) == (agent_pb2.AGENT_STATE_WRAP_UP, "c1")
    out.wait("wrap_up_started", "c1")
    desk.call(
        "FinishWrapUp",
        router_pb2.FinishWrapUpRequest(
            **desk.ids(expert),
            interaction_id="c1",
            disposition=interaction_pb2.Disposition(code="sold", resolved=True),
        ),
    )
    assert next(watch).state == agent_pb2.AGENT_STATE_READY
    ended = out.wait("wrap_up_ended", "c1")[0].wrap_up_ended
    assert (ended.disposition.code, ended.disposition.resolved, ended.timed_out) == (
        "sold",
        True,
        False,
    )
    assert desk.queue().waiting == 0
    watch.cancel()


def test_timed_out_offer_is_offered_to_the_next_agent(rig: Any, broker: str) -> None:
    t = _tenant("timeout", [{"id": "a1", "skills": ["sales"]}, {"id": "a2", "skills": ["sales"]}])
    router = rig([t])()
    desk, out = rig.desk(router, t), rig.output(t)
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    a1, a2 = _agent(t, "a1"), _agent(t, "a2")
    desk.ready(a1)
    desk.ready(a2)
    ingress.send(ingress.arrived("c1"))
    first = out.wait("offered", "c1")[0]
    assert first.offered.agent_id == a1
    ingress.send(ingress.answered(first, "offer_timed_out"))
    second = out.wait("offered", "c1", count=2)[1]
    assert (second.offered.agent_id, second.offered.attempt) == (a2, 2)
    missed = desk.agent(a1)
    assert (missed.state, missed.reason_code) == (agent_pb2.AGENT_STATE_NOT_READY, "missed_offer")
    assert desk.agent(a2).state == agent_pb2.AGENT_STATE_RESERVED


def test_router_times_out_an_offer_nobody_answers(rig: Any, broker: str) -> None:
    t = _tenant(
        "silent",
        [{"id": "a1", "skills": ["sales"]}, {"id": "a2", "skills": ["sales"]}],
        ring_timeout_s=1,
    )
    router = rig([t], HOTLINE_OFFER_GRACE_MS="300")()
    desk, out = rig.desk(router, t), rig.output(t)
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    desk.ready(_agent(t, "a1"))
    desk.ready(_agent(t, "a2"))
    ingress.send(ingress.arrived("c1"))
    out.wait("offered", "c1")
    timed_out = out.wait("offer_timed_out", "c1")[0]  # on the router's own topic
    assert timed_out.envelope.producer.startswith("router/")
    assert timed_out.offer_timed_out.rang_ms >= 1_300
    assert out.wait("offered", "c1", count=2)[1].offered.agent_id == _agent(t, "a2")


def test_sigkilled_router_rebuilds_its_state_from_the_events(rig: Any, broker: str) -> None:
    t = _tenant("restart", [{"id": "a1", "skills": ["sales"]}, {"id": "a2", "skills": ["sales"]}])
    start = rig([t])
    first = start()
    desk, out = rig.desk(first, t), rig.output(t)
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    a1, a2 = _agent(t, "a1"), _agent(t, "a2")
    desk.ready(a1)
    desk.call("LogIn", router_pb2.LogInRequest(**desk.ids(a2)))  # logged in, not ready
    ingress.send(*(ingress.arrived(f"c{i}") for i in (1, 2, 3)))  # one batch
    offer = out.wait("offered", "c1")[0]
    assert offer.offered.agent_id == a1
    queued = [out.wait("queued", iid)[0].queued for iid in ("c1", "c2", "c3")]
    # Position and estimated wait: 2 agents logged in, a1 READY, nothing handled yet (180 s
    # each): c1 is a1's at once; c2 and c3 wait for one of the two to free up (90 s apart).
    assert [(q.position, q.estimated_wait_ms) for q in queued] == [
        (1, 0), (2, 90_000), (3, 180_000)
    ]
    eventually(lambda: desk.queue().waiting == 3, "3 waiting before the kill")

    first.kill()
    second = start()
    desk = rig.desk(second, t)
    queue = desk.queue()
    assert (queue.waiting, queue.agents_logged_in, queue.agents_ready) == (3, 2, 0)
    assert queue.longest_wait_ms > 0
    view = desk.agent(a1)
    assert (view.state, view.interaction_id) == (agent_pb2.AGENT_STATE_RESERVED, "c1")
    assert desk.agent(a2).state == agent_pb2.AGENT_STATE_NOT_READY

    # a2 becomes ready: it must get c2 (c1 is still ringing at a1), not a second offer of c1
    view = desk.call("SetReady", router_pb2.SetReadyRequest(**desk.ids(a2)))
    assert (view.state, view.interaction_id) == (agent_pb2.AGENT_STATE_RESERVED, "c2")
    assert out.wait("offered", "c2")[0].offered.agent_id == a2

    # new events route correctly on the restarted router
    ingress.send(ingress.answered(offer))
    eventually(lambda: desk.agent(a1).state == agent_pb2.AGENT_STATE_BUSY, "a1 busy")
    ingress.send(ingress.arrived("c4"))
    c4 = out.wait("queued", "c4")[0].queued
    # c2 ringing at a2 (it has its agent), c3 waiting: c3 and c4 wait for a1 or a2
    assert (c4.position, c4.estimated_wait_ms) == (3, 180_000)
    eventually(lambda: desk.queue().waiting == 3, "c2, c3, c4 waiting")
    assert len(out.of("offered", "c1")) == 1
    assert [len(out.of("queued", f"c{i}")) for i in (1, 2, 3, 4)] == [1, 1, 1, 1]


def test_restarted_ingress_ends_its_connected_call_and_the_agent_wraps_up(
    rig: Any, broker: str
) -> None:
    t = _tenant("lost", [{"id": "a1", "skills": ["sales"]}], wrap_up_timeout_s=1)
    router = rig([t])()
    desk, out = rig.desk(router, t), rig.output(t)
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    a1 = _agent(t, "a1")
    started = now_ms()
    ingress.liveness("started", "x", started)
    desk.ready(a1)
    ingress.send(ingress.arrived("c1", producer="ingress-sip/x"))
    offer = out.wait("offered", "c1")[0]
    ingress.send(ingress.answered(offer))
    eventually(lambda: desk.agent(a1).state == agent_pb2.AGENT_STATE_BUSY, "a1 busy")
    assert desk.queue().waiting == 0

    ingress.liveness("started", "x", now_ms())  # instance x's process started again
    completed = out.wait("completed", "c1")[0]
    assert completed.envelope.producer.startswith("router/")
    assert completed.completed.ended_by == interaction_pb2.InteractionCompleted.ENDED_BY_SYSTEM
    assert completed.completed.agent_id == a1
    out.wait("wrap_up_started", "c1")
    wrap_up = [
        e for e in out.of("state_changed")
        if e.envelope.agent_id == a1 and e.state_changed.state == agent_pb2.AGENT_STATE_WRAP_UP
    ]
    assert wrap_up
    # The queue's wrap-up time-out (1 s) ends it: READY, and free to log out.
    out.wait("wrap_up_ended", "c1")
    eventually(lambda: desk.agent(a1).state == agent_pb2.AGENT_STATE_READY, "a1 ready")
    desk.call("LogOut", router_pb2.LogOutRequest(**desk.ids(a1), reason="shift over"))
    assert len(out.of("completed", "c1")) == 1 and out.of("abandoned", "c1") == []


def test_silent_ingress_loses_its_waiting_call_across_a_router_restart(
    rig: Any, broker: str
) -> None:
    t = _tenant("quiet", [{"id": "a1", "skills": ["sales"]}])
    start = rig([t], HOTLINE_INGRESS_LOST_AFTER_MS="1500")
    router = start()
    desk, out = rig.desk(router, t), rig.output(t)
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    started = now_ms()
    ingress.liveness("started", "y", started)
    ingress.send(ingress.arrived("c1", producer="ingress-sip/y"))  # nobody ready: waits
    out.wait("queued", "c1")
    for _ in range(8):  # alive for 4 s, more than the limit: nothing ends
        time.sleep(0.5)
        ingress.liveness("heartbeat", "y", now_ms(), started)
    assert out.of("abandoned", "c1") == [] and desk.queue().waiting == 1
    router.kill()  # the router restarts while the ingress is still alive
    router = start()
    desk = rig.desk(router, t)
    ingress.liveness("heartbeat", "y", now_ms(), started)
    assert desk.queue().waiting == 1
    # The heartbeats stop: past the limit, the caller is gone.
    abandoned = out.wait("abandoned", "c1")[0]
    assert abandoned.envelope.producer.startswith("router/")
    assert abandoned.abandoned.reason == "ingress_lost"
    assert abandoned.abandoned.stage == interaction_pb2.InteractionAbandoned.STAGE_IN_QUEUE
    assert desk.queue().waiting == 0
    desk.ready(_agent(t, "a1"))  # nothing that ended is offered
    time.sleep(1.0)
    assert out.of("offered", "c1") == [] and len(out.of("abandoned", "c1")) == 1


def test_tenants_are_isolated(rig: Any) -> None:
    ta = _tenant("ta", [{"id": "a1", "skills": ["sales"]}])
    tb = _tenant("tb", [{"id": "b1", "skills": ["sales"]}])
    while topics.partition_for(tb["id"]) == topics.partition_for(ta["id"]):
        tb = _tenant("tb", [{"id": "b1", "skills": ["sales"]}])
    start = rig([ta, tb])
    router = start()
    a_as_a = rig.desk(router, ta)
    a_on_b = Desk(a_as_a.channel, tb["id"], ta["credential"])
    b1 = _agent(tb, "b1")
    listed = a_as_a.call("ListAgents", router_pb2.ListAgentsRequest(tenant_id=ta["id"]))
    assert [a.agent_id for a in listed.agents] == [_agent(ta, "a1")]
    # Every method of the permission table (tests/unit/test_policy_grpc.py runs the whole
    # tenant x role matrix in-process; here: the deployed process, with tenant credentials).
    calls = [
        (route.rsplit("/", 1)[1], sample_request(route, tb["id"], b1))
        for route in policy.GRPC_METHODS
        if route.startswith("/hotline.router.v1.")
    ]
    assert len(calls) == 10
    for method, request in calls:
        with pytest.raises(grpc.RpcError) as denied:
            a_on_b.call(method, request)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED, method
    for credential in (None, "not-a-credential"):
        anonymous = Desk(a_as_a.channel, tb["id"], credential)
        for method, request in calls:
            with pytest.raises(grpc.RpcError) as unauthenticated:
                anonymous.call(method, request)
            assert unauthenticated.value.code() == grpc.StatusCode.UNAUTHENTICATED, method
    # B's agent was not logged in by A's attempt
    b_as_b = rig.desk(router, tb)
    assert b_as_b.agent(b1).state == agent_pb2.AGENT_STATE_LOGGED_OUT

    # SIGTERM stops the router cleanly
    router.proc.send_signal(signal.SIGTERM)
    assert router.proc.wait(timeout=20) == 0

    # An instance that does not own B's partition refuses B (and serves A, which it owns)
    others = ",".join(
        str(p) for p in range(topics.EVENT_PARTITIONS) if p != topics.partition_for(tb["id"])
    )
    partial = start_partial(start, others)
    b_elsewhere = rig.desk(partial, tb)
    with pytest.raises(grpc.RpcError) as not_owned:
        b_elsewhere.agent(b1)
    assert not_owned.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rig.desk(partial, ta).agent(_agent(ta, "a1")).state == agent_pb2.AGENT_STATE_LOGGED_OUT


def start_partial(start: Callable[..., RouterProcess], partitions: str) -> RouterProcess:
    return start(HOTLINE_PARTITIONS=partitions)


def test_undecodable_record_is_dead_lettered_and_routing_continues(rig: Any, broker: str) -> None:
    t = _tenant("dlq", [{"id": "a1", "skills": ["sales"]}])
    router = rig([t])()
    desk, out = rig.desk(router, t), rig.output(t)
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    desk.ready(_agent(t, "a1"))
    partition = topics.partition_for(t["id"])
    ingress.publisher.publish_raw(
        topics.VOICE_INTERACTIONS, t["id"].encode(), b"\xff\x00 not protobuf", partition
    )
    ingress.send(ingress.arrived("c1"))
    dead = eventually(lambda: out.of("offered") and out.dead, "a dead letter")[0]
    headers = dict(dead.headers())
    assert headers["hotline-source-topic"] == topics.VOICE_INTERACTIONS.name.encode()
    assert headers["hotline-source-partition"] == str(partition).encode()
    assert b"InteractionEvent" in headers["hotline-reason"]
    assert dead.value() == b"\xff\x00 not protobuf"
    assert out.wait("offered", "c1")[0].offered.agent_id == _agent(t, "a1")


def test_blind_transfer_to_a_queue_survives_a_router_restart(rig: Any, broker: str) -> None:
    """The agent holds, resumes and transfers the caller to another queue: the agent wraps up
    at once, the contact is queued there (caused by the transfer) and offered to that queue's
    agent; a SIGKILLed router rebuilds exactly that, and the caller's hang-up then wraps up
    the second agent only."""
    t = _tenant("transfer", [{"id": "a1", "skills": ["sales"]}, {"id": "a2", "skills": ["help"]}])
    t["queues"].append(
        {"id": "help", "required_skills": [{"name": "help", "level": 1}], "priority": 3,
         "ring_timeout_s": 30, "wrap_up_timeout_s": 60}
    )
    start = rig([t])
    first = start()
    desk, out = rig.desk(first, t), rig.output(t)
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    a1, a2 = _agent(t, "a1"), _agent(t, "a2")
    desk.ready(a1)
    desk.ready(a2)
    ingress.send(ingress.arrived("c1"))
    offer = out.wait("offered", "c1")[0]
    assert offer.offered.agent_id == a1
    ingress.send(ingress.answered(offer))
    eventually(lambda: desk.agent(a1).state == agent_pb2.AGENT_STATE_BUSY, "a1 busy")

    held, resumed, transfer = (ingress.event("c1", a1) for _ in range(3))
    held.held.agent_id = a1
    resumed.resumed.agent_id, resumed.resumed.held_ms = a1, 4_000
    transfer.transferred.kind = interaction_pb2.InteractionTransferred.KIND_BLIND
    transfer.transferred.from_agent_id, transfer.transferred.to_queue_id = a1, "help"
    ingress.send(held, resumed)
    assert desk.agent(a1).state == agent_pb2.AGENT_STATE_BUSY  # hold changes no routing
    ingress.send(transfer)

    again = out.wait("queued", "c1", count=2)[1]
    assert (again.queued.queue_id, again.queued.priority) == ("help", 3)
    assert again.envelope.causation_id == transfer.envelope.event_id
    wrap = out.wait("wrap_up_started", "c1")[0]
    assert (wrap.wrap_up_started.agent_id, wrap.envelope.causation_id) == (
        a1, transfer.envelope.event_id
    )
    second = out.wait("offered", "c1", count=2)[1]
    assert (second.offered.agent_id, second.offered.queue_id) == (a2, "help")
    ingress.send(ingress.answered(second))
    eventually(lambda: desk.agent(a2).state == agent_pb2.AGENT_STATE_BUSY, "a2 busy")

    first.kill()
    desk = rig.desk(start(), t)
    assert desk.agent(a1).state == agent_pb2.AGENT_STATE_WRAP_UP
    assert (desk.agent(a2).state, desk.agent(a2).interaction_id) == (
        agent_pb2.AGENT_STATE_BUSY, "c1"
    )
    assert (desk.queue("sales").waiting, desk.queue("help").waiting) == (0, 0)

    ingress.send(ingress.completed("c1", a2))
    eventually(lambda: desk.agent(a2).state == agent_pb2.AGENT_STATE_WRAP_UP, "a2 wraps up")
    assert desk.agent(a1).state == agent_pb2.AGENT_STATE_WRAP_UP
    out.wait("wrap_up_started", "c1", count=2)
    time.sleep(0.5)  # nothing more may come: no second wrap-up for a1, no new placement
    started = [e.wrap_up_started.agent_id for e in out.of("wrap_up_started", "c1")]
    assert sorted(started) == sorted([a1, a2])
    assert (len(out.of("queued", "c1")), len(out.of("offered", "c1"))) == (2, 2)
