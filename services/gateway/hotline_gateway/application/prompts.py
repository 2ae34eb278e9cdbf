"""Use cases of a tenant's own IVR prompts (routes_prompts.py): upload, list, read, download,
remove.

The audio is checked (hotline_platform.prompts: WAV, PCM 16/8-bit, mono, 8 kHz, 0.2-300 s),
stored encrypted in the content store (the PromptContent port), then named by a directory
fact (`PromptDefined`, key prompt/<tenant>/<language>/<name>) through the directory's one
writer like every other directory change; ingress-sip follows the directory and writes the
file the media relay plays. A replaced or removed prompt's old object stays in the content
store (objects are immutable; deleting them is housekeeping, or crypto-shredding the tenant).
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from hotline_gateway.application.directory import DirectoryUseCases
from hotline_gateway.application.ports import Caller
from hotline_gateway.domain.directory import PROMPT, DirectoryEntity
from hotline_gateway.domain.errors import Invalid, NotFound, PreconditionFailed
from hotline_gateway.domain.pagination import Page
from hotline_platform import prompts

WRITER = "gateway"
PURPOSE_UPLOAD = "ivr prompt"
PURPOSE_DOWNLOAD = "ivr prompt download"


class PromptContent(Protocol):
    """The content store, as the gateway uses it for prompts (adapters/content_store.py)."""

    async def put(self, tenant_id: str, data: bytes, content_type: str, *, purpose: str) -> str:
        """Store `data` encrypted for the tenant; its reference. Raises Unavailable."""

    async def get(self, ref: str, *, caller_tenant: str, reader: str, purpose: str) -> bytes:
        """The content of `ref` (the read audited). Raises NotFound, Unavailable, BadGateway."""


def prompt_id(language: str, name: str) -> str:
    return f"{language}/{name}"


class PromptUseCases:
    def __init__(self, directory: DirectoryUseCases, content: PromptContent) -> None:
        self._directory = directory
        self._content = content

    async def put(
        self, caller: Caller, language: str, name: str, audio: bytes, if_match: str | None
    ) -> tuple[DirectoryEntity, bool]:
        """Create or replace a prompt; (the prompt, True when created). 422 with every reason
        when the audio is not a usable prompt; nothing is stored then."""
        problems = prompts.problems_of_ids(language, name)
        if problems:
            raise Invalid("not a prompt name", tuple(("path", p) for p in problems))
        try:
            info = prompts.check_wav(audio)
        except prompts.PromptRejected as exc:
            raise Invalid(
                f"not a usable prompt: {exc}", tuple(("body", r) for r in exc.reasons)
            ) from None
        entity_id = prompt_id(language, name)
        try:
            current: DirectoryEntity | None = await self._directory.get(caller, PROMPT, entity_id)
        except NotFound:
            current = None
        if current is None and if_match is not None:
            raise PreconditionFailed(f"no prompt {entity_id!r} to match If-Match", "")
        ref = await self._content.put(
            caller.tenant_id, audio, prompts.CONTENT_TYPE, purpose=PURPOSE_UPLOAD
        )
        fields = {
            "content_ref": ref,
            "duration_ms": info.duration_ms,
            "sha256": hashlib.sha256(audio).hexdigest(),  # the directory checks the ref's
        }
        if current is None:
            return await self._directory.create(caller, PROMPT, entity_id, fields), True
        entity = await self._directory.replace(caller, PROMPT, entity_id, fields, if_match)
        return entity, False

    async def list_page(
        self, caller: Caller, limit: int, cursor: str | None
    ) -> Page[DirectoryEntity]:
        return await self._directory.list_page(caller, PROMPT, limit, cursor)

    async def get(self, caller: Caller, language: str, name: str) -> DirectoryEntity:
        return await self._directory.get(caller, PROMPT, prompt_id(language, name))

    async def audio(
        self, caller: Caller, language: str, name: str
    ) -> tuple[DirectoryEntity, bytes]:
        entity = await self.get(caller, language, name)
        data = await self._content.get(
            str(entity.fields.get("content_ref", "")), caller_tenant=caller.tenant_id,
            reader=f"{caller.principal.kind}:{caller.principal.id}", purpose=PURPOSE_DOWNLOAD,
        )
        return entity, data

    async def remove(self, caller: Caller, language: str, name: str, if_match: str | None) -> None:
        await self._directory.remove(caller, PROMPT, prompt_id(language, name), if_match)
