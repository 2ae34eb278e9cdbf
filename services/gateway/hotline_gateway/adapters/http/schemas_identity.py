"""JSON shapes of a tenant's users and API keys. Field names are the directory contract's
(proto/hotline/directory/v1/events.proto UserDefined, ApiKeyDefined) except the secrets: a
user's `password` is write-only (hashed with argon2id before it leaves the gateway) and an API
key's `token` is answered once, by its creation. No shape carries a hash."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hotline_gateway.adapters.http.schemas_directory import (
    EntityId,
    OptionalId,
    _In,
    _Out,
    _Versioned,
)
from hotline_platform import identity

TenantRole = Literal["agent", "supervisor", "qa_evaluator", "tenant_admin"]
Locale = Literal["en", "zh-CN"]
KEY_ID_PATTERN = r"^[a-z0-9]{12}$"
# A permission name of the platform's table (the directory checks that it is one).
Scope = Annotated[str, Field(pattern=r"^[a-z][a-z_.]{0,63}$", max_length=64)]

PASSWORD_FIELD = Field(
    default=None, min_length=identity.MIN_PASSWORD_LENGTH, max_length=256,
    description="Write-only. Set or change the password (hashed with argon2id, never stored "
    "or shown); left out on a replacement: the password stays as it is. A user without a "
    "password cannot log in with one.",
)


class UserIn(_In):
    display_name: str = Field(default="", max_length=128)
    roles: list[TenantRole] = Field(min_length=1, max_length=4)
    locale: Locale = Field(default="en", description="Language of the pages")
    agent_id: OptionalId = Field(default="", description="The agent this user is (with role "
                                 "agent, required)")
    disabled: bool = Field(default=False, description="Refused at log-in; sessions end")
    password: str | None = PASSWORD_FIELD


class UserCreate(UserIn):
    user_id: EntityId


class UserOut(_Versioned):
    tenant_id: str
    user_id: str
    display_name: str
    roles: list[str]
    locale: str
    agent_id: str
    disabled: bool


class UserPage(_Out):
    items: list[UserOut]
    next: str | None = Field(description="URL of the next page; null on the last one")


class ApiKeyCreate(_In):
    name: str = Field(default="", max_length=128, description="What the key is for, e.g. crm")
    scopes: list[Scope] = Field(
        min_length=1, max_length=32,
        description="Permissions (never per-agent *_own ones, never more than the issuer's)",
    )
    expires_at_ms: int | None = Field(
        default=None, ge=1, le=2**53, description="UTC ms after which the key is refused; "
        "null: does not expire",
    )


class ApiKeyOut(_Versioned):
    tenant_id: str
    key_id: str
    name: str
    scopes: list[str]
    created_by: str = Field(description="Who issued it")
    expires_at_ms: int = Field(description="0: does not expire")


class ApiKeyIssued(ApiKeyOut):
    token: str = Field(description="hk_<key id>_<secret>: shown this once, never again; send "
                       "it as 'Authorization: Bearer <token>'")


class ApiKeyPage(_Out):
    items: list[ApiKeyOut]
    next: str | None = Field(description="URL of the next page; null on the last one")
