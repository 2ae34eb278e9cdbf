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
from hotline_platform import directory, tenancy


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
        for change in changes:
            _, body = directory.change_body(change)
            scopes.append((directory.required_scope(self.view, change), _what(body)))
        denied = refusals(caller, scopes)
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

    def get(self, caller: Caller, key: str) -> EntityView:
        with self._lock:
            event = self.view.events.get(key)
            if event is None:
                raise NotFound(f"no {key}")
            _, body = directory.event_body(event)
            if not may_read(caller, directory.scope_of(body)):
                raise NotAllowed(f"{key}: not yours to read")
            return EntityView(key, self.view.versions[key], event)

    def list(self, caller: Caller, tenant_id: str = "") -> list[EntityView]:
        if not tenant_id and not caller.is_operator:
            raise NotAllowed("listing every tenant needs the operator credential")
        if tenant_id and not may_read(caller, tenant_id):
            raise NotAllowed(
                f"credential of tenant {caller.tenant_id!r} may not read tenant {tenant_id!r}"
            )
        with self._lock:
            out = []
            for key in sorted(self.view.events):
                event = self.view.events[key]
                _, body = directory.event_body(event)
                scope = directory.scope_of(body)
                if not tenant_id or scope in (tenant_id, directory.OPERATOR):
                    out.append(EntityView(key, self.view.versions[key], event))
            return out


def _what(body: object) -> str:
    return directory.describe_key(directory.key_of(body))
