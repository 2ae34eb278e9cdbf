"""ingress-sip following the live directory: new tenants are announced (durably) before their
entry points are used; entry point lookups see a whole set, old or new."""

from __future__ import annotations

from google.protobuf.message import Message

from hotline.ingress.v1.events_pb2 import IngressEvent
from hotline_ingress_sip.adapters.liveness import Liveness
from hotline_ingress_sip.adapters.memory import ManualClock
from hotline_ingress_sip.domain.events import EntryPoint
from hotline_ingress_sip.wiring import LiveEntryPoints
from hotline_platform import topics


class Publisher:
    def __init__(self) -> None:
        self.published: list[Message] = []
        self.flushed_after: list[int] = []

    def publish(self, topic: topics.Topic, event: Message) -> None:
        assert topic is topics.INGRESS_LIVENESS
        self.published.append(event)

    def flush(self, timeout: float = 10) -> None:
        self.flushed_after.append(len(self.published))


def _started(pub: Publisher) -> list[str]:
    return [
        e.envelope.tenant_id for e in pub.published
        if isinstance(e, IngressEvent) and e.WhichOneof("event") == "started"
    ]


def test_new_tenants_are_announced_durably_once_started() -> None:
    pub = Publisher()
    live = Liveness(pub, "sip-0", ["acme"], ManualClock(5_000))
    live.serve(["acme", "early"])  # before the process announced its start: nothing yet
    assert pub.published == []
    live.announce_start()
    assert sorted(_started(pub)) == ["acme", "early"]
    live.serve(["acme", "early", "globex"])
    assert _started(pub)[-1] == "globex"
    assert pub.flushed_after[-1] == len(pub.published)  # durable before serve returns
    assert pub.published[-1].started.incarnation_id == live.incarnation_id  # type: ignore[attr-defined]
    count = len(pub.published)
    live.serve(["acme"])  # a tenant leaving is not "unannounced"; nothing new
    assert len(pub.published) == count
    assert live.tenants == ("acme", "early", "globex")


def test_live_entry_points_are_replaced_whole() -> None:
    a = EntryPoint(address="+1", tenant_id="acme", site_id="", queue_id="q", announcement=False)
    b = EntryPoint(address="+2", tenant_id="acme", site_id="", queue_id="q", announcement=False)
    entries = LiveEntryPoints({"+1": a})
    seen = dict(entries)
    entries.replace({"+1": a, "+2": b})
    assert seen == {"+1": a}
    assert entries.get("+2") == b and len(entries) == 2 and sorted(entries) == ["+1", "+2"]
