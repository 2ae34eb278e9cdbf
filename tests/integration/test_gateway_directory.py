"""The REST directory and analytics resources against the real stack (tests/integration/
directory_stack.py: directory, router, ingress-sip, analytics sink on ClickHouse, WFM and the
gateway as subprocesses on the session's broker).

The issue's Done-when: a queue, its entry point and an agent created over REST take a real SIP
call (sipp caller -> ingress-sip -> router -> sipp agent phone) with no restart; the call is then
found over REST (interactions, its events, the customer's contacts, the KPI report). Then the
directory's refusals (422 listing every reason), versions (412 with the current ETag), who
changed what, and tenant isolation, through the real directory service.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from directory_stack import OPERATOR_TOKEN, SITE, FullStack, free_udp_port, start_full, tenant
from support import polling

from hotline.directory.v1 import directory_pb2, directory_pb2_grpc
from hotline.directory.v1 import events_pb2 as pb
from hotline_platform import identity

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SIPP_DIR = ROOT / "tests" / "sipp"
WAIT_S = 30.0


eventually = partial(polling.eventually, timeout=WAIT_S)


@pytest.fixture(scope="module")
def stack(
    broker: str, clickhouse: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FullStack]:
    workdir = tmp_path_factory.mktemp("gateway-directory")
    # An operator's browser session reaches the directory as the gateway's signed delegation:
    # every service of the stack shares the key (the subprocesses inherit the environment).
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOTLINE_DELEGATION_KEY", f"gateway-directory-key-{uuid.uuid4().hex}")
        running = start_full(
            broker, clickhouse, workdir, [tenant("rest", agents=1), tenant("other", agents=1)],
            sip=True, HOTLINE_RATE_LIMIT_PER_S="0",
        )
    try:
        yield running
    finally:
        running.stop()


def client(stack: FullStack, index: int = 0) -> httpx.Client:
    return httpx.Client(
        base_url=f"{stack.base_url}/v1/tenants/{stack.tenants[index]['id']}",
        headers={"Authorization": f"Bearer {stack.credential(index)}"}, timeout=15,
    )


def sipp(workdir: Path, scenario: str, *args: str) -> subprocess.Popen[bytes]:
    log = workdir / f"sipp-{scenario}.log"
    with log.open("wb") as out:
        return subprocess.Popen(
            ["sipp", "-sf", str(SIPP_DIR / scenario), "-i", "127.0.0.1", "-m", "1", "-nostdin",
             "-timeout", "60s", *args],
            cwd=workdir, stdout=out, stderr=out,
        )


def finished(proc: subprocess.Popen[bytes], workdir: Path, scenario: str) -> None:
    try:
        code = proc.wait(timeout=WAIT_S + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = -9
    log = (workdir / f"sipp-{scenario}.log").read_text(errors="replace")
    assert code == 0, f"sipp {scenario} exited {code}:\n{log[-3000:]}"


def test_a_queue_created_over_rest_takes_a_call_without_a_restart(
    stack: FullStack, tmp_path: Path
) -> None:
    assert stack.sip is not None
    shutil.copytree(SIPP_DIR / "pcap", tmp_path / "pcap")
    tid = stack.tenants[0]["id"]
    api = client(stack)
    agent_id, address = f"{tid}-vip1", f"vip-{tid}"
    agent_port = free_udp_port()
    started = datetime.now(UTC) - timedelta(seconds=5)

    # An agent with the new skill, then the queue with its entry point, over REST.
    agent = api.post("/directory/agents", json={
        "agent_id": agent_id, "name": "Vera", "site_id": SITE,
        "skills": [{"name": "vip", "level": 5}], "phone": f"sip:vip1@127.0.0.1:{agent_port}",
    }, headers={"Idempotency-Key": f"agent-{agent_id}"})
    assert agent.status_code == 201, agent.text
    t0 = time.monotonic()
    queue = api.post("/directory/queues", json={
        "queue_id": "vip", "required_skills": [{"name": "vip", "level": 1}],
        "ring_timeout_ms": 10_000, "wrap_up_timeout_ms": 1_000,
        "wrap_up_codes": [{"code": "sold", "label": "Sold"}],
        "entry_points": [{"address": address, "site_id": SITE}],
    }, headers={"Idempotency-Key": f"queue-vip-{tid}"})
    assert queue.status_code == 201, queue.text
    assert queue.headers["ETag"] == f'"{queue.json()["version"]}"'
    assert queue.headers["Location"].endswith(f"/v1/tenants/{tid}/directory/queues/vip")
    assert queue.json()["changed_by"] == f"tenant:{tid}"
    entry = api.get(f"/directory/entry-points/{address}")
    assert entry.status_code == 200 and entry.json()["queue_id"] == "vip"

    # The router knows the agent at once: log in and ready over REST.
    def logged_in() -> bool:
        reply = api.post(f"/agents/{agent_id}/log-in")
        assert reply.status_code in (200, 404), reply.text
        return reply.status_code == 200

    eventually(logged_in, f"the router to know agent {agent_id}", timeout=5)
    known_ms = (time.monotonic() - t0) * 1000
    assert api.post(f"/agents/{agent_id}/ready").json()["state"] == "ready"

    # A real call to the new entry point: the agent's phone rings and answers.
    phone = sipp(tmp_path, "agent_phone.xml", "-p", str(agent_port), "-d", "200")
    call_id = f"rest-{uuid.uuid4().hex[:6]}"
    caller = sipp(tmp_path, "caller.xml", "-s", address, f"{stack.sip[0]}:{stack.sip[1]}",
                  "-p", str(free_udp_port()), "-cid_str", f"{call_id}-%u-%p@%s", "-d", "100")
    finished(caller, tmp_path, "caller.xml")
    finished(phone, tmp_path, "agent_phone.xml")
    answered_ms = (time.monotonic() - t0) * 1000

    # The call over REST: listed (filters), with its events, in the customer's contacts.
    window = {"from": started.isoformat(), "queue": "vip"}

    def listed() -> list[dict[str, Any]]:
        reply = api.get("/interactions", params=window)
        assert reply.status_code == 200, reply.text
        return [i for i in reply.json()["items"] if i["agent_id"] == agent_id]

    found = eventually(listed, "the call in GET /interactions")
    assert len(found) == 1
    call = found[0]
    assert (call["queue_id"], call["entry_point_id"], call["outcome"], call["channel"]) == (
        "vip", address, "answered", "voice"
    )
    assert api.get("/interactions", params={**window, "channel": "chat"}).json()["items"] == []

    def with_completion() -> dict[str, Any] | None:
        detail = api.get(f"/interactions/{call['interaction_id']}").json()
        kinds = [e["kind"] for e in detail["events"]]
        return detail if "completed" in kinds else None

    detail = eventually(with_completion, "the call's completed event")
    kinds = [e["kind"] for e in detail["events"]]
    assert kinds[0] == "arrived" and kinds.index("offered") < kinds.index("offer_accepted")
    assert [e["occurred_at"] for e in detail["events"]] == sorted(
        e["occurred_at"] for e in detail["events"]
    )
    offered = next(e for e in detail["events"] if e["kind"] == "offered")
    assert offered["data"]["agent_id"] == agent_id and offered["data"]["queue_id"] == "vip"
    hint = next(e for e in detail["events"] if e["kind"] == "arrived")["data"]
    number = hint["identity_hints"][0]["value"]
    contacts = api.get(f"/customers/phone:{number}/contacts").json()["items"]
    assert call["interaction_id"] in [c["interaction_id"] for c in contacts]

    def reported() -> dict[str, Any] | None:
        report = api.get("/reports/kpi", params={"from": started.isoformat(), "queue": "vip"})
        assert report.status_code == 200, report.text
        queues = report.json()["queues"]
        return queues[0] if queues and queues[0]["answered"] == 1 else None

    vip = eventually(reported, "the call in the KPI report")
    assert (vip["queue_id"], vip["queued"], vip["service_level_threshold_s"]) == ("vip", 1, 20)
    print(f"agent known to the router {known_ms:.0f} ms after the queue's POST returned; "
          f"the call placed and answered {answered_ms:.0f} ms after it")


def test_refusals_versions_history_and_isolation_through_the_real_directory(
    stack: FullStack,
) -> None:
    tid, other = stack.tenants[0]["id"], stack.tenants[1]["id"]
    api, foreign = client(stack), client(stack, 1)

    # Refused with every reason: a skill no agent has, and no entry point reaches the queue.
    refused = api.post("/directory/queues", json={
        "queue_id": "lonely", "required_skills": [{"name": "juggling"}],
    })
    assert refused.status_code == 422, refused.text
    reasons = [e["message"] for e in refused.json()["errors"]]
    assert len(reasons) >= 2, reasons
    assert any("juggling" in r for r in reasons) and any("entry point" in r for r in reasons)

    # Replace with If-Match: a stale tag is 412 with the current one; the right one passes.
    path = "/directory/queues/sales"
    current = api.get(path)
    assert current.status_code == 200
    etag, version = current.headers["ETag"], current.json()["version"]
    body = {"required_skills": [{"name": "sales", "level": 1}], "priority": 3,
            "ring_timeout_ms": 20_000}
    stale = api.put(path, json=body, headers={"If-Match": f'"{version + 5}"'})
    assert stale.status_code == 412 and stale.headers["ETag"] == etag
    replaced = api.put(path, json=body, headers={"If-Match": etag})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == version + 1 and replaced.json()["priority"] == 3
    assert replaced.json()["changed_by"] == f"tenant:{tid}"
    again = api.put(path, json=body, headers={"If-Match": etag})
    assert again.status_code == 412

    # A queue's last entry point cannot go alone; with the queue, in one batch, it can.
    api.post("/directory/queues", json={
        "queue_id": "brief", "required_skills": [{"name": "sales"}],
        "entry_points": [{"address": f"brief-{tid}", "site_id": SITE}],
    }).raise_for_status()
    alone = api.delete(f"/directory/entry-points/brief-{tid}")
    assert alone.status_code == 422, alone.text
    both = api.post("/directory/changes", json={"changes": [
        {"action": "remove", "kind": "entry_point", "id": f"brief-{tid}"},
        {"action": "remove", "kind": "queue", "id": "brief"},
    ]})
    assert both.status_code == 200 and both.json()["applied"], both.text
    assert api.get("/directory/queues/brief").status_code == 404

    # Another tenant: its entities are not found through this tenant, its path is forbidden.
    theirs = f"ep-{other}"
    assert foreign.get(f"/directory/entry-points/{theirs}").status_code == 200
    assert api.get(f"/directory/entry-points/{theirs}").status_code == 404
    across = httpx.get(f"{stack.base_url}/v1/tenants/{other}/directory/queues",
                       headers={"Authorization": f"Bearer {stack.credential(0)}"})
    assert across.status_code == 403
    own = api.get("/directory/queues").json()["items"]
    assert {q["tenant_id"] for q in own} == {tid}
    tenant_view = api.get(f"{stack.base_url}/v1/tenants/{tid}")
    assert tenant_view.status_code == 200 and tenant_view.json()["tenant_id"] == tid
    assert "credential_hash" not in tenant_view.text
    # Sites are the operator's: a tenant's credential reads them, may not change them.
    assert SITE in [s["site_id"] for s in api.get("/directory/sites").json()["items"]]
    assert api.post("/directory/sites", json={"site_id": f"s{tid}"}).status_code == 403


def test_routing_settings_and_a_drained_site_over_rest_reach_the_directory(
    stack: FullStack,
) -> None:
    """A queue's routing settings written over REST are QueueDefined's in the directory, its
    rules' refusals are 422 with the directory's reasons, a replace leaving them out resets
    them; an operator creates a site and drains it with a PUT (SiteDefined.drained)."""
    tid = stack.tenants[0]["id"]
    api = client(stack)
    directory = directory_pb2_grpc.DirectoryServiceStub(
        grpc.insecure_channel(stack.directory_address)
    )

    def defined(key: str) -> pb.DirectoryEvent:
        auth = (("authorization", f"Bearer {OPERATOR_TOKEN}"),)
        return directory.Get(directory_pb2.GetRequest(key=key), metadata=auth).definition

    routing: dict[str, Any] = {
        "strategy": "most_skilled", "any_language": True, "priority_aging_ms": 30_000,
        "home_site_id": SITE, "site_overflow_ms": 20_000,
        "expansions": [
            {"after_ms": 10_000, "relax_levels_by": 1},
            {"after_ms": 40_000, "add_sites": ["*"], "add_queue_id": "support"},
        ],
        "preferred_agent_timeout_ms": 15_000, "prefer_last_agent": True,
        "max_wait_ms": 300_000, "when_no_agents": True,
        "flow_out": {"kind": "queue", "queue_id": "support"},
        "hours": {"time_zone": "Europe/Lisbon",
                  "open": [{"days": ["mon", "fri"], "opens": "08:00", "closes": "20:00"}]},
        "closed": {"kind": "callback"}, "closed_prompt": "closed", "callback_after_ms": 120_000,
    }
    created = api.post("/directory/queues", json={
        "queue_id": "routed", "required_skills": [{"name": "sales"}], **routing,
        "entry_points": [{"address": f"routed-{tid}", "site_id": SITE}],
    })
    assert created.status_code == 201, created.text
    queue = defined(f"queue/{tid}/routed").queue_defined
    assert (queue.strategy, queue.any_language, queue.priority_aging_ms, queue.home_site_id,
            queue.site_overflow_ms, queue.preferred_agent_timeout_ms,
            queue.prefer_last_agent) == ("most_skilled", True, 30_000, SITE, 20_000, 15_000, True)
    assert [(x.after_ms, x.relax_levels_by, list(x.add_sites), x.add_queue_id)
            for x in queue.expansions] == [(10_000, 1, [], ""), (40_000, 0, ["*"], "support")]
    assert (queue.max_wait_ms, queue.when_no_agents, queue.flow_out.kind,
            queue.flow_out.queue_id, queue.closed.kind, queue.closed_prompt,
            queue.callback_after_ms) == (300_000, True, "queue", "support", "callback",
                                         "closed", 120_000)
    assert queue.hours.time_zone == "Europe/Lisbon" and list(queue.hours.open[0].days) == [
        "mon", "fri"
    ]
    read = api.get("/directory/queues/routed").json()
    assert read["expansions"][1]["add_queue_id"] == "support" and read["strategy"] == (
        "most_skilled"
    )

    # The directory's routing rules (tenancy.routing_problems): 422, every reason, clear.
    broken = {**routing, "strategy": "fastest",
              "expansions": [{"after_ms": 5_000, "relax_levels_by": 1},
                             {"after_ms": 5_000, "add_queue_id": "routed"}]}
    refused = api.put("/directory/queues/routed",
                      json={"required_skills": [{"name": "sales"}], **broken})
    assert refused.status_code == 422, refused.text
    reasons = [e["message"] for e in refused.json()["errors"]]
    assert any("strategy 'fastest' is not one of longest_idle" in r for r in reasons), reasons
    assert any("expansions[2]: after_s must be > 0 and above" in r for r in reasons), reasons
    assert any("add_queue 'routed' is not another queue" in r for r in reasons), reasons

    # A replace is the whole definition: leaving the settings out resets them.
    bare = api.put("/directory/queues/routed", json={"required_skills": [{"name": "sales"}]})
    assert bare.status_code == 200, bare.text
    assert (bare.json()["strategy"], bare.json()["expansions"], bare.json()["hours"]) == (
        "", [], None
    )
    reset = defined(f"queue/{tid}/routed").queue_defined
    assert (reset.strategy, len(reset.expansions), reset.HasField("hours")) == ("", 0, False)

    # An operator (a browser session) creates a site and drains it; a tenant may not.
    olga, password = f"olga-{uuid.uuid4().hex[:6]}", "a long operator password"
    directory.Apply(directory_pb2.ApplyRequest(changes=[directory_pb2.Change(
        define_user=pb.UserDefined(
            user_id=olga, display_name="Olga", roles=["operator"],
            operator_scope=pb.OperatorScope(all_tenants=True),
            password_hash=identity.hash_password(password),
        ))]), metadata=(("authorization", f"Bearer {OPERATOR_TOKEN}"),))
    browser = httpx.Client(base_url=f"{stack.base_url}/v1/tenants/{tid}", timeout=15,
                           headers={"X-Requested-With": "fetch"})

    def log_in() -> httpx.Response | None:
        reply = browser.post(f"{stack.base_url}/v1/session",
                             json={"tenant": "", "username": olga, "password": password})
        assert reply.status_code in (200, 401), reply.text
        return reply if reply.status_code == 200 else None

    eventually(log_in, "the new operator to log in")
    site = f"porto-{uuid.uuid4().hex[:4]}"
    made = browser.post("/directory/sites", json={"site_id": site, "name": "Porto"})
    assert made.status_code == 201 and made.json()["drained"] is False, made.text
    assert api.put(f"/directory/sites/{site}",
                   json={"name": "Porto", "drained": True}).status_code == 403
    drained = browser.put(f"/directory/sites/{site}", json={"name": "Porto", "drained": True},
                          headers={"If-Match": made.headers["ETag"]})
    assert drained.status_code == 200 and drained.json()["drained"] is True, drained.text
    assert drained.json()["changed_by"] == f"user:_operator/{olga}"
    assert defined(f"site/{site}").site_defined.drained is True
    assert api.get(f"/directory/sites/{site}").json()["drained"] is True
