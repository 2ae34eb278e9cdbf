"""The screen-pop rule of `Reports.ListCustomerContacts` over real gRPC on loopback, with an
in-memory store: a caller holding only `interaction.read_own` (an agent) reads the contacts of
the customer of a contact offered to its own agent, and nothing else; `interaction.read` keeps
reading any customer. ClickHouse: tests/integration/test_analytics_reads.py."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import grpc
import pytest
from support.authz_matrix import Caller
from support.identity_fakes import MatrixIdentities

from hotline.analytics.v1 import reports_pb2, reports_pb2_grpc
from hotline.interaction.v1.events_pb2 import IdentityKind
from hotline_analytics.adapters import grpc_api
from hotline_analytics.application.reads import ArrivalIdentity, ReadStore, ReportsService
from hotline_analytics.domain.contacts import ContactRecord
from hotline_analytics.domain.kpi import InteractionFacts
from hotline_cli.embedded import find_free_port
from hotline_platform import grpc_server, tenancy
from hotline_platform.auth import tenancy_resolver
from hotline_platform.identity import Role

CONFIG = tenancy.parse({
    "sites": [{"id": "lisbon"}],
    "tenants": [{"id": t, "credential": f"{t}-secret", "queues": [{"id": "sales"}]}
                for t in ("acme", "beta")],
})
ANA = "+351910000001"  # the customer of "now", offered to a1
BOB = "+351910000002"  # the customer of "theirs", offered to a2


class ScreenPopStore:
    """What the screen-pop reads: offers, arrivals and contacts per tenant."""

    def __init__(self) -> None:
        self.offers = {("acme", "now", "a1"), ("acme", "theirs", "a2"), ("beta", "far", "a1")}
        self.arrivals = {
            ("acme", "now"): ArrivalIdentity((("phone", ANA),), ANA, "VOICE"),
            ("acme", "theirs"): ArrivalIdentity((), BOB, "VOICE"),
            ("beta", "far"): ArrivalIdentity((("phone", ANA),), ANA, "VOICE"),
        }
        self.contacts = {
            ("acme", ANA): ["now", "ana-1", "ana-2"], ("acme", BOB): ["bob-1"],
            ("beta", ANA): ["beta-1"],
        }

    def contacts_by_identity(
        self, tenant_id: str, kind: str, value: str, limit: int, exclude_interaction_id: str
    ) -> list[ContactRecord]:
        ids = [i for i in self.contacts.get((tenant_id, value), [])
               if i != exclude_interaction_id]
        return [ContactRecord(InteractionFacts(i, queue_id="sales")) for i in ids[:limit]]

    def offered_to(self, tenant_id: str, interaction_id: str, agent_id: str) -> bool:
        return (tenant_id, interaction_id, agent_id) in self.offers

    def arrival_identity(self, tenant_id: str, interaction_id: str) -> ArrivalIdentity | None:
        return self.arrivals.get((tenant_id, interaction_id))


def _phone(value: str) -> reports_pb2.CustomerIdentity:
    return reports_pb2.CustomerIdentity(kind=IdentityKind.IDENTITY_KIND_PHONE, value=value)


async def _scenario(port: int) -> None:
    identities = MatrixIdentities("acme", "beta", "a1", "a2",
                                  {t: f"{t}-secret" for t in CONFIG.tenants})
    legacy = tenancy_resolver(CONFIG)
    resolver = identities.resolver(legacy.tenant_of, legacy.tenant_credential_cached)
    service = ReportsService(cast(ReadStore, ScreenPopStore()), lambda: CONFIG)
    server = await grpc_server.start(
        port, lambda s: grpc_api.register(s, service, lambda: CONFIG, resolver=resolver),
        grpc_api.SERVICE_NAMES,
    )
    agent = identities.token(Caller("agent", "user", frozenset({Role.AGENT})))
    supervisor = identities.token(Caller("supervisor", "user", frozenset({Role.SUPERVISOR})))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = reports_pb2_grpc.ReportsStub(channel)

            async def ask(token: str, **fields: Any) -> Any:
                request = reports_pb2.ListCustomerContactsRequest(
                    **{"tenant_id": "acme", **fields}
                )
                return await stub.ListCustomerContacts(
                    request, metadata=(("authorization", f"Bearer {token}"),)
                )

            async def code(token: str, **fields: Any) -> grpc.StatusCode:
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await ask(token, **fields)
                return err.value.code()

            # The agent's own offered contact: its customer's other contacts, who they are.
            mine = await ask(agent, for_agent_id="a1", for_interaction_id="now",
                             exclude_interaction_id="now")
            assert [c.interaction_id for c in mine.contacts] == ["ana-1", "ana-2"]
            assert (mine.identity.kind, mine.identity.value) == (
                IdentityKind.IDENTITY_KIND_PHONE, ANA
            )
            named = await ask(agent, for_agent_id="a1", for_interaction_id="now",
                              identity=_phone(ANA), limit=1)
            assert [c.interaction_id for c in named.contacts] == ["now"]

            denied = grpc.StatusCode.PERMISSION_DENIED
            # another agent's interaction (asked as one's own agent, or as the other agent)
            assert await code(agent, for_agent_id="a1", for_interaction_id="theirs") == denied
            assert await code(agent, for_agent_id="a2", for_interaction_id="theirs") == denied
            # another customer than the contact's
            assert await code(agent, for_agent_id="a1", for_interaction_id="now",
                              identity=_phone(BOB)) == denied
            # another tenant: its interaction named in this tenant, and that tenant itself
            assert await code(agent, for_agent_id="a1", for_interaction_id="far") == denied
            assert await code(agent, tenant_id="beta", for_agent_id="a1",
                              for_interaction_id="far") == denied
            # an interaction offered to nobody
            assert await code(agent, for_agent_id="a1", for_interaction_id="ghost") == denied
            # without its agent (the policy) or a contact of its own: no customer at all
            assert await code(agent, identity=_phone(ANA)) == denied
            assert await code(agent, for_agent_id="a1", identity=_phone(ANA)) == (
                grpc.StatusCode.INVALID_ARGUMENT
            )

            # interaction.read: any customer as before; for an agent's contact, the same check
            # answered as NOT_FOUND.
            anyone = await ask(supervisor, identity=_phone(BOB))
            assert [c.interaction_id for c in anyone.contacts] == ["bob-1"]
            theirs = await ask(supervisor, for_agent_id="a2", for_interaction_id="theirs")
            assert [c.interaction_id for c in theirs.contacts] == ["bob-1"]
            assert theirs.identity.value == BOB
            assert await code(supervisor, for_agent_id="a1", for_interaction_id="theirs") == (
                grpc.StatusCode.NOT_FOUND
            )
    finally:
        await server.stop(grace=1)


def test_an_agent_reads_only_the_customer_of_a_contact_offered_to_it() -> None:
    asyncio.run(_scenario(find_free_port()))
