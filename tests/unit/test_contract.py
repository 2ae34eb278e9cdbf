"""The committed contract/ matches proto/, and the topic declarations are consistent."""

from __future__ import annotations

import filecmp
import importlib.util
import sys
from pathlib import Path

from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline_platform import topics

ROOT = Path(__file__).resolve().parents[2]


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "scripts" / "gen_proto.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["gen_proto"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_contract_is_current(tmp_path: Path) -> None:
    _load_generator().generate(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(
        p.relative_to(ROOT / "contract")
        for p in (ROOT / "contract").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert fresh == committed, "contract/ is stale: run `make proto`"
    for rel in fresh:
        assert filecmp.cmp(tmp_path / rel, ROOT / "contract" / rel, shallow=False), (
            f"contract/{rel} is stale: run `make proto`"
        )


def test_topics_have_one_writer_and_unique_names() -> None:
    names = [t.name for t in topics.ALL_TOPICS]
    assert len(names) == len(set(names))
    for topic in topics.ALL_TOPICS:
        assert topic.writer, topic.name
        assert topic.partitions >= 1


def test_interaction_event_covers_the_lifecycle() -> None:
    facts = {f.name for f in InteractionEvent.DESCRIPTOR.oneofs_by_name["event"].fields}
    for needed in (
        "arrived",
        "self_service_finished",
        "queued",
        "offered",
        "offer_accepted",
        "offer_rejected",
        "offer_timed_out",
        "held",
        "resumed",
        "transferred",
        "message_received",
        "message_sent",
        "wrap_up_started",
        "wrap_up_ended",
        "completed",
        "abandoned",
        "callback_requested",
    ):
        assert needed in facts


def test_partition_for_is_stable_and_in_range() -> None:
    assert topics.partition_for("acme") == topics.partition_for("acme")
    assert all(0 <= topics.partition_for(f"t{i}") < topics.EVENT_PARTITIONS for i in range(100))
