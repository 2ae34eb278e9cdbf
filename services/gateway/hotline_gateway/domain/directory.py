"""The live directory's entities as the gateway serves them (pure: standard library only).

The directory service owns them (facts on hotline.directory.v1, one writer); the gateway
reads and changes them through its API. An entity is its kind, its key in the directory, its
version (1 when defined, +1 on every change, never reused: the ETag), who made the last
change, and its definition's fields as plain values (the protobuf fields by name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EntityKind:
    """One kind of directory entity and how the API names it."""

    name: str  # the directory's: queue, agent, site, entry_point, tenant, user, api_key
    collection: str  # the path segment: queues, agents, sites, entry-points
    id_field: str  # the field naming one entity: queue_id, agent_id, site_id, address
    operator_owned: bool = False  # sites: the operator's, shared by every tenant
    # A second naming field before id_field (prompts: language): the entity id is then
    # "<parent>/<id>" (e.g. "en/welcome").
    parent_field: str = ""

    def key(self, tenant_id: str, entity_id: str) -> str:
        """The directory key: queue/<tenant>/<id>, agent/<tenant>/<id>, site/<id>,
        entry_point/<address>, tenant/<id>."""
        if self.name in ("site", "entry_point", "tenant"):
            return f"{self.name}/{entity_id}"
        return f"{self.name}/{tenant_id}/{entity_id}"

    def ids(self, tenant_id: str, entity_id: str) -> dict[str, str]:
        """The fields naming one entity (what a removal carries)."""
        if self.operator_owned or self.name == "tenant":
            return {self.id_field: entity_id}
        if self.parent_field:
            parent, _, own = entity_id.partition("/")
            return {"tenant_id": tenant_id, self.parent_field: parent, self.id_field: own}
        return {"tenant_id": tenant_id, self.id_field: entity_id}

    def entity_id_of(self, fields: Mapping[str, Any]) -> str:
        """The entity id of a definition's fields (what `key` and `ids` take)."""
        own = str(fields.get(self.id_field, ""))
        return f"{fields.get(self.parent_field, '')}/{own}" if self.parent_field else own


QUEUE = EntityKind("queue", "queues", "queue_id")
AGENT = EntityKind("agent", "agents", "agent_id")
SITE = EntityKind("site", "sites", "site_id", operator_owned=True)
ENTRY_POINT = EntityKind("entry_point", "entry-points", "address")
TENANT = EntityKind("tenant", "", "tenant_id")
# Identity (routes_identity.py): a tenant's users and API keys.
USER = EntityKind("user", "users", "user_id")
API_KEY = EntityKind("api_key", "api-keys", "key_id")
# A tenant's own IVR prompts (routes_prompts.py): id "<language>/<name>".
PROMPT = EntityKind("prompt", "prompts", "name", parent_field="language")

KINDS: Mapping[str, EntityKind] = {
    k.name: k for k in (QUEUE, AGENT, SITE, ENTRY_POINT, TENANT, USER, API_KEY, PROMPT)
}


def version_etag(version: int) -> str:
    """The strong entity tag of a directory version: `"<version>"`."""
    return f'"{version}"'


@dataclass(frozen=True)
class DirectoryEntity:
    kind: str
    key: str
    version: int
    changed_by: str  # "operator", "tenant:<id>", later a user or API key
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def entity_id(self) -> str:
        return KINDS[self.kind].entity_id_of(self.fields)

    @property
    def tenant_id(self) -> str:
        return str(self.fields.get("tenant_id", ""))

    @property
    def etag(self) -> str:
        return version_etag(self.version)


@dataclass(frozen=True)
class Change:
    """One change of a request: define (create or replace) or remove one entity.
    `expected_version`: None = no condition, 0 = must not exist, n = must be at version n."""

    kind: EntityKind
    entity_id: str
    fields: Mapping[str, Any] | None  # None: a removal
    expected_version: int | None = None

    @property
    def removal(self) -> bool:
        return self.fields is None


@dataclass(frozen=True)
class ChangeResult:
    applied: bool  # False: a dry run, or nothing differed
    entities: tuple[DirectoryEntity, ...]  # the entities as they are (or would be) after it
    removed: tuple[str, ...]  # keys removed (or that would be)
    warnings: tuple[str, ...]
