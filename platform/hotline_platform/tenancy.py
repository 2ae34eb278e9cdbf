"""The declarative tenancy config: tenants, sites, queues, agents, entry points, credentials.

Pure (YAML in, frozen dataclasses out). Every service reads the same file; a later issue
moves it behind an admin API. Errors name the offending entry.

A tenant's API credential is given either as `credential_hash: "scrypt$..."` (production: made
with `hotline credentials hash`, it accepts tokens `<tenant id>.<secret>`), or as plaintext
`credential` (development configs; hashed at load, so the loaded config holds no plaintext).
See hotline_platform.credentials.

Users (`tenants[].users`, and BPO operator staff under the top-level `operators`) carry an
argon2id `password_hash` (or a plaintext development `password`, hashed at load);
`tenants[].api_keys` lists issued keys by id and hash (`hotline api-keys create` prints one).
See hotline_platform.identity and docs/identity.md.

An agent whose phones register (ingress-sip's registrar) has `sip: {username, password}`
(development: hashed at load) or `sip: {username, ha1_md5, ha1_sha256}` (made with `hotline
credentials sip-hash`); the digest realm is the tenant id (hotline_platform.sip_digest). Such
an agent's static `phone` is optional.

An entry point of kind `ivr` carries its flow under `ivr:` (hotline_platform.ivr):
    ivr:
      language: en
      hours: {time_zone: Europe/Berlin, open: [{days: [mon, fri], from: "08:00", to: "20:00"}],
              holidays: ["2026-12-25"], closed: closed_msg}
      start: lang
      nodes:
        lang: {menu: {prompt: choose_language, prompt_languages: [en, de], timeout_ms: 5000,
                      retries: 2, on_failure: en,
                      options: {"1": {language: en, next: en}, "2": {language: de, next: de}}}}
        account: {collect: {prompt: enter_account, min_digits: 6, max_digits: 10,
                            terminator: "#", timeout_ms: 8000, retries: 2, next: en}}
        en: {route: {queue: support-en, skills: [billing], priority: 0, intent: billing}}
        closed_msg: {message: {prompt: closed, next: hangup}}

A queue's treatment (services/router README, "Flow-out, closed treatment and callbacks"):
    max_wait_s: 300              # then flow out to flow_out (0: no maximum)
    when_no_agents: true         # flow out at once when nobody able is logged in
    flow_out: {queue: overflow}  # or callback, or closed (the default)
    hours: {time_zone: Europe/Berlin, open: [...], holidays: [...]}  # as an IVR's
    closed: closed               # outside the hours: {queue: q}, callback or closed
    closed_prompt: prompts/closed.wav
    callback_after_s: 120        # callbacks offered from this estimated wait (0: never)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hotline_platform import credentials as creds
from hotline_platform import identity, ivr, policy, sip_digest
from hotline_platform.ivr import IvrFlow


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SkillLevel:
    name: str
    level: int = 1


@dataclass(frozen=True)
class Code:
    """A code an agent picks (not-ready reason, wrap-up disposition) and the label shown."""

    code: str
    label: str = ""


# How a queue picks among the agents able to take a contact (services/router/README.md).
STRATEGIES = ("longest_idle", "most_skilled", "least_occupied", "round_robin")
ANY_SITE = "*"  # RoutingStep.add_sites: every site
# Where a contact flows out to: a queue (FlowOut.queue), a callback, a closed message.
FLOW_OUT_KINDS = ("closed", "callback", "queue")


@dataclass(frozen=True)
class FlowOut:
    kind: str = "closed"  # one of FLOW_OUT_KINDS
    queue: str = ""  # kind "queue"


@dataclass(frozen=True)
class RoutingStep:
    """One step of a queue's bullseye, taken once a contact has waited `after_s`; each step
    keeps what the earlier ones widened."""

    after_s: float
    relax_levels_by: int = 0  # lower every required skill level by this
    add_skills: tuple[SkillLevel, ...] = ()  # agents with all of these may take it too
    add_sites: tuple[str, ...] = ()  # agents of these sites too (ANY_SITE: all)
    add_queue: str = ""  # agents able to take that queue's contacts too


@dataclass(frozen=True)
class Queue:
    id: str
    tenant_id: str
    required_skills: tuple[SkillLevel, ...] = ()
    language: str = ""
    priority: int = 0
    service_level_threshold_s: int = 20
    service_level_target: float = 0.8
    ring_timeout_s: float = 15.0
    wrap_up_timeout_s: float = 120.0
    wrap_up_codes: tuple[Code, ...] = ()  # dispositions offered at wrap-up
    # Routing (issue 16); the defaults route as before: longest idle, any site at once.
    strategy: str = "longest_idle"
    any_language: bool = False  # True: the contact's language does not restrict agents
    priority_aging_s: float = 0.0  # +1 priority every this many seconds waited (0: never)
    home_site: str = ""  # empty: the entry point's site
    site_overflow_s: float = 0.0  # home site only for this long (0: any site at once)
    expansions: tuple[RoutingStep, ...] = ()
    preferred_agent_timeout_s: float = 0.0  # a named agent alone for this long
    prefer_last_agent: bool = False  # the agent who last served the caller first
    # Treatment (issue 16 items 8, 9; the defaults: none).
    max_wait_s: float = 0.0  # then flow out (0: no maximum)
    when_no_agents: bool = False  # flow out at once when nobody able is logged in
    flow_out: FlowOut = FlowOut()
    hours: ivr.BusinessHours | None = None  # None: always open
    closed: FlowOut = FlowOut()  # outside the hours
    closed_prompt: str = ""
    callback_after_s: float = 0.0  # callbacks offered from this estimated wait (0: never)


def routing_problems(queue: Queue, sites: Iterable[str], queue_ids: Iterable[str]) -> list[str]:
    """What is wrong with a queue's routing settings, given the sites and the tenant's
    queues (an empty `sites`: none declared, any site name goes)."""
    sites, queue_ids = set(sites), set(queue_ids)
    errors = []
    if queue.strategy not in STRATEGIES:
        errors.append(f"strategy {queue.strategy!r} is not one of {', '.join(STRATEGIES)}")
    for name in (
        "priority_aging_s", "site_overflow_s", "preferred_agent_timeout_s", "max_wait_s",
        "callback_after_s",
    ):
        if getattr(queue, name) < 0:
            errors.append(f"{name} must be >= 0")
    for name, flow in (("flow_out", queue.flow_out), ("closed", queue.closed)):
        if flow.kind not in FLOW_OUT_KINDS:
            errors.append(f"{name}: {flow.kind!r} is not one of {', '.join(FLOW_OUT_KINDS)}")
        if flow.kind == "queue" and (flow.queue not in queue_ids or flow.queue == queue.id):
            errors.append(f"{name}: queue {flow.queue!r} is not another queue")
    if queue.hours is not None:
        errors += ivr.hours_problems(queue.hours)
    if queue.home_site and sites and queue.home_site not in sites:
        errors.append(f"home_site {queue.home_site!r} is not a site")
    previous = 0.0
    for n, step in enumerate(queue.expansions, start=1):
        where = f"expansions[{n}]"
        if step.after_s <= previous:
            errors.append(f"{where}: after_s must be > 0 and above the step before's")
        previous = max(previous, step.after_s)
        if step.relax_levels_by < 0:
            errors.append(f"{where}: relax_levels_by must be >= 0")
        if not (step.relax_levels_by or step.add_skills or step.add_sites or step.add_queue):
            errors.append(f"{where}: changes nothing (relax_levels_by, add_skills, add_sites "
                          "or add_queue)")
        unknown = sorted(set(step.add_sites) - sites - {ANY_SITE}) if sites else []
        if unknown:
            errors.append(f"{where}: unknown site(s) {', '.join(unknown)}")
        if step.add_queue and (step.add_queue not in queue_ids or step.add_queue == queue.id):
            errors.append(f"{where}: add_queue {step.add_queue!r} is not another queue")
    return errors


@dataclass(frozen=True)
class Agent:
    id: str
    tenant_id: str
    name: str
    site_id: str
    skills: tuple[SkillLevel, ...]
    languages: tuple[str, ...]
    phone: str  # SIP URI of the agent's phone (static registration)
    # Digest credentials of its registering phones (realm: the tenant id); HA1s, never a
    # password. Empty username: its phones do not register.
    sip_username: str = ""
    sip_ha1_md5: str = ""
    sip_ha1_sha256: str = ""


@dataclass(frozen=True)
class EntryPoint:
    address: str  # the dialled number / user part of the Request-URI
    tenant_id: str
    queue_id: str = ""  # empty for kinds "announcement" and "ivr"
    # "queue": route to an agent; "announcement": platform answers alone; "ivr": run `ivr`
    kind: str = "queue"
    site_id: str = ""
    ivr: IvrFlow | None = None  # kind "ivr" only
    priority: int = 0  # of its contacts in the queue (higher first); 0: the queue's


@dataclass(frozen=True)
class Prompt:
    """A tenant's own IVR prompt (uploaded over REST, never in the YAML): a WAV file in the
    content store, played instead of the default prompt of the same language and name."""

    tenant_id: str
    language: str
    name: str
    content_ref: str  # hotline_platform.content reference of the WAV file
    duration_ms: int
    sha256: str  # of the WAV file, lower-case hex


ENTRY_POINT_KINDS = ("queue", "announcement", "ivr")
SERVICE_LEVEL_DEFINITIONS = ("exclude", "missed", "met_if_within_T", "removed_within_T")
ABANDON_DENOMINATORS = ("offered", "queued", "handled_plus_abandoned")


@dataclass(frozen=True)
class KpiDefinitions:
    """How the tenant's contract defines its KPIs (shared/KPI.md; defaults are KPI.md's)."""

    service_level: str = "exclude"
    short_abandon_s: float = 5.0
    abandonment_denominator: str = "offered"


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    credential_hash: str  # scrypt hash string (hotline_platform.credentials), never plaintext
    queues: dict[str, Queue] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    kpi: KpiDefinitions = KpiDefinitions()
    # True for a plaintext development credential not of the form "<tenant id>.<secret>"
    # (checked against every unscoped token); False: scoped tokens only (credentials.py).
    credential_unscoped: bool = False
    not_ready_reasons: tuple[Code, ...] = ()  # reasons an agent may give when not ready


@dataclass(frozen=True)
class TenancyConfig:
    sites: tuple[str, ...]
    tenants: dict[str, Tenant]
    entry_points: dict[str, EntryPoint]
    credentials: creds.CredentialIndex = field(
        default_factory=creds.CredentialIndex, compare=False, repr=False
    )
    # (tenant id, user id) -> user; operator staff under tenant id "".
    users: dict[tuple[str, str], identity.User] = field(default_factory=dict)
    api_keys: dict[str, identity.ApiKey] = field(default_factory=dict)  # by key id
    # (tenant id, language, name) -> the tenant's own prompt (the directory's only).
    prompts: dict[tuple[str, str, str], Prompt] = field(default_factory=dict)
    # Sites marked down: their agents get no new offers (services/router/README.md).
    drained_sites: frozenset[str] = frozenset()

    def user(self, tenant_id: str, user_id: str) -> identity.User | None:
        """identity.UserLookup: the user `user_id` of `tenant_id` ("" = operator staff)."""
        return self.users.get((tenant_id, user_id))

    def api_key(self, key_id: str) -> identity.ApiKey | None:
        """identity.ApiKeyLookup."""
        return self.api_keys.get(key_id)

    def tenant_for_credential(self, credential: str) -> Tenant | None:
        """The tenant whose credential this is: one scrypt for a token seen first (per
        candidate hash), a keyed-fingerprint lookup after (see CredentialIndex)."""
        owner = self.credentials.owner_of(credential)
        return self.tenants.get(owner) if owner is not None else None

    def credential_is_cached(self, credential: str) -> bool:
        """True when tenant_for_credential(credential) answers without hashing."""
        return self.credentials.cached(credential) is not None

    def queue(self, tenant_id: str, queue_id: str) -> Queue | None:
        tenant = self.tenants.get(tenant_id)
        return tenant.queues.get(queue_id) if tenant else None


def _skills(raw: list[Any] | None, where: str) -> tuple[SkillLevel, ...]:
    out = []
    for item in raw or []:
        if isinstance(item, str):
            out.append(SkillLevel(item))
        elif isinstance(item, dict) and "name" in item:
            out.append(SkillLevel(str(item["name"]), int(item.get("level", 1))))
        else:
            raise ConfigError(f"{where}: a skill is a name or {{name, level}}, got {item!r}")
    return tuple(out)


def _routing_step(raw: Any, where: str) -> RoutingStep:
    step = _settings(
        raw, where,
        {"after_s": float, "relax_levels_by": int, "add_skills": lambda v: _skills(v, where),
         "add_sites": _strings, "add_queue": str},
        required=("after_s",),
    )
    return RoutingStep(**step)


def _flow_out(raw: Any, where: str) -> FlowOut:
    """`closed`, `callback` or `{queue: <id>}`."""
    if isinstance(raw, str):
        return FlowOut(raw)
    fields = _settings(raw, where, {"queue": str}, required=("queue",))
    return FlowOut("queue", fields["queue"])


def _hours(raw: Any, where: str) -> ivr.BusinessHours:
    h = _settings(
        raw, where, {"time_zone": str, "open": list, "holidays": _strings, "closed": str},
        required=("time_zone", "open"),
    )
    windows = tuple(
        ivr.Window(**_settings(
            w, f"{where}.open[{n}]", {"days": _strings, "from": _clock, "to": _clock},
            required=("days", "from", "to"), rename={"from": "opens", "to": "closes"},
        ))
        for n, w in enumerate(h.pop("open"))
    )
    return ivr.BusinessHours(open=windows, **h)


def _queue_routing(q: dict[str, Any], where: str) -> dict[str, Any]:
    """A queue's routing settings (Queue fields), converted; checked by routing_problems."""
    types: dict[str, Callable[[Any], Any]] = {
        "strategy": str, "any_language": bool, "priority_aging_s": float, "home_site": str,
        "site_overflow_s": float, "preferred_agent_timeout_s": float,
        "prefer_last_agent": bool,
        "max_wait_s": float, "when_no_agents": bool, "closed_prompt": str,
        "callback_after_s": float,
        "flow_out": lambda v: _flow_out(v, f"{where} flow_out"),
        "closed": lambda v: _flow_out(v, f"{where} closed"),
        "hours": lambda v: _hours(v, f"{where} hours"),
        "expansions": lambda v: tuple(
            _routing_step(x, f"{where} expansions[{n}]") for n, x in enumerate(v, start=1)
        ),
    }
    return _settings({k: v for k, v in q.items() if k in types}, where, types)


def _codes(raw: list[Any] | None, where: str) -> tuple[Code, ...]:
    out: list[Code] = []
    for item in raw or []:
        if isinstance(item, str):
            code = Code(item, item)
        elif isinstance(item, dict) and item.get("code"):
            code = Code(str(item["code"]), str(item.get("label", item["code"])))
        else:
            raise ConfigError(f"{where}: a code is a string or {{code, label}}, got {item!r}")
        if any(c.code == code.code for c in out):
            raise ConfigError(f"{where}: code {code.code!r} listed twice")
        out.append(code)
    return tuple(out)


def _settings(
    raw: Any, where: str, types: dict[str, Callable[[Any], Any]], *,
    required: tuple[str, ...] = (), rename: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A mapping of known settings converted by `types`, keys renamed to field names."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a mapping, got {raw!r}")
    unknown = set(raw) - set(types)
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(map(str, unknown)))}")
    for key in required:
        _require(raw, key, where)
    names = rename or {}
    try:
        return {names.get(str(k), str(k)): types[k](v) for k, v in raw.items()}
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _clock(value: Any) -> str:
    """A wall-clock time "HH:MM"; YAML 1.1 reads an unquoted 08:00 as 480 (base 60)."""
    return f"{value // 60:02d}:{value % 60:02d}" if isinstance(value, int) else str(value)


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {value!r}")
    return tuple(str(x) for x in value)


_NODE_KINDS = ("menu", "collect", "route", "message", "hangup")


def _ivr_node(raw: Any, where: str) -> ivr.Node:
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in _NODE_KINDS:
        raise ConfigError(f"{where}: a node is {{<kind>: {{...}}}}, kind one of "
                          f"{', '.join(_NODE_KINDS)}")
    kind, body = next(iter(raw.items()))
    body = body or {}
    prompt = {"prompt": str, "timeout_ms": int, "retries": int, "on_failure": str}
    if kind == "menu":
        menu = _settings(
            body, where, {**prompt, "options": dict, "prompt_languages": _strings},
            required=("prompt", "options"),
        )
        menu["options"] = {
            str(key): ivr.Option(**_settings(
                value, f"{where} option {key}", {"next": str, "language": str},
                required=("next",),
            ))
            for key, value in menu["options"].items()
        }
        return ivr.Menu(**menu)
    if kind == "collect":
        return ivr.Collect(**_settings(
            body, where,
            {**prompt, "next": str, "min_digits": int, "max_digits": int, "terminator": str},
            required=("prompt", "next"),
        ))
    if kind == "route":
        return ivr.Route(**_settings(
            body, where,
            {"queue": str, "skills": lambda v: _skills(v, where), "priority": int,
             "intent": str, "language": str},
            required=("queue",), rename={"queue": "queue_id", "skills": "required_skills"},
        ))
    if kind == "message":
        return ivr.Message(**_settings(
            body, where, {"prompt": str, "next": str}, required=("prompt",)
        ))
    _settings(body, where, {})
    return ivr.Hangup()


def _ivr(raw: Any, where: str, queues: dict[str, Queue]) -> IvrFlow:
    """An entry point's IVR flow, refused with every problem (hotline_platform.ivr)."""
    fields = _settings(
        raw, where, {"language": str, "start": str, "nodes": dict, "hours": dict},
        required=("language", "start", "nodes"),
    )
    hours = _hours(fields["hours"], f"{where} hours") if "hours" in fields else None
    flow = IvrFlow(
        start=fields["start"],
        nodes={str(k): _ivr_node(v, f"{where} node {k}") for k, v in fields["nodes"].items()},
        language=fields["language"],
        hours=hours,
    )
    errors = ivr.problems(flow, queues)
    if errors:
        raise ConfigError(f"{where}: {'; '.join(errors)}")
    return flow


def _sip_account(raw: Any, tenant_id: str, where: str) -> tuple[str, str, str]:
    """An agent's `sip:` entry -> (username, HA1 MD5, HA1 SHA-256), realm = tenant id."""
    if raw is None:
        return "", "", ""
    if not isinstance(raw, dict) or set(raw) - {"username", "password", "ha1_md5", "ha1_sha256"}:
        raise ConfigError(
            f"{where}: sip is {{username, password}} or {{username, ha1_md5, ha1_sha256}}"
        )
    username = str(_require(raw, "username", f"{where} sip"))
    if not sip_digest.is_username(username):
        raise ConfigError(f"{where}: sip username {username!r} is not a plain SIP user part")
    plain = raw.get("password")
    if plain and (raw.get("ha1_md5") or raw.get("ha1_sha256")):
        raise ConfigError(f"{where}: give sip password or its HA1s, not both")
    if plain:
        md5, sha256 = (
            sip_digest.ha1(alg, username, tenant_id, str(plain)) for alg in ("MD5", "SHA-256")
        )
    else:
        md5, sha256 = str(raw.get("ha1_md5", "")), str(raw.get("ha1_sha256", ""))
        if not (sip_digest.is_ha1("MD5", md5) and sip_digest.is_ha1("SHA-256", sha256)):
            raise ConfigError(f"{where}: sip needs a password, or hex ha1_md5 and ha1_sha256")
    return username, md5, sha256


def _require(raw: dict[str, Any], key: str, where: str) -> Any:
    if key not in raw or raw[key] in (None, ""):
        raise ConfigError(f"{where}: missing '{key}'")
    return raw[key]


def _kpi(raw: dict[str, Any], where: str) -> KpiDefinitions:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: 'kpi' must be a mapping")
    unknown = set(raw) - {"service_level", "short_abandon_s", "abandonment_denominator"}
    if unknown:
        raise ConfigError(f"{where}: unknown kpi setting(s) {', '.join(sorted(unknown))}")
    kpi = KpiDefinitions(
        service_level=str(raw.get("service_level", "exclude")),
        short_abandon_s=float(raw.get("short_abandon_s", 5.0)),
        abandonment_denominator=str(raw.get("abandonment_denominator", "offered")),
    )
    if kpi.service_level not in SERVICE_LEVEL_DEFINITIONS:
        raise ConfigError(
            f"{where}: kpi.service_level {kpi.service_level!r} is not one of "
            f"{', '.join(SERVICE_LEVEL_DEFINITIONS)}"
        )
    if kpi.abandonment_denominator not in ABANDON_DENOMINATORS:
        raise ConfigError(
            f"{where}: kpi.abandonment_denominator {kpi.abandonment_denominator!r} is not one "
            f"of {', '.join(ABANDON_DENOMINATORS)}"
        )
    if kpi.short_abandon_s < 0:
        raise ConfigError(f"{where}: kpi.short_abandon_s must be >= 0")
    return kpi


def parse(raw: dict[str, Any]) -> TenancyConfig:
    if not isinstance(raw, dict):
        raise ConfigError("config: the top level must be a mapping")
    sites = tuple(str(_require(s, "id", "sites[]")) for s in raw.get("sites", []))
    drained = frozenset(str(s["id"]) for s in raw.get("sites", []) if s.get("drained"))
    tenants: dict[str, Tenant] = {}
    entry_points: dict[str, EntryPoint] = {}
    users: dict[tuple[str, str], identity.User] = {}
    api_keys: dict[str, identity.ApiKey] = {}
    index = creds.CredentialIndex()
    plaintexts: dict[str, str] = {}  # only while parsing, to refuse a shared credential
    for t in raw.get("tenants", []):
        tid = str(_require(t, "id", "tenants[]"))
        where = f"tenant {tid}"
        if tid in tenants:
            raise ConfigError(f"{where}: defined twice")
        queues: dict[str, Queue] = {}
        for q in t.get("queues", []):
            qid = str(_require(q, "id", f"{where} queues[]"))
            if qid in queues:
                raise ConfigError(f"queue {tid}/{qid}: defined twice")
            sl = q.get("service_level", {}) or {}
            queues[qid] = Queue(
                id=qid,
                tenant_id=tid,
                required_skills=_skills(q.get("required_skills"), f"queue {qid}"),
                language=str(q.get("language", "")),
                priority=int(q.get("priority", 0)),
                service_level_threshold_s=int(sl.get("threshold_s", 20)),
                service_level_target=float(sl.get("target", 0.8)),
                ring_timeout_s=float(q.get("ring_timeout_s", 15)),
                wrap_up_timeout_s=float(q.get("wrap_up_timeout_s", 120)),
                wrap_up_codes=_codes(q.get("wrap_up_codes"), f"queue {tid}/{qid} wrap_up_codes"),
                **_queue_routing(q, f"queue {tid}/{qid}"),
            )
        for queue in queues.values():
            problems = routing_problems(queue, sites, queues)
            if problems:
                raise ConfigError(f"queue {tid}/{queue.id}: {'; '.join(problems)}")
        agents: dict[str, Agent] = {}
        for a in t.get("agents", []):
            aid = str(_require(a, "id", f"{where} agents[]"))
            if aid in agents:
                raise ConfigError(f"agent {tid}/{aid}: defined twice")
            site = str(a.get("site", sites[0] if sites else ""))
            if sites and site not in sites:
                raise ConfigError(f"agent {aid}: unknown site {site!r}")
            sip_user, ha1_md5, ha1_sha256 = _sip_account(a.get("sip"), tid, f"agent {tid}/{aid}")
            if sip_user and any(x.sip_username == sip_user for x in agents.values()):
                raise ConfigError(f"agent {tid}/{aid}: sip username {sip_user!r} used twice")
            agents[aid] = Agent(
                id=aid,
                tenant_id=tid,
                name=str(a.get("name", aid)),
                site_id=site,
                skills=_skills(a.get("skills"), f"agent {aid}"),
                languages=tuple(str(x) for x in a.get("languages", [])),
                phone=str(a.get("phone") or "" if sip_user else _require(
                    a, "phone", f"agent {aid}"
                )),
                sip_username=sip_user,
                sip_ha1_md5=ha1_md5,
                sip_ha1_sha256=ha1_sha256,
            )
        for e in t.get("entry_points", []):
            address = str(_require(e, "address", f"{where} entry_points[]"))
            kind = str(e.get("kind", "queue"))
            queue_id = str(e.get("queue", ""))
            if kind not in ENTRY_POINT_KINDS:
                raise ConfigError(f"entry point {address}: unknown kind {kind!r}")
            if kind == "queue" and queue_id not in queues:
                raise ConfigError(f"entry point {address}: unknown queue {queue_id!r}")
            if (kind == "ivr") != ("ivr" in e):
                raise ConfigError(f"entry point {address}: 'ivr' goes with kind ivr (only)")
            if kind == "ivr" and queue_id:
                raise ConfigError(f"entry point {address}: an IVR's route nodes name the queue")
            if address in entry_points:
                raise ConfigError(f"entry point {address}: defined twice")
            entry_points[address] = EntryPoint(
                address, tid, queue_id, kind, str(e.get("site", sites[0] if sites else "")),
                _ivr(e["ivr"], f"entry point {address} ivr", queues) if kind == "ivr" else None,
                int(e.get("priority", 0)),
            )
        kpi = _kpi(t.get("kpi") or {}, where)
        _add_credential(index, plaintexts, t, tid, where)
        plain = t.get("credential")
        tenants[tid] = Tenant(
            tid, str(t.get("name", tid)), index.hash_of(tid), queues, agents, kpi,
            credential_unscoped=bool(plain) and creds.key_id(str(plain)) != tid,
            not_ready_reasons=_codes(t.get("not_ready_reasons"), f"{where} not_ready_reasons"),
        )
        for u in t.get("users", []) or []:
            user = _user(u, tid, f"{where} users[]")
            if (tid, user.id) in users:
                raise ConfigError(f"user {tid}/{user.id}: defined twice")
            if user.agent_id and user.agent_id not in agents:
                raise ConfigError(f"user {tid}/{user.id}: unknown agent {user.agent_id!r}")
            users[(tid, user.id)] = user
        for k in t.get("api_keys", []) or []:
            key = _api_key(k, tid, f"{where} api_keys[]")
            if key.id in api_keys:
                raise ConfigError(f"API key {key.id}: defined twice")
            api_keys[key.id] = key
    for u in raw.get("operators", []) or []:
        user = _user(u, "", "operators[]")
        if ("", user.id) in users:
            raise ConfigError(f"operator {user.id}: defined twice")
        unknown = sorted(user.operator_scope.tenants - set(tenants))
        if unknown:
            raise ConfigError(f"operator {user.id}: unknown tenant(s) {', '.join(unknown)}")
        users[("", user.id)] = user
    return TenancyConfig(
        sites, tenants, entry_points, index, users, api_keys, drained_sites=drained
    )


def _user(raw: Any, tenant_id: str, where: str) -> identity.User:
    """A user entry: {id, name, roles, locale, agent, password_hash | password, disabled}
    (operators: also `tenants`: a list, or "all")."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a user is a mapping, got {raw!r}")
    uid = str(_require(raw, "id", where))
    where = f"user {tenant_id or 'operator'}/{uid}"
    hashed, plain = raw.get("password_hash"), raw.get("password")
    if hashed and plain:
        raise ConfigError(f"{where}: give 'password' or 'password_hash', not both")
    try:
        roles = frozenset(identity.Role(str(r)) for r in raw.get("roles", []) or [])
    except ValueError:
        raise ConfigError(
            f"{where}: unknown role in {raw.get('roles')!r} (roles: "
            f"{', '.join(r.value for r in identity.Role)})"
        ) from None
    scope = identity.Scope()
    if not tenant_id:
        listed = raw.get("tenants", [])
        scope = (
            identity.Scope.everything() if listed == "all"
            else identity.Scope(frozenset(str(x) for x in listed or []))
        )
    try:
        if hashed:
            identity.check_password_hash(str(hashed))
        return identity.User(
            id=uid,
            tenant_id=tenant_id,
            roles=roles,
            display_name=str(raw.get("name", uid)),
            locale=str(raw.get("locale", "en")),
            agent_id=str(raw.get("agent", "")),
            password_hash=str(hashed) if hashed else (
                identity.hash_password(str(plain)) if plain else ""
            ),
            disabled=bool(raw.get("disabled", False)),
            operator_scope=scope,
        )
    except identity.IdentityError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _api_key(raw: Any, tenant_id: str, where: str) -> identity.ApiKey:
    """An issued API key: {id, name, scopes, hash, created_by, expires_ms}."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: an API key is a mapping, got {raw!r}")
    kid = str(_require(raw, "id", where))
    where = f"API key {tenant_id}/{kid}"
    encoded = str(_require(raw, "hash", where))
    try:
        creds.CredentialHash.parse(encoded)
        key = identity.ApiKey(
            kid, tenant_id, frozenset(str(s) for s in raw.get("scopes", []) or []), encoded,
            str(raw.get("created_by", "")),
            int(raw["expires_ms"]) if raw.get("expires_ms") else None, str(raw.get("name", "")),
        )
        identity.check_api_key(key, policy.PERMISSIONS)
    except (creds.CredentialHashError, identity.IdentityError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return key


def _add_credential(
    index: creds.CredentialIndex,
    plaintexts: dict[str, str],
    raw: dict[str, Any],
    tid: str,
    where: str,
) -> None:
    hashed, plain = raw.get("credential_hash"), raw.get("credential")
    if hashed and plain:
        raise ConfigError(f"{where}: give 'credential' or 'credential_hash', not both")
    if hashed:
        if "." in tid:
            raise ConfigError(
                f"{where}: a tenant with a credential_hash needs an id without '.' "
                "(its tokens read <tenant id>.<secret>)"
            )
        try:
            index.add_hash(tid, str(hashed))
        except creds.CredentialHashError as exc:
            raise ConfigError(f"{where}: credential_hash: {exc}") from exc
        return
    if not plain:
        raise ConfigError(f"{where}: missing 'credential_hash' (or plaintext 'credential')")
    secret = str(plain)
    if secret in plaintexts.values():
        raise ConfigError(f"{where}: credential shared with another tenant")
    plaintexts[tid] = secret
    index.add_plaintext(tid, secret)


def load(path: str | Path) -> TenancyConfig:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read tenancy config {path}: {exc}") from exc
    return parse(raw)
