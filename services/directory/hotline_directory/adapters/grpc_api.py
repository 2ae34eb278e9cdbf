"""gRPC servicer of DirectoryService: credentials -> Caller, use cases, precise refusals.

Credentials: the operator credential; a tenant's credential; an API key of the directory
(``hk_...``); the gateway's delegation for a browser session (``hd_...``, with the shared
HOTLINE_DELEGATION_KEY), acting as the user as the directory says now. Users and API keys are
checked against the permission table (domain/access.py). Password and API-key hashes are
answered only to the operator credential (`hotline config apply` compares them); everyone else
gets them blanked."""

from __future__ import annotations

import asyncio
import time

import grpc

from hotline.directory.v1 import directory_pb2, directory_pb2_grpc
from hotline.directory.v1.events_pb2 import DirectoryEvent
from hotline_directory.application.service import DirectoryWriter, NotAllowed, NotFound
from hotline_directory.domain.access import Caller
from hotline_platform import auth, directory, identity
from hotline_platform.credentials import CredentialIndex
from hotline_platform.grpc_server import abort

OPERATOR_OWNER = "operator"


class DirectoryApi(directory_pb2_grpc.DirectoryServiceServicer):
    def __init__(
        self, writer: DirectoryWriter, operator: CredentialIndex,
        delegation: identity.Delegation | None = None,
    ) -> None:
        self._writer = writer
        self._operator = operator
        self._resolver = auth.live_resolver(writer.config, delegation=delegation)

    async def _caller(self, context: grpc.aio.ServicerContext) -> Caller:
        """The operator, or the tenant whose credential this is (else the call is aborted)."""
        token = auth.bearer(tuple(context.invocation_metadata() or ()))
        if not token:
            await abort(
                context, grpc.StatusCode.UNAUTHENTICATED,
                "missing 'authorization: Bearer' metadata",
            )
        config = self._writer.config()
        if self._operator.cached(token) == OPERATOR_OWNER:
            return Caller()
        if token.startswith((identity.API_KEY_PREFIX, identity.DELEGATION_PREFIX)):
            try:
                if self._resolver.cached(token):
                    principal = self._resolver.resolve(token, _now_ms())
                else:
                    principal = await asyncio.to_thread(self._resolver.resolve, token, _now_ms())
            except identity.Unauthenticated as exc:
                await abort(context, grpc.StatusCode.UNAUTHENTICATED, str(exc))
            return Caller(principal=principal)
        if not config.credential_is_cached(token):
            owner = await asyncio.to_thread(self._operator.owner_of, token)
            if owner == OPERATOR_OWNER:
                return Caller()
        tenant = await asyncio.to_thread(config.tenant_for_credential, token)
        if tenant is None:
            await abort(context, grpc.StatusCode.UNAUTHENTICATED, "unknown credential")
        return Caller(tenant.id)

    async def Apply(  # noqa: N802 (gRPC method names)
        self, request: directory_pb2.ApplyRequest, context: grpc.aio.ServicerContext
    ) -> directory_pb2.ApplyResponse:
        if any(change.WhichOneof("change") is None for change in request.changes):
            await abort(
                context, grpc.StatusCode.INVALID_ARGUMENT,
                "a change names no definition or removal",
            )
        caller = await self._caller(context)
        if caller.tenant_id:
            # Per-tenant changes: the platform's check that the credential is that tenant's
            # (changes of another tenant are refused below with the entity they name).
            await auth.authorize_call(self._writer.config(), context, caller.tenant_id)
        try:
            result = await asyncio.to_thread(
                self._writer.apply,
                caller,
                list(request.changes),
                dry_run=request.dry_run,
                expected_versions=dict(request.expected_versions),
            )
        except NotAllowed as exc:
            await abort(context, grpc.StatusCode.PERMISSION_DENIED, str(exc))
        except directory.VersionConflict as exc:
            await abort(context, grpc.StatusCode.ABORTED, str(exc))
        except directory.Refused as exc:
            await abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except RuntimeError as exc:  # facts not durable
            await abort(context, grpc.StatusCode.UNAVAILABLE, f"not recorded: {exc}")
        return directory_pb2.ApplyResponse(
            events=result.events, applied=result.applied, warnings=result.warnings
        )

    async def Get(  # noqa: N802
        self, request: directory_pb2.GetRequest, context: grpc.aio.ServicerContext
    ) -> directory_pb2.Entity:
        caller = await self._caller(context)
        try:
            entity = self._writer.get(caller, request.key)
        except NotFound as exc:
            await abort(context, grpc.StatusCode.NOT_FOUND, str(exc))
        except NotAllowed as exc:
            await abort(context, grpc.StatusCode.PERMISSION_DENIED, str(exc))
        return directory_pb2.Entity(
            key=entity.key, version=entity.version, definition=_shown(caller, entity.definition)
        )

    async def List(  # noqa: N802
        self, request: directory_pb2.ListRequest, context: grpc.aio.ServicerContext
    ) -> directory_pb2.ListResponse:
        caller = await self._caller(context)
        try:
            entities = self._writer.list(caller, request.tenant_id)
        except NotAllowed as exc:
            await abort(context, grpc.StatusCode.PERMISSION_DENIED, str(exc))
        return directory_pb2.ListResponse(
            entities=[
                directory_pb2.Entity(
                    key=e.key, version=e.version, definition=_shown(caller, e.definition)
                )
                for e in entities
            ]
        )


def _now_ms() -> int:
    return int(time.time() * 1000)


def _shown(caller: Caller, event: DirectoryEvent) -> DirectoryEvent:
    """The fact as `caller` may see it: hashes (agents' SIP HA1s too: they authenticate as
    the phone) blanked for all but the operator."""
    which = event.WhichOneof("event")
    if caller.is_operator or which not in ("user_defined", "api_key_defined", "agent_defined"):
        return event
    shown = DirectoryEvent()
    shown.CopyFrom(event)
    if which == "user_defined":
        shown.user_defined.password_hash = ""
    elif which == "agent_defined":
        shown.agent_defined.sip_ha1_md5 = ""
        shown.agent_defined.sip_ha1_sha256 = ""
    else:
        shown.api_key_defined.secret_hash = ""
    return shown


SERVICE_NAMES = (directory_pb2.DESCRIPTOR.services_by_name["DirectoryService"].full_name,)


def register(
    server: grpc.aio.Server, writer: DirectoryWriter, operator: CredentialIndex,
    delegation: identity.Delegation | None = None,
) -> None:
    directory_pb2_grpc.add_DirectoryServiceServicer_to_server(
        DirectoryApi(writer, operator, delegation), server
    )
