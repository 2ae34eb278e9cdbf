"""The gateway's router client over two routers in a consumer group: each tenant's calls reach
the instance owning it, and after that instance is SIGKILLed, the survivor that took it over.

Real Tansu broker and router subprocesses (the rig of test_router.py); the gateway's own
adapter (`RouterClient`) with real gRPC channels."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from test_router import _agent, eventually, rig
from test_router_group import _owner, _tenant_in

from hotline_gateway.adapters.grpc_backend import open_channel
from hotline_gateway.adapters.router_grpc import RouterClient
from hotline_gateway.application.ports import Caller, Principal
from hotline_gateway.domain.errors import Conflict, Unavailable
from hotline_gateway.domain.resources import AgentCommand, AgentState, CommandArgs

pytestmark = pytest.mark.integration

__all__ = ["rig"]


def _caller(tenant: dict[str, Any]) -> Caller:
    return Caller(Principal(tenant["id"], "tenant_credential"), tenant["id"], tenant["credential"])


def test_each_tenants_calls_reach_its_owner_and_follow_a_take_over(rig: Any) -> None:
    low, high = _tenant_in("gw-low", True), _tenant_in("gw-high", False)
    start = rig(
        [low, high], HOTLINE_PARTITIONS="group", HOTLINE_GROUP_ID=f"router-{uuid.uuid4().hex}"
    )
    routers = [start(), start()]
    owners = eventually(
        lambda: (o if None not in (o := [_owner(rig, routers, t) for t in (low, high)])
                 and len(set(o)) == 2 else None),
        "each router owns one of the two tenants", timeout=60,
    )  # fmt: skip
    victim = routers[owners[0]]

    async def scenario() -> None:
        # Both addresses, the victim's last: the low tenant's first call is refused as
        # "not the owner" by the survivor before it reaches the victim.
        targets = ",".join(r.address for r in sorted(routers, key=lambda r: r is victim))
        client = RouterClient(targets, open_channel, timeout_s=5, retry_after_s=1)
        for tenant in (low, high):
            view = await client.command(
                _caller(tenant), _agent(tenant, "a1"), AgentCommand.LOG_IN, CommandArgs()
            )
            assert view.state is AgentState.NOT_READY
        # A refused command is a refusal (409), not a reason to ask another instance.
        with pytest.raises(Conflict):
            await client.command(
                _caller(low), _agent(low, "a1"), AgentCommand.FINISH_WRAP_UP, CommandArgs()
            )

        victim.kill()

        async def served() -> bool:
            try:
                agent = await client.get_agent(_caller(low), _agent(low, "a1"))
            except Unavailable:
                return False  # the survivor is still taking the partition over
            return agent.state is AgentState.NOT_READY  # the log-in above survived the kill

        for _ in range(120):
            if await served():
                break
            await asyncio.sleep(0.5)
        else:
            pytest.fail("the survivor never served the killed router's tenant via the gateway")
        high_view = await client.get_agent(_caller(high), _agent(high, "a1"))
        assert high_view.state is AgentState.NOT_READY

    asyncio.run(scenario())


def test_a_single_unreachable_router_is_unavailable_not_a_gateway_failure() -> None:
    async def scenario() -> None:
        client = RouterClient("127.0.0.1:9", open_channel, timeout_s=2, retry_after_s=1)
        tenant = {"id": "t", "credential": "c"}
        with pytest.raises(Unavailable):
            await client.get_agent(_caller(tenant), "a1")

    asyncio.run(scenario())


def test_two_static_routers_given_the_same_partitions_the_newer_one_serves(rig: Any) -> None:
    """A restart overlapping its predecessor (or a misconfiguration): the older instance yields
    its partitions to the newer one's claims instead of claiming them back (the two would
    fence each other for ever), and the gateway's client reaches the newer one."""
    tenant = _tenant_in("static", True)
    start = rig([tenant])  # HOTLINE_PARTITIONS=all: static
    older = start()
    newer = start()

    def owners() -> list[int] | None:
        found = [n for n, r in enumerate((older, newer)) if _owner(rig, [r], tenant) == 0]
        return found if found == [1] else None

    eventually(owners, "the newer router alone serves the tenant", timeout=30)
    time.sleep(3)  # no fight back: still the newer one, a while later
    assert owners() == [1]
    assert "yielded to the newer owner" in older.log.read_text()

    async def scenario() -> None:
        client = RouterClient(
            f"{older.address},{newer.address}", open_channel, timeout_s=5, retry_after_s=1
        )
        view = await client.command(
            _caller(tenant), _agent(tenant, "a1"), AgentCommand.LOG_IN, CommandArgs()
        )
        assert view.state is AgentState.NOT_READY

    asyncio.run(scenario())
