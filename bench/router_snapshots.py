"""Restart time of one router with and without a snapshot, for a given history size.

Method (a temporary dir, fresh ports, two tenants of 20 agents and one queue each): a
memory-only Tansu broker and a SeaweedFS object store; the history of bench/restart.py (whole
shifts of answered and abandoned calls, every call finished) written straight to the topics;
then `python -m hotline_router` (static partitions "all") is started three times, each timed
from spawn to gRPC health SERVING:

1. snapshots on, saved one second after going live (a full replay: the first start);
2. snapshots on: loads them and replays only what follows (nothing: the figure with snapshot);
3. snapshots off: full replay (the figure without).

Then the take-over, with and without snapshots: two routers in a consumer group, an agent of
one tenant READY, SIGKILL of that tenant's owner and an arrival for it: seconds from the kill to
the survivor's offer (the group's 6 s session, the rebalance, then the snapshot or a replay of
the killed router's partitions).

Writes bench/results/router_snapshots.json. Size: --events (default 200,000).
`.venv/bin/python -m bench.router_snapshots --events 200000`
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.restart import DAY_MS, RESULTS, _History, _produce

ROOT = Path(__file__).resolve().parent.parent


def _tenancy() -> dict[str, Any]:
    return {
        "sites": [{"id": "lisbon"}],
        "tenants": [
            {
                "id": tenant,
                "credential": f"cred-{tenant}",
                "queues": [
                    {
                        "id": "sales",
                        "required_skills": [{"name": "sales", "level": 1}],
                        "ring_timeout_s": 20,
                        "wrap_up_timeout_s": 60,
                    }
                ],
                "entry_points": [{"address": f"ep-{tenant}", "queue": "sales"}],
                "agents": [
                    {
                        "id": f"{tenant}-a{n:02d}",
                        "site": "lisbon",
                        "skills": [{"name": "sales", "level": 2}],
                        "phone": f"sip:{tenant}-a{n:02d}@127.0.0.1:5080",
                    }
                    for n in range(20)
                ],
            }
            for tenant in ("bench-a", "bench-b")
        ],
    }


def _start_router(
    work: Path, n: int, env: dict[str, str], timeout: float = 1_800
) -> tuple[subprocess.Popen[bytes], Path, float]:
    from hotline_cli.embedded import find_free_port
    from hotline_platform.grpc_server import is_serving

    port = find_free_port()
    log = work / f"router-{n}.log"
    child = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "services" / "router"), str(ROOT)]),
        "HOTLINE_GRPC_PORT": str(port),
        "HOTLINE_INSTANCE_ID": f"bench-router-{n}",
        "HOTLINE_METRICS_PORT": "0",
        "HOTLINE_LOG_LEVEL": "INFO",
        **env,
    }
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hotline_router"], env=child, stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    while not is_serving(f"127.0.0.1:{port}", timeout=0.5):
        if proc.poll() is not None or time.monotonic() - started > timeout:
            raise RuntimeError(f"router did not start: {log.read_text()[-3000:]}")
        time.sleep(0.05)
    return proc, log, time.monotonic() - started


def _replayed(log: Path) -> int:
    counts = re.findall(r"live: replayed (\d+) facts", log.read_text())
    return int(counts[-1]) if counts else 0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _serves(port: int, tenant: str) -> bool:
    import grpc

    from hotline.router.v1 import router_pb2, router_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            router_pb2_grpc.AgentServiceStub(channel).GetAgent(
                router_pb2.GetAgentRequest(tenant_id=tenant, agent_id=f"{tenant}-a00"),
                metadata=(("authorization", f"Bearer cred-{tenant}"),), timeout=5,
            )  # fmt: skip
        except grpc.RpcError:
            return False
    return True


def _takeover(
    work: Path, env: dict[str, str], procs: list[subprocess.Popen[bytes]]
) -> dict[str, Any]:
    """Two routers in a group; an agent of bench-a READY; SIGKILL the owner of bench-a, publish
    an arrival for it: seconds from the kill to the survivor's offer."""
    import grpc
    from confluent_kafka import TopicPartition

    from hotline.interaction.v1.events_pb2 import InteractionEvent
    from hotline.router.v1 import router_pb2, router_pb2_grpc
    from hotline_platform import codec, topics
    from hotline_platform.bus import EventPublisher, new_consumer
    from hotline_platform.envelope import new_envelope

    tenant = "bench-a"
    group = {**env, "HOTLINE_PARTITIONS": "group", "HOTLINE_GROUP_ID": f"bench-{time.time_ns()}"}
    started = []
    for n in (10, 11):
        proc, log, _ = _start_router(work, n, group)
        procs.append(proc)
        started.append((proc, log, int(re.findall(r"gRPC on (\d+)", log.read_text())[-1])))
        if env["HOTLINE_SNAPSHOTS"] == "true" and n == 10:
            time.sleep(3)  # its first snapshots (every second)
    deadline = time.monotonic() + 120
    while True:
        owners = [n for n, (_, _, port) in enumerate(started) if _serves(port, tenant)]
        others = [n for n, (_, _, port) in enumerate(started) if _serves(port, "bench-b")]
        if len(owners) == 1 and len(others) == 1 and owners != others:
            break
        if time.monotonic() > deadline:
            raise RuntimeError("the two routers did not split the tenants")
        time.sleep(0.2)
    victim, survivor = started[owners[0]], started[1 - owners[0]]
    with grpc.insecure_channel(f"127.0.0.1:{victim[2]}") as channel:
        stub = router_pb2_grpc.AgentServiceStub(channel)
        auth = (("authorization", f"Bearer cred-{tenant}"),)
        ready = 0
        for n in range(20):  # whichever agents the history left free
            ids = {"tenant_id": tenant, "agent_id": f"{tenant}-a{n:02d}"}
            try:
                stub.LogIn(router_pb2.LogInRequest(**ids), metadata=auth)
                stub.SetReady(router_pb2.SetReadyRequest(**ids), metadata=auth)
                ready += 1
            except grpc.RpcError:
                continue
        if not ready:
            raise RuntimeError("no agent could be made READY")
    partition = topics.partition_for(tenant)
    reader = new_consumer(env["HOTLINE_KAFKA_BOOTSTRAP"], f"bench-{time.time_ns()}")
    reader.assign([TopicPartition(topics.ROUTING_INTERACTIONS.name, partition, 0)])
    publisher = EventPublisher(env["HOTLINE_KAFKA_BOOTSTRAP"], client_id="bench-ingress")
    iid = f"takeover-{time.time_ns()}"
    arrival = InteractionEvent(
        envelope=new_envelope(tenant_id=tenant, producer="ingress-sip/bench", interaction_id=iid)
    )
    arrival.arrived.entry_point_id = arrival.arrived.to_address = f"ep-{tenant}"
    victim[0].kill()
    killed = time.monotonic()
    publisher.publish(topics.VOICE_INTERACTIONS, arrival)
    publisher.flush()
    while True:
        msg = reader.poll(0.05)
        if time.monotonic() - killed > 300:
            raise RuntimeError("no offer after the take-over")
        if msg is None or msg.error():
            continue
        event = codec.decode(topics.ROUTING_INTERACTIONS, msg.value(), msg.key())
        if event.envelope.interaction_id == iid and event.WhichOneof("event") == "offered":
            seconds = time.monotonic() - killed
            break
    reader.close()
    replayed = re.findall(r"live: replayed (\d+) facts", survivor[1].read_text())
    _stop(survivor[0])
    print(f"take-over (snapshots {env['HOTLINE_SNAPSHOTS']}): {seconds:.2f}s", flush=True)
    return {"seconds": round(seconds, 2), "survivor_replayed_facts": int(replayed[-1])}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import yaml

    from hotline_cli import embedded
    from hotline_platform import tenancy, topics
    from hotline_platform.bus import ensure_topics

    parser = argparse.ArgumentParser(prog="bench.router_snapshots")
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="hotline-bench-router-snapshots-"))
    config = work / "tenancy.yaml"
    config.write_text(yaml.safe_dump(_tenancy(), sort_keys=False))
    loaded = tenancy.load(config)
    owned = {topics.partition_for(t) for t in loaded.tenants}
    broker_port = embedded.find_free_port()
    broker = embedded.start_broker(broker_port, work / "tansu.log")
    objects, store = embedded.start_object_store(
        work / "objects", embedded.find_free_port(), work / "weed.log"
    )
    procs = [broker, objects]
    try:
        embedded.wait_broker_ready(broker_port, timeout=30, proc=broker)
        embedded.wait_object_store_ready(store, timeout=60, proc=objects)
        bootstrap = f"127.0.0.1:{broker_port}"
        ensure_topics(bootstrap)
        history = _History(loaded)
        records = history.build(args.events, int(time.time() * 1000) - DAY_MS)
        written = _produce(bootstrap, records)
        print(f"history: {len(records):,} events written in {written['seconds']}s", flush=True)
        env = {
            "HOTLINE_KAFKA_BOOTSTRAP": bootstrap,
            "HOTLINE_CONFIG_PATH": str(config),
            "HOTLINE_PARTITIONS": "all",
            "HOTLINE_OBJECT_STORE_ENDPOINT": store.endpoint,
            "HOTLINE_OBJECT_STORE_ACCESS_KEY": store.access_key,
            "HOTLINE_OBJECT_STORE_SECRET_KEY": store.secret_key,
            "HOTLINE_OBJECT_STORE_BUCKET": "hotline-content",
            "HOTLINE_KEYRING_PATH": str(work / "keyring.json"),
            "HOTLINE_SNAPSHOT_EVERY_EVENTS": "100000000",
            "HOTLINE_SNAPSHOT_EVERY_S": "1",
        }
        runs: dict[str, Any] = {}
        for n, (name, snapshots) in enumerate(
            (("first_start", "true"), ("with_snapshot", "true"), ("without_snapshot", "false"))
        ):
            proc, log, seconds = _start_router(work, n, {**env, "HOTLINE_SNAPSHOTS": snapshots})
            procs.append(proc)
            if n == 0:
                deadline = time.monotonic() + 600
                while log.read_text().count("tenants saved") < len(owned):
                    if time.monotonic() > deadline:
                        raise RuntimeError("no snapshot saved")
                    time.sleep(0.2)
                saved = re.findall(r"snapshot of \d+ tenants saved in ([\d.]+)s", log.read_text())
                runs["snapshot_save_s"] = [float(s) for s in saved]
            runs[name] = {"seconds": round(seconds, 2), "replayed_facts": _replayed(log)}
            print(f"{name}: serving after {seconds:.2f}s ({runs[name]})", flush=True)
            _stop(proc)
        for snapshots in ("true", "false"):
            runs[f"takeover_snapshots_{snapshots}"] = _takeover(
                work, {**env, "HOTLINE_SNAPSHOTS": snapshots}, procs
            )
        result = {"history_events": len(records), **runs}
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "router_snapshots.json").write_text(json.dumps(result, indent=2) + "\n")
        return result
    finally:
        for proc in procs:
            if proc.poll() is None:
                embedded.stop_process(proc.pid, timeout=5)


if __name__ == "__main__":
    main(sys.argv[1:])
