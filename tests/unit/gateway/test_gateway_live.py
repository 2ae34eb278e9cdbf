"""The live board behind the pages' push stream (pure fold, numbering, catch-up, filtering)."""

from __future__ import annotations

from hotline_gateway.domain.live import (
    DAY_MS,
    AgentSetup,
    Fact,
    LiveBoard,
    QueueSetup,
    TenantSetup,
    Viewer,
)

T0 = 20_000 * DAY_MS + 9 * 3600_000  # 09:00 UTC on some day
SETUPS = {
    "acme": TenantSetup(
        "acme", "ACME",
        queues={
            "support": QueueSetup("support", (("support", 1),), 20, 0.8,
                                  (("sale", "Sale"), ("info", "Info"))),
            "billing": QueueSetup("billing", (("billing", 1),), 20, 0.8),
        },
        agents={
            "a1": AgentSetup("a1", "Ana", "lisbon", (("support", 5),)),
            "a2": AgentSetup("a2", "Bruno", "manila", (("billing", 5),)),
        },
        service_level="missed",
    ),
    "globex": TenantSetup("globex", queues={"q": QueueSetup("q")}),
}


class Clock:
    def __init__(self) -> None:
        self.ms = T0

    def __call__(self) -> int:
        return self.ms


def board(ring: int = 100) -> tuple[LiveBoard, Clock]:
    clock = Clock()
    return LiveBoard(SETUPS.get, clock, ring_size=ring, epoch="e1"), clock


def state(agent: str, new: str, at: int, previous: str = "", tenant: str = "acme",
          reason: str = "", previous_ms: int = 0) -> Fact:
    return Fact("state_changed", tenant, at, agent_id=agent,
                body={"state": new, "previous_state": previous, "reason_code": reason,
                      "previous_state_ms": previous_ms, "interaction_id": ""})


def test_agent_state_changes_are_numbered_upserts_with_their_queues() -> None:
    b, _ = board()
    changes = b.apply(state("a1", "ready", T0, "not_ready"))
    assert [(c.seq, c.kind, c.key) for c in changes] == [
        (1, "agent", "a1"), (2, "queue", "support")
    ]
    assert changes[0].data["state"] == "ready" and changes[0].data["since_ms"] == T0
    assert changes[0].data["name"] == "Ana" and changes[0].data["site_id"] == "lisbon"
    assert changes[1].data["agents"]["ready"] == 1
    assert changes[1].data["agents_by_site"] == {"lisbon": 1}
    changes = b.apply(state("a1", "not_ready", T0 + 5000, "ready", reason="break",
                            previous_ms=5000))
    assert changes[0].data["reason_code"] == "break"
    assert changes[0].data["today"]["state_ms"] == {"ready": 5000}
    assert changes[1].data["agents"] == {"ready": 0, "not_ready": 1, "reserved": 0, "busy": 0,
                                         "wrap_up": 0}


def call(b: LiveBoard, iid: str, at: int, queue: str = "support") -> None:
    b.apply(Fact("arrived", "acme", at, interaction_id=iid,
                 body={"channel": "voice", "from_address": "+351911", "to_address": "+3512",
                       "identity_hints": [{"kind": "phone", "value": "+351911"}]}))
    b.apply(Fact("self_service_finished", "acme", at + 100, interaction_id=iid,
                 body={"intent": "billing", "duration_ms": 100}))
    b.apply(Fact("queued", "acme", at + 200, interaction_id=iid, body={"queue_id": queue}))


def test_a_call_offered_answered_and_wrapped_up() -> None:
    b, clock = board()
    b.apply(state("a1", "ready", T0, "not_ready"))
    call(b, "i1", T0 + 1000)
    clock.ms = T0 + 2000
    queue = b.snapshot(Viewer("acme", wide=True))["queues"][1]
    assert queue["queue_id"] == "support" and queue["waiting"] == 1
    assert queue["oldest_queued_ms"] == T0 + 1200
    changes = b.apply(Fact("offered", "acme", T0 + 1300, interaction_id="i1", agent_id="a1",
                           body={"offer_id": "o1", "agent_id": "a1", "queue_id": "support",
                                 "ring_timeout_ms": 10000}))
    offer = changes[0]
    assert offer.kind == "offer" and offer.agent_id == "a1"
    assert offer.data["status"] == "ringing" and offer.data["intent"] == "billing"
    assert offer.data["identity_hints"] == [{"kind": "phone", "value": "+351911"}]
    b.apply(Fact("offer_accepted", "acme", T0 + 4200, interaction_id="i1",
                 body={"offer_id": "o1", "agent_id": "a1", "queue_id": "support"}))
    snap = b.snapshot(Viewer("acme", wide=True))
    support = next(q for q in snap["queues"] if q["queue_id"] == "support")
    assert support["waiting"] == 0 and support["today"]["answered"] == 1
    assert support["today"]["asa_s"] == 3.0 and support["today"]["service_level"] == 1.0
    assert snap["offers"][0]["status"] == "connected"
    b.apply(Fact("completed", "acme", T0 + 60_000, interaction_id="i1",
                 body={"agent_id": "a1", "talk_ms": 55_800}))
    b.apply(Fact("wrap_up_ended", "acme", T0 + 70_000, interaction_id="i1",
                 body={"agent_id": "a1", "wrap_up_ms": 10_000,
                       "disposition": {"code": "sale", "resolved": True}}))
    a1 = b.agent_today("acme", "a1")["today"]
    assert (a1["answered"], a1["handled"], a1["talk_ms"], a1["wrap_up_ms"]) == (1, 1, 55_800,
                                                                               10_000)
    assert b.snapshot(Viewer("acme", wide=True))["offers"] == []


def test_service_level_by_the_tenant_definition_and_a_missed_target() -> None:
    b, _ = board()
    call(b, "i1", T0)
    call(b, "i2", T0)
    b.apply(Fact("offer_accepted", "acme", T0 + 10_200, interaction_id="i1", body={}))
    # waited 30 s (> 5 s short-abandon), beyond T: "missed" counts it against the level
    changes = b.apply(Fact("abandoned", "acme", T0 + 30_200, interaction_id="i2", body={}))
    queue = changes[-1].data
    assert queue["today"]["service_level"] == 0.5
    assert queue["today"]["abandonment_rate"] == 0.5
    assert queue["missed_target"] is True


def test_an_agent_sees_its_own_agent_offers_and_queues_only() -> None:
    b, _ = board()
    b.apply(state("a2", "ready", T0, "not_ready"))
    b.apply(state("a1", "ready", T0, "not_ready"))
    agent = Viewer("acme", wide=False, agent_id="a1",
                   queues=b.queues_of_agent("acme", "a1"))
    snap = b.snapshot(agent)
    assert [a["agent_id"] for a in snap["agents"]] == ["a1"]
    assert [q["queue_id"] for q in snap["queues"]] == ["support"]
    changes = b.since([agent], 0)
    assert changes is not None
    assert {(c.kind, c.key) for c in changes} == {("agent", "a1"), ("queue", "support")}
    assert not Viewer("globex", wide=True).sees(changes[0])


def test_catch_up_after_a_number_until_the_ring_dropped_it() -> None:
    b, _ = board(ring=4)
    for i in range(3):
        b.apply(state("a1", "ready" if i % 2 == 0 else "not_ready", T0 + i))
    everyone = [Viewer("acme", wide=True)]
    assert [c.seq for c in b.since(everyone, 4) or []] == [5, 6]
    assert b.since(everyone, 1) is None  # 2 was dropped
    assert b.since(everyone, 99) is None  # not a number of this board
    b.apply(state("x", "ready", T0, tenant="globex"))  # another tenant's ring
    assert [c.seq for c in b.since(everyone, 6) or []] == []


def test_today_restarts_at_midnight_utc() -> None:
    b, clock = board()
    call(b, "i1", T0)
    b.apply(Fact("offer_accepted", "acme", T0 + 1_000, interaction_id="i1", body={}))
    clock.ms = (T0 // DAY_MS + 1) * DAY_MS + 1
    changes = b.tick()
    support = next(c.data for c in changes if c.key == "support")
    assert support["today"]["answered"] == 0 and support["today"]["service_level"] is None


def test_contacts_that_never_reach_an_agent_are_not_kept() -> None:
    b, _ = board()
    b.apply(Fact("arrived", "acme", T0, interaction_id="x1", body={"from_address": "+1"}))
    b.apply(Fact("completed", "acme", T0 + 1000, interaction_id="x1", body={}))
    b.apply(Fact("arrived", "acme", T0, interaction_id="x2", body={"from_address": "+1"}))
    b.apply(Fact("self_service_finished", "acme", T0 + 1000, interaction_id="x2",
                 body={"outcome": "contained", "intent": "balance"}))
    assert b._tenants["acme"].contacts == {}


def test_folding_without_changes_gives_the_same_board() -> None:
    """The replay folds without making changes (no client yet): the same state results."""
    boards = []
    for emit in (True, False):
        b, clock = board()
        b.apply(state("a1", "ready", T0, "not_ready"), emit=emit)
        for iid in ("i1", "i2", "i3"):
            for fact in (
                Fact("arrived", "acme", T0, interaction_id=iid, body={"from_address": "+9"}),
                Fact("queued", "acme", T0 + 10, interaction_id=iid, body={"queue_id": "support"}),
            ):
                b.apply(fact, emit=emit)
        b.apply(Fact("offer_accepted", "acme", T0 + 5000, interaction_id="i1",
                     body={"agent_id": "a1"}), emit=emit)
        b.apply(Fact("abandoned", "acme", T0 + 9000, interaction_id="i2", body={}), emit=emit)
        boards.append(b.snapshot(Viewer("acme", wide=True)))
        assert (b.seq > 0) is emit
    assert boards[0] == boards[1]
    support = next(q for q in boards[0]["queues"] if q["queue_id"] == "support")
    assert support["waiting"] == 1 and support["today"]["answered"] == 1
