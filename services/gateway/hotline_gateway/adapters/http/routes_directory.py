"""Routes of the live directory: queues, agents (their definition; live state is `/agents`),
sites, entry points, a batch of changes, and the tenant itself, under
`/v1/tenants/{tenant_id}/directory/...` (and `GET /v1/tenants/{tenant_id}`).

Reads need `directory.read` (supervisors, QA, admins, operators); changes `directory.write`
(tenant admins, operators with the tenant in scope), sites `tenant.write` (operators): the
platform's one table, hotline_platform.policy. Creating is a POST (Idempotency-Key, 201,
`Location`, `ETag`), replacing a PUT and removing a DELETE, both honouring `If-Match` on the
entity's version (its ETag). The directory's refusals are 422 listing every reason; a version
that changed meanwhile is 412 with the current ETag; every change records who made it
(`changed_by`, as the directory verified the credential).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Path, Request, Response
from pydantic import BaseModel, ValidationError

from hotline_gateway.adapters.http.deps import (
    DEFAULT_PAGE,
    AgentId,
    IfMatch,
    PageCursor,
    PageLimit,
    Use,
    UseDep,
)
from hotline_gateway.adapters.http.routes import (
    ADMISSION_ERRORS,
    BACKEND_ERRORS,
    TENANT,
    Route,
    _link_header,
    _next_link,
)
from hotline_gateway.adapters.http.schemas_directory import (
    ADDRESS_PATTERN,
    ID_PATTERN,
    AgentCreate,
    AgentDefinitionOut,
    AgentDefinitionPage,
    AgentIn,
    ChangesIn,
    ChangesOut,
    EntityOut,
    EntryPointCreate,
    EntryPointIn,
    EntryPointOut,
    EntryPointPage,
    QueueCreate,
    QueueIn,
    QueueOut,
    QueuePage,
    SiteCreate,
    SiteIn,
    SiteOut,
    SitePage,
    TenantOut,
    _Versioned,
    entity_out,
)
from hotline_gateway.application.directory import DirectoryUseCases
from hotline_gateway.domain.directory import (
    AGENT,
    ENTRY_POINT,
    KINDS,
    QUEUE,
    SITE,
    Change,
    DirectoryEntity,
    EntityKind,
)
from hotline_gateway.domain.errors import Invalid

DIRECTORY_READ = "directory.read"
DIRECTORY_WRITE = "directory.write"
TENANT_WRITE = "tenant.write"

DIRECTORY = f"{TENANT}/directory"

QueueId = Annotated[
    str, Path(pattern=ID_PATTERN, max_length=64, description="The queue's id")
]
SiteId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64, description="The site's id")]
EntryPointAddress = Annotated[
    str, Path(pattern=ADDRESS_PATTERN, max_length=128, description="The dialled address")
]


def _uses(use: Use) -> DirectoryUseCases:
    return use.gateway.directory


def _send(response: Response, model: type[_Versioned], entity: DirectoryEntity) -> Any:
    response.headers["ETag"] = entity.etag
    return entity_out(model, entity)


def _fields(body: BaseModel, *drop: str) -> dict[str, Any]:
    return body.model_dump(exclude={*drop})


async def _list(
    request: Request, response: Response, use: Use, kind: EntityKind, limit: int,
    cursor: str | None, model: type[_Versioned],
) -> dict[str, Any]:
    page = await _uses(use).list_page(use.caller, kind, limit, cursor)
    link = _next_link(request, limit, page.next_cursor)
    _link_header(response, link)
    return {"items": [entity_out(model, e) for e in page.items], "next": link}


async def _create(
    request: Request, response: Response, use: Use, kind: EntityKind, entity_id: str,
    fields: Mapping[str, Any], model: type[_Versioned], also: tuple[Change, ...] = (),
) -> Any:
    entity = await _uses(use).create(use.caller, kind, entity_id, fields, also)
    response.headers["Location"] = f"{request.url.path}/{entity_id}"
    return _send(response, model, entity)


async def _replace(
    response: Response, use: Use, kind: EntityKind, entity_id: str, body: BaseModel,
    if_match: str | None, model: type[_Versioned],
) -> Any:
    entity = await _uses(use).replace(use.caller, kind, entity_id, _fields(body), if_match)
    return _send(response, model, entity)


async def _remove(use: Use, kind: EntityKind, entity_id: str, if_match: str | None) -> Response:
    await _uses(use).remove(use.caller, kind, entity_id, if_match)
    return Response(status_code=204)


# --- the tenant --------------------------------------------------------------------------


async def get_tenant(response: Response, use: UseDep) -> TenantOut:
    return _send(response, TenantOut, await _uses(use).tenant(use.caller))  # type: ignore[no-any-return]


# --- queues ------------------------------------------------------------------------------


async def list_queue_definitions(
    request: Request, response: Response, use: UseDep,
    limit: PageLimit = DEFAULT_PAGE, cursor: PageCursor = None,
) -> QueuePage:
    return QueuePage.model_validate(
        await _list(request, response, use, QUEUE, limit, cursor, QueueOut)
    )


async def get_queue_definition(response: Response, use: UseDep, queue_id: QueueId) -> QueueOut:
    return _send(response, QueueOut, await _uses(use).get(use.caller, QUEUE, queue_id))  # type: ignore[no-any-return]


async def create_queue(
    request: Request, response: Response, use: UseDep, body: QueueCreate
) -> QueueOut:
    also = tuple(
        Change(ENTRY_POINT, ep.address, {"kind": "queue", "queue_id": body.queue_id,
                                         "site_id": ep.site_id, "priority": ep.priority}, 0)
        for ep in body.entry_points
    )
    fields = _fields(body, "queue_id", "entry_points")
    return await _create(  # type: ignore[no-any-return]
        request, response, use, QUEUE, body.queue_id, fields, QueueOut, also
    )


async def replace_queue(
    response: Response, use: UseDep, queue_id: QueueId, body: QueueIn, if_match: IfMatch = None
) -> QueueOut:
    return await _replace(response, use, QUEUE, queue_id, body, if_match, QueueOut)  # type: ignore[no-any-return]


async def delete_queue(use: UseDep, queue_id: QueueId, if_match: IfMatch = None) -> Response:
    return await _remove(use, QUEUE, queue_id, if_match)


# --- agents (definitions) ----------------------------------------------------------------


async def list_agent_definitions(
    request: Request, response: Response, use: UseDep,
    limit: PageLimit = DEFAULT_PAGE, cursor: PageCursor = None,
) -> AgentDefinitionPage:
    return AgentDefinitionPage.model_validate(
        await _list(request, response, use, AGENT, limit, cursor, AgentDefinitionOut)
    )


async def get_agent_definition(
    response: Response, use: UseDep, agent_id: AgentId
) -> AgentDefinitionOut:
    entity = await _uses(use).get(use.caller, AGENT, agent_id)
    return _send(response, AgentDefinitionOut, entity)  # type: ignore[no-any-return]


async def create_agent(
    request: Request, response: Response, use: UseDep, body: AgentCreate
) -> AgentDefinitionOut:
    return await _create(  # type: ignore[no-any-return]
        request, response, use, AGENT, body.agent_id, _fields(body, "agent_id"),
        AgentDefinitionOut,
    )


async def replace_agent(
    response: Response, use: UseDep, agent_id: AgentId, body: AgentIn, if_match: IfMatch = None
) -> AgentDefinitionOut:
    return await _replace(  # type: ignore[no-any-return]
        response, use, AGENT, agent_id, body, if_match, AgentDefinitionOut
    )


async def delete_agent(use: UseDep, agent_id: AgentId, if_match: IfMatch = None) -> Response:
    return await _remove(use, AGENT, agent_id, if_match)


# --- sites -------------------------------------------------------------------------------


async def list_sites(
    request: Request, response: Response, use: UseDep,
    limit: PageLimit = DEFAULT_PAGE, cursor: PageCursor = None,
) -> SitePage:
    return SitePage.model_validate(
        await _list(request, response, use, SITE, limit, cursor, SiteOut)
    )


async def get_site(response: Response, use: UseDep, site_id: SiteId) -> SiteOut:
    return _send(response, SiteOut, await _uses(use).get(use.caller, SITE, site_id))  # type: ignore[no-any-return]


async def create_site(
    request: Request, response: Response, use: UseDep, body: SiteCreate
) -> SiteOut:
    return await _create(  # type: ignore[no-any-return]
        request, response, use, SITE, body.site_id, _fields(body, "site_id"), SiteOut
    )


async def replace_site(
    response: Response, use: UseDep, site_id: SiteId, body: SiteIn, if_match: IfMatch = None
) -> SiteOut:
    return await _replace(response, use, SITE, site_id, body, if_match, SiteOut)  # type: ignore[no-any-return]


async def delete_site(use: UseDep, site_id: SiteId, if_match: IfMatch = None) -> Response:
    return await _remove(use, SITE, site_id, if_match)


# --- entry points ------------------------------------------------------------------------


async def list_entry_points(
    request: Request, response: Response, use: UseDep,
    limit: PageLimit = DEFAULT_PAGE, cursor: PageCursor = None,
) -> EntryPointPage:
    return EntryPointPage.model_validate(
        await _list(request, response, use, ENTRY_POINT, limit, cursor, EntryPointOut)
    )


async def get_entry_point(
    response: Response, use: UseDep, address: EntryPointAddress
) -> EntryPointOut:
    entity = await _uses(use).get(use.caller, ENTRY_POINT, address)
    return _send(response, EntryPointOut, entity)  # type: ignore[no-any-return]


async def create_entry_point(
    request: Request, response: Response, use: UseDep, body: EntryPointCreate
) -> EntryPointOut:
    return await _create(  # type: ignore[no-any-return]
        request, response, use, ENTRY_POINT, body.address, _fields(body, "address"),
        EntryPointOut,
    )


async def replace_entry_point(
    response: Response, use: UseDep, address: EntryPointAddress, body: EntryPointIn,
    if_match: IfMatch = None,
) -> EntryPointOut:
    return await _replace(  # type: ignore[no-any-return]
        response, use, ENTRY_POINT, address, body, if_match, EntryPointOut
    )


async def delete_entry_point(
    use: UseDep, address: EntryPointAddress, if_match: IfMatch = None
) -> Response:
    return await _remove(use, ENTRY_POINT, address, if_match)


# --- a batch of changes ------------------------------------------------------------------

_BODIES: dict[str, type[BaseModel]] = {
    "queue": QueueIn, "agent": AgentIn, "entry_point": EntryPointIn,
}


def _change(index: int, kind_name: str, action: str, entity_id: str,
            version: int | None, entity: dict[str, Any] | None) -> Change:
    kind = KINDS[kind_name]
    where = f"body.changes.{index}"
    if action == "remove":
        if entity is not None:
            raise Invalid("a removal carries no entity", ((f"{where}.entity", "not allowed"),))
        return Change(kind, entity_id, None, version)
    try:
        body = _BODIES[kind_name].model_validate(entity or {})
    except ValidationError as exc:
        issues = tuple(
            (f"{where}.entity." + ".".join(str(p) for p in err["loc"]), err["msg"])
            for err in exc.errors()
        )
        raise Invalid(f"change {index}: invalid {kind_name}", issues) from None
    return Change(kind, entity_id, body.model_dump(), version)


async def apply_changes(use: UseDep, body: ChangesIn) -> ChangesOut:
    changes = [
        _change(i, c.kind, c.action, c.id, c.version, c.entity)
        for i, c in enumerate(body.changes)
    ]
    result = await _uses(use).apply(use.caller, changes, body.dry_run)
    return ChangesOut(
        applied=result.applied,
        entities=[
            EntityOut(kind=e.kind, key=e.key, version=e.version, changed_by=e.changed_by,
                      fields=dict(e.fields))
            for e in result.entities
        ],
        removed=list(result.removed),
        warnings=list(result.warnings),
    )


# --- the table ---------------------------------------------------------------------------

_READ = ADMISSION_ERRORS + BACKEND_ERRORS
_WRITE = (400,) + ADMISSION_ERRORS + BACKEND_ERRORS + (409, 412)
_Q, _A = f"{DIRECTORY}/queues", f"{DIRECTORY}/agents"
_S, _E = f"{DIRECTORY}/sites", f"{DIRECTORY}/entry-points"
_TAG = "directory"

ROUTES: tuple[Route, ...] = (
    Route("getTenant", "GET", TENANT, DIRECTORY_READ, get_tenant,
          "The tenant: name, KPI contract, not-ready reasons (read-only)", TenantOut, _READ,
          _TAG, etag=True),
    # queues
    Route("listQueueDefinitions", "GET", _Q, DIRECTORY_READ, list_queue_definitions,
          "The tenant's queues as defined", QueuePage, _READ, _TAG, paginated=True),
    Route("getQueueDefinition", "GET", f"{_Q}/{{queue_id}}", DIRECTORY_READ,
          get_queue_definition, "One queue (ETag: its version)", QueueOut, _READ, _TAG,
          etag=True),
    Route("createQueue", "POST", _Q, DIRECTORY_WRITE, create_queue,
          "Define a queue, with the entry points reaching it", QueueOut, _WRITE, _TAG,
          status_code=201, etag=True),
    Route("replaceQueue", "PUT", f"{_Q}/{{queue_id}}", DIRECTORY_WRITE, replace_queue,
          "Replace a queue's whole definition: a field left out takes its default "
          "(If-Match: its version)", QueueOut, _WRITE, _TAG,
          etag=True),
    Route("deleteQueue", "DELETE", f"{_Q}/{{queue_id}}", DIRECTORY_WRITE, delete_queue,
          "Remove a queue (If-Match: its version)", None, _WRITE, _TAG,
          status_code=204),
    # agents
    Route("listAgentDefinitions", "GET", _A, DIRECTORY_READ, list_agent_definitions,
          "The tenant's agents as defined (live state: /agents)", AgentDefinitionPage, _READ,
          _TAG, paginated=True),
    Route("getAgentDefinition", "GET", f"{_A}/{{agent_id}}", DIRECTORY_READ,
          get_agent_definition, "One agent's definition (ETag: its version)",
          AgentDefinitionOut, _READ, _TAG, etag=True),
    Route("createAgent", "POST", _A, DIRECTORY_WRITE, create_agent, "Define an agent",
          AgentDefinitionOut, _WRITE, _TAG, status_code=201, etag=True),
    Route("replaceAgent", "PUT", f"{_A}/{{agent_id}}", DIRECTORY_WRITE, replace_agent,
          "Replace an agent's definition (If-Match: its version)", AgentDefinitionOut,
          _WRITE, _TAG, etag=True),
    Route("deleteAgent", "DELETE", f"{_A}/{{agent_id}}", DIRECTORY_WRITE, delete_agent,
          "Remove an agent (If-Match: its version)", None, _WRITE, _TAG,
          status_code=204),
    # sites (the operator's, shared by its tenants)
    Route("listSites", "GET", _S, DIRECTORY_READ, list_sites, "The operator's sites",
          SitePage, _READ, _TAG, paginated=True),
    Route("getSite", "GET", f"{_S}/{{site_id}}", DIRECTORY_READ, get_site,
          "One site (ETag: its version)", SiteOut, _READ, _TAG, etag=True),
    Route("createSite", "POST", _S, TENANT_WRITE, create_site, "Define a site (operator)",
          SiteOut, _WRITE, _TAG, status_code=201, etag=True),
    Route("replaceSite", "PUT", f"{_S}/{{site_id}}", TENANT_WRITE, replace_site,
          "Replace a site (operator; If-Match: its version); drained true drains it",
          SiteOut, _WRITE, _TAG,
          etag=True),
    Route("deleteSite", "DELETE", f"{_S}/{{site_id}}", TENANT_WRITE, delete_site,
          "Remove a site (operator; If-Match: its version)", None, _WRITE, _TAG,
          status_code=204),
    # entry points
    Route("listEntryPoints", "GET", _E, DIRECTORY_READ, list_entry_points,
          "The tenant's entry points", EntryPointPage, _READ, _TAG, paginated=True),
    Route("getEntryPoint", "GET", f"{_E}/{{address}}", DIRECTORY_READ, get_entry_point,
          "One entry point (ETag: its version)", EntryPointOut, _READ, _TAG, etag=True),
    Route("createEntryPoint", "POST", _E, DIRECTORY_WRITE, create_entry_point,
          "Define an entry point (to a queue, or an announcement)", EntryPointOut, _WRITE,
          _TAG, status_code=201, etag=True),
    Route("replaceEntryPoint", "PUT", f"{_E}/{{address}}", DIRECTORY_WRITE,
          replace_entry_point, "Replace an entry point (If-Match: its version)",
          EntryPointOut, _WRITE, _TAG, etag=True),
    Route("deleteEntryPoint", "DELETE", f"{_E}/{{address}}", DIRECTORY_WRITE,
          delete_entry_point, "Remove an entry point (If-Match: its version)", None,
          _WRITE, _TAG, status_code=204),
    # several changes at once, all or none
    Route("applyDirectoryChanges", "POST", f"{DIRECTORY}/changes", DIRECTORY_WRITE,
          apply_changes,
          "Define and remove queues, agents and entry points together, all or none",
          ChangesOut, _WRITE, _TAG, max_body_bytes=1024 * 1024),
)
