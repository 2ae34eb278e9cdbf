"""Use cases of the directory: apply changes (validated against the whole directory inside the
one writer, flushed before the answer), get and list entities.

Concurrency: one lock around the view. `apply` holds it from validation to the end of the
flush, so requests are serialised: two concurrent requests cannot each pass validation and
together break a rule. The view changes only here (the service is the topic's only writer, so
after its start-up replay it knows every fact without reading the topic again).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hotline.directory.v1.directory_pb2 import Change
from hotline.directory.v1.events_pb2 import DirectoryEvent
from hotline_directory.application.ports import FactPublisher
from hotline_directory.domain.access import Caller, may_read, refusals
from hotline_platform import directory, policy, tenancy

# The permission a change of each kind needs (policy.PERMISSIONS; default directory.write).
_PERMISSION_OF = {"user": "identity.write", "api_key": "identity.write", "site": "tenant.write"}


class NotAllowed(Exception):
    """The caller may not make (one of) these changes or read this entity."""


class NotFound(LookupError):
    pass


@dataclass(frozen=True)
class ApplyResult:
    events: list[DirectoryEvent]
    warnings: list[str]
    applied: bool


@dataclass(frozen=True)
class EntityView:
    key: str
    version: int
    definition: DirectoryEvent


@dataclass
class DirectoryWriter:
    publisher: FactPublisher
    producer: str
    view: directory.View = field(default_factory=directory.View)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._config = self.view.config()
        self.published = 0

    def replayed(self, events: Iterable[DirectoryEvent]) -> None:
        """Fold the topic's facts read at start."""
        with self._lock:
            for event in events:
                self.view.apply(event)
            self._config = self.view.config()

    def config(self) -> tenancy.TenancyConfig:
        """The tenancy of the directory now (tenants' credentials: authorisation)."""
        return self._config  # replaced whole after each change

    def apply(
        self,
        caller: Caller,
        changes: list[Change],
        *,
        dry_run: bool = False,
        expected_versions: Mapping[str, int] | None = None,
    ) -> ApplyResult:
        """Raises NotAllowed, directory.Refused or directory.VersionConflict."""
        scopes = []
        changes = [
            self._keeping_password(caller, _with_issuer(change, caller.actor))
            for change in changes
        ]
        for change in changes:
            _, body = directory.change_body(change)
            kind = directory.kind_of(directory.key_of(body))
            permission = _PERMISSION_OF.get(kind, "directory.write")
            scopes.append((directory.required_scope(self.view, change), _what(body), permission))
        denied = refusals(caller, scopes) + _widening(caller, changes)
        if denied:
            raise NotAllowed("; ".join(denied))
        with self._lock:
            events, warnings = directory.plan(
                self.view,
                changes,
                actor=caller.actor,
                producer=self.producer,
                expected_versions=expected_versions,
                correlation_id=str(uuid.uuid4()),
            )
            if dry_run or not events:
                return ApplyResult(events, warnings, applied=False)
            for event in events:
                self.publisher.publish(event)
            # Raises if a fact was not recorded (and the process crashes: crash-only).
            self.publisher.flush()
            for event in events:
                self.view.apply(event)
            self._config = self.view.config()
            self.published += len(events)
            return ApplyResult(events, warnings, applied=True)

    def _keeping_password(self, caller: Caller, change: Change) -> Change:
        """Only the operator sees password hashes and agents' SIP HA1s (others get them
        blank), so a definition of an existing user (agent) without them from anyone else keeps
        the current ones: reading an entity and writing it back must not remove its password
        (`disabled` stops log-in). An agent keeps its HA1s only under the same sip_username
        (they hash it)."""
        which = change.WhichOneof("change")
        if caller.is_operator or which not in ("define_user", "define_agent"):
            return change
        body = getattr(change, which)
        if which == "define_user" and body.password_hash:
            return change
        if which == "define_agent" and (
            not body.sip_username or body.sip_ha1_md5 or body.sip_ha1_sha256
        ):
            return change
        with self._lock:
            current = self.view.events.get(directory.key_of(body))
        defined = which.replace("define_", "") + "_defined"
        if current is None or current.WhichOneof("event") != defined:
            return change
        filled = Change()
        filled.CopyFrom(change)
        if which == "define_user":
            filled.define_user.password_hash = current.user_defined.password_hash
        elif current.agent_defined.sip_username == body.sip_username:
            filled.define_agent.sip_ha1_md5 = current.agent_defined.sip_ha1_md5
            filled.define_agent.sip_ha1_sha256 = current.agent_defined.sip_ha1_sha256
        return filled

    def get(self, caller: Caller, key: str) -> EntityView:
        with self._lock:
            event = self.view.events.get(key)
            if event is None:
                raise NotFound(f"no {key}")
            _, body = directory.event_body(event)
            if not _visible(caller, key, directory.scope_of(body)):
                raise NotAllowed(f"{key}: not yours to read")
            return EntityView(key, self.view.versions[key], event)

    def list(self, caller: Caller, tenant_id: str = "") -> list[EntityView]:
        if not tenant_id and not caller.is_operator:
            raise NotAllowed("listing every tenant needs the operator credential")
        if tenant_id and not may_read(caller, tenant_id):
            who = (
                caller.principal.describe() if caller.principal is not None
                else f"credential of tenant {caller.tenant_id!r}"
            )
            raise NotAllowed(f"{who} may not read tenant {tenant_id!r}")
        with self._lock:
            out = []
            for key in sorted(self.view.events):
                event = self.view.events[key]
                _, body = directory.event_body(event)
                scope = directory.scope_of(body)
                if not tenant_id or scope == tenant_id or (
                    scope == directory.OPERATOR and _visible(caller, key, scope)
                ):
                    out.append(EntityView(key, self.view.versions[key], event))
            return out


def _visible(caller: Caller, key: str, scope: str) -> bool:
    """May `caller` read this entity? Of the operator's own entities, others see the sites
    only (operator staff are the operator's business)."""
    if scope == directory.OPERATOR and not caller.is_operator and directory.kind_of(key) != "site":
        return False
    return may_read(caller, scope)


def _widening(caller: Caller, changes: Iterable[Change]) -> list[str]:
    """A user or API key may not issue an API key holding permissions it lacks itself."""
    if caller.principal is None:
        return []
    held = policy.permissions_of(caller.principal)
    out = []
    for change in changes:
        if change.WhichOneof("change") == "define_api_key":
            beyond = sorted(set(change.define_api_key.scopes) - held)
            if beyond:
                out.append(
                    f"{_what(change.define_api_key)}: {caller.principal.describe()} may not "
                    f"issue a key with scope(s) it lacks: {', '.join(beyond)}"
                )
    return out


def _with_issuer(change: Change, actor: str) -> Change:
    """An API key defined without `created_by` records who issued it."""
    if change.WhichOneof("change") == "define_api_key" and not change.define_api_key.created_by:
        filled = Change()
        filled.CopyFrom(change)
        filled.define_api_key.created_by = actor
        return filled
    return change


def _what(body: object) -> str:
    return directory.describe_key(directory.key_of(body))
