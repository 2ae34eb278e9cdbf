"""JSON shapes of the directory resources. Field names are the directory contract's
(proto/hotline/directory/v1/events.proto), so the definitions pass through to the directory
without being copied by hand; bodies never carry the ids of the path."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline_gateway.adapters.http.schemas import CODE_PATTERN
from hotline_gateway.domain.directory import DirectoryEntity
from hotline_platform import tenancy

# The directory's id rule: 1-64 letters, digits, '-' or '_', starting with a letter or digit.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
# An entry point's address: the dialled number or the user part of the Request-URI.
ADDRESS_PATTERN = r"^[A-Za-z0-9+*#][A-Za-z0-9+*#._-]{0,127}$"

EntityId = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
OptionalId = Annotated[str, Field(pattern=r"^$|" + ID_PATTERN, max_length=64)]
Address = Annotated[str, Field(pattern=ADDRESS_PATTERN, max_length=128)]
# A contact's priority in its queue (higher first).
Priority = Annotated[int, Field(ge=-1000, le=1000)]
# A duration in ms (the contract's uint32); 0 means "never" / "at once" as each field says.
Millis = Annotated[int, Field(ge=0, le=2**32 - 1)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class SkillIn(_In):
    name: EntityId
    level: int = Field(default=1, ge=0, le=100)


class CodeIn(_In):
    code: str = Field(pattern=CODE_PATTERN, max_length=64)
    label: str = Field(default="", max_length=128)


# --- inputs: a definition's fields (the id is in the path, or in the create body) ---------


# An IVR flow and a queue's routing (hotline_platform.ivr, .tenancy; the directory checks
# their rules and lists every problem). The same shapes are read and written, so they pass
# through to the directory unchanged.
NodeRef = Annotated[str, Field(max_length=64, description="A node id, or hangup")]
Prompt = Annotated[str, Field(max_length=128, description="Prompt name, played per language")]
Language = Annotated[str, Field(max_length=35, description="BCP 47 tag; empty: unchanged")]


class OpeningWindow(_In):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    opens: str = Field(description="HH:MM local")
    closes: str = Field(description="HH:MM local (24:00: midnight)")


class BusinessHours(_In):
    time_zone: str = Field(description="IANA zone, e.g. Europe/Berlin")
    open: list[OpeningWindow]
    holidays: list[str] = Field(default_factory=list, description="YYYY-MM-DD, closed all day")
    closed: NodeRef = Field(
        default="hangup", description="Node entered when closed (an IVR's; not a queue's)"
    )


class RoutingStepIn(_In):
    """One step of a queue's bullseye, taken once a contact has waited `after_ms`; each step
    keeps what the earlier ones widened."""

    after_ms: Millis = Field(description="Above the step before's")
    relax_levels_by: int = Field(default=0, ge=0, le=100,
                                 description="Lower every required skill level by this")
    add_skills: list[SkillIn] = Field(
        default_factory=list, max_length=32,
        description="Agents with all of these skills may take it too",
    )
    add_sites: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=64,
        description=f"Agents of these sites may take it too ({tenancy.ANY_SITE!r}: all)",
    )
    add_queue_id: OptionalId = Field(
        default="", description="Agents able to take that queue's contacts may take it too"
    )


class FlowOutTargetIn(_In):
    kind: str = Field(
        default="", max_length=16,
        description="Empty: closed (a closed message); callback; queue (queue_id)",
        json_schema_extra={"enum": ["", *tenancy.FLOW_OUT_KINDS]},
    )
    queue_id: OptionalId = Field(default="", description="Another queue (kind queue)")


class QueueRouting(_In):
    """A queue's routing and treatment (services/router/README.md): QueueDefined's fields."""

    strategy: str = Field(
        default="", max_length=32,
        description="How an agent is picked among the able ones (empty: longest_idle)",
        json_schema_extra={"enum": ["", *tenancy.STRATEGIES]},
    )
    any_language: bool = Field(
        default=False, description="The contact's language does not restrict the agents"
    )
    priority_aging_ms: Millis = Field(
        default=0, description="A waiting contact's priority rises by 1 every this many ms "
        "(0: never)",
    )
    home_site_id: OptionalId = Field(default="", description="Empty: the entry point's site")
    site_overflow_ms: Millis = Field(
        default=0, description="Home-site agents only for this long, or until nobody is "
        "logged in there (0: any site at once)",
    )
    expansions: list[RoutingStepIn] = Field(
        default_factory=list, max_length=32, description="The bullseye, in order"
    )
    preferred_agent_timeout_ms: Millis = Field(
        default=0, description="A contact naming an agent waits this long for it alone"
    )
    prefer_last_agent: bool = Field(
        default=False, description="The agent who last served the caller is preferred"
    )
    # Treatment: flow-out, closed, callbacks.
    max_wait_ms: Millis = Field(default=0, description="Then flow out to flow_out (0: never)")
    when_no_agents: bool = Field(
        default=False, description="Flow out at once when nobody able is logged in"
    )
    # Default: empty, as the directory writes a queue of the YAML (null: the same).
    flow_out: FlowOutTargetIn | None = Field(default_factory=FlowOutTargetIn)
    hours: BusinessHours | None = Field(
        default=None, description="Business hours (null: always open); outside them the "
        "contact goes to `closed` (the hours' own `closed` node is not used)",
    )
    closed: FlowOutTargetIn | None = Field(default_factory=FlowOutTargetIn)
    closed_prompt: str = Field(default="", max_length=256,
                               description="What a caller flowing out to closed hears")
    callback_after_ms: Millis = Field(
        default=0, description="Callbacks are offered from this estimated wait (0: never)"
    )


class QueueIn(QueueRouting):
    """A queue's whole definition. A PUT replaces it: a field left out takes its default
    (for the routing settings: longest idle, any site at once, no bullseye, no flow-out),
    so read the queue, change it and send it all back (If-Match: its ETag). The directory
    checks the rules (hotline_platform.tenancy.routing_problems) and answers 422 with every
    reason."""

    required_skills: list[SkillIn] = Field(default_factory=list, max_length=32)
    language: str = Field(
        default="", max_length=35, pattern=r"^$|^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$",
        description="BCP 47 tag, e.g. pt-PT",
    )
    priority: Priority = 0
    service_level_threshold_s: int = Field(default=20, ge=1, le=86_400)
    service_level_target: float = Field(default=0.8, gt=0, le=1)
    ring_timeout_ms: int = Field(default=15_000, ge=1, le=3_600_000)
    wrap_up_timeout_ms: int = Field(default=120_000, ge=1, le=86_400_000)
    wrap_up_codes: list[CodeIn] = Field(default_factory=list, max_length=200)


class QueueEntryPointIn(_In):
    address: Address
    site_id: OptionalId = ""
    priority: Priority = Field(
        default=0, description="Of its contacts in the queue (higher first); 0: the queue's"
    )


class QueueCreate(QueueIn):
    queue_id: EntityId
    entry_points: list[QueueEntryPointIn] = Field(
        default_factory=list, max_length=100,
        description="Entry points to this queue, created with it (a queue no entry point "
        "reaches is refused)",
    )


class AgentIn(_In):
    name: str = Field(default="", max_length=128)
    site_id: OptionalId = ""
    skills: list[SkillIn] = Field(default_factory=list, max_length=64)
    languages: list[Annotated[str, Field(max_length=35)]] = Field(
        default_factory=list, max_length=16
    )
    phone: str = Field(min_length=1, max_length=256, description="SIP URI of the agent's phone")


class AgentCreate(AgentIn):
    agent_id: EntityId


class SiteIn(_In):
    """A site's whole definition (a PUT replaces it)."""

    name: str = Field(default="", max_length=128)
    drained: bool = Field(
        default=False, description="Marked down: its agents get no new offers and the queues "
        "homed there overflow at once (what a PUT without it undoes)",
    )


class SiteCreate(SiteIn):
    site_id: EntityId


class IvrOption(_In):
    language: Language = ""
    next: NodeRef


class IvrMenu(_In):
    prompt: Prompt
    timeout_ms: int = 5_000
    retries: int = 2
    options: dict[Annotated[str, Field(pattern=r"^[0-9*#]$")], IvrOption] = Field(
        description="DTMF key -> option"
    )
    on_failure: NodeRef = "hangup"
    prompt_languages: list[Language] = Field(
        default_factory=list, max_length=16,
        description="Play the prompt in each language in turn (a language menu); empty: in "
        "the current language",
    )


class IvrCollect(_In):
    prompt: Prompt
    min_digits: int = 1
    max_digits: int = 16
    terminator: Literal["#", "*", ""] = "#"
    timeout_ms: int = 5_000
    retries: int = 2
    next: NodeRef
    on_failure: NodeRef = "hangup"


class IvrRoute(_In):
    queue_id: EntityId
    required_skills: list[SkillIn] = Field(default_factory=list, max_length=32)
    priority: int = Field(default=0, description="0: the queue's")
    intent: str = Field(default="", max_length=64)
    language: Language = ""


class IvrMessage(_In):
    prompt: Prompt
    next: NodeRef = "hangup"


class IvrHangup(_In):
    pass


class IvrNode(_In):
    """Exactly one kind."""

    menu: IvrMenu | None = None
    collect: IvrCollect | None = None
    route: IvrRoute | None = None
    message: IvrMessage | None = None
    hangup: IvrHangup | None = None


class IvrFlow(_In):
    language: Language
    hours: BusinessHours | None = Field(default=None, description="None: always open")
    start: NodeRef
    nodes: dict[str, IvrNode]


class EntryPointIn(_In):
    kind: Literal["queue", "announcement", "ivr"] = "queue"
    queue_id: OptionalId = Field(default="", description="Required for kind queue")
    site_id: OptionalId = ""
    ivr: IvrFlow | None = Field(default=None, description="Required for kind ivr")
    priority: Priority = Field(
        default=0, description="Of its contacts in the queue (higher first); 0: the queue's"
    )


class EntryPointCreate(EntryPointIn):
    address: Address


# --- outputs --------------------------------------------------------------------------------


class SkillLevelOut(_Out):
    name: str
    level: int


class CodeOut(_Out):
    code: str
    label: str


class _Versioned(_Out):
    version: int = Field(ge=1, description="Directory version (also the ETag)")
    changed_by: str = Field(description="Who made the last change: operator, tenant:<id>, ...")


class QueueOut(_Versioned, QueueRouting):
    # Written by the directory: a field it gains is left out here until added, never refused.
    model_config = ConfigDict(frozen=True, extra="ignore")

    tenant_id: str
    queue_id: str
    required_skills: list[SkillLevelOut]
    language: str
    priority: int
    service_level_threshold_s: int
    service_level_target: float
    ring_timeout_ms: int
    wrap_up_timeout_ms: int
    wrap_up_codes: list[CodeOut]


class AgentDefinitionOut(_Versioned):
    tenant_id: str
    agent_id: str
    name: str
    site_id: str
    skills: list[SkillLevelOut]
    languages: list[str]
    phone: str


class SiteOut(_Versioned):
    site_id: str
    name: str
    drained: bool


class EntryPointOut(_Versioned):
    tenant_id: str
    address: str
    kind: str = Field(description="queue | announcement | ivr")
    queue_id: str
    site_id: str
    ivr: IvrFlow | None = None
    priority: int


class KpiContractOut(_Out):
    service_level: str
    short_abandon_ms: int
    abandonment_denominator: str


class TenantOut(_Versioned):
    tenant_id: str
    name: str
    kpi: KpiContractOut | None
    not_ready_reasons: list[CodeOut]


def entity_out(model: type[_Versioned], entity: DirectoryEntity) -> Any:
    return model.model_validate(
        {**entity.fields, "version": entity.version, "changed_by": entity.changed_by}
    )


class QueuePage(_Out):
    items: list[QueueOut]
    next: str | None = Field(description="URL of the next page; null on the last one")


class AgentDefinitionPage(_Out):
    items: list[AgentDefinitionOut]
    next: str | None = Field(description="URL of the next page; null on the last one")


class SitePage(_Out):
    items: list[SiteOut]
    next: str | None = Field(description="URL of the next page; null on the last one")


class EntryPointPage(_Out):
    items: list[EntryPointOut]
    next: str | None = Field(description="URL of the next page; null on the last one")


# --- a batch of changes ---------------------------------------------------------------------


class ChangeIn(_In):
    action: Literal["define", "remove"]
    kind: Literal["queue", "agent", "entry_point"]
    id: str = Field(
        min_length=1, max_length=128,
        description="queue_id, agent_id, or the entry point's address",
    )
    version: int | None = Field(
        default=None, ge=0,
        description="Only if the entity is at this version (0: must not exist)",
    )
    entity: dict[str, Any] | None = Field(
        default=None,
        description="define: the definition's fields, as the kind's PUT body",
    )


class ChangesIn(_In):
    changes: list[ChangeIn] = Field(min_length=1, max_length=500)
    dry_run: bool = Field(default=False, description="Validate and answer, change nothing")


class EntityOut(_Out):
    kind: str
    key: str
    version: int
    changed_by: str
    fields: dict[str, Any]


class ChangesOut(_Out):
    applied: bool = Field(description="False: a dry run, or nothing differed")
    entities: list[EntityOut] = Field(description="Defined entities as they are after it")
    removed: list[str] = Field(description="Keys of the removed entities")
    warnings: list[str]
