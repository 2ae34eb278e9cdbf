"""Router snapshots in the content store: real Tansu broker, real object store (SeaweedFS).

A restart loads each partition's newest snapshot and replays only the facts after it, ending in
the state a full replay reaches; a snapshot of another code version is ignored."""

from __future__ import annotations

import json
import pickle
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from test_router import Ingress, RouterProcess, _agent, _tenant, eventually, rig

from hotline.router.v1 import router_pb2
from hotline_cli.embedded import ObjectStore
from hotline_platform import topics
from hotline_platform.bus import EventPublisher, ensure_topics
from hotline_platform.content import ContentRef, ContentStore
from hotline_platform.fencing import Claim
from hotline_platform.keyring import FileKeyProvider
from hotline_router.adapters.snapshots import (
    Captured,
    SnapshotStore,
    encode_tenants,
    manifest_key,
)
from hotline_router.domain.model import Agent, TenantState

pytestmark = pytest.mark.integration

__all__ = ["rig"]  # the fixture, imported for this module's tests


def _env(object_store: ObjectStore, bucket: str, keyring: Path) -> dict[str, str]:
    return {
        "HOTLINE_OBJECT_STORE_ENDPOINT": object_store.endpoint,
        "HOTLINE_OBJECT_STORE_ACCESS_KEY": object_store.access_key,
        "HOTLINE_OBJECT_STORE_SECRET_KEY": object_store.secret_key,
        "HOTLINE_OBJECT_STORE_REGION": object_store.region,
        "HOTLINE_OBJECT_STORE_BUCKET": bucket,
        "HOTLINE_KEYRING_PATH": str(keyring),
    }


def test_snapshot_round_trip_and_another_version_is_ignored(
    object_store: ObjectStore, broker: str, tmp_path: Path
) -> None:
    bucket = f"router-snap-{uuid.uuid4().hex[:8]}"
    ensure_topics(broker)
    audit = EventPublisher(broker, client_id="test-snapshots")
    content = ContentStore(
        object_store.client(), bucket, FileKeyProvider(tmp_path / "keyring.json"), audit, "router"
    )
    content.ensure_bucket()
    snapshots = SnapshotStore(content, "router/test")
    tenant = f"snap-{uuid.uuid4().hex[:8]}"
    partition = topics.partition_for(tenant)
    state = TenantState()
    state.agents["a1"] = Agent("a1")
    state.finished.add("old-contact")
    blobs, in_flight = encode_tenants({tenant: state}, {"e1": tenant})
    claim = Claim(3, "claim-1", "router/test")
    snapshots.save(
        Captured(partition, blobs, in_flight, {"t": 42}, {topics.AGENTS.name: claim}, 3)
    )

    loaded = snapshots.load(partition)
    assert loaded is not None
    # (Some parts of the state have no value repr: compare what they are made of.)
    assert pickle.dumps(loaded.tenants[tenant]) == pickle.dumps(state)
    assert (loaded.in_flight, loaded.offsets) == ({"e1": tenant}, {"t": 42})
    assert loaded.claims == {topics.AGENTS.name: claim}

    # A router whose domain classes have other fields must not unpickle this state.
    assert SnapshotStore(content, "router/test", fingerprint="another").load(partition) is None
    # Neither must a snapshot whose objects were removed (it falls back to a full replay).
    manifest = json.loads(
        content.s3.get_object(Bucket=bucket, Key=manifest_key(partition))["Body"].read()
    )
    object_key = ContentRef.parse(manifest["tenants"][tenant]).object_key
    content.s3.delete_object(Bucket=bucket, Key=object_key)
    assert snapshots.load(partition) is None


def _replayed(router: RouterProcess) -> int:
    """Facts folded while replaying, as the router logs it (the newest count)."""
    counts = re.findall(r"live: replayed (\d+) facts", router.log.read_text())
    return int(counts[-1])


def _views(rig: Any, router: RouterProcess, tenant: dict[str, Any]) -> Any:
    desk = rig.desk(router, tenant)
    agents = [
        (a.agent_id, a.state, a.reason_code, a.interaction_id)
        for a in desk.call(
            "ListAgents", router_pb2.ListAgentsRequest(tenant_id=tenant["id"])
        ).agents
    ]
    queue = desk.queue()
    return agents, (queue.waiting, queue.agents_logged_in, queue.agents_ready)


def test_restart_from_a_snapshot_replays_only_the_tail_and_ends_like_a_full_replay(
    rig: Any, broker: str, object_store: ObjectStore, tmp_path: Path
) -> None:
    t = _tenant("snap", [{"id": f"a{i}", "skills": ["sales"]} for i in (1, 2, 3)])
    bucket = f"router-snap-{uuid.uuid4().hex[:8]}"
    env = _env(object_store, bucket, tmp_path / "keyring.json")
    # Snapshots every 5 s (not by count), so the tail below is not in the last one.
    start = rig([t], HOTLINE_SNAPSHOT_EVERY_EVENTS="100000", HOTLINE_SNAPSHOT_EVERY_S="5", **env)
    first = start(HOTLINE_SNAPSHOTS="true")
    desk, out = rig.desk(first, t), rig.output(t)
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    agents = [_agent(t, f"a{i}") for i in (1, 2, 3)]
    for agent in agents:
        desk.ready(agent)
    # History: contacts handled end to end (offer, answer, hang-up, wrap-up).
    for n in range(12):
        iid = f"h{n}"
        ingress.send(ingress.arrived(iid))
        offer = out.wait("offered", iid)[0]
        ingress.send(ingress.answered(offer))
        ingress.send(ingress.completed(iid, offer.offered.agent_id))
        out.wait("wrap_up_started", iid)
        desk.call(
            "FinishWrapUp",
            router_pb2.FinishWrapUpRequest(**desk.ids(offer.offered.agent_id), interaction_id=iid),
        )
    saved = first.log.read_text().count("snapshot of 1 tenants saved")
    eventually(
        lambda: first.log.read_text().count("snapshot of 1 tenants saved") > saved,
        "a snapshot of the whole history",
    )
    # The tail: a contact ringing, two waiting.
    desk.call("SetNotReady", router_pb2.SetNotReadyRequest(**desk.ids(agents[1])))
    desk.call("SetNotReady", router_pb2.SetNotReadyRequest(**desk.ids(agents[2])))
    ingress.send(*(ingress.arrived(f"t{n}") for n in range(3)))
    out.wait("offered", "t0")
    eventually(lambda: desk.queue().waiting == 3, "3 waiting")
    first.kill()

    from_snapshot = start(HOTLINE_SNAPSHOTS="true")
    assert "snapshot of 1 tenants loaded" in from_snapshot.log.read_text()
    views = _views(rig, from_snapshot, t)
    with_snapshot = _replayed(from_snapshot)
    from_snapshot.kill()

    full = start(HOTLINE_SNAPSHOTS="false")
    assert _views(rig, full, t) == views
    everything = _replayed(full)
    print(f"\n[snapshots] replayed {with_snapshot} facts with the snapshot, {everything} without")
    assert 0 < with_snapshot < everything / 4
    full.kill()

    # A snapshot written by another version of the router is ignored: full replay.
    s3 = object_store.client()
    key = manifest_key(topics.partition_for(t["id"]))
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    manifest["fingerprint"] = "0" * 64
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest).encode())
    other = start(HOTLINE_SNAPSHOTS="true")
    text = other.log.read_text()
    assert "written by another version of the router" in text
    assert "snapshot of 1 tenants loaded" not in text
    assert _views(rig, other, t) == views
    assert _replayed(other) >= everything
