"""Flow-out and callbacks (router domain/treatment.py) with the router as a subprocess against
a real Tansu broker: the settings travel from the YAML, the facts are on the router's topic,
RequestCallback goes through the real gRPC API, and a restart rebuilds what was decided."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from test_router import Ingress, _agent, _tenant, eventually, rig

from hotline.agent.v1 import events_pb2 as agent_pb2
from hotline.interaction.v1 import events_pb2 as interaction_pb2
from hotline.router.v1 import router_pb2

pytestmark = pytest.mark.integration
__all__ = ["rig"]  # the fixture, imported for this module's tests

_FO = interaction_pb2.InteractionFlowedOut
CALLER = "sip:+351210000001@example.net"


def _arrived(ingress: Ingress, iid: str) -> interaction_pb2.InteractionEvent:
    ev = ingress.arrived(iid)
    ev.arrived.from_address = CALLER
    return ev


def test_max_wait_flows_out_to_another_queue_and_a_restart_keeps_the_new_leg(
    rig: Any, broker: str
) -> None:
    t = _tenant("flow", [{"id": "a2", "skills": ["help"]}], max_wait_s=1,
                flow_out={"queue": "help"})
    t["queues"].append({"id": "help", "required_skills": [{"name": "help", "level": 1}],
                        "ring_timeout_s": 30, "wrap_up_timeout_s": 60})
    start = rig([t])
    first = start()
    desk, out = rig.desk(first, t), rig.output(t)
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    ingress.send(_arrived(ingress, "c1"))
    flow = out.wait("flowed_out", "c1")[0].flowed_out
    assert (flow.reason, flow.target, flow.from_queue_id, flow.to_queue_id) == (
        "max_wait", _FO.TARGET_QUEUE, "sales", "help"
    )
    assert flow.waited_ms >= 1_000
    first_leg, second_leg = out.wait("queued", "c1", count=2)
    assert second_leg.queued.queue_id == "help"
    assert second_leg.envelope.causation_id == out.of("flowed_out", "c1")[0].envelope.event_id
    assert first_leg.queued.queue_id == "sales"

    first.kill()
    desk = rig.desk(start(), t)
    assert (desk.queue("sales").waiting, desk.queue("help").waiting) == (0, 1)
    desk.ready(_agent(t, "a2"))
    offer = out.wait("offered", "c1")[0].offered
    assert (offer.agent_id, offer.queue_id) == (_agent(t, "a2"), "help")
    assert len(out.of("flowed_out", "c1")) == 1  # decided once, across the restart


def test_no_agent_logged_in_flows_out_at_once_to_the_closed_message(
    rig: Any, broker: str
) -> None:
    t = _tenant("closed", [{"id": "a1", "skills": ["sales"]}], when_no_agents=True,
                closed_prompt="prompts/closed.wav")
    desk_router = rig([t])()
    out = rig.output(t)
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    ingress.send(_arrived(ingress, "c1"))
    flow = out.wait("flowed_out", "c1")[0].flowed_out
    assert (flow.reason, flow.target, flow.prompt) == (
        "no_agents", _FO.TARGET_CLOSED, "prompts/closed.wav"
    )
    desk = rig.desk(desk_router, t)
    desk.ready(_agent(t, "a1"))  # too late: the contact is over
    assert desk.queue().waiting == 0
    assert out.of("offered", "c1") == []


def test_a_callback_requested_through_the_api_keeps_its_place_and_is_offered_with_the_address(
    rig: Any, broker: str
) -> None:
    t = _tenant("callback", [{"id": "a1", "skills": ["sales"]}], callback_after_s=60)
    router = rig([t])()
    desk, out = rig.desk(router, t), rig.output(t)
    ingress = Ingress(broker, t["id"], t["entry_points"][0]["address"])
    ingress.send(_arrived(ingress, "c1"), _arrived(ingress, "c2"))
    out.wait("queued", "c2")
    request = router_pb2.RequestCallbackRequest(tenant_id=t["id"], interaction_id="c2")
    answer = desk.queues.RequestCallback(request, metadata=desk.metadata, timeout=10)
    assert (answer.queue_id, answer.callback_address) == ("sales", CALLER)
    asked = out.wait("callback_requested", "c2")[0]
    assert (asked.callback_requested.queue_id, asked.callback_requested.callback_address) == (
        "sales", CALLER
    )
    with pytest.raises(grpc.RpcError) as refused:  # not waiting in any queue
        desk.queues.RequestCallback(
            router_pb2.RequestCallbackRequest(tenant_id=t["id"], interaction_id="nobody"),
            metadata=desk.metadata, timeout=10,
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    # The released caller's hang-up (if ingress reports one) does not end the callback.
    gone = ingress.event("c2")
    gone.abandoned.stage = interaction_pb2.InteractionAbandoned.STAGE_IN_QUEUE
    ingress.send(gone)
    eventually(lambda: desk.queue().waiting == 2 or None, "both still waiting")

    desk.ready(_agent(t, "a1"))
    first = out.wait("offered")[0]
    assert (first.envelope.interaction_id, first.offered.callback_address) == ("c1", "")
    ingress.send(ingress.answered(first))
    ingress.send(ingress.completed("c1", _agent(t, "a1")))
    eventually(
        lambda: desk.agent(_agent(t, "a1")).state == agent_pb2.AGENT_STATE_WRAP_UP or None,
        "a1 wraps up",
    )
    desk.call("FinishWrapUp", router_pb2.FinishWrapUpRequest(**desk.ids(_agent(t, "a1"))))
    offer = out.wait("offered", "c2")[0].offered
    assert (offer.agent_id, offer.callback_address) == (_agent(t, "a1"), CALLER)
