"""Helpers of the directory tests: the repository's tenancy file, facts to change it."""

from __future__ import annotations

from pathlib import Path

import yaml

from hotline.common.v1.envelope_pb2 import Skill
from hotline.directory.v1 import events_pb2 as pb
from hotline.directory.v1.directory_pb2 import Change
from hotline_platform import directory, tenancy

ROOT = Path(__file__).resolve().parents[3]


def file_config() -> tuple[tenancy.TenancyConfig, dict[str, str]]:
    raw = yaml.safe_load((ROOT / "config" / "hotline.yaml").read_text())
    return tenancy.parse(raw), directory.plaintext_credentials(raw)


def loaded() -> directory.View:
    """The directory after applying config/hotline.yaml to an empty one."""
    config, _ = file_config()
    view = directory.View()
    events, warnings = directory.plan(
        view, directory.diff({}, config), actor="operator", producer="test"
    )
    assert warnings == []
    for event in events:
        view.apply(event)
    return view


def plan_apply(view: directory.View, *changes: Change, **kw: object) -> list[pb.DirectoryEvent]:
    events, _ = directory.plan(view, changes, actor="tenant:acme", producer="test", **kw)  # type: ignore[arg-type]
    for event in events:
        view.apply(event)
    return events


def queue(qid: str = "billing", skills: tuple[str, ...] = ("support",)) -> Change:
    return Change(
        define_queue=pb.QueueDefined(
            tenant_id="acme", queue_id=qid,
            required_skills=[Skill(name=s, level=1) for s in skills],
            language="en", service_level_threshold_s=20, service_level_target=0.8,
            ring_timeout_ms=10_000, wrap_up_timeout_ms=30_000,
            wrap_up_codes=[pb.Code(code="sold", label="Sold")],
        )
    )


def entry(address: str = "+35121000009", queue: str = "billing") -> Change:
    return Change(
        define_entry_point=pb.EntryPointDefined(
            tenant_id="acme", address=address, kind=pb.ENTRY_POINT_KIND_QUEUE, queue_id=queue,
            site_id="lisbon",
        )
    )


def agent(
    aid: str = "acme-a9", site: str = "lisbon", skills: tuple[str, ...] = ("support",)
) -> Change:
    return Change(
        define_agent=pb.AgentDefined(
            tenant_id="acme", agent_id=aid, name="Nina", site_id=site,
            skills=[Skill(name=s, level=3) for s in skills], languages=["en"],
            phone=f"sip:{aid}@127.0.0.1:15109",
        )
    )


