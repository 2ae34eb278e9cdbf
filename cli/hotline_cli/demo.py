"""`hotline demo`: a slice of a BPO day on the embedded stack.

Two tenants, three queues with skills and languages, a few dozen simulated agents (each a
desktop client on the router's gRPC API plus a sipp phone), and callers placed by sipp at a
steady rate, some of whom give up while waiting. Prints progress, then the KPI report of the
run, checks it against the calls sipp placed, and stops the stack.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import yaml

from hotline.agent.v1 import events_pb2 as agent_pb2
from hotline.interaction.v1 import events_pb2 as interaction_pb2
from hotline.router.v1 import router_pb2, router_pb2_grpc
from hotline_cli import stack
from hotline_cli.sipp import SippRun, caller_command, copy_sipp_media, phone_command

SITES = ("lisbon", "manila")


@dataclass(frozen=True)
class DemoOptions:
    duration_s: float = 90.0
    seed: int = 7
    chaos: str | None = None  # KIND or KIND@SECONDS: SIGKILL that process mid-run
    json_path: str | None = None
    keep: bool = False  # leave the stack running afterwards (`hotline down` stops it)


#: What `--chaos` can SIGKILL: the supervisor restarts it; the run's checks must still hold.
CHAOS_KINDS = ("ingress-sip", "broker", "clickhouse", "analytics-sink", "router")


def parse_chaos(text: str, duration_s: float) -> tuple[str, float]:
    """`KIND[@SECONDS]` -> (process name, seconds into the run; default: half-way)."""
    kind, _, at = text.partition("@")
    if kind not in CHAOS_KINDS:
        raise ValueError(f"unknown chaos kind {kind!r}; one of {', '.join(CHAOS_KINDS)}")
    seconds = float(at) if at else duration_s / 2
    if not 0 <= seconds <= duration_s:
        raise ValueError(f"chaos time {seconds}s is outside the run's 0..{duration_s:.0f}s")
    return kind, seconds


@dataclass(frozen=True)
class CallerClass:
    entry_point: str
    queue_id: str
    tenant_id: str
    calls_per_s: float
    patience_s: float
    talk_s: float


@dataclass
class DemoPlan:
    config: dict[str, Any]
    callers: list[CallerClass]
    phones: dict[str, int] = field(default_factory=dict)  # agent id -> UDP port
    # What an agent's phone does (sipp.PHONE_SCENARIOS; "answer" when not listed), and the
    # queue a transferring phone transfers to.
    phone_behaviours: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The people who can watch the run in the browser: (tenant or "" for the BPO operator,
    # user id, password, what they see). Passwords are drawn for each run.
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)


def build_plan(options: DemoOptions) -> DemoPlan:
    rng = random.Random(options.seed)
    phones: dict[str, int] = {}

    def agents(
        tenant: str, count: int, site: str, skills: list[Any], langs: list[str]
    ) -> list[Any]:
        out = []
        for i in range(1, count + 1):
            agent_id = f"{tenant}-{site[:3]}-{i:02d}"
            phone_port = _free_udp_port()
            phones[agent_id] = phone_port
            levels = [{"name": s, "level": rng.randint(1, 9)} for s in skills]
            out.append(
                {
                    "id": agent_id,
                    "name": f"Agent {agent_id}",
                    "site": site,
                    "skills": levels,
                    "languages": langs,
                    "phone": f"sip:{agent_id}@127.0.0.1:{phone_port}",
                }
            )
        return out

    # Languages are languages (the router matches a contact's to an agent's), not skills.
    acme_en = agents("acme", 10, "lisbon", ["support"], ["en"])
    acme_bi = agents("acme", 4, "manila", ["support"], ["en", "es"])
    haier = agents("haier", 6, "lisbon", ["appliances"], ["de"])
    haier_bi = agents("haier", 2, "manila", ["appliances"], ["de", "en"])
    config: dict[str, Any] = {
        "sites": [{"id": s} for s in SITES],
        "tenants": [
            {
                "id": "acme",
                "name": "ACME Telecom",
                "credential": "acme-demo-credential",
                "queues": [
                    {
                        "id": "support-en",
                        "language": "en",
                        "required_skills": [{"name": "support"}],
                        "service_level": {"threshold_s": 20, "target": 0.8},
                        "ring_timeout_s": 8,
                        "wrap_up_timeout_s": 30,
                        # Lisbon's agents first; Manila's too once a caller waited 5 s.
                        "home_site": "lisbon",
                        "site_overflow_s": 5,
                        "priority_aging_s": 10,
                    },
                    {
                        "id": "support-es",
                        "language": "es",
                        "required_skills": [{"name": "support"}],
                        "strategy": "most_skilled",
                        "service_level": {"threshold_s": 20, "target": 0.8},
                        "ring_timeout_s": 8,
                        "wrap_up_timeout_s": 30,
                    },
                ],
                "entry_points": [
                    language_menu("+35121000001", "lisbon", ("en", "support-en"),
                                  ("es", "support-es")),
                    language_menu("+34910000001", "manila", ("es", "support-es"),
                                  ("en", "support-en")),
                ],  # fmt: skip
                "agents": acme_en + acme_bi,
            },
            {
                "id": "haier",
                "name": "Haier Europe",
                "credential": "haier-demo-credential",
                # Haier's contract counts abandons against service level (KPI.md `missed`).
                "kpi": {"service_level": "missed"},
                "queues": [
                    {
                        "id": "service-de",
                        "language": "de",
                        "required_skills": [{"name": "appliances", "level": 3}],
                        "service_level": {"threshold_s": 15, "target": 0.9},
                        "ring_timeout_s": 8,
                        "wrap_up_timeout_s": 30,
                        # Lisbon first, Manila after 4 s; after 8 s any appliances level.
                        "home_site": "lisbon",
                        "site_overflow_s": 4,
                        "expansions": [{"after_s": 8, "relax_levels_by": 2}],
                    },
                ],
                "entry_points": [
                    language_menu("+4930000001", "lisbon", ("de", "service-de"),
                                  ("en", "service-de")),
                ],  # fmt: skip
                "agents": haier + haier_bi,
            },
        ],
    }
    # Who can watch in the browser: a BPO operator over both tenants, each tenant's
    # supervisor (Haier's reads Chinese), and the first Lisbon agent of ACME at the desktop.
    logins = [
        ("", "bpo-ops", secrets.token_urlsafe(9), "wallboard, every tenant"),
        ("acme", "acme-sup", secrets.token_urlsafe(9), "wallboard, ACME"),
        ("haier", "haier-sup", secrets.token_urlsafe(9), "wallboard, Haier (zh-CN)"),
        ("acme", "acme-agent", secrets.token_urlsafe(9), f"desktop of agent {acme_en[0]['id']}"),
    ]
    passwords = {user: password for _t, user, password, _what in logins}
    config["operators"] = [
        {"id": "bpo-ops", "name": "BPO operations", "roles": ["operator"], "tenants": "all",
         "password": passwords["bpo-ops"]},
    ]
    tenants = {t["id"]: t for t in config["tenants"]}
    tenants["acme"]["users"] = [
        {"id": "acme-sup", "name": "ACME supervisor", "roles": ["supervisor"],
         "password": passwords["acme-sup"]},
        {"id": "acme-agent", "name": acme_en[0]["name"], "roles": ["agent"],
         "agent": acme_en[0]["id"], "password": passwords["acme-agent"]},
    ]
    tenants["haier"]["users"] = [
        {"id": "haier-sup", "name": "Haier 主管", "roles": ["supervisor"], "locale": "zh-CN",
         "password": passwords["haier-sup"]},
    ]
    # Slightly more calls than the agents can take, so queues build and impatient callers
    # give up: what a supervisor sees at a busy hour.
    callers = [
        CallerClass("+35121000001", "support-en", "acme", 0.55, 45, 14),
        CallerClass("+35121000001", "support-en", "acme", 0.25, 8, 14),
        CallerClass("+34910000001", "support-es", "acme", 0.12, 45, 12),
        CallerClass("+4930000001", "service-de", "haier", 0.30, 45, 12),
        CallerClass("+4930000001", "service-de", "haier", 0.12, 8, 12),
    ]
    # One phone that never answers: its offers time out and go to the next agent. Two put
    # callers on hold for a moment; one transfers every caller it gets to the Spanish queue.
    behaviours = {
        haier[0]["id"]: ("no_answer", ""),
        acme_en[1]["id"]: ("hold", ""),
        haier[1]["id"]: ("hold", ""),
        acme_en[2]["id"]: ("transfer", "support-es"),
    }
    return DemoPlan(config, callers, phones, behaviours, logins)


def language_menu(
    address: str, site: str, first: tuple[str, str], second: tuple[str, str]
) -> dict[str, Any]:
    """An entry point whose callers choose a language by DTMF: 1 for `first`, 2 for `second`
    ((language, queue) each); no choice goes to the first."""
    return {
        "address": address,
        "kind": "ivr",
        "site": site,
        "ivr": {
            "language": first[0],
            "start": "menu",
            "nodes": {
                "menu": {"menu": {
                    "prompt": "choose_language", "timeout_ms": 6000, "retries": 1,
                    "options": {"1": {"language": first[0], "next": "first"},
                                "2": {"language": second[0], "next": "second"}},
                    "on_failure": "first",
                }},
                "first": {"route": {"queue": first[1]}},
                "second": {"route": {"queue": second[1], "language": second[0]}},
            },
        },
    }  # fmt: skip


class Desktop:
    """A simulated agent desktop: logs in, goes ready, wraps up after each call."""

    def __init__(
        self, router: str, tenant: str, credential: str, agent_id: str, rng: random.Random
    ) -> None:
        self.router = router
        self.tenant = tenant
        self.agent_id = agent_id
        self.metadata = (("authorization", f"Bearer {credential}"),)
        self.rng = rng
        self.calls_wrapped = 0
        self.shift_started = False

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._session(stop)
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.5)  # router restarting: reconnect

    async def _session(self, stop: asyncio.Event) -> None:
        async with grpc.aio.insecure_channel(self.router) as channel:
            agents = router_pb2_grpc.AgentServiceStub(channel)
            ids = {"tenant_id": self.tenant, "agent_id": self.agent_id}
            view = await agents.GetAgent(router_pb2.GetAgentRequest(**ids), metadata=self.metadata)
            if not self.shift_started and view.state not in _OUT:
                # Left logged in by an earlier run (the log is durable): a new shift logs in
                # again, so routing uses this run's phone.
                await _log_out(agents, view, self.metadata)
                view = await agents.GetAgent(
                    router_pb2.GetAgentRequest(**ids), metadata=self.metadata
                )
            if view.state in _OUT:
                await agents.LogIn(router_pb2.LogInRequest(**ids), metadata=self.metadata)
                await agents.SetReady(router_pb2.SetReadyRequest(**ids), metadata=self.metadata)
            self.shift_started = True
            watch = agents.WatchAgent(router_pb2.GetAgentRequest(**ids), metadata=self.metadata)
            stopper = asyncio.ensure_future(stop.wait())
            try:
                while not stop.is_set():
                    next_view = asyncio.ensure_future(watch.read())
                    done, _ = await asyncio.wait(
                        {next_view, stopper}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if stopper in done:
                        next_view.cancel()
                        return
                    view = next_view.result()
                    if view is grpc.aio.EOF:
                        return
                    await self._react(agents, view)
            finally:
                watch.cancel()
                stopper.cancel()

    async def _react(self, agents: router_pb2_grpc.AgentServiceStub, view: Any) -> None:
        ids = {"tenant_id": self.tenant, "agent_id": self.agent_id}
        if view.state == agent_pb2.AGENT_STATE_WRAP_UP:
            await asyncio.sleep(self.rng.uniform(2, 5))
            disposition = interaction_pb2.Disposition(
                code=self.rng.choice(["resolved", "info-given", "escalated"]),
                resolved=self.rng.random() < 0.75,
            )
            try:
                await agents.FinishWrapUp(
                    router_pb2.FinishWrapUpRequest(
                        **ids, interaction_id=view.interaction_id, disposition=disposition
                    ),
                    metadata=self.metadata,
                )
                self.calls_wrapped += 1
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
                    raise
        elif view.state == agent_pb2.AGENT_STATE_NOT_READY:
            await asyncio.sleep(self.rng.uniform(3, 6))  # the agent notices the missed call
            await agents.SetReady(router_pb2.SetReadyRequest(**ids), metadata=self.metadata)


_OUT = (agent_pb2.AGENT_STATE_LOGGED_OUT, agent_pb2.AGENT_STATE_UNSPECIFIED)


async def _log_out(
    agents: router_pb2_grpc.AgentServiceStub, view: Any, metadata: tuple[tuple[str, str], ...]
) -> None:
    """End the agent's shift: finish a wrap-up, then log out (refused while on a call)."""
    ids = {"tenant_id": view.tenant_id, "agent_id": view.agent_id}
    try:
        if view.state == agent_pb2.AGENT_STATE_WRAP_UP:
            await agents.FinishWrapUp(
                router_pb2.FinishWrapUpRequest(**ids, interaction_id=view.interaction_id),
                metadata=metadata,
            )
        await agents.LogOut(router_pb2.LogOutRequest(**ids, reason="end_of_shift"),
                            metadata=metadata)
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
            raise


async def _end_shift(router: str, tenants: dict[str, Any]) -> list[str]:
    """Once every call ended: agents still BUSY or RESERVED are stuck (a problem); then every
    agent logs out."""
    stuck = []
    async with grpc.aio.insecure_channel(router) as channel:
        agents = router_pb2_grpc.AgentServiceStub(channel)
        for tenant in tenants.values():
            metadata = (("authorization", f"Bearer {tenant['credential']}"),)
            reply = await agents.ListAgents(
                router_pb2.ListAgentsRequest(tenant_id=tenant["id"]), metadata=metadata, timeout=10
            )
            for view in reply.agents:
                if view.state in (agent_pb2.AGENT_STATE_BUSY, agent_pb2.AGENT_STATE_RESERVED):
                    stuck.append(
                        f"{tenant['id']}/{view.agent_id}: "
                        f"{agent_pb2.AgentState.Name(view.state)} for "
                        f"{view.interaction_id or 'no interaction'} after every call ended"
                    )
                elif view.state not in _OUT:
                    await _log_out(agents, view, metadata)
    return stuck


def _say(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


async def _progress(
    state: stack.StackState,
    plan: DemoPlan,
    runs: list[SippRun],
    started: float,
    stop: asyncio.Event,
) -> None:
    router = f"127.0.0.1:{state.service('router').grpc_port}"
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=10)
            return
        except TimeoutError:
            pass
        placed = sum(r.calls_created() for r in runs if r.kind == "caller")
        parts = [f"t={time.monotonic() - started:5.0f}s placed={placed}"]
        try:
            async with grpc.aio.insecure_channel(router) as channel:
                queues = router_pb2_grpc.QueueServiceStub(channel)
                for tenant in plan.config["tenants"]:
                    reply = await queues.ListQueues(
                        router_pb2.ListQueuesRequest(tenant_id=tenant["id"]),
                        metadata=(("authorization", f"Bearer {tenant['credential']}"),),
                        timeout=2,
                    )
                    for q in reply.queues:
                        parts.append(
                            f"{tenant['id']}/{q.queue_id}: waiting={q.waiting} "
                            f"oldest={q.longest_wait_ms / 1000:.0f}s ready={q.agents_ready}"
                            f"/{q.agents_logged_in}"
                        )
        except grpc.aio.AioRpcError:
            parts.append("router unavailable")
        _say("  ".join(parts))


async def _chaos_later(
    settings: stack.StackSettings, name: str, after_s: float, stop: asyncio.Event
) -> dict[str, Any]:
    """SIGKILL one process `after_s` into the run; the supervisor restarts it. Returns what
    happened (pids, seconds until it served again)."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=after_s)
        return {"kind": name, "skipped": "the run ended first"}
    except TimeoutError:
        pass
    state = stack.StackState.load(stack.state_file(settings))
    pid = stack.kill(state, name, signal.SIGKILL)
    killed_at = time.monotonic()
    _say(f"chaos: SIGKILL {name} (pid {pid}); the supervisor restarts it")
    state = await asyncio.to_thread(stack.wait_restarted, settings, name, pid, 180)
    back_s = time.monotonic() - killed_at
    new_pid = state.process(name).pid
    _say(f"chaos: {name} is back (pid {new_pid}) after {back_s:.1f}s")
    return {"kind": name, "at_s": after_s, "killed_pid": pid, "new_pid": new_pid,
            "back_after_s": round(back_s, 2)}


async def _simulate_calls(
    settings: stack.StackSettings,
    state: stack.StackState,
    plan: DemoPlan,
    options: DemoOptions,
    sipp_dir: Path,
    runs: list[SippRun],
) -> dict[str, Any]:
    rng = random.Random(options.seed)
    sip_host, sip_port = state.sip.split(":")[1:]
    router = f"127.0.0.1:{state.service('router').grpc_port}"
    tenants = {t["id"]: t for t in plan.config["tenants"]}
    copy_sipp_media(sipp_dir)
    for tenant in plan.config["tenants"]:
        for agent in tenant["agents"]:
            behaviour, transfer_to = plan.phone_behaviours.get(agent["id"], ("answer", ""))
            runs.append(
                phone_command(
                    sipp_dir,
                    agent["id"],
                    plan.phones[agent["id"]],
                    behaviour=behaviour,
                    ring_ms=rng.randint(1000, 2500),
                    talk_s=rng.uniform(10, 14),
                    transfer_to=transfer_to,
                )
            )
    for run in runs:
        run.start()
    stop = asyncio.Event()
    desktops = [
        Desktop(router, t["id"], t["credential"], a["id"], random.Random(rng.random()))
        for t in plan.config["tenants"]
        for a in t["agents"]
    ]
    desktop_tasks = [asyncio.ensure_future(d.run(stop)) for d in desktops]
    await asyncio.sleep(2.0)  # agents log in and go ready before the first caller
    started_at = datetime.now(UTC)
    started = time.monotonic()
    callers = []
    for i, cls in enumerate(plan.callers):
        count = max(1, round(cls.calls_per_s * options.duration_s))
        callers.append(
            caller_command(
                sipp_dir,
                f"caller-{i}",
                sip_host,
                int(sip_port),
                cls.entry_point,
                calls_per_s=cls.calls_per_s,
                count=count,
                patience_s=cls.patience_s,
                talk_s=cls.talk_s,
            )
        )
    for run in callers:
        run.start()
    runs.extend(callers)
    _say(
        f"placing calls for {options.duration_s:.0f}s: "
        + ", ".join(
            f"{c.entry_point} {c.calls_per_s}/s patience {c.patience_s:.0f}s" for c in plan.callers
        )
    )
    background = [asyncio.ensure_future(_progress(state, plan, runs, started, stop))]
    chaos_task = None
    if options.chaos:
        name, at_s = parse_chaos(options.chaos, options.duration_s)
        chaos_task = asyncio.ensure_future(_chaos_later(settings, name, at_s, stop))
    # Callers end when their last call ended (answered and hung up, or gave up).
    longest = max(c.patience_s + c.talk_s for c in plan.callers)
    deadline = time.monotonic() + options.duration_s + longest + 60
    while any(r.running() for r in callers) and time.monotonic() < deadline:
        await asyncio.sleep(1)
    for run in callers:
        run.stop()
    await asyncio.sleep(6)  # last wrap-ups
    stop.set()
    for outcome in await asyncio.gather(*desktop_tasks, return_exceptions=True):
        if isinstance(outcome, Exception):
            _say(f"a desktop failed: {outcome!r}")
    for outcome in await asyncio.gather(*background, return_exceptions=True):
        if isinstance(outcome, Exception):
            raise outcome
    # The process killed by chaos must be back (raises otherwise), before the checks.
    chaos = await chaos_task if chaos_task is not None else None
    stuck = await _end_shift(router, tenants)
    ended_at = datetime.now(UTC)
    placed: dict[str, int] = {}
    for cls, run in zip(plan.callers, callers, strict=True):
        key = f"{cls.tenant_id}/{cls.queue_id}"
        placed[key] = placed.get(key, 0) + run.calls_created()
    return {
        "started_at": started_at,
        "ended_at": ended_at,
        "placed": placed,
        "tenants": tenants,
        "stuck_agents": stuck,
        "chaos": chaos,
        "entry_keys": {c.entry_point: f"{c.tenant_id}/{c.queue_id}" for c in plan.callers},
    }


async def _simulate(
    settings: stack.StackSettings,
    state: stack.StackState,
    plan: DemoPlan,
    options: DemoOptions,
    sipp_dir: Path,
) -> dict[str, Any]:
    runs: list[SippRun] = []
    try:
        return await _simulate_calls(settings, state, plan, options, sipp_dir, runs)
    finally:
        for run in runs:  # phones run until stopped; callers too if the run was cut short
            run.stop()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reports(state: stack.StackState, run: dict[str, Any]) -> dict[str, Any]:
    """Each tenant's KPI report of the run, from the analytics API (Reports.GetKpiReport)."""
    from hotline_cli.reporting import kpi_report_from_state

    return {
        tenant: kpi_report_from_state(
            state, tenant, run["started_at"], run["ended_at"], credential=t["credential"]
        )
        for tenant, t in run["tenants"].items()
    }


def _lifecycle(state: stack.StackState, run: dict[str, Any]) -> dict[str, list[str]]:
    """Lifecycle problems of the run's interactions, from the analytics API
    (Reports.CheckLifecycle)."""
    from hotline_cli.reporting import lifecycle_problems

    found: dict[str, list[str]] = {
        "unfinished_interactions": [], "ended_twice": [], "concurrent_offers": []
    }
    for tenant, t in run["tenants"].items():
        for key, items in lifecycle_problems(
            state, tenant, run["started_at"], run["ended_at"], credential=t["credential"]
        ).items():
            found[key].extend(items)
    return found


def check_against_placed(
    reports: dict[str, Any], placed: dict[str, int], lost_in_ivr: dict[str, int] | None = None
) -> list[str]:
    """Problems found comparing the KPI report with what sipp placed (empty: all agree).
    `lost_in_ivr`: calls per queue that a fault (a killed ingress-sip) ended while their
    callers were still in the IVR, before any queue: they were never queued."""
    from hotline_cli.reporting import queue_rows

    problems = []
    seen: dict[str, dict[str, Any]] = {}
    for tenant, report in reports.items():
        for row in queue_rows(report):
            seen[f"{tenant}/{row['queue_id']}"] = row
    for key, count in sorted(placed.items()):
        if count == 0:
            problems.append(f"{key}: sipp placed no call (see the sipp logs in the state dir)")
        if key not in seen:
            problems.append(f"{key}: {count} calls placed, none reported")
            continue
        row = seen[key]
        lost = (lost_in_ivr or {}).get(key, 0)
        if row["queued"] != count - lost:
            ivr = f" ({lost} ended in the IVR by a fault)" if lost else ""
            problems.append(f"{key}: {count} calls placed{ivr}, {row['queued']} queued")
        if row["answered"] + row["abandoned"] != row["offered"]:
            problems.append(
                f"{key}: answered {row['answered']} + abandoned {row['abandoned']} "
                f"!= offered {row['offered']}"
            )
    return problems


def run_demo(options: DemoOptions) -> int:
    settings = stack.StackSettings()

    def _terminate(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through `finally`: sipp and the stack stop

    signal.signal(signal.SIGTERM, _terminate)
    state_dir = settings.state_dir.resolve()
    demo_dir = state_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    plan = build_plan(options)
    config_path = demo_dir / "tenancy.yaml"
    config_path.write_text(yaml.safe_dump(plan.config, sort_keys=False, allow_unicode=True))
    config_path.chmod(0o600)  # this run's development passwords
    settings.config_path = config_path
    _say(f"starting the embedded stack (config {config_path})")
    try:
        state = stack.up(settings, say=_say)
    except stack.StackError as exc:
        print(f"hotline demo: {exc}", file=sys.stderr)
        return 1
    print(stack.describe(state), flush=True)
    print(web_pages(state, plan), flush=True)
    try:
        agents = sum(len(t["agents"]) for t in plan.config["tenants"])
        _say(f"{len(plan.config['tenants'])} tenants, {agents} agents with sipp phones")
        run = asyncio.run(_simulate(settings, state, plan, options, demo_dir / "sipp"))
        _say("waiting for the analytics sink to store the last events")
        reports, problems, lifecycle, lost_in_ivr = _settle(state, run)
        voice = _voice_tally(state, run)
        routing = _routing_tally(state, run, plan.config)
        problems += [f"stuck agent: {item}" for item in run["stuck_agents"]]
        history = _check_history(state, demo_dir / "runs", run, reports)
        problems += history["problems"]
    finally:
        if not options.keep:
            stack.down(settings, say=_say)
    from hotline_cli.reporting import format_report

    for report in reports.values():
        print()
        print(format_report(report))
    print()
    print(
        "calls placed by sipp: " + ", ".join(f"{k}={v}" for k, v in sorted(run["placed"].items()))
    )
    print(
        f"voice: {voice['ivr_routed']} callers went through the IVR to a queue, agents held "
        f"{voice['held']} and transferred {voice['transferred']} calls"
    )
    print(
        f"routing: of {routing['answered']} answered calls, "
        f"{routing['answered_at_another_site']} at another site than their queue's home, "
        f"{routing['answered_after_a_bullseye_step']} after a bullseye step; estimated wait "
        f"off by {routing['ewt_abs_error_p50_s']} s (p50), {routing['ewt_abs_error_p90_s']} s (p90)"
    )
    if run["chaos"]:
        print(f"chaos: {json.dumps(run['chaos'])}")
    if history["compared"]:
        print(f"history: the reports of {history['compared']} earlier run(s) are unchanged")
    if problems:
        print("CHECK FAILED:\n  " + "\n  ".join(problems))
    else:
        print(
            "check: every queue's report matches the calls placed "
            "(queued = placed; answered + abandoned = offered); every call ended exactly once; "
            "no call was offered to two agents at once; no agent was left BUSY or RESERVED"
        )
    if options.keep:
        print()
        print(web_pages(state, plan))
        print("the stack is still running (--keep); `hotline down` stops it")
    if options.json_path:
        Path(options.json_path).write_text(
            json.dumps(
                {
                    "placed": run["placed"],
                    "reports": reports,
                    "problems": problems,
                    **lifecycle,
                    "stuck_agents": run["stuck_agents"],
                    "voice": voice,
                    "routing": routing,
                    "lost_in_ivr": lost_in_ivr,
                    "chaos": run["chaos"],
                    "history_compared": history["compared"],
                    "started_at": run["started_at"],
                    "ended_at": run["ended_at"],
                },
                indent=2,
                default=str,
            )
        )
    return 1 if problems else 0


def _lost_in_ivr(state: stack.StackState, run: dict[str, Any]) -> dict[str, int]:
    """Calls of the run the router ended before any queue because their ingress-sip was lost
    (`abandoned` BEFORE_QUEUE, reason ingress_lost: the caller was in the IVR), per queue the
    entry point's callers go to."""
    rows = _run_events(
        state, run,
        "SELECT entry, count() FROM (SELECT interaction_id,"
        " anyIf(entry_point_id, kind = 'arrived') AS entry, countIf(kind = 'queued') AS queued,"
        " countIf(kind = 'abandoned' AND stage = 'BEFORE_QUEUE' AND reason = 'ingress_lost')"
        " AS lost FROM hotline.events FINAL WHERE occurred_at_ms >= %(start)s"
        " AND entity = 'interaction' GROUP BY interaction_id)"
        " WHERE queued = 0 AND lost > 0 GROUP BY entry",
    )  # fmt: skip
    keys = run["entry_keys"]
    out: dict[str, int] = {}
    for entry, count in rows:
        if entry in keys:
            out[keys[entry]] = out.get(keys[entry], 0) + int(count)
    return out


def _voice_tally(state: stack.StackState, run: dict[str, Any]) -> dict[str, int]:
    """What happened to the run's voice calls beyond the KPIs, from the events in ClickHouse:
    IVR routings to a queue, holds and transfers."""
    counts = dict(_run_events(
        state, run,
        "SELECT if(kind = 'self_service_finished', 'ivr_routed', kind) AS what, count()"
        " FROM hotline.events FINAL WHERE occurred_at_ms >= %(start)s"
        " AND (kind IN ('held', 'transferred')"
        " OR (kind = 'self_service_finished' AND outcome = 'ROUTE_TO_QUEUE')) GROUP BY what",
    ))  # fmt: skip
    return {k: int(counts.get(k, 0)) for k in ("ivr_routed", "held", "transferred")}


def _routing_tally(
    state: stack.StackState, run: dict[str, Any], config: dict[str, Any]
) -> dict[str, Any]:
    """How the router placed the run's answered calls, from the events in ClickHouse: answered
    away from the queue's home site, or after a bullseye step; and the estimated wait stated in
    `queued` against the wait measured to the answer (first placement of contacts answered
    there: the caller's announcement is made from that figure)."""
    from hotline_platform.codec import decode
    from hotline_platform.topics import ROUTING_INTERACTIONS

    home = {q["id"]: q.get("home_site", "") for t in config["tenants"] for q in t["queues"]}
    rows = _run_events(
        state, run,
        "SELECT interaction_id, kind, occurred_at_ms, offer_id, queue_id, site_id, raw"
        " FROM hotline.events FINAL WHERE occurred_at_ms >= %(start)s"
        " AND kind IN ('queued', 'offered', 'offer_accepted') ORDER BY occurred_at_ms",
    )  # fmt: skip
    queued: dict[str, tuple[int, str, int]] = {}  # first placement: at, queue, estimate
    offers: dict[str, tuple[str, int]] = {}  # offer id -> agent's site, bullseye step
    accepted: dict[str, tuple[int, str]] = {}  # first answer: at, offer id
    for iid, kind, at_ms, offer_id, queue_id, site_id, raw in rows:
        if kind == "queued" and iid not in queued:
            estimate = decode(ROUTING_INTERACTIONS, raw).queued.estimated_wait_ms
            queued[iid] = (at_ms, queue_id, estimate)
        elif kind == "offered":
            offers[offer_id] = (site_id, decode(ROUTING_INTERACTIONS, raw).offered.routing_step)
        elif kind == "offer_accepted" and iid not in accepted:
            accepted[iid] = (at_ms, offer_id)
    other_site = after_step = 0
    errors: list[int] = []
    for iid, (answered_at, offer_id) in accepted.items():
        site, step = offers.get(offer_id, ("", 0))
        placed = queued.get(iid)
        if placed is None:
            continue
        queued_at, queue_id, estimate = placed
        other_site += bool(home.get(queue_id) and site and site != home[queue_id])
        after_step += step > 0
        errors.append(abs(estimate - max(0, answered_at - queued_at)))
    errors.sort()
    return {
        "answered": len(errors),
        "answered_at_another_site": other_site,
        "answered_after_a_bullseye_step": after_step,
        "ewt_abs_error_p50_s": round(errors[len(errors) // 2] / 1000, 1) if errors else None,
        "ewt_abs_error_p90_s": round(errors[len(errors) * 9 // 10] / 1000, 1) if errors else None,
    }


def _run_events(state: stack.StackState, run: dict[str, Any], sql: str) -> list[Any]:
    """Rows of a query over the embedded ClickHouse's events; `%(start)s` is the run's start
    (UTC ms)."""
    from clickhouse_driver import Client

    start_ms = int(datetime.fromisoformat(str(run["started_at"])).timestamp() * 1000)
    client = Client(host=state.clickhouse_host, port=state.clickhouse_tcp_port)
    try:
        return list(client.execute(sql, {"start": start_ms}))
    finally:
        client.disconnect()


def web_pages(state: stack.StackState, plan: DemoPlan) -> str:
    """Where to watch the run in a browser, and who can log in (this run's passwords)."""
    http = state.service("gateway").env.get("HOTLINE_HTTP_PORT", "")
    base = f"http://127.0.0.1:{http}"
    lines = [
        f"watch it live: wallboard {base}/wallboard/   agent desktop {base}/desk/"
        f"   (log in at {base}/login/)",
    ]
    for tenant, user, password, what in plan.logins:
        lines.append(
            f"  tenant {tenant or '(none: BPO operator)':<22} user {user:<11} "
            f"password {password}   {what}"
        )
    return "\n".join(lines)


def _comparable(report: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in report.items() if k != "generated_at"},
                      sort_keys=True, default=str)


def _check_history(
    state: stack.StackState, runs_dir: Path, run: dict[str, Any], reports: dict[str, Any]
) -> dict[str, Any]:
    """The reports of earlier runs on this state dir, computed again now, must equal what those
    runs printed (the event log and ClickHouse are durable: `down`/`up` changes no figure).
    Then this run's reports are kept for the next run."""
    from hotline_cli.reporting import kpi_report_from_state

    problems = []
    compared = 0
    runs_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(runs_dir.glob("*.json")):
        earlier = json.loads(path.read_text())
        start = datetime.fromisoformat(earlier["started_at"])
        end = datetime.fromisoformat(earlier["ended_at"])
        for tenant, report in earlier["reports"].items():
            now = kpi_report_from_state(state, tenant, start, end)
            if _comparable(now) != _comparable(report):
                problems.append(f"the report of {tenant} for the run of {path.stem} changed")
        compared += 1
    name = run["started_at"].strftime("%Y%m%dT%H%M%S")
    (runs_dir / f"{name}.json").write_text(
        json.dumps({"started_at": run["started_at"].isoformat(),
                    "ended_at": run["ended_at"].isoformat(), "reports": reports},
                   default=str)
    )
    return {"problems": problems, "compared": compared}


def _settle(
    state: stack.StackState, run: dict[str, Any]
) -> tuple[dict[str, Any], list[str], dict[str, list[str]], dict[str, int]]:
    """Wait (bounded) until the sink has stored every event of the run, then check it. Also
    returns the calls lost in the IVR that the check accounted for."""
    deadline = time.monotonic() + 45
    while True:
        reports = _reports(state, run)
        lost_in_ivr = _lost_in_ivr(state, run)
        problems = check_against_placed(reports, run["placed"], lost_in_ivr)
        lifecycle = _lifecycle(state, run)
        settled = not problems and not any(lifecycle.values())
        if settled or time.monotonic() > deadline:
            for key, items in lifecycle.items():
                problems.extend(f"{key.replace('_', ' ')}: {item}" for item in items)
            return reports, problems, lifecycle, lost_in_ivr
        time.sleep(1.0)
