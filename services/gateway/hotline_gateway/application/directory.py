"""Use cases of the directory resources (queues, agents, sites, entry points, the tenant) over
the directory service's API (the DirectoryBackend port; adapters/directory_grpc.py).

Conditional changes: a creation expects the entity not to exist (version 0), a replacement or
removal expects the version the client saw (`If-Match`, the version's ETag) or, without
If-Match, the version just read; the directory checks the expectation inside its one writer,
so a change made meanwhile by someone else is refused (412), never overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from hotline_gateway.application.ports import Caller
from hotline_gateway.domain.directory import (
    TENANT,
    Change,
    ChangeResult,
    DirectoryEntity,
    EntityKind,
)
from hotline_gateway.domain.errors import Conflict, Invalid, NotFound, PreconditionFailed
from hotline_gateway.domain.etag import if_match_passes
from hotline_gateway.domain.pagination import BadCursor, Page, decode_cursor, paginate


class DirectoryBackend(Protocol):
    async def list_entities(self, caller: Caller) -> Sequence[DirectoryEntity]:
        """Every entity of the caller's tenant, the tenant itself and the sites."""

    async def get_entity(self, caller: Caller, key: str) -> DirectoryEntity:
        """Raises NotFound (also for another tenant's entity)."""

    async def apply(
        self, caller: Caller, changes: Sequence[Change], dry_run: bool = False
    ) -> ChangeResult:
        """All or none. Raises Invalid (every reason the directory gave), PreconditionFailed
        (an expected version did not match; no current tag), Forbidden."""


def _collection(kind: EntityKind) -> str:
    return f"directory-{kind.name}"


class DirectoryUseCases:
    def __init__(self, backend: DirectoryBackend) -> None:
        self._backend = backend

    def _visible(self, caller: Caller, kind: EntityKind, entity: DirectoryEntity) -> bool:
        return entity.kind == kind.name and (
            kind.operator_owned or entity.tenant_id == caller.tenant_id
        )

    async def list_page(
        self, caller: Caller, kind: EntityKind, limit: int, cursor: str | None
    ) -> Page[DirectoryEntity]:
        if cursor:
            try:
                decode_cursor(_collection(kind), cursor)
            except BadCursor as exc:
                raise Invalid("invalid cursor", (("query.cursor", str(exc)),)) from exc
        entities = [
            e for e in await self._backend.list_entities(caller) if self._visible(caller, kind, e)
        ]
        return paginate(entities, lambda e: e.entity_id, _collection(kind), limit, cursor)

    async def get(self, caller: Caller, kind: EntityKind, entity_id: str) -> DirectoryEntity:
        found = await self._backend.get_entity(caller, kind.key(caller.tenant_id, entity_id))
        if not self._visible(caller, kind, found):
            raise NotFound(f"no {kind.name.replace('_', ' ')} {entity_id!r}")
        return found

    async def tenant(self, caller: Caller) -> DirectoryEntity:
        return await self.get(caller, TENANT, caller.tenant_id)

    async def create(
        self,
        caller: Caller,
        kind: EntityKind,
        entity_id: str,
        fields: Mapping[str, Any],
        also: Sequence[Change] = (),
    ) -> DirectoryEntity:
        """Define a new entity (with `also`, e.g. the entry points reaching a new queue, in
        the same all-or-none change). 409 when it exists already."""
        change = Change(kind, entity_id, self._complete(caller, kind, entity_id, fields), 0)
        try:
            result = await self._backend.apply(caller, [change, *self._completed(caller, also)])
        except PreconditionFailed as exc:
            raise Conflict(f"{kind.name.replace('_', ' ')} {entity_id!r} exists already "
                           f"({exc})") from exc
        return self._entity_of(result, kind.key(caller.tenant_id, entity_id))

    async def replace(
        self,
        caller: Caller,
        kind: EntityKind,
        entity_id: str,
        fields: Mapping[str, Any],
        if_match: str | None,
    ) -> DirectoryEntity:
        current = await self._current(caller, kind, entity_id, if_match)
        change = Change(
            kind, entity_id, self._complete(caller, kind, entity_id, fields), current.version
        )
        result = await self._apply_expecting(caller, kind, entity_id, [change])
        key = kind.key(caller.tenant_id, entity_id)
        if not result.applied:  # the same definition again: nothing changed
            return current
        return self._entity_of(result, key)

    async def remove(
        self, caller: Caller, kind: EntityKind, entity_id: str, if_match: str | None
    ) -> None:
        current = await self._current(caller, kind, entity_id, if_match)
        await self._apply_expecting(
            caller, kind, entity_id, [Change(kind, entity_id, None, current.version)]
        )

    async def apply(
        self, caller: Caller, changes: Sequence[Change], dry_run: bool
    ) -> ChangeResult:
        """A batch of changes, all or none (`hotline config apply`'s REST form). Definitions
        get the caller's tenant filled in; expected versions are the client's."""
        return await self._backend.apply(caller, self._completed(caller, changes), dry_run)

    # --- helpers ----------------------------------------------------------------------

    @staticmethod
    def _complete(
        caller: Caller, kind: EntityKind, entity_id: str, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The definition's fields with the ids of the path (the body never names them)."""
        return {**fields, **kind.ids(caller.tenant_id, entity_id)}

    def _completed(self, caller: Caller, changes: Sequence[Change]) -> list[Change]:
        return [
            c if c.removal else Change(
                c.kind, c.entity_id,
                self._complete(caller, c.kind, c.entity_id, c.fields or {}), c.expected_version,
            )
            for c in changes
        ]

    async def _current(
        self, caller: Caller, kind: EntityKind, entity_id: str, if_match: str | None
    ) -> DirectoryEntity:
        current = await self.get(caller, kind, entity_id)
        if if_match is not None and not if_match_passes(if_match, current.etag):
            raise PreconditionFailed(
                f"{kind.name.replace('_', ' ')} {entity_id!r} is at version {current.version}"
                f" (ETag {current.etag}), not the one If-Match names",
                current.etag,
            )
        return current

    async def _apply_expecting(
        self, caller: Caller, kind: EntityKind, entity_id: str, changes: Sequence[Change]
    ) -> ChangeResult:
        try:
            return await self._backend.apply(caller, changes)
        except PreconditionFailed as exc:  # changed since it was read: the current tag
            now = (await self.get(caller, kind, entity_id)).etag  # NotFound: removed meanwhile
            raise PreconditionFailed(str(exc), now) from exc

    @staticmethod
    def _entity_of(result: ChangeResult, key: str) -> DirectoryEntity:
        for entity in result.entities:
            if entity.key == key:
                return entity
        raise NotFound(f"{key} was not defined")  # pragma: no cover - the backend's contract
