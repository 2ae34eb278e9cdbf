"""Routes of a tenant's own IVR prompts, under `/v1/tenants/{tenant_id}/prompts`:

    PUT    /prompts/{language}/{name}         body: the WAV file (audio/wav); 201 or 200
    GET    /prompts                           the tenant's prompts (paginated)
    GET    /prompts/{language}/{name}         one prompt's metadata (ETag: its version)
    GET    /prompts/{language}/{name}/audio   the WAV file as uploaded
    DELETE /prompts/{language}/{name}         204; the default prompt plays again

Reads need `directory.read` (supervisors, QA, admins, operators), changes `directory.write`
(tenant admins, operators with the tenant in scope). An upload that is not a usable prompt
(hotline_platform.prompts: WAV, PCM 16/8-bit, mono, 8000 Hz, 0.2-300 s) is 422 listing every
reason; one over 10 MB is 413. PUT and DELETE honour `If-Match` on the prompt's version.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from hotline_gateway.adapters.http.deps import (
    DEFAULT_PAGE,
    IfMatch,
    PageCursor,
    PageLimit,
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
from hotline_gateway.domain.directory import DirectoryEntity
from hotline_platform import prompts

DIRECTORY_READ = "directory.read"
DIRECTORY_WRITE = "directory.write"
PROMPTS = f"{TENANT}/prompts"
ONE = f"{PROMPTS}/{{language}}/{{name}}"

Language = Annotated[str, Path(
    pattern=prompts.LANGUAGE_PATTERN, max_length=prompts.LANGUAGE_MAX_CHARS,
    description="Language tag of the prompt, e.g. en or de-AT",
)]
Name = Annotated[str, Path(
    pattern=prompts.NAME_PATTERN, max_length=64,
    description="The prompt's name in IVR flows, e.g. welcome",
)]


class PromptOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    language: str
    name: str
    duration_ms: int
    sha256: str = Field(description="SHA-256 of the WAV file (lower-case hex)")
    audio: str = Field(description="URL of the WAV file")
    version: int = Field(ge=1, description="Directory version (also the ETag)")
    changed_by: str = Field(description="Who made the last change: operator, tenant:<id>, ...")


class PromptPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[PromptOut]
    next: str | None = Field(description="URL of the next page; null on the last one")


def _out(entity: DirectoryEntity) -> PromptOut:
    f = entity.fields
    return PromptOut(
        tenant_id=str(f.get("tenant_id", "")), language=str(f.get("language", "")),
        name=str(f.get("name", "")), duration_ms=int(f.get("duration_ms", 0)),
        sha256=str(f.get("sha256", "")),
        audio=f"/v1/tenants/{f.get('tenant_id', '')}/prompts/{entity.entity_id}/audio",
        version=entity.version, changed_by=entity.changed_by,
    )


def _send(response: Response, entity: DirectoryEntity) -> PromptOut:
    response.headers["ETag"] = entity.etag
    return _out(entity)


async def put_prompt(
    request: Request, response: Response, use: UseDep, language: Language, name: Name,
    if_match: IfMatch = None,
) -> PromptOut:
    audio = await request.body()
    entity, created = await use.gateway.prompts.put(use.caller, language, name, audio, if_match)
    if created:
        response.status_code = 201
        response.headers["Location"] = request.url.path
    return _send(response, entity)


async def list_prompts(
    request: Request, response: Response, use: UseDep,
    limit: PageLimit = DEFAULT_PAGE, cursor: PageCursor = None,
) -> PromptPage:
    page = await use.gateway.prompts.list_page(use.caller, limit, cursor)
    link = _next_link(request, limit, page.next_cursor)
    _link_header(response, link)
    return PromptPage(items=[_out(e) for e in page.items], next=link)


async def get_prompt(
    response: Response, use: UseDep, language: Language, name: Name
) -> PromptOut:
    return _send(response, await use.gateway.prompts.get(use.caller, language, name))


async def get_prompt_audio(use: UseDep, language: Language, name: Name) -> Response:
    entity, data = await use.gateway.prompts.audio(use.caller, language, name)
    return Response(
        data, media_type=prompts.CONTENT_TYPE,
        headers={"ETag": entity.etag, "Cache-Control": "private, no-store"},
    )


async def delete_prompt(
    use: UseDep, language: Language, name: Name, if_match: IfMatch = None
) -> Response:
    await use.gateway.prompts.remove(use.caller, language, name, if_match)
    return Response(status_code=204)


_READ = ADMISSION_ERRORS + BACKEND_ERRORS
_WRITE = ADMISSION_ERRORS + BACKEND_ERRORS + (409, 412, 413)
_TAG = "prompts"
_WAV: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}

ROUTES: tuple[Route, ...] = (
    Route("listPrompts", "GET", PROMPTS, DIRECTORY_READ, list_prompts,
          "The tenant's own IVR prompts", PromptPage, _READ, _TAG, paginated=True),
    Route("getPrompt", "GET", ONE, DIRECTORY_READ, get_prompt,
          "One prompt (ETag: its version)", PromptOut, _READ, _TAG, etag=True),
    Route("getPromptAudio", "GET", f"{ONE}/audio", DIRECTORY_READ, get_prompt_audio,
          "The prompt's WAV file (the read is audited)", None, _READ, _TAG, etag=True,
          openapi_extra={"responses": {"200": {
              "description": "The WAV file", "content": {prompts.CONTENT_TYPE: _WAV},
          }}}),
    Route("putPrompt", "PUT", ONE, DIRECTORY_WRITE, put_prompt,
          "Upload a prompt (WAV, PCM 16/8-bit, mono, 8000 Hz, 0.2-300 s): 201 created, 200 "
          "replaced (If-Match: its version)", PromptOut, _WRITE, _TAG, etag=True,
          max_body_bytes=prompts.MAX_BYTES,
          openapi_extra={
              "requestBody": {"required": True, "content": {prompts.CONTENT_TYPE: _WAV}},
              "responses": {"201": {"description": "Created", "content": {
                  "application/json": {"schema": {"$ref": "#/components/schemas/PromptOut"}},
              }}},
          }),
    Route("deletePrompt", "DELETE", ONE, DIRECTORY_WRITE, delete_prompt,
          "Remove a prompt (If-Match: its version); the default one plays again", None,
          _WRITE, _TAG, status_code=204),
)
