"""The directory service's gRPC API (hotline.directory.v1 DirectoryService Apply/Get/List) as
the gateway's DirectoryBackend. Definitions travel as plain field dicts both ways through the
platform's one protobuf mapping (hotline_platform.protodict); no field is copied by hand.

Status mapping beyond grpc_backend.map_rpc_error: INVALID_ARGUMENT (a broken rule; the
directory lists every reason, separated by "; ") -> Invalid with one error per reason; ABORTED
(an expected version did not match) -> PreconditionFailed; PERMISSION_DENIED on a read (another
tenant's entity) -> NotFound. A tenant's credential hash never leaves this adapter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from hotline.directory.v1 import directory_pb2, directory_pb2_grpc
from hotline.directory.v1 import events_pb2 as pb
from hotline_gateway.adapters.grpc_backend import map_rpc_error, metadata
from hotline_gateway.application.ports import Caller
from hotline_gateway.domain.directory import KINDS, Change, ChangeResult, DirectoryEntity
from hotline_gateway.domain.errors import Forbidden, Invalid, NotFound, PreconditionFailed
from hotline_platform import protodict

T = TypeVar("T")

# The message of each kind's definition and removal (TenantDefined, QueueRemoved, ...).
_DEFINED: dict[str, type[Message]] = {
    "tenant": pb.TenantDefined, "site": pb.SiteDefined, "queue": pb.QueueDefined,
    "agent": pb.AgentDefined, "entry_point": pb.EntryPointDefined,
    "user": pb.UserDefined, "api_key": pb.ApiKeyDefined, "prompt": pb.PromptDefined,
}
_REMOVED: dict[str, type[Message]] = {
    "tenant": pb.TenantRemoved, "site": pb.SiteRemoved, "queue": pb.QueueRemoved,
    "agent": pb.AgentRemoved, "entry_point": pb.EntryPointRemoved,
    "user": pb.UserRemoved, "api_key": pb.ApiKeyRevoked, "prompt": pb.PromptRemoved,
}
# The Change field removing each kind (an API key is revoked).
_REMOVAL_FIELD = {"api_key": "revoke_api_key"}
# Never shown: what authenticates a tenant, a user, an agent's phone or an API key (the
# directory blanks the hashes for all but the operator already; they are dropped here whoever
# the caller is).
_SECRET_FIELDS = (
    "credential_hash", "credential_unscoped", "password_hash", "secret_hash",
    "sip_ha1_md5", "sip_ha1_sha256",
)


def _fact(event: pb.DirectoryEvent) -> tuple[str, bool, dict[str, Any]]:
    """(kind, removed, fields) of a directory fact."""
    case = event.WhichOneof("event") or ""
    kind, _, what = case.rpartition("_")
    fields = protodict.to_dict(getattr(event, case))
    for secret in _SECRET_FIELDS:
        fields.pop(secret, None)
    return kind, what in ("removed", "revoked"), fields


def _key(kind: str, fields: dict[str, Any]) -> str:
    entity = KINDS[kind]
    return entity.key(str(fields.get("tenant_id", "")), entity.entity_id_of(fields))


def entity_from_proto(entity: directory_pb2.Entity) -> DirectoryEntity:
    kind, _, fields = _fact(entity.definition)
    return DirectoryEntity(
        kind=kind, key=entity.key, version=entity.version,
        changed_by=entity.definition.changed_by, fields=fields,
    )


def change_to_proto(caller: Caller, change: Change) -> directory_pb2.Change:
    name = change.kind.name
    try:
        if change.fields is None:
            body = protodict.to_message(
                change.kind.ids(caller.tenant_id, change.entity_id), _REMOVED[name]
            )
            return directory_pb2.Change(**{_REMOVAL_FIELD.get(name, f"remove_{name}"): body})
        body = protodict.to_message(dict(change.fields), _DEFINED[name])
    except (TypeError, ValueError) as exc:
        raise Invalid(f"{name} {change.entity_id!r}: {exc}", (("body", str(exc)),)) from exc
    return directory_pb2.Change(**{f"define_{name}": body})


class DirectoryClient:
    BACKEND = "the directory"

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, retry_after_s: float) -> None:
        self._stub = directory_pb2_grpc.DirectoryServiceStub(channel)
        self._timeout = timeout_s
        self._retry_after = retry_after_s

    async def _call(
        self, caller: Caller, rpc: Callable[..., Awaitable[T]], request: object, reading: bool
    ) -> T:
        try:
            return await rpc(request, metadata=metadata(caller), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            code, detail = exc.code(), exc.details() or ""
            if code == grpc.StatusCode.INVALID_ARGUMENT:
                reasons = tuple(("body", r) for r in detail.split("; ") if r)
                raise Invalid(f"the directory refused the change: {detail}", reasons) from exc
            if code == grpc.StatusCode.ABORTED:
                raise PreconditionFailed(detail, "") from exc
            if code == grpc.StatusCode.PERMISSION_DENIED:
                if reading:
                    raise NotFound("no such entity in this tenant") from exc
                raise Forbidden(f"the directory refused the change: {detail}") from exc
            raise map_rpc_error(exc, self.BACKEND, self._retry_after) from exc

    async def list_entities(self, caller: Caller) -> Sequence[DirectoryEntity]:
        reply = await self._call(
            caller, self._stub.List, directory_pb2.ListRequest(tenant_id=caller.tenant_id), True
        )
        return [entity_from_proto(e) for e in reply.entities]

    async def get_entity(self, caller: Caller, key: str) -> DirectoryEntity:
        reply = await self._call(caller, self._stub.Get, directory_pb2.GetRequest(key=key), True)
        return entity_from_proto(reply)

    async def apply(
        self, caller: Caller, changes: Sequence[Change], dry_run: bool = False
    ) -> ChangeResult:
        request = directory_pb2.ApplyRequest(
            changes=[change_to_proto(caller, c) for c in changes],
            dry_run=dry_run,
            expected_versions={
                c.kind.key(caller.tenant_id, c.entity_id): c.expected_version
                for c in changes if c.expected_version is not None
            },
        )
        reply = await self._call(caller, self._stub.Apply, request, False)
        entities, removed = [], []
        for event in reply.events:
            kind, is_removal, fields = _fact(event)
            key = _key(kind, fields)
            if is_removal:
                removed.append(key)
            else:
                entities.append(DirectoryEntity(
                    kind, key, event.entity_version, event.changed_by, fields
                ))
        # Definitions equal to the current ones publish nothing: report them as they are.
        published = {e.key for e in entities} | set(removed)
        for change in changes:
            key = change.kind.key(caller.tenant_id, change.entity_id)
            if change.fields is not None and key not in published and not dry_run:
                entities.append(await self.get_entity(caller, key))
        return ChangeResult(reply.applied, tuple(entities), tuple(removed), tuple(reply.warnings))
