"""The domain call state machine of ingress-sip: transitions and the facts they produce."""

from __future__ import annotations

import pytest

from hotline_ingress_sip.domain.call import Call, CallState, InvalidTransition, OfferDecision
from hotline_ingress_sip.domain.events import (
    AbandonStage,
    CallAbandoned,
    CallCompleted,
    EndedBy,
    EntryPoint,
    Offer,
    SelfServiceFinished,
    SelfServiceOutcome,
)

QUEUE_EP = EntryPoint("+35121000001", "acme", "lisbon", "support-en")
ANNOUNCE_EP = EntryPoint("announce-acme", "acme", "lisbon", announcement=True)
T0 = 1_000_000


def arrive(entry: EntryPoint = QUEUE_EP) -> Call:
    call, fact = Call.arrive(
        "i-1",
        entry,
        session_ref="cid@h",
        from_address="sip:911@h",
        to_address="sip:+35121000001@x",
        caller_id="911",
        now_ms=T0,
    )
    assert fact.session_ref == "cid@h" and fact.caller_id == "911"
    assert (fact.tenant_id, fact.site_id, fact.entry_point_id) == ("acme", "lisbon", entry.address)
    return call


def offer(n: int = 1, agent: str = "a1") -> Offer:
    endpoint = f"sip:{agent}@h"
    return Offer("i-1", "acme", f"o-{n}", agent, "support-en", endpoint, 10_000, n, f"e-{n}")


def test_answered_offer_then_hang_up_gives_accepted_and_completed() -> None:
    call = arrive()
    assert call.state is CallState.WAITING
    assert call.consider(offer()) is OfferDecision.RING
    call.ring(offer(), T0 + 100)
    assert call.state is CallState.OFFERING
    accepted = call.answered(T0 + 2_100)
    assert (accepted.offer_id, accepted.agent_id, accepted.queue_id) == ("o-1", "a1", "support-en")
    assert accepted.since_arrival_ms == 2_100
    assert accepted.causation_id == "e-1"
    completed = call.hung_up(EndedBy.AGENT, T0 + 62_100)
    assert isinstance(completed, CallCompleted)
    assert (completed.ended_by, completed.agent_id) == (EndedBy.AGENT, "a1")
    assert completed.talk_ms == 60_000
    assert completed.causation_id == ""
    assert call.state is CallState.ENDED
    assert call.consider(offer(2)) is OfferDecision.TOO_LATE


def test_timed_out_and_rejected_offers_return_to_waiting_and_the_next_offer_rings() -> None:
    call = arrive()
    call.ring(offer(1), T0)
    timed_out = call.ring_timed_out(T0 + 10_000)
    assert (timed_out.offer_id, timed_out.rang_ms) == ("o-1", 10_000)
    assert call.state is CallState.WAITING
    assert call.consider(offer(1)) is OfferDecision.DUPLICATE
    call.ring(offer(2, "a2"), T0 + 10_500)
    rejected = call.offer_failed("sip:486", T0 + 11_000)
    assert (rejected.offer_id, rejected.agent_id, rejected.reason) == ("o-2", "a2", "sip:486")
    assert call.state is CallState.WAITING


def test_withdrawing_the_ringing_offer_returns_to_waiting_without_a_fact() -> None:
    call = arrive()
    assert call.withdraw("o-1") is False  # nothing rings
    call.ring(offer(1), T0)
    assert call.withdraw("o-2") is False  # not the ringing offer
    assert call.state is CallState.OFFERING
    assert call.withdraw("o-1") is True
    assert call.state is CallState.WAITING and call.offer is None
    assert call.withdraw("o-1") is False
    assert call.consider(offer(1)) is OfferDecision.DUPLICATE
    assert call.consider(offer(2, "a2")) is OfferDecision.RING
    call.ring(offer(2, "a2"), T0 + 10_000)
    call.answered(T0 + 12_000)
    assert call.withdraw("o-2") is False  # answered: acceptance wins
    assert call.state is CallState.CONNECTED


def test_an_offer_while_another_rings_is_refused() -> None:
    call = arrive()
    call.ring(offer(1), T0)
    assert call.consider(offer(2)) is OfferDecision.REJECT
    refused = call.refuse(offer(2), "not_offerable:offering", T0)
    assert refused.offer_id == "o-2" and call.state is CallState.OFFERING
    assert call.consider(offer(2)) is OfferDecision.DUPLICATE


@pytest.mark.parametrize(
    ("offered", "stage"), [(False, AbandonStage.IN_QUEUE), (True, AbandonStage.WHILE_OFFERED)]
)
def test_caller_leaving_early_is_an_abandon(offered: bool, stage: AbandonStage) -> None:
    call = arrive()
    if offered:
        call.ring(offer(), T0 + 1_000)
    abandoned = call.caller_left(T0 + 7_000, "cancelled")
    assert isinstance(abandoned, CallAbandoned)
    assert (abandoned.stage, abandoned.waited_ms, abandoned.reason) == (stage, 7_000, "cancelled")
    assert abandoned.agent_id == ("a1" if offered else "")
    assert call.state is CallState.ENDED


def test_announcement_is_self_service_until_hang_up() -> None:
    call = arrive(ANNOUNCE_EP)
    assert call.state is CallState.SELF_SERVICE
    assert call.consider(offer()) is OfferDecision.REJECT
    finished = call.hung_up(EndedBy.CUSTOMER, T0 + 3_000)
    assert isinstance(finished, SelfServiceFinished)
    assert (finished.outcome, finished.duration_ms) == (SelfServiceOutcome.CONTAINED, 3_000)
    left = arrive(ANNOUNCE_EP).hung_up(EndedBy.SYSTEM, T0 + 32_000)
    assert isinstance(left, SelfServiceFinished)
    assert left.outcome is SelfServiceOutcome.CUSTOMER_LEFT


@pytest.mark.parametrize(
    "action",
    [
        lambda c: c.answered(T0),
        lambda c: c.ring_timed_out(T0),
        lambda c: c.offer_failed("x", T0),
        lambda c: c.hung_up(EndedBy.CUSTOMER, T0),
    ],
)
def test_illegal_transitions_raise(action) -> None:
    with pytest.raises(InvalidTransition):
        action(arrive())  # a waiting call can be neither answered nor hung up


def test_no_transition_out_of_ended() -> None:
    call = arrive()
    call.caller_left(T0)
    with pytest.raises(InvalidTransition):
        call.caller_left(T0)
    with pytest.raises(InvalidTransition):
        call.ring(offer(), T0)


def _imported(node: object) -> list[str]:
    """The modules an import statement imports ("from a import b" -> "a.b")."""
    import ast

    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [f"{node.module}.{alias.name}" for alias in node.names]
    return []


def test_the_domain_stays_pure() -> None:
    """domain/ imports only the standard library and itself (no Kafka, gRPC, protobuf,
    platform, asyncio or sockets), and the platform's IVR model, which imports only the
    standard library at run time (its annotations aside)."""
    import ast
    import sys
    from pathlib import Path

    import hotline_ingress_sip.domain as domain
    import hotline_platform.ivr

    allowed_stdlib = set(sys.stdlib_module_names) - {"asyncio", "socket", "threading"}
    model = ast.parse(Path(hotline_platform.ivr.__file__).read_text())
    for statement in model.body:  # top level only: not the `if TYPE_CHECKING:` block
        for name in _imported(statement):
            assert name.split(".")[0] in allowed_stdlib, f"the IVR model imports {name}"
    for path in Path(domain.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            for name in _imported(node):
                top = name.split(".")[0]
                assert (
                    top in allowed_stdlib or name.startswith("hotline_ingress_sip.domain")
                    or name.startswith("hotline_platform.ivr")
                ), f"{path.name} imports {name}"
