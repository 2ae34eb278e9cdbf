"""The live directory against a real Tansu broker: the directory service as a subprocess
(`python -m hotline_directory`), `hotline config apply`, refusals, tenants' credentials, and a
router (subprocess, HOTLINE_DIRECTORY=on) that routes to a queue and agent added live.

The broker is shared by the session: every test uses its own tenants and sites. `config apply`
makes the directory equal to a file, so the file of each test holds what it needs only.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from support import polling

from hotline.common.v1.envelope_pb2 import Skill
from hotline.directory.v1 import directory_pb2, directory_pb2_grpc
from hotline.directory.v1 import events_pb2 as pb
from hotline.interaction.v1 import events_pb2 as interaction_pb2
from hotline.router.v1 import router_pb2, router_pb2_grpc
from hotline_cli import config_cmd
from hotline_cli.embedded import find_free_port
from hotline_platform import codec, credentials, topics
from hotline_platform.bus import EventPublisher, ensure_topics, new_consumer
from hotline_platform.envelope import ContractViolation, new_envelope
from hotline_platform.grpc_server import is_serving

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
OPERATOR_TOKEN = credentials.new_token("operator")


eventually = partial(polling.eventually, timeout=20, interval=0.02)


def _start(module: str, env: dict[str, str], log: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", module],
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not is_serving(f"127.0.0.1:{port}", timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{module} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def directory_service(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ensure_topics(broker)
    port = find_free_port()
    log = tmp_path_factory.mktemp("directory") / "directory.log"
    proc = _start(
        "hotline_directory",
        {
            "HOTLINE_KAFKA_BOOTSTRAP": broker,
            "HOTLINE_GRPC_PORT": str(port),
            "HOTLINE_INSTANCE_ID": "directory-test",
            # As in production: only the hash is given to the service.
            "HOTLINE_DIRECTORY_ADMIN_TOKEN": credentials.hash_secret(
                OPERATOR_TOKEN, credentials.IN_MEMORY_PARAMS
            ),
        },
        log,
        port,
    )
    yield f"127.0.0.1:{port}"
    _stop(proc)


def _tenancy(tid: str, site: str) -> dict[str, Any]:
    return {
        "sites": [{"id": site}],
        "tenants": [
            {
                "id": tid,
                "name": f"Tenant {tid}",
                "credential": f"{tid}.secret",
                "not_ready_reasons": [{"code": "break", "label": "Break"}],
                "queues": [
                    {
                        "id": "sales",
                        "required_skills": [{"name": "sales", "level": 1}],
                        "ring_timeout_s": 30,
                        "wrap_up_timeout_s": 60,
                        "wrap_up_codes": [{"code": "sold", "label": "Sold"}],
                    }
                ],
                "entry_points": [{"address": f"ep-{tid}", "queue": "sales", "site": site}],
                "agents": [
                    {"id": f"{tid}-a1", "site": site, "skills": ["sales"],
                     "phone": "sip:a1@127.0.0.1:15001"},
                ],
            }
        ],
    }


def _stub(address: str) -> directory_pb2_grpc.DirectoryServiceStub:
    return directory_pb2_grpc.DirectoryServiceStub(grpc.insecure_channel(address))


def _auth(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def _new_queue(tid: str, site: str, qid: str, agent: str) -> list[directory_pb2.Change]:
    return [
        directory_pb2.Change(define_queue=pb.QueueDefined(
            tenant_id=tid, queue_id=qid, required_skills=[Skill(name=qid, level=1)],
            service_level_threshold_s=20, service_level_target=0.8, ring_timeout_ms=30_000,
            wrap_up_timeout_ms=60_000,
        )),
        directory_pb2.Change(define_agent=pb.AgentDefined(
            tenant_id=tid, agent_id=agent, name="Vera", site_id=site,
            skills=[Skill(name=qid, level=5)], phone=f"sip:{agent}@127.0.0.1:15002",
        )),
        directory_pb2.Change(define_entry_point=pb.EntryPointDefined(
            tenant_id=tid, address=f"ep-{tid}-{qid}", kind=pb.ENTRY_POINT_KIND_QUEUE,
            queue_id=qid, site_id=site,
        )),
    ]


def test_config_apply_is_idempotent_and_refusals_are_precise(
    directory_service: str, tmp_path: Path
) -> None:
    tid, site = f"t{uuid.uuid4().hex[:8]}", f"s{uuid.uuid4().hex[:6]}"
    path = tmp_path / "tenancy.yaml"
    path.write_text(yaml.safe_dump(_tenancy(tid, site)))
    lines: list[str] = []
    dry = config_cmd.apply_file(
        directory_service, OPERATOR_TOKEN, path, dry_run=True, say=lines.append
    )
    assert dry.published == 0 and len(dry.changes) == 5
    first = config_cmd.apply_file(directory_service, OPERATOR_TOKEN, path, say=lines.append)
    assert first.published == 5
    assert f"+ queue {tid}/sales" in lines
    lines.clear()
    second = config_cmd.apply_file(directory_service, OPERATOR_TOKEN, path, say=lines.append)
    assert second.published == 0 and second.changes == []
    assert lines == [f"the directory already matches {path}: nothing to change"]

    stub = _stub(directory_service)
    entity = stub.Get(
        directory_pb2.GetRequest(key=f"queue/{tid}/sales"), metadata=_auth(f"{tid}.secret")
    )
    assert entity.version == 1
    assert entity.definition.changed_by == "operator"
    assert [c.code for c in entity.definition.queue_defined.wrap_up_codes] == ["sold"]

    # Refused: an entry point to a missing queue (the tenant's own credential).
    with pytest.raises(grpc.RpcError) as caught:
        stub.Apply(
            directory_pb2.ApplyRequest(changes=[directory_pb2.Change(
                define_entry_point=pb.EntryPointDefined(
                    tenant_id=tid, address=f"ep2-{tid}", kind=pb.ENTRY_POINT_KIND_QUEUE,
                    queue_id="nowhere", site_id=site,
                ))]),
            metadata=_auth(f"{tid}.secret"),
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == (
        f"entry point ep2-{tid}: queue 'nowhere' of tenant {tid} does not exist"
    )
    # Refused: a tenant may not create tenants; an unknown credential is unauthenticated.
    with pytest.raises(grpc.RpcError) as caught:
        stub.Apply(
            directory_pb2.ApplyRequest(changes=[directory_pb2.Change(
                define_site=pb.SiteDefined(site_id="elsewhere"))]),
            metadata=_auth(f"{tid}.secret"),
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as caught:
        stub.List(directory_pb2.ListRequest(tenant_id=tid), metadata=_auth("nobody.x"))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_another_tenants_credential_cannot_change_this_tenant(
    directory_service: str, tmp_path: Path
) -> None:
    tid, site = f"t{uuid.uuid4().hex[:8]}", f"s{uuid.uuid4().hex[:6]}"
    raw = _tenancy(tid, site)
    other = _tenancy(f"o{tid}", site)["tenants"][0]
    raw["tenants"].append(other)
    path = tmp_path / "tenancy.yaml"
    path.write_text(yaml.safe_dump(raw))
    config_cmd.apply_file(directory_service, OPERATOR_TOKEN, path, say=lambda _: None)
    stub = _stub(directory_service)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Apply(
            directory_pb2.ApplyRequest(changes=_new_queue(tid, site, "vip", f"{tid}-a9")),
            metadata=_auth(f"o{tid}.secret"),
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"credential of tenant 'o{tid}' may not change tenant '{tid}'" in caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:
        stub.List(directory_pb2.ListRequest(tenant_id=tid), metadata=_auth(f"o{tid}.secret"))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # Its own credential may; the same request again publishes nothing.
    reply = stub.Apply(
        directory_pb2.ApplyRequest(changes=_new_queue(tid, site, "vip", f"{tid}-a9")),
        metadata=_auth(f"{tid}.secret"),
    )
    assert reply.applied and [e.changed_by for e in reply.events] == [f"tenant:{tid}"] * 3
    again = stub.Apply(
        directory_pb2.ApplyRequest(changes=_new_queue(tid, site, "vip", f"{tid}-a9")),
        metadata=_auth(f"{tid}.secret"),
    )
    assert not again.applied and list(again.events) == []


def _arrived(tid: str, address: str, iid: str) -> interaction_pb2.InteractionEvent:
    event = interaction_pb2.InteractionEvent(
        envelope=new_envelope(tenant_id=tid, producer="ingress-sip/test", interaction_id=iid)
    )
    event.arrived.entry_point_id = address
    event.arrived.to_address = address
    event.arrived.session_ref = f"call-{iid}"
    return event


def test_router_routes_to_a_queue_and_agent_added_live(
    directory_service: str, broker: str, tmp_path: Path
) -> None:
    tid, site = f"t{uuid.uuid4().hex[:8]}", f"s{uuid.uuid4().hex[:6]}"
    path = tmp_path / "tenancy.yaml"
    path.write_text(yaml.safe_dump(_tenancy(tid, site)))
    config_cmd.apply_file(directory_service, OPERATOR_TOKEN, path, say=lambda _: None)
    port = find_free_port()
    router = _start(
        "hotline_router",
        {
            "HOTLINE_KAFKA_BOOTSTRAP": broker,
            "HOTLINE_GRPC_PORT": str(port),
            "HOTLINE_INSTANCE_ID": f"router-{tid}",
            "HOTLINE_DIRECTORY": "on",
            "HOTLINE_CONFIG_PATH": str(tmp_path / "no-such-file.yaml"),
            "HOTLINE_METRICS_PORT": "0",
        },
        tmp_path / "router.log",
        port,
    )
    consumer = new_consumer(broker, f"test-{uuid.uuid4().hex}")
    try:
        from confluent_kafka import TopicPartition

        consumer.assign([TopicPartition(
            topics.ROUTING_INTERACTIONS.name, topics.partition_for(tid), 0
        )])
        desk = router_pb2_grpc.AgentServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        agent = f"{tid}-a9"
        ids = {"tenant_id": tid, "agent_id": agent}
        reply = _stub(directory_service).Apply(
            directory_pb2.ApplyRequest(changes=_new_queue(tid, site, "vip", agent)),
            metadata=_auth(f"{tid}.secret"),
        )
        applied = time.monotonic()
        assert reply.applied

        def known() -> bool:
            try:
                desk.GetAgent(
                    router_pb2.GetAgentRequest(**ids), metadata=_auth(f"{tid}.secret"), timeout=5
                )
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.NOT_FOUND, exc.details()
                return False
            return True

        eventually(known, f"the router to know agent {agent}", timeout=5)
        known_after = time.monotonic() - applied
        desk.LogIn(router_pb2.LogInRequest(**ids), metadata=_auth(f"{tid}.secret"), timeout=5)
        desk.SetReady(router_pb2.SetReadyRequest(**ids), metadata=_auth(f"{tid}.secret"), timeout=5)
        iid = f"i-{uuid.uuid4().hex[:8]}"
        publisher = EventPublisher(broker, client_id="test-ingress")
        publisher.publish(topics.VOICE_INTERACTIONS, _arrived(tid, f"ep-{tid}-vip", iid))
        publisher.flush()
        offered: list[Any] = []

        def offer() -> list[Any]:
            while (msg := consumer.poll(0.05)) is not None:
                if msg.error():
                    continue
                try:  # the broker is shared: other tests leave broken records here
                    event = codec.decode(msg.topic(), msg.value(), msg.key())
                except ContractViolation:
                    continue
                if event.envelope.interaction_id == iid and event.WhichOneof("event") == "offered":
                    offered.append(event)
            return offered

        eventually(offer, f"an offer of {iid}", timeout=10)
        routed_after = time.monotonic() - applied
        assert offered[0].offered.agent_id == agent
        assert offered[0].offered.queue_id == "vip"
        print(f"agent known to the router {known_after * 1000:.0f} ms after Apply; "
              f"call offered {routed_after * 1000:.0f} ms after Apply")
        assert known_after < 1.0
    finally:
        consumer.close()
        _stop(router)


def _sip_status(sock: Any, port: int, address: str, call_id: str) -> int:
    """Send an INVITE for `address` to ingress-sip; the first response other than 100."""
    local = sock.getsockname()[1]
    head = [
        f"INVITE sip:{address}@127.0.0.1:{port} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-{call_id}",
        f"From: <sip:+999@127.0.0.1:{local}>;tag=dir",
        f"To: <sip:{address}@127.0.0.1:{port}>",
        f"Call-ID: {call_id}",
        "CSeq: 1 INVITE",
        f"Contact: <sip:+999@127.0.0.1:{local}>",
        "Max-Forwards: 70",
        "Content-Length: 0",
    ]
    sock.sendto(("\r\n".join(head) + "\r\n\r\n").encode(), ("127.0.0.1", port))
    while True:
        data, _ = sock.recvfrom(65535)
        code = int(data.split(b" ", 2)[1])
        if code != 100:
            return code


def test_ingress_answers_an_entry_point_added_live(
    directory_service: str, broker: str, tmp_path: Path
) -> None:
    import socket

    tid, site = f"t{uuid.uuid4().hex[:8]}", f"s{uuid.uuid4().hex[:6]}"
    path = tmp_path / "tenancy.yaml"
    path.write_text(yaml.safe_dump(_tenancy(tid, site)))
    config_cmd.apply_file(directory_service, OPERATOR_TOKEN, path, say=lambda _: None)
    grpc_port = find_free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        sip_port = probe.getsockname()[1]
    ingress = _start(
        "hotline_ingress_sip",
        {
            "HOTLINE_KAFKA_BOOTSTRAP": broker,
            "HOTLINE_GRPC_PORT": str(grpc_port),
            "HOTLINE_SIP_PORT": str(sip_port),
            "HOTLINE_INSTANCE_ID": f"ingress-{tid}",
            "HOTLINE_DIRECTORY": "on",
            "HOTLINE_CONFIG_PATH": str(tmp_path / "no-such-file.yaml"),
            "HOTLINE_METRICS_PORT": "0",
        },
        tmp_path / "ingress.log",
        grpc_port,
    )
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(5)
            # A tenant new to the directory (the operator), with an announcement entry point.
            new = f"n{tid}"
            changes = [
                directory_pb2.Change(define_tenant=pb.TenantDefined(
                    tenant_id=new, name=new,
                    credential_hash=credentials.hash_secret(
                        f"{new}.x", credentials.IN_MEMORY_PARAMS
                    ),
                )),
                directory_pb2.Change(define_entry_point=pb.EntryPointDefined(
                    tenant_id=new, address=f"ann-{new}", kind=pb.ENTRY_POINT_KIND_ANNOUNCEMENT,
                    site_id=site,
                )),
            ]
            assert _sip_status(sock, sip_port, f"ann-{new}", f"c1-{new}") == 404
            reply = _stub(directory_service).Apply(
                directory_pb2.ApplyRequest(changes=changes), metadata=_auth(OPERATOR_TOKEN)
            )
            applied = time.monotonic()
            assert reply.applied
            attempt = iter(range(1000))
            eventually(
                lambda: _sip_status(sock, sip_port, f"ann-{new}", f"c{next(attempt)}-{tid}")
                == 200,
                "ingress-sip to answer the new entry point",
                timeout=5,
            )
            print(f"entry point answered {(time.monotonic() - applied) * 1000:.0f} ms after Apply")
        # Its start was announced to the new tenant (the router relies on it).
        consumer = new_consumer(broker, f"test-{uuid.uuid4().hex}")
        from confluent_kafka import TopicPartition

        consumer.assign([TopicPartition(
            topics.INGRESS_LIVENESS.name, topics.partition_for(new), 0
        )])

        def started() -> bool:
            while (msg := consumer.poll(0.05)) is not None:
                if msg.error():
                    continue
                try:  # the broker is shared: other tests leave broken records here
                    event = codec.decode(msg.topic(), msg.value(), msg.key())
                except ContractViolation:
                    continue
                if event.envelope.tenant_id == new and event.WhichOneof("event") == "started":
                    return True
            return False

        try:
            eventually(started, f"ingress-sip's start announced to {new}", timeout=10)
        finally:
            consumer.close()
    finally:
        _stop(ingress)


def test_follower_replays_follows_and_dead_letters_what_it_cannot_decode(
    directory_service: str, broker: str, tmp_path: Path
) -> None:
    from confluent_kafka import TopicPartition

    from hotline_platform.directory import DirectoryFollower

    raw = EventPublisher(broker, client_id="test-garbage")
    raw.publish_raw(topics.DIRECTORY, b"garbage", b"\xff\x00 not a DirectoryEvent", 0)
    raw.flush()
    tid, site = f"t{uuid.uuid4().hex[:8]}", f"s{uuid.uuid4().hex[:6]}"
    path = tmp_path / "tenancy.yaml"
    path.write_text(yaml.safe_dump(_tenancy(tid, site)))
    config_cmd.apply_file(directory_service, OPERATOR_TOKEN, path, say=lambda _: None)

    follower = DirectoryFollower(broker, "directory", instance_id=f"test-{tid}")
    seen: list[Any] = []
    follower.subscribe(seen.append)
    follower.start(timeout=30)
    try:
        assert tid in follower.current().tenants  # replayed to the end
        assert follower.current().tenant_for_credential(f"{tid}.secret").id == tid  # type: ignore[union-attr]
        _stub(directory_service).Apply(
            directory_pb2.ApplyRequest(changes=_new_queue(tid, site, "vip", f"{tid}-a9")),
            metadata=_auth(f"{tid}.secret"),
        )
        eventually(
            lambda: follower.current().queue(tid, "vip"), "the follower to see the new queue"
        )
        assert seen and seen[-1].queue(tid, "vip") is not None
    finally:
        follower.stop()
    dead = new_consumer(broker, f"test-{uuid.uuid4().hex}")
    dead.assign([TopicPartition(topics.dead_letter_topic("directory").name, 0, 0)])
    reasons: list[str] = []

    def dead_lettered() -> list[str]:
        while (msg := dead.poll(0.05)) is not None:
            if msg.error():
                continue
            headers = dict(msg.headers() or [])
            if headers.get("hotline-source-topic") == topics.DIRECTORY.name.encode():
                reasons.append(headers["hotline-reason"].decode())
        return reasons

    try:
        eventually(dead_lettered, "the undecodable directory record in the dead-letter topic")
    finally:
        dead.close()
    assert "DirectoryEvent" in reasons[0] or "envelope" in reasons[0]


def test_analytics_reports_follow_a_tenants_kpi_contract_live(
    directory_service: str, broker: str, tmp_path: Path
) -> None:
    from hotline_analytics.settings import AnalyticsSettings
    from hotline_analytics.wiring import ReadApi

    tid, site = f"t{uuid.uuid4().hex[:8]}", f"s{uuid.uuid4().hex[:6]}"
    path = tmp_path / "tenancy.yaml"
    path.write_text(yaml.safe_dump(_tenancy(tid, site)))
    config_cmd.apply_file(directory_service, OPERATOR_TOKEN, path, say=lambda _: None)
    api = ReadApi(
        AnalyticsSettings(
            kafka_bootstrap=broker, directory="on", instance_id=f"analytics-{tid}",
            config_path=str(tmp_path / "no-such-file.yaml"),
        )
    )
    try:
        assert api.tenancy.tenants[tid].kpi.service_level == "exclude"
        stub = _stub(directory_service)
        tenant = stub.Get(
            directory_pb2.GetRequest(key=f"tenant/{tid}"), metadata=_auth(OPERATOR_TOKEN)
        )
        changed = pb.TenantDefined()
        changed.CopyFrom(tenant.definition.tenant_defined)
        changed.kpi.service_level = "missed"
        reply = stub.Apply(
            directory_pb2.ApplyRequest(
                changes=[directory_pb2.Change(define_tenant=changed)],
                expected_versions={f"tenant/{tid}": tenant.version},
            ),
            metadata=_auth(OPERATOR_TOKEN),
        )
        assert reply.events[0].entity_version == tenant.version + 1
        eventually(
            lambda: api.tenancy.tenants[tid].kpi.service_level == "missed",
            "the analytics read API to use the new KPI contract",
            timeout=5,
        )
    finally:
        api.close()


def test_wfm_staffs_a_queue_added_live(
    directory_service: str, broker: str, tmp_path: Path
) -> None:
    """WFM follows the directory: a queue added after it started is staffed, with the queue's
    own service-level target, without a restart."""
    asyncio.run(_wfm_staffs_a_queue_added_live(directory_service, broker, tmp_path))


async def _wfm_staffs_a_queue_added_live(
    directory_service: str, broker: str, tmp_path: Path
) -> None:
    from hotline.wfm.v1 import wfm_pb2, wfm_pb2_grpc
    from hotline_wfm.settings import WfmSettings
    from hotline_wfm.wiring import Wfm

    tid, site = f"t{uuid.uuid4().hex[:8]}", f"s{uuid.uuid4().hex[:6]}"
    path = tmp_path / "tenancy.yaml"
    path.write_text(yaml.safe_dump(_tenancy(tid, site)))
    config_cmd.apply_file(directory_service, OPERATOR_TOKEN, path, say=lambda _: None)
    port = find_free_port()
    wfm = Wfm(WfmSettings(
        kafka_bootstrap=broker, directory="on", instance_id=f"wfm-{tid}", grpc_port=port,
        config_path=str(tmp_path / "no-such-file.yaml"),
    ))
    await wfm.start()
    try:
        assert set(wfm.tenancy.tenants[tid].queues) == {"sales"}
        _stub(directory_service).Apply(
            directory_pb2.ApplyRequest(changes=_new_queue(tid, site, "care", f"{tid}-a9")),
            metadata=_auth(OPERATOR_TOKEN),
        )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = wfm_pb2_grpc.StaffingServiceStub(channel)
            deadline = time.monotonic() + 5
            while True:
                try:
                    reply = await stub.PlanStaffing(
                        wfm_pb2.PlanRequest(
                            tenant_id=tid, queue_ids=["care"], interval_seconds=900,
                            demand=[wfm_pb2.IntervalDemand(
                                queue_id="care", start_ms=1_767_225_600_000, contacts=30,
                                aht_seconds=180,
                            )],
                        ),
                        metadata=_auth(f"{tid}.secret"),
                    )
                    break
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT, exc
                    assert time.monotonic() < deadline, "wfm never learnt of the new queue"
                    await asyncio.sleep(0.05)
        row = reply.rows[0]
        assert row.queue_id == "care" and row.staffing.agents > 0, reply
    finally:
        await wfm.stop()
