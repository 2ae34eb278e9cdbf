"""Use cases of a tenant's users and API keys (identity.read / identity.write), over the
directory's use cases (DirectoryUseCases: conditional changes, 409/412, who made them).

Secrets: a password arrives in a create or replace body, is hashed here with the platform's
argon2id (hotline_platform.identity.hash_password, off the event loop) and only the hash goes
to the directory; it is never stored, logged or returned. A replacement without a password
keeps the current one (the directory keeps the hash of a user written back without one). An API
key's token `hk_<key id>_<secret>` is made here, its scrypt hash goes to the directory, and the
token is answered once, by the creation. Responses never carry a hash (the directory adapter
drops them).

A key's scopes are permissions of the platform's table, never per-agent ones (checked here),
and never more than the issuer holds itself (the directory refuses a user or key widening its
own rights: 403).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hotline_gateway.application.directory import DirectoryUseCases
from hotline_gateway.application.ports import Caller
from hotline_gateway.domain.directory import API_KEY, USER, DirectoryEntity
from hotline_gateway.domain.errors import Invalid
from hotline_gateway.domain.pagination import Page
from hotline_platform import identity, policy


@dataclass(frozen=True)
class IssuedKey:
    entity: DirectoryEntity
    token: str  # shown once


class IdentityAdmin:
    def __init__(self, directory: DirectoryUseCases) -> None:
        self._directory = directory

    # --- users ---------------------------------------------------------------------------

    async def list_users(
        self, caller: Caller, limit: int, cursor: str | None
    ) -> Page[DirectoryEntity]:
        return await self._directory.list_page(caller, USER, limit, cursor)

    async def get_user(self, caller: Caller, user_id: str) -> DirectoryEntity:
        return await self._directory.get(caller, USER, user_id)

    async def create_user(
        self, caller: Caller, user_id: str, fields: Mapping[str, Any], password: str | None
    ) -> DirectoryEntity:
        definition = await self._user_fields(fields, password)
        return await self._directory.create(caller, USER, user_id, definition)

    async def replace_user(
        self, caller: Caller, user_id: str, fields: Mapping[str, Any], password: str | None,
        if_match: str | None,
    ) -> DirectoryEntity:
        definition = await self._user_fields(fields, password)
        return await self._directory.replace(caller, USER, user_id, definition, if_match)

    async def remove_user(self, caller: Caller, user_id: str, if_match: str | None) -> None:
        await self._directory.remove(caller, USER, user_id, if_match)

    @staticmethod
    async def _user_fields(fields: Mapping[str, Any], password: str | None) -> dict[str, Any]:
        # "" = no new password: the directory keeps the current hash (none for a new user).
        hashed = ""
        if password is not None:
            try:
                hashed = await asyncio.to_thread(identity.hash_password, password)
            except identity.IdentityError as exc:
                raise Invalid(str(exc), (("body.password", str(exc)),)) from None
        return {**fields, "password_hash": hashed}

    # --- API keys ------------------------------------------------------------------------

    async def list_keys(
        self, caller: Caller, limit: int, cursor: str | None
    ) -> Page[DirectoryEntity]:
        return await self._directory.list_page(caller, API_KEY, limit, cursor)

    async def get_key(self, caller: Caller, key_id: str) -> DirectoryEntity:
        return await self._directory.get(caller, API_KEY, key_id)

    async def issue_key(
        self, caller: Caller, name: str, scopes: list[str], expires_at_ms: int | None
    ) -> IssuedKey:
        try:
            key, token = await asyncio.to_thread(
                identity.new_api_key, caller.tenant_id, scopes, "", name=name,
                expires_ms=expires_at_ms, known_permissions=policy.PERMISSIONS,
            )
        except identity.IdentityError as exc:
            raise Invalid(str(exc), (("body.scopes", str(exc)),)) from None
        fields = {
            "name": key.name, "scopes": sorted(key.scopes), "secret_hash": key.hash,
            "expires_at_ms": key.expires_ms or 0,
            "created_by": "",  # the directory fills in who made the change
        }
        entity = await self._directory.create(caller, API_KEY, key.id, fields)
        return IssuedKey(entity, token)

    async def revoke_key(self, caller: Caller, key_id: str, if_match: str | None) -> None:
        await self._directory.remove(caller, API_KEY, key_id, if_match)
