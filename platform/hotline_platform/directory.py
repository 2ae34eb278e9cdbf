"""The live directory: tenants, sites, queues, agents, users, API keys and entry points as
facts on hotline.directory.v1, folded into the platform's TenancyConfig (users and API keys:
`TenancyConfig.users` / `.api_keys`, which the platform's resolvers read: auth.live_resolver).

Pure part (no broker, no gRPC): conversions between tenancy dataclasses and the facts of
proto/hotline/directory/v1/events.proto, the fold (`View`), the validation rules, `plan` (what
the one writer publishes for a request, or why it refuses) and `diff` (two configs -> changes,
for `hotline config apply`).

Adapter part: `DirectoryFollower` replays the topic to its end (end-of-partition reports, never
the high-water mark: bus.replay_then_follow), then follows it live; `StaticTenancy` serves a
YAML file instead (HOTLINE_DIRECTORY=off). Both answer `current()` and `subscribe(callback)`.

Entity keys: "tenant/<id>", "site/<id>", "queue/<tenant>/<id>", "agent/<tenant>/<id>",
"user/<tenant>/<id>" ("user/_operator/<id>" for BPO operator staff), "api_key/<tenant>/<key id>",
"entry_point/<address>", "prompt/<tenant>/<language>/<name>" (a tenant's own IVR prompt:
hotline_platform.prompts; `TenancyConfig.prompts`). Users carry an argon2id hash, API keys
a scrypt hash, never a secret. Every entity has a version: 1 when first defined, +1 per change,
removal included; a re-definition continues the count (an ETag never comes back).

Validation rules (checked by the writer on the whole directory as it would be after a request,
so two requests cannot each pass and together break one):
- errors (the request is refused, every reason listed): a field out of range; two changes to one
  entity in one request; a removal of something that does not exist; a queue, agent or entry
  point of an unknown tenant; an agent or entry point on an unknown site; an entry point to a
  missing queue; a queue that no entry point reaches (there is no other way in today); a queue
  defined in the request requiring a skill no agent of its tenant has (unknown skill); an IVR
  entry point whose flow breaks a rule of hotline_platform.ivr.problems (unknown node, start or
  node not reached, a loop of messages only, bad keys, digits, times, time zone, time-outs or
  retries) or routes to a missing queue of its tenant (IVR routes reach queues too); a tenant
  or site removed while something still uses it; a user with an unknown role, locale or
  tenant, a role/agent mismatch, an agent that does not exist or is already another user's, a
  password hash that is not argon2id, an operator scope naming an unknown tenant; an API key
  with a malformed id, an id another tenant's key has, unknown or per-agent scopes, a
  malformed hash; a prompt with a bad language or name, a duration out of range, or a
  content reference that is malformed, of another tenant, not audio/wav or of another hash.
- warnings (published anyway): an existing queue left without any agent having one of its
  skills by a change to agents (refusing it would block removing staff).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hotline.common.v1.envelope_pb2 import Skill
from hotline.directory.v1 import events_pb2 as pb
from hotline.directory.v1.directory_pb2 import Change
from hotline_platform import credentials as creds
from hotline_platform import identity, ivr, policy, prompts, sip_digest, tenancy
from hotline_platform.content import ContentRef
from hotline_platform.envelope import new_envelope

log = logging.getLogger(__name__)

#: Envelope tenant of facts about the operator's own entities (sites).
OPERATOR = "_operator"
#: `changed_by` of changes made with the operator credential.
OPERATOR_ACTOR = "operator"

# Change field -> DirectoryEvent field, in the order definitions are applied.
_DEFINE = {
    "define_site": "site_defined",
    "define_tenant": "tenant_defined",
    "define_queue": "queue_defined",
    "define_agent": "agent_defined",
    "define_user": "user_defined",
    "define_api_key": "api_key_defined",
    "define_entry_point": "entry_point_defined",
    "define_prompt": "prompt_defined",
}
_REMOVE = {
    "remove_prompt": "prompt_removed",
    "remove_entry_point": "entry_point_removed",
    "revoke_api_key": "api_key_revoked",
    "remove_user": "user_removed",
    "remove_agent": "agent_removed",
    "remove_queue": "queue_removed",
    "remove_tenant": "tenant_removed",
    "remove_site": "site_removed",
}
CHANGE_TO_EVENT = {**_DEFINE, **_REMOVE}
EVENT_TO_CHANGE = {v: k for k, v in CHANGE_TO_EVENT.items()}
_KIND_ORDER = ("site", "tenant", "queue", "agent", "user", "api_key", "entry_point", "prompt")
#: Kinds `diff` never removes: API keys are issued and revoked (`hotline api-keys`), not
#: declared, so a file that does not list a key leaves it alone; prompts are uploaded.
_NOT_PRUNED = ("api_key", "prompt")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_ENTRY_KINDS = {
    "queue": pb.ENTRY_POINT_KIND_QUEUE,
    "announcement": pb.ENTRY_POINT_KIND_ANNOUNCEMENT,
    "ivr": pb.ENTRY_POINT_KIND_IVR,
}
_ENTRY_KIND_NAMES = {v: k for k, v in _ENTRY_KINDS.items()}

Body = Any  # one of the *Defined / *Removed messages


class Refused(ValueError):
    """A request that breaks a rule; `reasons` lists every one, each naming the entity."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class VersionConflict(Refused):
    """An expected version does not match the directory (someone changed it meanwhile)."""


# ---------------------------------------------------------------------------------- keys


def key_of(body: Body) -> str:
    """The entity key a definition or removal is about."""
    name = body.DESCRIPTOR.name
    if name.startswith("Tenant"):
        return f"tenant/{body.tenant_id}"
    if name.startswith("Site"):
        return f"site/{body.site_id}"
    if name.startswith("Queue"):
        return f"queue/{body.tenant_id}/{body.queue_id}"
    if name.startswith("Agent"):
        return f"agent/{body.tenant_id}/{body.agent_id}"
    if name.startswith("EntryPoint"):
        return f"entry_point/{body.address}"
    if name.startswith("User"):
        return f"user/{body.tenant_id or OPERATOR}/{body.user_id}"
    if name.startswith("ApiKey"):
        return f"api_key/{body.tenant_id}/{body.key_id}"
    if name.startswith("Prompt"):
        return prompts.key(body.tenant_id, body.language, body.name)
    raise ValueError(f"not a directory fact: {name}")


def is_removal(field_name: str) -> bool:
    """A DirectoryEvent field (or Change field) that removes its entity."""
    return not field_name.endswith("_defined") and not field_name.startswith("define_")


def kind_of(key: str) -> str:
    return key.split("/", 1)[0]


def scope_of(body: Body) -> str:
    """The tenant a fact belongs to (its envelope tenant and record key), or OPERATOR (sites,
    operator staff)."""
    if body.DESCRIPTOR.name.startswith("Site"):
        return OPERATOR
    return str(body.tenant_id) or OPERATOR


def describe_key(key: str) -> str:
    """'queue/acme/support-en' -> 'queue acme/support-en'."""
    kind, _, rest = key.partition("/")
    return f"{kind.replace('_', ' ')} {rest}"


def change_body(change: Change) -> tuple[str, Body]:
    """(DirectoryEvent field name, message) of a Change."""
    which = change.WhichOneof("change")
    if which is None:
        raise Refused(["a change names no definition or removal"])
    return CHANGE_TO_EVENT[which], getattr(change, which)


def event_body(event: pb.DirectoryEvent) -> tuple[str, Body]:
    which = event.WhichOneof("event")
    if which is None:
        raise ValueError("directory event has no body")
    return which, getattr(event, which)


def as_change(field_name: str, body: Body) -> Change:
    change = Change()
    getattr(change, EVENT_TO_CHANGE[field_name]).CopyFrom(body)
    return change


# ------------------------------------------------------------- tenancy <-> definitions


def _skills_pb(levels: Iterable[tenancy.SkillLevel]) -> list[Skill]:
    return [Skill(name=s.name, level=s.level) for s in levels]


def _skills(levels: Iterable[Skill]) -> tuple[tenancy.SkillLevel, ...]:
    return tuple(tenancy.SkillLevel(s.name, int(s.level)) for s in levels)


def _codes_pb(codes: Iterable[tenancy.Code]) -> list[pb.Code]:
    return [pb.Code(code=c.code, label=c.label) for c in codes]


def _codes(codes: Iterable[pb.Code]) -> tuple[tenancy.Code, ...]:
    return tuple(tenancy.Code(c.code, c.label) for c in codes)


def user_definition(user: identity.User) -> pb.UserDefined:
    scope = user.operator_scope
    return pb.UserDefined(
        tenant_id=user.tenant_id,
        user_id=user.id,
        display_name=user.display_name,
        roles=sorted(r.value for r in user.roles),
        locale=user.locale,
        agent_id=user.agent_id,
        password_hash=user.password_hash,
        disabled=user.disabled,
        operator_scope=pb.OperatorScope(
            all_tenants=scope.all_tenants, tenant_ids=sorted(scope.tenants)
        ),
    )


def user_of(body: pb.UserDefined) -> identity.User:
    """The user of a definition; IdentityError when it breaks a rule (unknown role, ...)."""
    roles = []
    for name in body.roles:
        try:
            roles.append(identity.Role(name))
        except ValueError:
            known = ", ".join(r.value for r in identity.Role)
            raise identity.IdentityError(f"unknown role {name!r} (roles: {known})") from None
    scope = body.operator_scope
    return identity.User(
        id=body.user_id,
        tenant_id=body.tenant_id,
        roles=frozenset(roles),
        display_name=body.display_name,
        locale=body.locale or "en",
        agent_id=body.agent_id,
        password_hash=body.password_hash,
        disabled=body.disabled,
        operator_scope=identity.Scope(frozenset(scope.tenant_ids), scope.all_tenants),
    )


def api_key_definition(key: identity.ApiKey) -> pb.ApiKeyDefined:
    return pb.ApiKeyDefined(
        tenant_id=key.tenant_id,
        key_id=key.id,
        name=key.name,
        scopes=sorted(key.scopes),
        secret_hash=key.hash,
        created_by=key.created_by,
        expires_at_ms=key.expires_ms or 0,
    )


def api_key_of(body: pb.ApiKeyDefined) -> identity.ApiKey:
    return identity.ApiKey(
        body.key_id, body.tenant_id, frozenset(body.scopes), body.secret_hash, body.created_by,
        body.expires_at_ms or None, body.name,
    )


def _ivr_node_pb(node: ivr.Node) -> pb.IvrNode:
    match node:
        case ivr.Menu():
            return pb.IvrNode(menu=pb.IvrMenu(
                prompt=node.prompt, timeout_ms=node.timeout_ms, retries=node.retries,
                on_failure=node.on_failure, prompt_languages=list(node.prompt_languages),
                options={
                    k: pb.IvrOption(language=o.language, next=o.next)
                    for k, o in node.options.items()
                },
            ))
        case ivr.Collect():
            return pb.IvrNode(collect=pb.IvrCollect(
                prompt=node.prompt, min_digits=node.min_digits, max_digits=node.max_digits,
                terminator=node.terminator, timeout_ms=node.timeout_ms, retries=node.retries,
                next=node.next, on_failure=node.on_failure,
            ))
        case ivr.Route():
            return pb.IvrNode(route=pb.IvrRoute(
                queue_id=node.queue_id, required_skills=_skills_pb(node.required_skills),
                priority=node.priority, intent=node.intent, language=node.language,
            ))
        case ivr.Message():
            return pb.IvrNode(message=pb.IvrMessage(prompt=node.prompt, next=node.next))
        case _:
            return pb.IvrNode(hangup=pb.IvrHangup())


def _hours_pb(hours: ivr.BusinessHours | None) -> pb.BusinessHours | None:
    return None if hours is None else pb.BusinessHours(
        time_zone=hours.time_zone,
        open=[
            pb.OpeningWindow(days=list(w.days), opens=w.opens, closes=w.closes)
            for w in hours.open
        ],
        holidays=list(hours.holidays),
        closed=hours.closed,
    )


def _hours_of(h: pb.BusinessHours) -> ivr.BusinessHours:
    return ivr.BusinessHours(
        h.time_zone, tuple(ivr.Window(tuple(w.days), w.opens, w.closes) for w in h.open),
        tuple(h.holidays), h.closed,
    )


def ivr_definition(flow: ivr.IvrFlow) -> pb.IvrFlow:
    return pb.IvrFlow(
        language=flow.language,
        start=flow.start,
        nodes={node_id: _ivr_node_pb(node) for node_id, node in flow.nodes.items()},
        hours=_hours_pb(flow.hours),
    )


def _ivr_node_of(node: pb.IvrNode) -> ivr.Node | None:
    """None for a node of no kind (refused by the writer, left out by a reader)."""
    match node.WhichOneof("node"):
        case "menu":
            m = node.menu
            return ivr.Menu(
                m.prompt, {k: ivr.Option(o.next, o.language) for k, o in m.options.items()},
                m.timeout_ms, m.retries, m.on_failure, tuple(m.prompt_languages),
            )
        case "collect":
            c = node.collect
            return ivr.Collect(
                c.prompt, c.next, c.min_digits, c.max_digits, c.terminator, c.timeout_ms,
                c.retries, c.on_failure,
            )
        case "route":
            r = node.route
            return ivr.Route(
                r.queue_id, _skills(r.required_skills), r.priority, r.intent, r.language
            )
        case "message":
            return ivr.Message(node.message.prompt, node.message.next)
        case "hangup":
            return ivr.Hangup()
    return None


def ivr_of(flow: pb.IvrFlow) -> ivr.IvrFlow:
    nodes = {node_id: _ivr_node_of(node) for node_id, node in flow.nodes.items()}
    return ivr.IvrFlow(
        start=flow.start,
        nodes={node_id: node for node_id, node in nodes.items() if node is not None},
        language=flow.language,
        hours=_hours_of(flow.hours) if flow.HasField("hours") else None,
    )


def _entry_queues(body: pb.EntryPointDefined) -> set[str]:
    """The queues an entry point leads to: its queue, or its IVR's routes."""
    if body.kind == pb.ENTRY_POINT_KIND_QUEUE:
        return {body.queue_id}
    if body.kind == pb.ENTRY_POINT_KIND_IVR:
        return {n.route.queue_id for n in body.ivr.nodes.values() if n.HasField("route")}
    return set()


def queue_definition(q: tenancy.Queue) -> pb.QueueDefined:
    return pb.QueueDefined(
        tenant_id=q.tenant_id,
        queue_id=q.id,
        required_skills=_skills_pb(q.required_skills),
        language=q.language,
        priority=q.priority,
        service_level_threshold_s=q.service_level_threshold_s,
        service_level_target=q.service_level_target,
        ring_timeout_ms=round(q.ring_timeout_s * 1000),
        wrap_up_timeout_ms=round(q.wrap_up_timeout_s * 1000),
        wrap_up_codes=_codes_pb(q.wrap_up_codes),
        # The default strategy travels as "" (what an older writer leaves unset).
        strategy="" if q.strategy == "longest_idle" else q.strategy,
        any_language=q.any_language,
        priority_aging_ms=round(q.priority_aging_s * 1000),
        home_site_id=q.home_site,
        site_overflow_ms=round(q.site_overflow_s * 1000),
        expansions=[
            pb.RoutingStep(
                after_ms=round(x.after_s * 1000), relax_levels_by=x.relax_levels_by,
                add_skills=_skills_pb(x.add_skills), add_sites=list(x.add_sites),
                add_queue_id=x.add_queue,
            )
            for x in q.expansions
        ],
        preferred_agent_timeout_ms=round(q.preferred_agent_timeout_s * 1000),
        prefer_last_agent=q.prefer_last_agent,
        max_wait_ms=round(q.max_wait_s * 1000),
        when_no_agents=q.when_no_agents,
        flow_out=_flow_out_pb(q.flow_out),
        hours=_hours_pb(q.hours),
        closed=_flow_out_pb(q.closed),
        closed_prompt=q.closed_prompt,
        callback_after_ms=round(q.callback_after_s * 1000),
    )


def _flow_out_pb(flow: tenancy.FlowOut) -> pb.FlowOutTarget:
    # The default travels as "" (what an older writer leaves unset).
    return pb.FlowOutTarget(kind="" if flow.kind == "closed" else flow.kind, queue_id=flow.queue)


def queue_of(q: pb.QueueDefined) -> tenancy.Queue:
    return tenancy.Queue(
        id=q.queue_id,
        tenant_id=q.tenant_id,
        required_skills=_skills(q.required_skills),
        language=q.language,
        priority=q.priority,
        service_level_threshold_s=q.service_level_threshold_s,
        service_level_target=q.service_level_target,
        ring_timeout_s=q.ring_timeout_ms / 1000,
        wrap_up_timeout_s=q.wrap_up_timeout_ms / 1000,
        wrap_up_codes=_codes(q.wrap_up_codes),
        strategy=q.strategy or "longest_idle",
        any_language=q.any_language,
        priority_aging_s=q.priority_aging_ms / 1000,
        home_site=q.home_site_id,
        site_overflow_s=q.site_overflow_ms / 1000,
        expansions=tuple(
            tenancy.RoutingStep(
                x.after_ms / 1000, x.relax_levels_by, _skills(x.add_skills),
                tuple(x.add_sites), x.add_queue_id,
            )
            for x in q.expansions
        ),
        preferred_agent_timeout_s=q.preferred_agent_timeout_ms / 1000,
        prefer_last_agent=q.prefer_last_agent,
        max_wait_s=q.max_wait_ms / 1000,
        when_no_agents=q.when_no_agents,
        flow_out=tenancy.FlowOut(q.flow_out.kind or "closed", q.flow_out.queue_id),
        hours=_hours_of(q.hours) if q.HasField("hours") else None,
        closed=tenancy.FlowOut(q.closed.kind or "closed", q.closed.queue_id),
        closed_prompt=q.closed_prompt,
        callback_after_s=q.callback_after_ms / 1000,
    )


def definitions_of(config: tenancy.TenancyConfig) -> dict[str, Body]:
    """Every entity of a config as its definition message, by key."""
    out: dict[str, Body] = {}
    for site in config.sites:
        out[f"site/{site}"] = pb.SiteDefined(
            site_id=site, name=site, drained=site in config.drained_sites
        )
    for tenant in config.tenants.values():
        out[f"tenant/{tenant.id}"] = pb.TenantDefined(
            tenant_id=tenant.id,
            name=tenant.name,
            kpi=pb.KpiContract(
                service_level=tenant.kpi.service_level,
                short_abandon_ms=round(tenant.kpi.short_abandon_s * 1000),
                abandonment_denominator=tenant.kpi.abandonment_denominator,
            ),
            credential_hash=tenant.credential_hash,
            credential_unscoped=tenant.credential_unscoped,
            not_ready_reasons=_codes_pb(tenant.not_ready_reasons),
        )
        for q in tenant.queues.values():
            out[f"queue/{tenant.id}/{q.id}"] = queue_definition(q)
        for a in tenant.agents.values():
            out[f"agent/{tenant.id}/{a.id}"] = pb.AgentDefined(
                tenant_id=tenant.id,
                agent_id=a.id,
                name=a.name,
                site_id=a.site_id,
                skills=_skills_pb(a.skills),
                languages=list(a.languages),
                phone=a.phone,
                sip_username=a.sip_username,
                sip_ha1_md5=a.sip_ha1_md5,
                sip_ha1_sha256=a.sip_ha1_sha256,
            )
    for user in config.users.values():
        user_body = user_definition(user)
        out[key_of(user_body)] = user_body
    for key in config.api_keys.values():
        key_body = api_key_definition(key)
        out[key_of(key_body)] = key_body
    for ep in config.entry_points.values():
        out[f"entry_point/{ep.address}"] = pb.EntryPointDefined(
            tenant_id=ep.tenant_id,
            address=ep.address,
            kind=_ENTRY_KINDS.get(ep.kind, pb.ENTRY_POINT_KIND_UNSPECIFIED),
            queue_id=ep.queue_id,
            site_id=ep.site_id,
            ivr=None if ep.ivr is None else ivr_definition(ep.ivr),
            priority=ep.priority,
        )
    for p in config.prompts.values():
        out[prompts.key(p.tenant_id, p.language, p.name)] = pb.PromptDefined(
            tenant_id=p.tenant_id, language=p.language, name=p.name, content_ref=p.content_ref,
            duration_ms=p.duration_ms, sha256=p.sha256,
        )
    return out


class _IndexCache:
    """Keeps the CredentialIndex (and the tokens it verified) while credentials stay the same."""

    def __init__(self) -> None:
        self._signature: tuple[tuple[str, str, bool], ...] | None = None
        self._index = creds.CredentialIndex()

    def index(self, tenants: Iterable[pb.TenantDefined]) -> creds.CredentialIndex:
        signature = tuple(
            sorted((t.tenant_id, t.credential_hash, t.credential_unscoped) for t in tenants)
        )
        if signature != self._signature:
            index = creds.CredentialIndex()
            for tid, encoded, unscoped in signature:
                if encoded:
                    index.add_hash(tid, encoded, scoped_only=not unscoped)
            self._index, self._signature = index, signature
        return self._index


def to_config(
    definitions: Mapping[str, Body], index_cache: _IndexCache | None = None
) -> tenancy.TenancyConfig:
    """The TenancyConfig of a set of definitions (entities of unknown tenants are left out)."""
    by_kind: dict[str, list[Body]] = {k: [] for k in _KIND_ORDER}
    for key in sorted(definitions):
        by_kind[kind_of(key)].append(definitions[key])
    sites = tuple(s.site_id for s in by_kind["site"])
    queues: dict[str, dict[str, tenancy.Queue]] = {}
    agents: dict[str, dict[str, tenancy.Agent]] = {}
    for q in by_kind["queue"]:
        queues.setdefault(q.tenant_id, {})[q.queue_id] = queue_of(q)
    for a in by_kind["agent"]:
        agents.setdefault(a.tenant_id, {})[a.agent_id] = tenancy.Agent(
            id=a.agent_id,
            tenant_id=a.tenant_id,
            name=a.name,
            site_id=a.site_id,
            skills=_skills(a.skills),
            languages=tuple(a.languages),
            phone=a.phone,
            sip_username=a.sip_username,
            sip_ha1_md5=a.sip_ha1_md5,
            sip_ha1_sha256=a.sip_ha1_sha256,
        )
    tenants: dict[str, tenancy.Tenant] = {}
    for t in by_kind["tenant"]:
        tenants[t.tenant_id] = tenancy.Tenant(
            id=t.tenant_id,
            name=t.name,
            credential_hash=t.credential_hash,
            queues=queues.get(t.tenant_id, {}),
            agents=agents.get(t.tenant_id, {}),
            kpi=tenancy.KpiDefinitions(
                service_level=t.kpi.service_level or "exclude",
                short_abandon_s=t.kpi.short_abandon_ms / 1000,
                abandonment_denominator=t.kpi.abandonment_denominator or "offered",
            ),
            credential_unscoped=t.credential_unscoped,
            not_ready_reasons=_codes(t.not_ready_reasons),
        )
    entry_points = {
        e.address: tenancy.EntryPoint(
            e.address, e.tenant_id, e.queue_id, _ENTRY_KIND_NAMES.get(e.kind, "queue"), e.site_id,
            ivr_of(e.ivr) if e.HasField("ivr") else None, e.priority,
        )
        for e in by_kind["entry_point"]
        if e.tenant_id in tenants
    }
    users: dict[tuple[str, str], identity.User] = {}
    for u in by_kind["user"]:
        if u.tenant_id and u.tenant_id not in tenants:
            continue
        try:
            users[(u.tenant_id, u.user_id)] = user_of(u)
        except identity.IdentityError as exc:  # the writer validates; never crash a reader
            log.warning("directory user %s/%s left out: %s", u.tenant_id, u.user_id, exc)
    api_keys = {
        k.key_id: api_key_of(k) for k in by_kind["api_key"] if k.tenant_id in tenants
    }
    prompt_of = {
        (p.tenant_id, p.language, p.name): tenancy.Prompt(
            p.tenant_id, p.language, p.name, p.content_ref, p.duration_ms, p.sha256
        )
        for p in by_kind["prompt"] if p.tenant_id in tenants
    }
    index = (index_cache or _IndexCache()).index(by_kind["tenant"])
    return tenancy.TenancyConfig(
        sites, tenants, entry_points, index, users, api_keys, prompt_of,
        drained_sites=frozenset(s.site_id for s in by_kind["site"] if s.drained),
    )


# ------------------------------------------------------------------------------- the fold


@dataclass
class View:
    """The directory folded from its facts: the latest definition of every live entity, every
    entity's version (removed ones too) and who changed it last. Not thread-safe."""

    definitions: dict[str, Body] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    changed_by: dict[str, str] = field(default_factory=dict)
    events: dict[str, pb.DirectoryEvent] = field(default_factory=dict)
    _index: _IndexCache = field(default_factory=_IndexCache, repr=False)

    def apply(self, event: pb.DirectoryEvent) -> None:
        which, body = event_body(event)
        key = key_of(body)
        self.versions[key] = int(event.entity_version) or self.versions.get(key, 0) + 1
        self.changed_by[key] = event.changed_by
        if which.endswith("_defined"):
            self.definitions[key] = body
            self.events[key] = event
        else:
            self.definitions.pop(key, None)
            self.events.pop(key, None)

    def copy(self) -> View:
        return View(
            dict(self.definitions), dict(self.versions), dict(self.changed_by), dict(self.events),
            self._index,
        )

    def config(self) -> tenancy.TenancyConfig:
        return to_config(self.definitions, self._index)

    def keys_of_tenant(self, tenant_id: str) -> list[str]:
        return sorted(k for k, b in self.definitions.items() if scope_of(b) == tenant_id)


def fold(events: Iterable[pb.DirectoryEvent]) -> View:
    view = View()
    for event in events:
        view.apply(event)
    return view


# ------------------------------------------------------------------------------ validation


def _check_fields(key: str, body: Body) -> list[str]:
    """Rules about one definition alone."""
    what = describe_key(key)
    errors: list[str] = []
    name = body.DESCRIPTOR.name
    ids = {
        "TenantDefined": ("tenant_id",),
        "SiteDefined": ("site_id",),
        "QueueDefined": ("tenant_id", "queue_id"),
        "AgentDefined": ("tenant_id", "agent_id"),
        "EntryPointDefined": ("tenant_id",),
        "UserDefined": ("user_id",),
        "ApiKeyDefined": ("tenant_id",),
        "PromptDefined": ("tenant_id",),
    }.get(name, ())
    for attr in ids:
        value = getattr(body, attr)
        if not _ID.match(value):
            errors.append(
                f"{what}: {attr} {value!r} must be 1-64 letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
    if name == "TenantDefined":
        if not body.credential_hash:
            errors.append(f"{what}: missing credential_hash")
        else:
            try:
                creds.CredentialHash.parse(body.credential_hash)
            except creds.CredentialHashError as exc:
                errors.append(f"{what}: credential_hash: {exc}")
        kpi = body.kpi
        if kpi.service_level and kpi.service_level not in tenancy.SERVICE_LEVEL_DEFINITIONS:
            errors.append(
                f"{what}: kpi.service_level {kpi.service_level!r} is not one of "
                f"{', '.join(tenancy.SERVICE_LEVEL_DEFINITIONS)}"
            )
        if (
            kpi.abandonment_denominator
            and kpi.abandonment_denominator not in tenancy.ABANDON_DENOMINATORS
        ):
            errors.append(
                f"{what}: kpi.abandonment_denominator {kpi.abandonment_denominator!r} is not "
                f"one of {', '.join(tenancy.ABANDON_DENOMINATORS)}"
            )
        errors += _check_codes(what, "not_ready_reasons", body.not_ready_reasons)
    elif name == "QueueDefined":
        if not 0 < body.service_level_target <= 1:
            errors.append(
                f"{what}: service_level_target {body.service_level_target} must be in (0, 1]"
            )
        if body.service_level_threshold_s <= 0:
            errors.append(f"{what}: service_level_threshold_s must be > 0")
        if body.ring_timeout_ms <= 0:
            errors.append(f"{what}: ring_timeout_ms must be > 0")
        if body.wrap_up_timeout_ms <= 0:
            errors.append(f"{what}: wrap_up_timeout_ms must be > 0")
        errors += _check_codes(what, "wrap_up_codes", body.wrap_up_codes)
    elif name == "AgentDefined":
        if not body.phone and not body.sip_username:
            errors.append(f"{what}: missing phone (or sip_username for a registering phone)")
        if body.sip_username:
            if not sip_digest.is_username(body.sip_username):
                errors.append(f"{what}: sip_username {body.sip_username!r} is not a SIP user")
            if not (
                sip_digest.is_ha1("MD5", body.sip_ha1_md5)
                and sip_digest.is_ha1("SHA-256", body.sip_ha1_sha256)
            ):
                errors.append(f"{what}: sip_username needs hex sip_ha1_md5 and sip_ha1_sha256")
    elif name == "UserDefined":
        if body.tenant_id and not _ID.match(body.tenant_id):
            errors.append(f"{what}: tenant_id {body.tenant_id!r} is not a valid id")
        try:
            user_of(body)
        except identity.IdentityError as exc:
            errors.append(f"{what}: {exc}")
        if body.password_hash:
            try:
                identity.check_password_hash(body.password_hash)
            except identity.IdentityError as exc:
                errors.append(f"{what}: {exc}")
    elif name == "ApiKeyDefined":
        try:
            identity.check_api_key(api_key_of(body), policy.PERMISSIONS)
        except identity.IdentityError as exc:
            errors.append(f"{what}: {exc}")
        try:
            creds.CredentialHash.parse(body.secret_hash)
        except creds.CredentialHashError as exc:
            errors.append(f"{what}: secret_hash: {exc}")
    elif name == "PromptDefined":
        errors += _check_prompt(what, body)
    elif name == "EntryPointDefined":
        if not body.address or "/" in body.address:
            errors.append(f"{what}: address must be non-empty and contain no '/'")
        if body.kind not in _ENTRY_KIND_NAMES:
            errors.append(f"{what}: kind must be {', '.join(_ENTRY_KINDS)}")
        elif body.kind == pb.ENTRY_POINT_KIND_QUEUE and not body.queue_id:
            errors.append(f"{what}: a queue entry point needs a queue_id")
        if body.kind == pb.ENTRY_POINT_KIND_IVR:
            errors += _check_ivr(what, body)
        elif body.HasField("ivr"):
            errors.append(f"{what}: only an entry point of kind ivr has an ivr flow")
    return errors


def _check_prompt(what: str, body: pb.PromptDefined) -> list[str]:
    """A prompt names audio of its own tenant in the content store (the gateway checked the
    audio itself before storing it)."""
    errors = [f"{what}: {p}" for p in prompts.problems_of_ids(body.language, body.name)]
    try:
        ref = ContentRef.parse(body.content_ref)
    except ValueError as exc:
        return [*errors, f"{what}: content_ref: {exc}"]
    if ref.tenant_id != body.tenant_id:
        errors.append(f"{what}: content_ref names content of tenant {ref.tenant_id!r}")
    if ref.content_type != prompts.CONTENT_TYPE:
        errors.append(f"{what}: content_ref holds {ref.content_type}, not {prompts.CONTENT_TYPE}")
    if ref.sha256 != body.sha256:
        errors.append(f"{what}: sha256 is not the content_ref's")
    if not prompts.MIN_DURATION_MS <= body.duration_ms <= prompts.MAX_DURATION_MS:
        errors.append(f"{what}: duration_ms {body.duration_ms} out of range")
    return errors


def _check_ivr(what: str, body: pb.EntryPointDefined) -> list[str]:
    if not body.HasField("ivr"):
        return [f"{what}: an entry point of kind ivr needs its ivr flow"]
    errors = [
        f"{what}: ivr node {node_id}: no kind (menu, collect, route, message or hangup)"
        for node_id, node in sorted(body.ivr.nodes.items()) if node.WhichOneof("node") is None
    ]
    if body.queue_id:
        errors.append(f"{what}: an IVR names its queues in route nodes, not queue_id")
    return errors + [f"{what}: ivr {p}" for p in ivr.problems(ivr_of(body.ivr))]


def _check_codes(what: str, attr: str, codes: Iterable[pb.Code]) -> list[str]:
    seen: set[str] = set()
    errors = []
    for c in codes:
        if not c.code:
            errors.append(f"{what}: {attr} has an empty code")
        elif c.code in seen:
            errors.append(f"{what}: {attr} lists {c.code!r} twice")
        seen.add(c.code)
    return errors


def _check_user(
    key: str, body: pb.UserDefined, touched: set[str], tenants: set[str],
    agents: set[tuple[str, str]], agent_users: Mapping[tuple[str, str], list[str]],
) -> list[str]:
    """Rules of a user against the rest of the directory: its agent exists and is no other
    user's; an operator's listed tenants exist."""
    what = describe_key(key)
    errors = []
    if body.agent_id:
        agent_key = f"agent/{body.tenant_id}/{body.agent_id}"
        if (body.tenant_id, body.agent_id) not in agents and (
            key in touched or agent_key in touched
        ):
            errors.append(
                f"{what}: agent {body.agent_id!r} of tenant {body.tenant_id} does not exist"
            )
        same = agent_users.get((body.tenant_id, body.agent_id), [])
        if len(same) > 1 and key in touched:
            others = ", ".join(describe_key(k) for k in same if k != key)
            errors.append(f"{what}: agent {body.agent_id!r} is already {others}")
    if not body.tenant_id and key in touched:
        unknown = sorted(set(body.operator_scope.tenant_ids) - tenants)
        if unknown:
            errors.append(f"{what}: operator scope names unknown tenant(s) {', '.join(unknown)}")
    return errors


def validate(
    after: Mapping[str, Body], touched: Iterable[str], before: Mapping[str, Body] | None = None
) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the directory `after` a request that changed the `touched` keys.

    Whole-directory rules are checked on every entity the request could affect; an error
    names the entity and what is wrong with it."""
    touched = set(touched)
    before = before or {}
    errors: list[str] = []
    warnings: list[str] = []
    for key in sorted(touched):
        if key in after:
            errors += _check_fields(key, after[key])
    sites = {b.site_id for k, b in after.items() if kind_of(k) == "site"}
    tenants = {b.tenant_id for k, b in after.items() if kind_of(k) == "tenant"}
    queues = {(b.tenant_id, b.queue_id) for k, b in after.items() if kind_of(k) == "queue"}
    reached = {
        (b.tenant_id, queue_id)
        for k, b in after.items()
        if kind_of(k) == "entry_point"
        for queue_id in _entry_queues(b)
    }
    skills: dict[str, set[str]] = {}
    for k, b in after.items():
        if kind_of(k) == "agent":
            skills.setdefault(b.tenant_id, set()).update(s.name for s in b.skills)
    agents_touched = {b_key for b_key in touched if kind_of(b_key) == "agent"}
    agents = {(b.tenant_id, b.agent_id) for k, b in after.items() if kind_of(k) == "agent"}
    agent_users: dict[tuple[str, str], list[str]] = {}
    key_ids: dict[str, list[str]] = {}
    sip_users: dict[tuple[str, str], list[str]] = {}
    for k, b in after.items():
        if kind_of(k) == "agent" and b.sip_username:
            sip_users.setdefault((b.tenant_id, b.sip_username), []).append(k)
        if kind_of(k) == "user" and b.agent_id:
            agent_users.setdefault((b.tenant_id, b.agent_id), []).append(k)
        elif kind_of(k) == "api_key":
            key_ids.setdefault(b.key_id, []).append(k)
    for key in sorted(after):
        body = after[key]
        kind = kind_of(key)
        what = describe_key(key)
        tenant_owned = kind in ("queue", "agent", "entry_point", "api_key", "prompt") or (
            kind == "user" and body.tenant_id
        )
        if tenant_owned and body.tenant_id not in tenants:
            if key in touched:  # (a removed tenant's users: see the removals below)
                errors.append(f"{what}: tenant {body.tenant_id!r} does not exist")
            continue
        if kind == "user":
            errors += _check_user(key, body, touched, tenants, agents, agent_users)
        if kind == "api_key" and key in touched and len(key_ids.get(body.key_id, ())) > 1:
            others = ", ".join(describe_key(k) for k in key_ids[body.key_id] if k != key)
            errors.append(f"{what}: key id {body.key_id!r} already used by {others}")
        if kind == "agent" and key in touched and body.sip_username:
            same_sip = sip_users.get((body.tenant_id, body.sip_username), [])
            if len(same_sip) > 1:
                others = ", ".join(describe_key(k) for k in same_sip if k != key)
                errors.append(
                    f"{what}: sip_username {body.sip_username!r} already used by {others}"
                )
        placed = kind in ("agent", "entry_point")
        if placed and body.site_id and body.site_id not in sites and key in touched:
            errors.append(f"{what}: site {body.site_id!r} does not exist")
        if kind == "agent" and not body.site_id and sites and key in touched:
            errors.append(f"{what}: site is required (sites: {', '.join(sorted(sites))})")
        for queue_id in sorted(_entry_queues(body) if kind == "entry_point" else ()):
            queue_key = f"queue/{body.tenant_id}/{queue_id}"
            if queue_id and (body.tenant_id, queue_id) not in queues and (
                key in touched or queue_key in touched
            ):
                errors.append(
                    f"{what}: queue {queue_id!r} of tenant {body.tenant_id} does not exist"
                )
        if kind == "queue":
            entry_keys = {
                k for k, b in before.items()
                if kind_of(k) == "entry_point" and b.tenant_id == body.tenant_id
                and body.queue_id in _entry_queues(b)
            }
            if (body.tenant_id, body.queue_id) not in reached and (
                key in touched or entry_keys & touched
            ):
                errors.append(
                    f"{what}: no entry point reaches this queue (define an entry point with "
                    f"queue_id {body.queue_id!r}, or remove the queue)"
                )
            if key in touched:
                tenant_queues = {qid for tid, qid in queues if tid == body.tenant_id}
                errors += [
                    f"{what}: {p}"
                    for p in tenancy.routing_problems(queue_of(body), sites, tenant_queues)
                ]
            have = skills.get(body.tenant_id, set())
            missing = sorted({s.name for s in body.required_skills} - have)
            if missing and key in touched:
                errors.append(
                    f"{what}: unknown skill(s) {', '.join(missing)}: no agent of tenant "
                    f"{body.tenant_id} has them"
                )
            elif missing and any(k.startswith(f"agent/{body.tenant_id}/") for k in agents_touched):
                warnings.append(
                    f"{what}: after this change no agent of tenant {body.tenant_id} has "
                    f"skill(s) {', '.join(missing)}; its contacts will wait"
                )
    # Removals: something still using what is removed.
    for key in sorted(touched - set(after)):
        kind = kind_of(key)
        if key not in before:
            continue
        old = before[key]
        what = describe_key(key)
        if kind == "tenant":
            users = sorted(
                describe_key(k) for k, b in after.items()
                if kind_of(k) in ("queue", "agent", "entry_point", "user", "api_key", "prompt")
                and b.tenant_id == old.tenant_id
            )
            users += sorted(
                f"{describe_key(k)} (operator scope)" for k, b in after.items()
                if kind_of(k) == "user" and old.tenant_id in b.operator_scope.tenant_ids
            )
            if users:
                errors.append(f"{what}: cannot remove, still has {', '.join(users)}")
        elif kind == "site":
            users = sorted(
                describe_key(k) for k, b in after.items()
                if kind_of(k) in ("agent", "entry_point") and b.site_id == old.site_id
            )
            if users:
                errors.append(f"{what}: cannot remove, still used by {', '.join(users)}")
    return errors, warnings


# --------------------------------------------------------------------------- the writer


def plan(
    view: View,
    changes: Iterable[Change],
    *,
    actor: str,
    producer: str,
    expected_versions: Mapping[str, int] | None = None,
    correlation_id: str = "",
    occurred_at_ms: int | None = None,
) -> tuple[list[pb.DirectoryEvent], list[str]]:
    """The facts a request publishes (in order), and warnings; raises Refused or
    VersionConflict. A definition equal to the current one publishes nothing."""
    expected = dict(expected_versions or {})
    conflicts = []
    for key, version in sorted(expected.items()):
        current = view.versions.get(key, 0) if key in view.definitions else 0
        if version != current:
            have = f"version {current}" if current else "no such entity"
            conflicts.append(
                f"{describe_key(key)}: expected version {version}, the directory has {have}"
            )
    if conflicts:
        raise VersionConflict(conflicts)
    errors: list[str] = []
    seen: set[str] = set()
    steps: list[tuple[str, str, Body]] = []
    for change in changes:
        which, body = change_body(change)
        key = key_of(body)
        if key in seen:
            errors.append(f"{describe_key(key)}: changed twice in one request (duplicate id)")
            continue
        seen.add(key)
        if is_removal(which) and key not in view.definitions:
            errors.append(f"{describe_key(key)}: does not exist, cannot remove")
            continue
        if which.endswith("_defined") and view.definitions.get(key) == body:
            continue  # no change
        steps.append((which, key, body))
    if errors:
        raise Refused(errors)
    order = {f: i for i, f in enumerate(list(_DEFINE.values()) + list(_REMOVE.values()))}
    steps.sort(key=lambda s: order[s[0]])
    after = dict(view.definitions)
    for which, key, body in steps:
        if which.endswith("_defined"):
            after[key] = body
        else:
            after.pop(key, None)
    errors, warnings = validate(after, [k for _, k, _ in steps], view.definitions)
    if errors:
        raise Refused(errors)
    events = []
    for which, key, body in steps:
        scope = scope_of(body)
        event = pb.DirectoryEvent(
            envelope=new_envelope(
                tenant_id=scope,
                producer=producer,
                correlation_id=correlation_id,
                occurred_at_ms=occurred_at_ms,
            ),
            changed_by=actor,
            entity_version=view.versions.get(key, 0) + 1,
        )
        getattr(event, which).CopyFrom(body)
        events.append(event)
    return events, warnings


def required_scope(view: View, change: Change) -> str:
    """Who may make a change: a tenant id (that tenant's credential, or the operator), or
    OPERATOR (the operator credential only): tenants and sites are the operator's."""
    _, body = change_body(change)
    kind = kind_of(key_of(body))
    if kind in ("tenant", "site"):
        return OPERATOR
    return str(body.tenant_id) or OPERATOR  # operator staff are the operator's


# ---------------------------------------------------------------------------------- diff


def plaintext_credentials(raw: Mapping[str, Any]) -> dict[str, str]:
    """Tenant id -> plaintext `credential` of a raw tenancy YAML (development configs), so
    that `diff` can tell whether it matches a stored hash."""
    out = {}
    for t in raw.get("tenants", []) or []:
        if isinstance(t, dict) and t.get("credential") and t.get("id"):
            out[str(t["id"])] = str(t["credential"])
    return out


def plaintext_passwords(raw: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(tenant id, user id) -> plaintext development `password` of a raw tenancy YAML
    (operators under tenant id ""), so that `diff` can tell whether it matches a stored hash."""
    out: dict[tuple[str, str], str] = {}
    for t in raw.get("tenants", []) or []:
        if isinstance(t, dict):
            for u in t.get("users", []) or []:
                if isinstance(u, dict) and u.get("password") and u.get("id"):
                    out[(str(t.get("id", "")), str(u["id"]))] = str(u["password"])
    for u in raw.get("operators", []) or []:
        if isinstance(u, dict) and u.get("password") and u.get("id"):
            out[("", str(u["id"]))] = str(u["password"])
    return out


def diff(
    current: tenancy.TenancyConfig | Mapping[str, Body],
    desired: tenancy.TenancyConfig,
    plaintexts: Mapping[str, str] | None = None,
    passwords: Mapping[tuple[str, str], str] | None = None,
) -> list[Change]:
    """The changes that turn `current` into `desired`: definitions (sites, tenants, queues,
    agents, users, API keys, entry points) then removals (the reverse order; API keys are
    never removed here: they are revoked). A tenant whose desired plaintext credential
    verifies against the current hash keeps that hash (no change); so does a user whose
    plaintext development `password` (`passwords`, (tenant, user) -> password) verifies."""
    have = current if isinstance(current, Mapping) else definitions_of(current)
    want = definitions_of(desired)
    plaintexts = plaintexts or {}
    passwords = passwords or {}
    out: list[tuple[int, str, Change]] = []
    for key, body in want.items():
        old = have.get(key)
        if kind_of(key) == "user" and old is not None:
            password = passwords.get((body.tenant_id, body.user_id))
            if password is not None and old.password_hash and identity.verify_password(
                old.password_hash, password
            ):
                body = pb.UserDefined()
                body.CopyFrom(want[key])
                body.password_hash = old.password_hash
        if kind_of(key) == "tenant" and old is not None and body.tenant_id in plaintexts:
            same_secret = old.credential_unscoped == body.credential_unscoped and _verifies(
                plaintexts[body.tenant_id], old.credential_hash
            )
            if same_secret:
                body = pb.TenantDefined()
                body.CopyFrom(want[key])
                body.credential_hash = old.credential_hash
        if old != body:
            field_name = kind_of(key) + "_defined"
            out.append((_KIND_ORDER.index(kind_of(key)), key, as_change(field_name, body)))
    for key, body in have.items():
        if key not in want and kind_of(key) not in _NOT_PRUNED:
            field_name = kind_of(key) + "_removed"
            removal = getattr(pb, type(body).__name__.replace("Defined", "Removed"))()
            for attr in ("tenant_id", "site_id", "queue_id", "agent_id", "address", "user_id"):
                if attr in removal.DESCRIPTOR.fields_by_name:
                    setattr(removal, attr, getattr(body, attr))
            out.append((10 - _KIND_ORDER.index(kind_of(key)), key, as_change(field_name, removal)))
    out.sort(key=lambda item: (item[0], item[1]))
    return [c for _, _, c in out]


def _verifies(secret: str, encoded: str) -> bool:
    try:
        return creds.verify(secret, encoded)
    except creds.CredentialHashError:
        return False


def describe_change(change: Change) -> str:
    """One line for people: '+ queue acme/support-en' (defined), '- agent acme/a1' (removed)."""
    which, body = change_body(change)
    sign = "-" if is_removal(which) else "+"
    return f"{sign} {describe_key(key_of(body))}"


# ------------------------------------------------------------------------------ followers

Listener = Callable[[tenancy.TenancyConfig], None]


class StaticTenancy:
    """The tenancy YAML file, read once (HOTLINE_DIRECTORY=off): the follower's interface."""

    failed: BaseException | None = None  # never: nothing to follow

    def __init__(self, config: tenancy.TenancyConfig) -> None:
        self._config = config

    def current(self) -> tenancy.TenancyConfig:
        return self._config

    def subscribe(self, callback: Listener) -> None:
        """Nothing ever changes: the callback is never called."""

    def start(self, timeout: float = 60) -> None:
        """Nothing to replay."""

    def stop(self) -> None:
        """Nothing to stop."""


class DirectoryFollower:
    """Replays hotline.directory.v1 to its end, then follows it live (a daemon thread).

    `start()` returns once the replay is done; `current()` is the latest TenancyConfig (never
    a half-replayed one); `subscribe(callback)` calls back with each new config, from the
    follower's thread and outside its lock. Records that fail to decode go to the owning
    service's dead-letter topic. Thread-safe."""

    def __init__(self, bootstrap: str, service: str, instance_id: str = "") -> None:
        from hotline_platform.bus import DeadLetters, EventPublisher

        self._bootstrap = bootstrap
        self._service = service
        self._publisher = EventPublisher(bootstrap, client_id=f"{service}-directory-follower")
        self._dead_letters = DeadLetters(self._publisher, service)
        self._instance = instance_id
        self._lock = threading.Lock()
        self._view = View()
        self._config = to_config({})
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.applied = 0
        self._thread = threading.Thread(target=self._run, name=f"{service}-directory", daemon=True)

    def current(self) -> tenancy.TenancyConfig:
        with self._lock:
            return self._config

    def view(self) -> View:
        """A copy of the folded directory (definitions and versions)."""
        with self._lock:
            return self._view.copy()

    def subscribe(self, callback: Listener) -> None:
        with self._lock:
            self._listeners.append(callback)

    def start(self, timeout: float = 60) -> None:
        self._dead_letters.remember_sent(self._bootstrap)
        self._thread.start()
        if not self.ready.wait(timeout):
            raise RuntimeError(f"directory not replayed within {timeout}s: {self.failed!r}")
        if self.failed is not None:
            raise RuntimeError(f"directory replay failed: {self.failed!r}")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        from hotline_platform.bus import assign_from_start, new_consumer, replay_then_follow
        from hotline_platform.topics import DIRECTORY

        consumer = new_consumer(
            self._bootstrap, f"{self._service}-directory-{self._instance or id(self)}",
            **{"fetch.error.backoff.ms": 10},
        )
        try:
            assign_from_start(consumer, [DIRECTORY])
            for item in replay_then_follow(consumer, self._dead_letters, stop=self._stop):
                if item is None:
                    self._publish_config()
                    self.ready.set()
                    log.info("directory replayed: %d facts", self.applied)
                    continue
                with self._lock:
                    self._view.apply(item.event)  # type: ignore[arg-type]
                    self.applied += 1
                if self.ready.is_set():
                    self._publish_config()
        except BaseException as exc:  # noqa: BLE001
            log.exception("directory follower failed")
            self.failed = exc
            self.ready.set()
        finally:
            consumer.close()
            try:
                self._publisher.flush(5)
            except RuntimeError:
                log.exception("dead letters not delivered")

    def _publish_config(self) -> None:
        with self._lock:
            config = self._view.config()
            self._config = config
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(config)
            except Exception:  # noqa: BLE001
                log.exception("directory listener failed")


def tenancy_source(
    directory: str, config_path: str, bootstrap: str, service: str, instance_id: str = ""
) -> StaticTenancy | DirectoryFollower:
    """HOTLINE_DIRECTORY=on: follow the directory topic; off: the YAML file, as before."""
    mode = directory.strip().lower()
    if mode in ("", "off", "false", "0", "no"):
        return StaticTenancy(tenancy.load(config_path))
    if mode in ("on", "true", "1", "yes"):
        return DirectoryFollower(bootstrap, service, instance_id)
    raise ValueError(f"HOTLINE_DIRECTORY={directory!r}: expected on or off")
