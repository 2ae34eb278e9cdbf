"""The directory service's writer: who may change what, dry runs, flush before answering."""

from __future__ import annotations

import pytest
from directory_world import entry, file_config, queue

from hotline.directory.v1 import events_pb2 as pb
from hotline.directory.v1.directory_pb2 import Change
from hotline_directory.application.service import DirectoryWriter, NotAllowed, NotFound
from hotline_directory.domain.access import Caller, refusals
from hotline_platform import directory
from hotline_platform.identity import Principal, Role, Scope, User


class MemoryFacts:
    def __init__(self) -> None:
        self.queued: list[pb.DirectoryEvent] = []
        self.durable: list[pb.DirectoryEvent] = []

    def publish(self, event: pb.DirectoryEvent) -> None:
        self.queued.append(event)

    def flush(self) -> None:
        self.durable += self.queued
        self.queued = []


def _writer() -> tuple[DirectoryWriter, MemoryFacts]:
    facts = MemoryFacts()
    writer = DirectoryWriter(facts, producer="directory/test")
    config, _ = file_config()
    writer.apply(Caller(), directory.diff({}, config))
    return writer, facts


def test_operator_loads_everything_and_facts_are_flushed_before_the_answer() -> None:
    writer, facts = _writer()
    assert facts.queued == []
    assert len(facts.durable) == 14
    assert {e.changed_by for e in facts.durable} == {"operator"}


def test_dry_run_publishes_nothing_and_returns_the_facts() -> None:
    writer, facts = _writer()
    before = len(facts.durable)
    result = writer.apply(Caller("acme"), [queue(), entry()], dry_run=True)
    assert not result.applied
    kinds = [e.WhichOneof("event") for e in result.events]
    assert kinds == ["queue_defined", "entry_point_defined"]
    assert len(facts.durable) == before
    assert "queue/acme/billing" not in writer.view.definitions


def test_a_tenant_changes_its_own_entities_only() -> None:
    writer, _ = _writer()
    result = writer.apply(Caller("acme"), [queue(), entry()])
    assert [e.changed_by for e in result.events] == ["tenant:acme", "tenant:acme"]
    denied = "credential of tenant 'haier' may not change tenant 'acme'"
    with pytest.raises(NotAllowed, match=denied):
        writer.apply(Caller("haier"), [queue("other"), entry("+1", "other")])
    with pytest.raises(NotAllowed, match="only the operator may change tenants and sites"):
        writer.apply(Caller("acme"), [Change(define_site=pb.SiteDefined(site_id="tokyo"))])


def test_reads_are_scoped() -> None:
    writer, _ = _writer()
    assert writer.get(Caller("acme"), "queue/acme/support-en").version == 1
    with pytest.raises(NotAllowed):
        writer.get(Caller("haier"), "queue/acme/support-en")
    with pytest.raises(NotFound):
        writer.get(Caller(), "queue/acme/none")
    keys = [e.key for e in writer.list(Caller("haier"), "haier")]
    assert keys == [
        "agent/haier/haier-a1", "entry_point/+4930000001", "entry_point/+4930000002",
        "queue/haier/service-de",
        "site/lisbon", "site/manila", "tenant/haier",
    ]
    with pytest.raises(NotAllowed):
        writer.list(Caller("haier"))
    assert len(writer.list(Caller())) == 14


def test_refusals_name_each_entity() -> None:
    assert refusals(Caller("acme"), [("haier", "queue haier/q"), ("acme", "queue acme/q")]) == [
        "queue haier/q: credential of tenant 'acme' may not change tenant 'haier'"
    ]
    assert refusals(Caller(), [(directory.OPERATOR, "site x")]) == []


def test_operator_staff_of_every_tenant_change_sites_only() -> None:
    """A site is shared by all tenants: operator staff scoped to every tenant (tenant.write)
    define and drain one; staff of listed tenants, tenants and tenant users may not, and
    tenants and operator staff stay the operator credential's."""
    writer, _ = _writer()

    def staff(scope: Scope) -> Caller:
        user = User("olga", "", frozenset({Role.OPERATOR}), operator_scope=scope)
        return Caller(principal=Principal.of_user(user))

    everyone, listed = staff(Scope.everything()), staff(Scope.tenant("acme"))
    drain = Change(define_site=pb.SiteDefined(site_id="lisbon", name="lisbon", drained=True))
    result = writer.apply(everyone, [drain])
    assert result.applied and result.events[0].changed_by == "user:_operator/olga"
    assert writer.view.config().drained_sites == frozenset({"lisbon"})
    admin = Caller(principal=Principal.of_user(
        User("ana", "acme", frozenset({Role.TENANT_ADMIN}))
    ))
    for caller in (listed, admin, Caller("acme")):
        with pytest.raises(NotAllowed, match="only the operator may change tenants and sites"):
            writer.apply(caller, [Change(define_site=pb.SiteDefined(site_id="tokyo"))])
    for change in (
        Change(define_tenant=pb.TenantDefined(tenant_id="newco", name="NewCo")),
        Change(define_user=pb.UserDefined(
            user_id="mallory", roles=["operator"],
            operator_scope=pb.OperatorScope(all_tenants=True),
        )),
    ):
        with pytest.raises(NotAllowed, match="only the operator may change tenants"):
            writer.apply(everyone, [change])
