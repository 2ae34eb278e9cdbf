"""The KPI report's splits (issue 16 item 12): the pure rules (bands, steps, sites), the report
use case over a fake source, the request checks, and the schema migration's statements."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from hotline_analytics.adapters.rows import COLUMNS
from hotline_analytics.adapters.schema import INTERACTION_AGGREGATES, migration_statements
from hotline_analytics.application.reads import InvalidRequest, parse_split
from hotline_analytics.application.report import build_report, format_report, to_ms
from hotline_analytics.domain.kpi import (
    CountingRules,
    InteractionFacts,
    QueueTally,
    Split,
    SplitBy,
    split_tallies,
    tally,
    threshold_s,
)
from hotline_platform import tenancy

Q = 1_790_000_000_000
BANDS = Split(SplitBy.PRIORITY_BAND)
SITE = Split(SplitBy.SITE)
STEP = Split(SplitBy.BULLSEYE_STEP)


def facts(
    name: str = "i",
    *,
    queue: str = "support",
    wait_s: float = 10,
    answered: bool = True,
    abandoned: bool = False,
    **kw: object,
) -> InteractionFacts:
    at = Q + int(wait_s * 1000)
    return InteractionFacts(
        name,
        queue_id=queue,
        queued_at_ms=Q,
        answered_at_ms=at if answered else 0,
        abandoned_at_ms=at if abandoned else 0,
        abandon_stage="IN_QUEUE" if abandoned else "",
        **kw,  # type: ignore[arg-type]
    )


def test_default_priority_bands() -> None:
    assert BANDS.band_labels() == ("<=0", "1-4", "5-9", "10+")
    got = {p: BANDS.priority_band(p) for p in (-3, 0, 1, 4, 5, 9, 10, 1000)}
    assert got == {
        -3: "<=0", 0: "<=0", 1: "1-4", 4: "1-4", 5: "5-9", 9: "5-9", 10: "10+", 1000: "10+"
    }


def test_configured_priority_bands() -> None:
    two = Split(SplitBy.PRIORITY_BAND, (5,))
    assert two.band_labels() == ("<=4", "5+")
    assert (two.priority_band(4), two.priority_band(5)) == ("<=4", "5+")
    single = Split(SplitBy.PRIORITY_BAND, (1, 2, 3))
    assert single.band_labels() == ("<=0", "1", "2", "3+")
    for edges in ((), (5, 5), (5, 1)):
        with pytest.raises(ValueError, match="increasing"):
            Split(SplitBy.PRIORITY_BAND, edges)


def test_the_band_is_the_first_queueings_priority() -> None:
    assert BANDS.key(facts(priority=7)) == "5-9"
    assert BANDS.key(facts(priority=0, answered=False)) == "<=0"


def test_site_is_the_answering_offers_site() -> None:
    assert SITE.key(facts(answer_site_id="porto")) == "porto"
    # not answered: no site, even when an offer rang at a site (abandoned while offered)
    assert SITE.key(facts(answered=False, abandoned=True, answer_site_id="porto")) == ""
    assert SITE.key(facts(answered=False)) == ""
    # answered, but the answering offer is not known (stored before the split existed)
    assert SITE.key(facts(answer_site_id="")) == ""


def test_step_is_the_answering_offers_else_the_last_reached() -> None:
    # answered at step 1 although the contact had reached step 3 (an earlier offer's)
    assert STEP.key(facts(answer_step=1, last_step=3)) == "1"
    assert STEP.key(facts(answer_step=0, last_step=2)) == "0"
    # not answered: the last step reached
    assert STEP.key(facts(answered=False, abandoned=True, answer_step=0, last_step=2)) == "2"
    assert STEP.key(facts(answered=False)) == "0"
    # answered, its offer not known: the last step reached
    assert STEP.key(facts(answer_step=-1, last_step=1)) == "1"


def test_split_orders() -> None:
    assert sorted(["10", "2", "0"], key=STEP.order) == ["0", "2", "10"]
    assert sorted(["10+", "<=0", "5-9", "1-4"], key=BANDS.order) == ["<=0", "1-4", "5-9", "10+"]
    assert sorted(["porto", "", "lisbon"], key=SITE.order) == ["", "lisbon", "porto"]


FACTS = [
    facts("a", wait_s=5, answer_site_id="lisbon", answer_step=0, priority=0),
    facts("b", wait_s=25, answer_site_id="porto", answer_step=1, last_step=1, priority=3),
    facts("c", wait_s=30, answered=False, abandoned=True, last_step=1, priority=12),
    facts("d", wait_s=2, answered=False, abandoned=True),  # short abandon
    facts("e", queue="legacy", wait_s=25, answer_site_id="lisbon", answer_step=0,
          service_level_threshold_s=30),
    InteractionFacts("f", queue_id="support"),  # never queued: in no split
]


def test_threshold_of_a_contact() -> None:
    assert threshold_s(FACTS[0], {"support": 20}) == 20
    assert threshold_s(FACTS[4], {"support": 20}) == 30  # recorded at queueing
    assert threshold_s(InteractionFacts("x", queue_id="gone"), {}) == 20


@pytest.mark.parametrize("split", [SITE, STEP, BANDS], ids=str)
def test_split_tallies_add_up_to_the_queues_tally(split: Split) -> None:
    thresholds = {"support": 20}
    parts = split_tallies(FACTS, thresholds, split)
    for queue, t in (("support", 20), ("legacy", 30)):
        summed = sum((v for (q, _), v in parts.items() if q == queue), QueueTally())
        assert summed == tally([f for f in FACTS if f.queue_id == queue], t)


def test_split_tallies_by_site() -> None:
    parts = split_tallies(FACTS, {"support": 20}, SITE)
    counts = {k: (t.queued, t.answered, t.answered_within_t, t.abandoned, t.short_abandoned)
              for k, t in parts.items()}
    assert counts == {
        ("support", "lisbon"): (1, 1, 1, 0, 0),
        ("support", "porto"): (1, 1, 0, 0, 0),
        ("support", ""): (2, 0, 0, 1, 1),
        ("legacy", "lisbon"): (1, 1, 1, 0, 0),  # 25 s within the recorded 30 s
    }


CONFIG = tenancy.parse(
    {
        "sites": [{"id": "lisbon"}],
        "tenants": [
            {
                "id": "acme",
                "credential": "c1",
                "queues": [
                    {"id": "support", "service_level": {"threshold_s": 20, "target": 0.8}},
                    {"id": "idle"},
                ],
            }
        ],
    }
)
START = datetime.fromtimestamp(Q / 1000 - 60, UTC)
END = START + timedelta(hours=1)


class SplitSource:
    """TallySource over FACTS with the domain's rules (what the SQL does in ClickHouse)."""

    def queue_tallies(
        self, tenant_id: str, start_ms: int, end_ms: int, thresholds_s: Mapping[str, int],
        short_abandon_ms: int,
    ) -> dict[str, QueueTally]:
        raise AssertionError("a split report asks for the split tallies only")

    def split_tallies(
        self, tenant_id: str, start_ms: int, end_ms: int, thresholds_s: Mapping[str, int],
        short_abandon_ms: int, split: Split,
    ) -> dict[tuple[str, str], QueueTally]:
        assert start_ms == to_ms(START) and end_ms == to_ms(END)
        rules = CountingRules(short_abandon_s=short_abandon_ms / 1000)
        return split_tallies(FACTS, thresholds_s, split, rules)


def test_the_split_report() -> None:
    report = build_report(SplitSource(), CONFIG, "acme", START, END, split=STEP)
    assert report["split"] == {"by": "bullseye_step", "rule": STEP.describe(),
                               "priority_band_edges": []}
    queues = {q["queue_id"]: q for q in report["queues"]}
    assert queues["idle"]["splits"] == [] and queues["idle"]["queued"] == 0
    support = queues["support"]
    assert [(s["key"], s["figures"]["queued"]) for s in support["splits"]] == [("0", 2), ("1", 2)]
    assert support["queued"] == 4 and support["answered"] == 2  # the sum of its splits
    step0 = support["splits"][0]["figures"]
    assert (step0["answered"], step0["short_abandoned"], step0["service_level"]) == (1, 1, 1.0)
    totals = {s["key"]: s["figures"]["queued"] for s in report["total_splits"]}
    assert totals == {"0": 3, "1": 2}  # legacy's contact at step 0 too
    assert report["total"]["queued"] == 5
    table = format_report(report)
    assert "  bullseye_step 0" in table and "split by bullseye_step:" in table


def test_the_site_report_names_the_unanswered_row() -> None:
    report = build_report(SplitSource(), CONFIG, "acme", START, END, split=SITE)
    assert [s["key"] for s in report["total_splits"]] == ["", "lisbon", "porto"]
    assert "  site -" in format_report(report)
    bands = build_report(SplitSource(), CONFIG, "acme", START, END, split=BANDS)
    assert bands["split"]["priority_band_edges"] == [1, 5, 10]
    assert [s["key"] for s in bands["total_splits"]] == ["<=0", "1-4", "10+"]


def test_the_report_without_a_split_says_so() -> None:
    class Plain(SplitSource):
        def queue_tallies(  # type: ignore[override]
            self, tenant_id: str, start_ms: int, end_ms: int,
            thresholds_s: Mapping[str, int], short_abandon_ms: int,
        ) -> dict[str, QueueTally]:
            return {"support": tally(FACTS[:4], 20)}

    report = build_report(Plain(), CONFIG, "acme", START, END)
    assert report["split"] is None and report["total_splits"] == []
    assert all(q["splits"] == [] for q in report["queues"])
    assert "split by" not in format_report(report)


def test_split_requests() -> None:
    assert parse_split("") is None
    assert parse_split("site") == SITE
    assert parse_split("priority_band", [2, 6]) == Split(SplitBy.PRIORITY_BAND, (2, 6))
    assert parse_split("priority_band") == BANDS
    for split_by, edges, message in (
        ("agent", [], "split_by must be one of site, bullseye_step, priority_band"),
        ("site", [5], "priority_band_edges needs split_by priority_band"),
        ("", [5], "priority_band_edges needs split_by priority_band"),
        ("priority_band", [5, 1], "priority_band_edges: "),
    ):
        with pytest.raises(InvalidRequest, match=message):
            parse_split(split_by, edges)


ADDED = {"priority", "answer_offer_id", "offers_made", "last_step"}


def test_migration_of_tables_created_before_the_split() -> None:
    old = {
        "events": {name for name, _, _ in COLUMNS if name != "routing_step"},
        "interactions": {name for name, _, _ in INTERACTION_AGGREGATES if name not in ADDED},
        "interactions_mv": {name for name, _, _ in INTERACTION_AGGREGATES if name not in ADDED},
    }
    statements = migration_statements("hotline", old)
    assert statements[0] == "ALTER TABLE hotline.events ADD COLUMN routing_step UInt32"
    added = {s.split()[5] for s in statements if s.startswith("ALTER TABLE hotline.interactions")}
    assert added == ADDED
    assert statements[-1] == "DROP TABLE IF EXISTS hotline.interactions_mv"
    assert len(statements) == 1 + len(ADDED) + 1


def test_no_migration_for_current_or_missing_tables() -> None:
    current = {
        "events": {name for name, _, _ in COLUMNS},
        "interactions": {name for name, _, _ in INTERACTION_AGGREGATES},
        "interactions_mv": {name for name, _, _ in INTERACTION_AGGREGATES},
    }
    assert migration_statements("hotline", current) == []
    assert migration_statements("hotline", {}) == []  # a new database: the CREATEs do it
    with pytest.raises(ValueError):
        migration_statements("hotline; DROP TABLE x", current)
