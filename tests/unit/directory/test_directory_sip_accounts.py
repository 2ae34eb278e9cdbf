"""Agents' SIP digest credentials in the tenancy YAML and the directory: hashed at load (realm
= tenant id), never kept in plaintext, well-formed, usernames unique in a tenant."""

from __future__ import annotations

import copy
import hashlib
import io
import sys
from typing import Any

import pytest
import yaml
from directory_world import agent, loaded, plan_apply

from hotline.directory.v1 import events_pb2 as pb
from hotline.directory.v1.directory_pb2 import Change
from hotline_cli import main as cli
from hotline_directory.adapters.grpc_api import _shown
from hotline_directory.application.service import DirectoryWriter
from hotline_directory.domain.access import Caller
from hotline_platform import directory, sip_digest, tenancy

BASE: dict[str, Any] = {
    "sites": [{"id": "lisbon"}],
    "tenants": [{
        "id": "acme", "credential": "dev-acme",
        "queues": [{"id": "q", "required_skills": ["s"]}],
        "agents": [
            {"id": "a1", "skills": ["s"], "sip": {"username": "alice", "password": "s3cret"}},
            {"id": "a2", "skills": ["s"], "phone": "sip:a2@127.0.0.1:5070"},
        ],
        "entry_points": [{"address": "100", "queue": "q"}],
    }],
}


def _parse(**agent_overrides: Any) -> tenancy.TenancyConfig:
    raw = copy.deepcopy(BASE)
    raw["tenants"][0]["agents"][0].update(agent_overrides)
    return tenancy.parse(raw)


def test_a_sip_password_is_hashed_at_load_with_the_tenant_as_realm() -> None:
    a1 = _parse().tenants["acme"].agents["a1"]
    assert a1.sip_username == "alice"
    assert a1.sip_ha1_md5 == hashlib.md5(b"alice:acme:s3cret").hexdigest()
    assert a1.sip_ha1_sha256 == hashlib.sha256(b"alice:acme:s3cret").hexdigest()
    assert a1.phone == ""  # a registering agent needs no static phone
    assert "s3cret" not in repr(a1)


def test_given_ha1s_are_taken_as_they_are_and_must_be_hex_of_the_right_length() -> None:
    md5 = sip_digest.ha1("MD5", "alice", "acme", "x")
    sha = sip_digest.ha1("SHA-256", "alice", "acme", "x")
    a1 = _parse(sip={"username": "alice", "ha1_md5": md5, "ha1_sha256": sha})
    assert a1.tenants["acme"].agents["a1"].sip_ha1_sha256 == sha
    with pytest.raises(tenancy.ConfigError, match="hex ha1_md5 and ha1_sha256"):
        _parse(sip={"username": "alice", "ha1_md5": md5, "ha1_sha256": md5})
    with pytest.raises(tenancy.ConfigError, match="not both"):
        _parse(sip={"username": "alice", "password": "x", "ha1_md5": md5, "ha1_sha256": sha})
    with pytest.raises(tenancy.ConfigError, match="not a plain SIP user"):
        _parse(sip={"username": "al ice", "password": "x"})


def test_a_sip_username_is_unique_in_its_tenant() -> None:
    raw = copy.deepcopy(BASE)
    raw["tenants"][0]["agents"][1]["sip"] = {"username": "alice", "password": "y"}
    with pytest.raises(tenancy.ConfigError, match="'alice' used twice"):
        tenancy.parse(raw)


def test_sip_credentials_survive_the_directory_round_trip() -> None:
    config = _parse()
    body = directory.definitions_of(config)["agent/acme/a1"]
    assert isinstance(body, pb.AgentDefined)
    assert body.sip_username == "alice" and body.sip_ha1_md5
    folded = directory.to_config(directory.definitions_of(config))
    assert folded.tenants["acme"].agents["a1"] == config.tenants["acme"].agents["a1"]
    # HA1s are unsalted: the same YAML changes no agent (the tenant's credential is salted).
    changes = directory.diff(config, _parse(), {"acme": "dev-acme"})
    assert [directory.describe_change(c) for c in changes] == []


def _sip_agent(aid: str, username: str, **fields: str) -> Change:
    change = agent(aid)
    body = change.define_agent
    body.phone = ""
    body.sip_username = username
    body.sip_ha1_md5 = fields.get("md5", sip_digest.ha1("MD5", username, "acme", "pw"))
    body.sip_ha1_sha256 = fields.get("sha", sip_digest.ha1("SHA-256", username, "acme", "pw"))
    return change


def test_the_directory_refuses_a_taken_username_and_malformed_hashes() -> None:
    view = loaded()
    plan_apply(view, _sip_agent("acme-a9", "nina"))
    with pytest.raises(directory.Refused, match="sip_username 'nina' already used by agent"):
        plan_apply(view, _sip_agent("acme-a10", "nina"))
    with pytest.raises(directory.Refused, match="needs hex sip_ha1_md5 and sip_ha1_sha256"):
        plan_apply(view, _sip_agent("acme-a10", "nora", md5="plaintext"))
    no_phone = agent("acme-a11")
    no_phone.define_agent.phone = ""
    with pytest.raises(directory.Refused, match="missing phone"):
        plan_apply(view, no_phone)


def test_the_cli_prints_a_sip_entry_the_config_takes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret\n"))
    assert cli.main(["credentials", "sip-hash", "--tenant", "acme", "--username", "alice"]) == 0
    printed = capsys.readouterr().out
    assert "s3cret" not in printed
    entry = yaml.safe_load(printed)["sip"]
    a1 = _parse(sip=entry).tenants["acme"].agents["a1"]
    assert a1 == _parse().tenants["acme"].agents["a1"]  # same HA1s as the plaintext gives
    assert cli.main(["credentials", "sip-hash", "--tenant", "acme", "--username", "a b"]) == 2


class _Facts:
    def publish(self, event: pb.DirectoryEvent) -> None:
        pass

    def flush(self) -> None:
        pass


def test_ha1s_are_shown_to_the_operator_only_and_kept_when_written_back_blank() -> None:
    writer = DirectoryWriter(_Facts(), producer="directory/test")
    writer.replayed(loaded().events.values())
    writer.apply(Caller("acme"), [_sip_agent("acme-a9", "nina")])
    [entity] = [e for e in writer.list(Caller("acme"), "acme") if e.key == "agent/acme/acme-a9"]
    shown = _shown(Caller("acme"), entity.definition).agent_defined
    assert shown.sip_username == "nina" and not shown.sip_ha1_md5 and not shown.sip_ha1_sha256
    assert _shown(Caller(), entity.definition).agent_defined.sip_ha1_sha256
    # The tenant writes back what it read (HA1s blank): the HA1s stay.
    back = Change()
    back.define_agent.CopyFrom(shown)
    back.define_agent.name = "Nina R."
    writer.apply(Caller("acme"), [back])
    agent = writer.config().tenants["acme"].agents["acme-a9"]
    assert agent.name == "Nina R."
    assert agent.sip_ha1_md5 == sip_digest.ha1("MD5", "nina", "acme", "pw")
    # A new username without HA1s is refused: the old ones hash the old name.
    renamed = Change()
    renamed.define_agent.CopyFrom(shown)
    renamed.define_agent.sip_username = "nora"
    with pytest.raises(directory.Refused, match="needs hex sip_ha1_md5"):
        writer.apply(Caller("acme"), [renamed])
