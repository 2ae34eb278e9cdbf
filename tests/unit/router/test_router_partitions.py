"""The application layer per partition: a partition replays, goes live, is paused, released,
or adopted from a snapshot's state; the other partitions are unaffected."""

from __future__ import annotations

import itertools
import pickle

import pytest
from router_world import T, make_config
from test_router_service import FakeClock, RecordingPublisher, _arrived

from hotline_router.application.service import NotLive, RouterService
from hotline_router.domain.facts import Queued

OTHER = "other-tenant"  # a tenant of another partition, unknown to the config


def _service() -> tuple[RouterService, RecordingPublisher, FakeClock]:
    ids = itertools.count()
    publisher, clock = RecordingPublisher(), FakeClock()
    partitions = {T: 3, OTHER: 7}
    service = RouterService(
        make_config(), publisher, clock, lambda: f"e{next(ids)}",
        partition_of=lambda tenant: partitions[tenant],
    )  # fmt: skip
    return service, publisher, clock


def test_a_partition_decides_only_once_live_and_stops_when_paused() -> None:
    service, publisher, clock = _service()
    service.on_fact(_arrived("c1", clock.now), own_topic=False)
    service.go_live([7])  # another partition: T is still replaying
    assert publisher.published == []
    with pytest.raises(NotLive):
        service.queues(T)
    service.go_live([3])
    assert [type(f) for f in publisher.published] == [Queued]
    service.pause(3)
    service.on_fact(_arrived("c2", clock.now), own_topic=False)
    assert len(publisher.published) == 1  # folded, not decided
    with pytest.raises(NotLive):
        service.log_in(T, "a1")
    service.go_live([3])
    assert len(publisher.published) == 2 and service.queues(T)[0].waiting == 2


def test_release_forgets_the_partition_and_adopt_restores_a_captured_state() -> None:
    service, publisher, clock = _service()
    service.on_fact(_arrived("c1", clock.now), own_topic=False)
    service.go_live([3])
    queued = publisher.published[0]
    captured = service.capture(3, lambda tenants, flying: (pickle.dumps(tenants), dict(flying)))
    assert captured[1] == {queued.event_id: T}  # published, not read back yet

    service.release(3)
    assert T not in service.state_for_tests().tenants
    assert service.in_flight(3) == set()

    service.adopt(3, pickle.loads(captured[0]), captured[1])
    # The fact published before the capture, read back now, is not applied twice.
    service.on_fact(queued, own_topic=True)
    assert service.in_flight(3) == set()
    service.go_live([3])
    assert len(publisher.published) == 1  # nothing left to decide: c1 already queued
    assert service.queues(T)[0].waiting == 1
