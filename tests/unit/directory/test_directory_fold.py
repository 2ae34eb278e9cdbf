"""The live directory's pure parts: fold, validation rules, plan (the writer), diff."""

from __future__ import annotations

import pytest
import yaml
from directory_world import ROOT, agent, entry, file_config, loaded, plan_apply, queue

from hotline.directory.v1 import events_pb2 as pb
from hotline.directory.v1.directory_pb2 import Change
from hotline_platform import codec, credentials, directory, tenancy, topics


def _unsalted(definitions: dict[str, object]) -> dict[str, object]:
    out = {}
    for key, body in definitions.items():
        if key.startswith("tenant/"):
            copy = pb.TenantDefined()
            copy.CopyFrom(body)  # type: ignore[arg-type]
            copy.credential_hash = "(salted)"
            body = copy
        out[key] = body
    return out


def _refused(view: directory.View, *changes: Change, **kw: object) -> str:
    with pytest.raises(directory.Refused) as caught:
        plan_apply(view, *changes, **kw)
    return str(caught.value)


def test_the_file_folds_back_to_the_same_config_and_credentials() -> None:
    config, plaintexts = file_config()
    view = loaded()
    folded = view.config()
    # Equal but for the salts of the development credentials' hashes (made at each parse).
    assert _unsalted(directory.definitions_of(folded)) == _unsalted(
        directory.definitions_of(config)
    )
    assert folded.sites == config.sites
    # The development credentials still authenticate (hash published, plaintext never).
    assert folded.tenant_for_credential("acme-dev-credential").id == "acme"  # type: ignore[union-attr]
    assert folded.tenant_for_credential("haier-dev-credential").id == "haier"  # type: ignore[union-attr]
    assert folded.tenant_for_credential("nope") is None
    assert "acme-dev-credential" not in str(list(view.events.values()))
    # Idempotent: the same file against the loaded directory is no change at all.
    assert directory.diff(view.definitions, config, plaintexts) == []


def test_facts_carry_who_a_version_and_pass_the_topic_contract() -> None:
    view = loaded()
    event = view.events["queue/acme/support-en"]
    assert event.changed_by == "operator"
    assert event.entity_version == 1
    assert event.envelope.tenant_id == "acme"
    assert view.events["site/lisbon"].envelope.tenant_id == directory.OPERATOR
    for e in view.events.values():
        decoded = codec.decode(topics.DIRECTORY, codec.encode(e), e.envelope.tenant_id.encode())
        assert decoded == e


def test_versions_count_every_change_and_survive_removal() -> None:
    view = loaded()
    plan_apply(view, queue(), entry())
    assert view.versions["queue/acme/billing"] == 1
    changed = queue()
    changed.define_queue.priority = 5
    [event] = plan_apply(view, changed, expected_versions={"queue/acme/billing": 1})
    assert event.entity_version == 2
    assert event.changed_by == "tenant:acme"
    assert plan_apply(view, changed) == []  # the same definition again: nothing to publish
    plan_apply(
        view,
        Change(remove_entry_point=pb.EntryPointRemoved(tenant_id="acme", address="+35121000009")),
        Change(remove_queue=pb.QueueRemoved(tenant_id="acme", queue_id="billing")),
    )
    assert "queue/acme/billing" not in view.definitions
    [again, _] = plan_apply(view, queue(), entry())
    assert again.entity_version == 4  # never an ETag seen before


def test_version_conflict_is_refused_with_both_versions() -> None:
    view = loaded()
    conflict = "expected version {}, the directory has version 1"
    with pytest.raises(directory.VersionConflict, match=conflict.format(3)):
        plan_apply(view, queue("support-en"), expected_versions={"queue/acme/support-en": 3})
    with pytest.raises(directory.VersionConflict, match=conflict.format(0)):
        plan_apply(view, queue("support-en"), expected_versions={"queue/acme/support-en": 0})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ((entry(queue="nowhere"),),
         "entry point +35121000009: queue 'nowhere' of tenant acme does not exist"),
        ((queue(),), "queue acme/billing: no entry point reaches this queue"),
        ((queue(skills=("support", "klingon")), entry()),
         "queue acme/billing: unknown skill(s) klingon: no agent of tenant acme has them"),
        ((agent(site="tokyo"),), "agent acme/acme-a9: site 'tokyo' does not exist"),
        ((queue(), queue(), entry()),
         "queue acme/billing: changed twice in one request (duplicate id)"),
        ((Change(remove_agent=pb.AgentRemoved(tenant_id="acme", agent_id="ghost")),),
         "agent acme/ghost: does not exist, cannot remove"),
        ((Change(remove_queue=pb.QueueRemoved(tenant_id="acme", queue_id="support-en")),),
         "entry point +35121000001: queue 'support-en' of tenant acme does not exist"),
        ((Change(remove_tenant=pb.TenantRemoved(tenant_id="haier")),),
         "tenant haier: cannot remove, still has agent haier/haier-a1, entry point "
         "+4930000001, entry point +4930000002, queue haier/service-de"),
        ((Change(remove_site=pb.SiteRemoved(site_id="manila")),),
         "site manila: cannot remove, still used by agent haier/haier-a1, entry point "
         "+4930000001"),
        ((entry("+35121000001", "support-en"), entry("+35121000001", "support-en")),
         "duplicate id"),
    ],
)
def test_invalid_changes_are_refused_precisely(changes: tuple[Change, ...], message: str) -> None:
    view = loaded()
    before = dict(view.versions)
    assert message in _refused(view, *changes)
    assert view.versions == before  # nothing applied


def test_field_rules() -> None:
    view = loaded()
    bad = queue()
    bad.define_queue.service_level_target = 1.5
    bad.define_queue.ring_timeout_ms = 0
    bad.define_queue.wrap_up_codes.add(code="sold", label="again")
    text = _refused(view, bad, entry())
    assert "service_level_target 1.5 must be in (0, 1]" in text
    assert "ring_timeout_ms must be > 0" in text
    assert "wrap_up_codes lists 'sold' twice" in text
    tenant = Change(define_tenant=pb.TenantDefined(tenant_id="bad.id", credential_hash="x"))
    text = _refused(view, tenant)
    assert "tenant_id 'bad.id' must be" in text
    assert "credential_hash: not a credential hash" in text


def test_a_whole_new_queue_with_its_agent_and_entry_point_is_accepted() -> None:
    view = loaded()
    events = plan_apply(view, entry(), agent(skills=("billing",)), queue(skills=("billing",)))
    # Applied in dependency order whatever the order of the request.
    assert [e.WhichOneof("event") for e in events] == [
        "queue_defined", "agent_defined", "entry_point_defined"
    ]
    config = view.config()
    assert config.queue("acme", "billing").wrap_up_codes == (tenancy.Code("sold", "Sold"),)  # type: ignore[union-attr]
    assert config.entry_points["+35121000009"].queue_id == "billing"
    assert "acme-a9" in config.tenants["acme"].agents


def test_removing_the_last_agent_with_a_skill_is_a_warning() -> None:
    view = loaded()
    plan_apply(view, queue(skills=("billing",)), entry(), agent(skills=("billing",)))
    events, warnings = directory.plan(
        view, [Change(remove_agent=pb.AgentRemoved(tenant_id="acme", agent_id="acme-a9"))],
        actor="operator", producer="test",
    )
    assert len(events) == 1
    assert warnings == [
        "queue acme/billing: after this change no agent of tenant acme has skill(s) billing; "
        "its contacts will wait"
    ]


def test_diff_of_two_configs_defines_then_removes() -> None:
    view = loaded()
    config, plaintexts = file_config()
    smaller = tenancy.TenancyConfig(
        config.sites, {"acme": config.tenants["acme"]},
        {a: e for a, e in config.entry_points.items() if e.tenant_id == "acme"},
    )
    changes = directory.diff(view.definitions, smaller, plaintexts)
    assert [directory.describe_change(c) for c in changes] == [
        "- entry point +4930000001",
        "- entry point +4930000002",
        "- agent haier/haier-a1",
        "- queue haier/service-de",
        "- tenant haier",
    ]
    events, _ = directory.plan(view, changes, actor="operator", producer="test")
    assert len(events) == 5


def test_a_changed_credential_is_a_change_and_a_hash_is_taken_as_it_is() -> None:
    view = loaded()
    raw = yaml.safe_load((ROOT / "config" / "hotline.yaml").read_text())
    raw["tenants"][0]["credential"] = "acme-new-credential"
    secrets = directory.plaintext_credentials(raw)
    changes = directory.diff(view.definitions, tenancy.parse(raw), secrets)
    assert [directory.describe_change(c) for c in changes] == ["+ tenant acme"]
    del raw["tenants"][0]["credential"]
    raw["tenants"][0]["credential_hash"] = credentials.hash_secret(
        "acme.s3cret", credentials.IN_MEMORY_PARAMS
    )
    [change] = directory.diff(
        view.definitions, tenancy.parse(raw), directory.plaintext_credentials(raw)
    )
    assert change.define_tenant.credential_unscoped is False
    for event in directory.plan(view, [change], actor="operator", producer="test")[0]:
        view.apply(event)
    config = view.config()
    assert config.tenant_for_credential("acme.s3cret").id == "acme"  # type: ignore[union-attr]
    assert config.tenant_for_credential("s3cret") is None  # a stored hash takes scoped tokens only
    assert config.tenant_for_credential("acme-dev-credential") is None
