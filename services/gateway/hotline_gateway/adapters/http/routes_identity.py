"""Routes of a tenant's users and API keys: `/v1/tenants/{tenant_id}/users` and
`/v1/tenants/{tenant_id}/api-keys`, stored in the live directory (UserDefined, ApiKeyDefined).

Reads need `identity.read`, changes `identity.write` (tenant admins, operators with the tenant
in scope): the platform's one table, hotline_platform.policy. Users are created (POST,
Idempotency-Key, 201, Location, ETag), replaced (PUT, If-Match) and removed (DELETE, If-Match)
like the directory's other entities; a password is a write-only field hashed with argon2id in
the gateway; a new password, disabling and removal end the user's browser sessions. An API
key is issued (POST: the token `hk_...` is in that answer only), read and
revoked (DELETE); it is never changed (issue a new one and revoke the old). No answer carries a
hash (application/identity_admin.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response

from hotline_gateway.adapters.http.deps import (
    DEFAULT_PAGE,
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
from hotline_gateway.adapters.http.schemas_directory import ID_PATTERN, entity_out
from hotline_gateway.adapters.http.schemas_identity import (
    KEY_ID_PATTERN,
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyOut,
    ApiKeyPage,
    UserCreate,
    UserIn,
    UserOut,
    UserPage,
)
from hotline_gateway.application.identity_admin import IdentityAdmin
from hotline_gateway.application.sessions import SessionService
from hotline_gateway.domain.directory import DirectoryEntity
from hotline_gateway.domain.pagination import Page

IDENTITY_READ = "identity.read"
IDENTITY_WRITE = "identity.write"

UserId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64, description="The user's id")]
KeyId = Annotated[
    str, Path(pattern=KEY_ID_PATTERN, max_length=12, description="The key's id (12 a-z0-9)")
]


def _admin(use: Use) -> IdentityAdmin:
    return use.gateway.identity


def _page(request: Request, response: Response, limit: int, page: Page[DirectoryEntity],
          model: type[UserOut] | type[ApiKeyOut]) -> dict[str, Any]:
    link = _next_link(request, limit, page.next_cursor)
    _link_header(response, link)
    return {"items": [entity_out(model, e) for e in page.items], "next": link}


def _send(response: Response, model: type[UserOut] | type[ApiKeyOut],
          entity: DirectoryEntity) -> Any:
    response.headers["ETag"] = entity.etag
    return entity_out(model, entity)


# --- users -------------------------------------------------------------------------------


async def list_users(
    request: Request, response: Response, use: UseDep,
    limit: PageLimit = DEFAULT_PAGE, cursor: PageCursor = None,
) -> UserPage:
    page = await _admin(use).list_users(use.caller, limit, cursor)
    return UserPage.model_validate(_page(request, response, limit, page, UserOut))


async def get_user(response: Response, use: UseDep, user_id: UserId) -> UserOut:
    return _send(response, UserOut, await _admin(use).get_user(use.caller, user_id))  # type: ignore[no-any-return]


async def create_user(
    request: Request, response: Response, use: UseDep, body: UserCreate
) -> UserOut:
    fields = body.model_dump(exclude={"user_id", "password"})
    entity = await _admin(use).create_user(use.caller, body.user_id, fields, body.password)
    response.headers["Location"] = f"{request.url.path}/{body.user_id}"
    return _send(response, UserOut, entity)  # type: ignore[no-any-return]


def _end_sessions(request: Request, tenant_id: str, user_id: str) -> None:
    """End every browser session of the user (on every replica: the session store's topic)."""
    sessions: SessionService | None = request.app.state.components.sessions
    if sessions is not None:
        sessions.sessions.end_all(tenant_id, user_id)


async def replace_user(
    request: Request, response: Response, use: UseDep, user_id: UserId, body: UserIn,
    if_match: IfMatch = None,
) -> UserOut:
    fields = body.model_dump(exclude={"password"})
    entity = await _admin(use).replace_user(
        use.caller, user_id, fields, body.password, if_match
    )
    if body.password is not None or body.disabled:  # a new password or disabled: log out
        _end_sessions(request, use.caller.tenant_id, user_id)
    return _send(response, UserOut, entity)  # type: ignore[no-any-return]


async def delete_user(
    request: Request, use: UseDep, user_id: UserId, if_match: IfMatch = None
) -> Response:
    await _admin(use).remove_user(use.caller, user_id, if_match)
    _end_sessions(request, use.caller.tenant_id, user_id)
    return Response(status_code=204)


# --- API keys ----------------------------------------------------------------------------


async def list_api_keys(
    request: Request, response: Response, use: UseDep,
    limit: PageLimit = DEFAULT_PAGE, cursor: PageCursor = None,
) -> ApiKeyPage:
    page = await _admin(use).list_keys(use.caller, limit, cursor)
    return ApiKeyPage.model_validate(_page(request, response, limit, page, ApiKeyOut))


async def get_api_key(response: Response, use: UseDep, key_id: KeyId) -> ApiKeyOut:
    return _send(response, ApiKeyOut, await _admin(use).get_key(use.caller, key_id))  # type: ignore[no-any-return]


async def create_api_key(
    request: Request, response: Response, use: UseDep, body: ApiKeyCreate
) -> ApiKeyIssued:
    issued = await _admin(use).issue_key(use.caller, body.name, body.scopes, body.expires_at_ms)
    entity = issued.entity
    response.headers["Location"] = f"{request.url.path}/{entity.entity_id}"
    response.headers["ETag"] = entity.etag
    response.headers["Cache-Control"] = "no-store"  # the token is in this answer only
    return ApiKeyIssued.model_validate({
        **entity.fields, "version": entity.version, "changed_by": entity.changed_by,
        "token": issued.token,
    })


async def revoke_api_key(use: UseDep, key_id: KeyId, if_match: IfMatch = None) -> Response:
    await _admin(use).revoke_key(use.caller, key_id, if_match)
    return Response(status_code=204)


# --- the table ---------------------------------------------------------------------------

_READ = ADMISSION_ERRORS + BACKEND_ERRORS
_WRITE = (400,) + ADMISSION_ERRORS + BACKEND_ERRORS + (409, 412)
_U, _K = f"{TENANT}/users", f"{TENANT}/api-keys"
_TAG = "identity"

ROUTES: tuple[Route, ...] = (
    Route("listUsers", "GET", _U, IDENTITY_READ, list_users,
          "The tenant's users (never a password or its hash)", UserPage, _READ, _TAG,
          paginated=True),
    Route("getUser", "GET", f"{_U}/{{user_id}}", IDENTITY_READ, get_user,
          "One user (ETag: its version)", UserOut, _READ, _TAG, etag=True),
    Route("createUser", "POST", _U, IDENTITY_WRITE, create_user,
          "Create a user, with a password (hashed with argon2id) or none", UserOut, _WRITE,
          _TAG, status_code=201, etag=True, max_body_bytes=8 * 1024),
    Route("replaceUser", "PUT", f"{_U}/{{user_id}}", IDENTITY_WRITE, replace_user,
          "Replace a user (If-Match: its version); without a password it keeps its own",
          UserOut, _WRITE, _TAG, etag=True, max_body_bytes=8 * 1024),
    Route("deleteUser", "DELETE", f"{_U}/{{user_id}}", IDENTITY_WRITE, delete_user,
          "Remove a user (If-Match: its version)", None, _WRITE, _TAG, status_code=204),
    Route("listApiKeys", "GET", _K, IDENTITY_READ, list_api_keys,
          "The tenant's API keys (never a token or its hash)", ApiKeyPage, _READ, _TAG,
          paginated=True),
    Route("getApiKey", "GET", f"{_K}/{{key_id}}", IDENTITY_READ, get_api_key,
          "One API key (ETag: its version)", ApiKeyOut, _READ, _TAG, etag=True),
    Route("createApiKey", "POST", _K, IDENTITY_WRITE, create_api_key,
          "Issue an API key: its token hk_... is in this answer only", ApiKeyIssued, _WRITE,
          _TAG, status_code=201, etag=True, max_body_bytes=8 * 1024),
    Route("revokeApiKey", "DELETE", f"{_K}/{{key_id}}", IDENTITY_WRITE, revoke_api_key,
          "Revoke an API key (at once, on every service)", None, _WRITE, _TAG,
          status_code=204),
)
