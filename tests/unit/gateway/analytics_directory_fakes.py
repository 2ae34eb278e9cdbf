"""In-memory directory and Reports backends for the gateway's unit tests (the real ones are
the directory service's and the analytics sink's gRPC APIs, exercised in
tests/integration/test_gateway_directory.py). The directory keeps each definition as its
contract message, through the gRPC adapter's mapping, so what is read back is what the real
one answers (every field, defaults filled in)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline_gateway.adapters.directory_grpc import change_to_proto
from hotline_gateway.application.ports import Caller
from hotline_gateway.domain.directory import Change, ChangeResult, DirectoryEntity
from hotline_gateway.domain.errors import Forbidden, Invalid, NotFound, PreconditionFailed
from hotline_gateway.domain.interactions import (
    CustomerIdentity,
    InteractionDetail,
    InteractionEvent,
    InteractionPage,
    InteractionQuery,
    InteractionSummary,
)
from hotline_platform import protodict


def as_stored(caller: Caller, change: Change) -> dict[str, Any]:
    """A definition's fields as the directory stores and answers them: its contract message."""
    message = change_to_proto(caller, change)
    return protodict.to_dict(getattr(message, message.WhichOneof("change") or ""))


@dataclass
class FakeDirectory:
    """Entities by key; versions and expected versions as the directory keeps them. Refuses a
    queue with no skill (to stand for the directory's rules)."""

    entities: dict[str, DirectoryEntity] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)

    def seed(self, tenant_id: str) -> None:
        for kind, key, fields in (
            ("tenant", f"tenant/{tenant_id}", {"tenant_id": tenant_id, "name": tenant_id,
                                                "kpi": None, "not_ready_reasons": []}),
            ("site", "site/lisbon", {"site_id": "lisbon", "name": "Lisbon", "drained": False}),
        ):
            self.versions[key] = 1
            self.entities[key] = DirectoryEntity(kind, key, 1, "operator", fields)

    async def list_entities(self, caller: Caller) -> Sequence[DirectoryEntity]:
        return list(self.entities.values())

    async def get_entity(self, caller: Caller, key: str) -> DirectoryEntity:
        found = self.entities.get(key)
        if found is None:
            raise NotFound(f"no {key}")
        return found

    async def apply(
        self, caller: Caller, changes: Sequence[Change], dry_run: bool = False
    ) -> ChangeResult:
        keys = [c.kind.key(caller.tenant_id, c.entity_id) for c in changes]
        for change, key in zip(changes, keys, strict=True):
            expected = change.expected_version
            now = self.versions.get(key, 0) if key in self.entities else 0
            if expected is not None and expected != now:
                raise PreconditionFailed(f"{key} is at version {now}, not {expected}", "")
            if change.kind.name == "queue" and change.fields is not None and not change.fields.get(
                "required_skills"
            ):
                raise Invalid("refused", (("body", f"{key}: needs a skill"),
                                          ("body", f"{key}: no entry point reaches it")))
            if change.removal and key not in self.entities:
                raise Invalid("refused", (("body", f"{key}: does not exist"),))
        out, removed = [], []
        for change, key in zip(changes, keys, strict=True):
            version = self.versions.get(key, 0) + 1
            if change.fields is None:
                removed.append(key)
                if not dry_run:
                    self.versions[key] = version
                    del self.entities[key]
                continue
            entity = DirectoryEntity(
                change.kind.name, key, version, f"tenant:{caller.tenant_id}",
                as_stored(caller, change),
            )
            out.append(entity)
            if not dry_run:
                self.versions[key] = version
                self.entities[key] = entity
        return ChangeResult(not dry_run, tuple(out), tuple(removed), ())


def summary(interaction_id: str, queue_id: str = "support") -> InteractionSummary:
    return InteractionSummary(interaction_id, "voice", "+35121000001", queue_id,
                              "2026-11-03T09:01:00Z", "answered", "a1", "sold", True)


@dataclass
class FakeReports:
    interactions: list[InteractionSummary] = field(default_factory=list)
    asked: list[tuple[str, Any]] = field(default_factory=list)
    not_stored_yet: int = 0  # screen-pops refused before the offer is "stored"

    async def list_interactions(
        self, caller: Caller, query: InteractionQuery, limit: int, page_token: str
    ) -> InteractionPage:
        self.asked.append(("list", (query, limit, page_token)))
        start = int(page_token or 0)
        page = self.interactions[start:start + limit]
        more = start + limit < len(self.interactions)
        return InteractionPage(tuple(page), str(start + limit) if more else "")

    async def get_interaction(self, caller: Caller, interaction_id: str) -> InteractionDetail:
        for found in self.interactions:
            if found.interaction_id == interaction_id:
                event = InteractionEvent("e1", "arrived", "2026-11-03T09:01:00Z", "ingress-sip",
                                         {"from_address": "sip:+351@x"})
                return InteractionDetail(found, (event,))
        raise NotFound(f"no interaction {interaction_id!r}")

    async def customer_contacts(
        self, caller: Caller, identity: CustomerIdentity, limit: int, exclude_interaction_id: str
    ) -> Sequence[InteractionSummary]:
        self.asked.append(("contacts", (identity, limit, exclude_interaction_id)))
        return self.interactions[:limit]

    async def offered_customer_contacts(
        self, caller: Caller, agent_id: str, interaction_id: str, limit: int
    ) -> tuple[CustomerIdentity, Sequence[InteractionSummary]]:
        """Offered to `agent_id` when an interaction with that id was answered by it."""
        self.asked.append(("offered contacts", (agent_id, interaction_id, limit)))
        if self.not_stored_yet:
            self.not_stored_yet -= 1
            raise Forbidden(f"interaction {interaction_id!r} was not offered to {agent_id!r}")
        if not any(i.interaction_id == interaction_id and i.agent_id == agent_id
                   for i in self.interactions):
            raise NotFound(f"interaction {interaction_id!r} was not offered to {agent_id!r}")
        others = [i for i in self.interactions if i.interaction_id != interaction_id]
        return CustomerIdentity("phone", "+351910000001"), others[:limit]

    async def kpi_report(
        self,
        caller: Caller,
        start: datetime,
        end: datetime,
        queue_ids: Sequence[str],
        split_by: str = "",
        priority_band_edges: Sequence[int] = (),
    ) -> dict[str, Any]:
        self.asked.append(
            ("kpi", (start, end, tuple(queue_ids), split_by, tuple(priority_band_edges)))
        )
        figures = {
            "queued": 2, "short_abandoned": 0, "offered": 2, "answered": 2,
            "answered_within_threshold": 1, "abandoned": 0, "waiting": 0, "callbacks": 0,
            "flowed_out": 0, "handled": 2, "service_level": 0.5, "abandonment_rate": 0.0,
            "asa_s": 12.5, "aht_s": None, "tally": {"queued": 2},
        }
        return {
            "tenant_id": caller.tenant_id, "tenant_name": None,
            "period": {"from": start.isoformat(), "to": end.isoformat()},
            "generated_at": "2026-11-03T12:00:00Z",
            "definitions": {"service_level": "exclude", "short_abandon_s": 5.0},
            "queues": [{**figures, "queue_id": "support", "service_level_threshold_s": 20,
                        "threshold_source": "tenancy config", "service_level_target": 0.8,
                        "service_level_met": False}],
            "total": figures,
            "split": {"by": split_by, "rule": "as asked", "priority_band_edges": []}
            if split_by
            else None,
            "total_splits": [{"key": "lisbon", "figures": figures}] if split_by else [],
        }
