"""A failed event delivery is never swallowed: it is reported once, and it is sticky."""

from __future__ import annotations

import pytest

from hotline.agent.v1.events_pb2 import AgentEvent, AgentLoggedIn
from hotline_platform.bus import DeliveryFailed, EventPublisher
from hotline_platform.envelope import new_envelope
from hotline_platform.topics import AGENTS


def _event() -> AgentEvent:
    env = new_envelope(tenant_id="acme", producer="test", agent_id="a1")
    return AgentEvent(envelope=env, logged_in=AgentLoggedIn())


def test_a_failed_delivery_is_reported_and_stays_failed() -> None:
    failures: list[str] = []
    # Nothing listens on port 1: the event times out in the producer's queue.
    publisher = EventPublisher(
        "127.0.0.1:1",
        "test",
        on_failure=failures.append,
        extra={"message.timeout.ms": 300, "log_level": 0},
    )
    publisher.publish(AGENTS, _event())
    with pytest.raises(DeliveryFailed):
        publisher.flush(timeout=5)
    assert len(failures) == 1 and AGENTS.name in failures[0]
    # A later flush does not clear it, and nothing more is accepted.
    with pytest.raises(DeliveryFailed):
        publisher.flush(timeout=1)
    with pytest.raises(DeliveryFailed):
        publisher.publish(AGENTS, _event())
    assert publisher.failure == failures[0]


def test_a_dropped_publisher_stops_serving_reports() -> None:
    """The delivery-report thread holds its publisher weakly: a publisher nobody holds is
    freed, with its producer (which would otherwise reconnect to a stopped broker for ever)."""
    import gc
    import threading
    import time
    import weakref

    publisher = EventPublisher("127.0.0.1:1", "dropped", on_failure=None, extra={"log_level": 0})
    ref = weakref.ref(publisher)
    assert any(t.name == "dropped-reports" for t in threading.enumerate())
    del publisher
    gc.collect()
    deadline = time.monotonic() + 5
    while any(t.name == "dropped-reports" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the reports thread outlived its publisher"
        time.sleep(0.02)
    assert ref() is None
