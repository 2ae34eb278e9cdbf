"""The analytics read API (`hotline.analytics.v1.Reports`) against a real Tansu broker and a real
ClickHouse 18.16: events in through the sink, then every method over gRPC on loopback, served
by the sink's own wiring (hotline_analytics.wiring.ReadApi).

The report over gRPC equals build_report over ClickHouse; a caller's earlier contacts are
found across queues (not another caller's, not another tenant's); the lifecycle check finds
what was planted; another tenant's credential and bad periods are refused on every method;
an unreachable ClickHouse is UNAVAILABLE.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from support.analytics_sink import serve_reports, sink_settings, stored_events

from hotline.analytics.v1 import reports_pb2, reports_pb2_grpc
from hotline.interaction.v1.events_pb2 import IdentityKind, InteractionEvent
from hotline_analytics.adapters.synthetic import Call, CallEnd, call_events
from hotline_analytics.settings import AnalyticsSettings
from hotline_analytics.wiring import kpi_report
from hotline_cli.embedded import find_free_port
from hotline_platform import protodict, tenancy
from hotline_platform.envelope import new_envelope
from hotline_platform.identity import Delegation
from hotline_platform.topics import ROUTING_INTERACTIONS, VOICE_INTERACTIONS, Topic

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
ACME, BETA = f"acme-{RUN}", f"beta-{RUN}"
START = datetime(2026, 11, 3, 9, tzinfo=UTC)
END = START + timedelta(hours=2)
T0 = int(START.timestamp() * 1000)
CALLER, OTHER = "+351910000001", "+3519100000012"  # one number is a prefix of the other

CONFIG = tenancy.parse(
    {
        "sites": [{"id": "lisbon"}],
        "tenants": [
            {
                "id": ACME,
                "name": "ACME",
                "credential": f"c-{ACME}",
                "kpi": {"service_level": "missed"},
                "queues": [
                    {"id": "support", "service_level": {"threshold_s": 20, "target": 0.8}},
                    {"id": "sales", "service_level": {"threshold_s": 15, "target": 0.9}},
                ],
                # agents (the screen-pop): c3 was offered to agent-2 (answered), then agent-9
                "agents": [
                    {"id": a, "skills": ["support"], "phone": f"sip:{a}@acme"}
                    for a in ("agent-1", "agent-2", "agent-9")
                ],
                "users": [
                    {"id": "ana", "roles": ["agent"], "agent": "agent-2"},
                    {"id": "ivo", "roles": ["agent"], "agent": "agent-9"},
                ],
            },
            {
                "id": BETA,
                "credential": f"c-{BETA}",
                "queues": [{"id": "support", "service_level": {"threshold_s": 20}}],
            },
        ],
    }
)


def _id(name: str) -> str:
    return f"{name}-{RUN}"


CALLS = [
    # the caller's three contacts, on two queues
    Call(ACME, T0 + 60_000, interaction_id=_id("c1"), caller=CALLER, wait_ms=5_000),
    Call(
        ACME, T0 + 600_000, interaction_id=_id("c2"), caller=CALLER, queue_id="sales",
        end=CallEnd.ABANDONED, wait_ms=30_000,
    ),
    Call(
        ACME, T0 + 1_200_000, interaction_id=_id("c3"), caller=CALLER, wait_ms=25_000,
        agent_id="agent-2",
    ),
    # another caller, and the same number at another tenant
    Call(ACME, T0 + 300_000, interaction_id=_id("o1"), caller=OTHER, wait_ms=2_000),
    Call(ACME, T0 + 900_000, interaction_id=_id("w1"), caller=OTHER, end=CallEnd.WAITING),
    Call(ACME, T0 + 950_000, interaction_id=_id("s1"), caller=OTHER, end=CallEnd.ABANDONED,
         wait_ms=1_000),
    Call(BETA, T0 + 120_000, interaction_id=_id("b1"), caller=CALLER, wait_ms=1_000),
]


def _extra_events() -> list[tuple[Topic, Message]]:
    """A second terminal event for o1, and an offer of c3 to a second agent while ringing."""
    completed_again = InteractionEvent(
        envelope=new_envelope(
            tenant_id=ACME, producer="it", interaction_id=_id("o1"),
            occurred_at_ms=T0 + 400_000,
        )
    )
    completed_again.completed.agent_id = "agent-1"
    second_offer = InteractionEvent(
        envelope=new_envelope(
            tenant_id=ACME, producer="it", interaction_id=_id("c3"),
            # c3 is queued at +1_200_040, offered at +1_225_020, answered at +1_225_040
            occurred_at_ms=T0 + 1_225_030,
        )
    )
    second_offer.offered.offer_id = "second"
    second_offer.offered.agent_id = "agent-9"
    second_offer.offered.queue_id = "support"
    return [(VOICE_INTERACTIONS, completed_again), (ROUTING_INTERACTIONS, second_offer)]


EVENTS = [pair for call in CALLS for pair in call_events(call)] + _extra_events()


@pytest.fixture(scope="module")
def settings(broker: str, clickhouse: Any) -> AnalyticsSettings:
    return sink_settings(broker, clickhouse, f"analytics_reads_{RUN}")


@pytest.fixture(scope="module")
def stored(settings: AnalyticsSettings) -> Iterator[None]:
    with stored_events(settings, EVENTS, "analytics-reads-it"):
        yield


def _metadata(tenant: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer c-{tenant}"),)


def _period(start: datetime, end: datetime) -> reports_pb2.Period:
    return protodict.to_message({"from": start, "to": end}, reports_pb2.Period)


def _serve(
    settings: AnalyticsSettings,
    exercise: Callable[[reports_pb2_grpc.ReportsStub], Awaitable[None]],
) -> None:
    serve_reports(settings, CONFIG, exercise)


def _without_generated_at(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "generated_at"}


def test_the_report_over_grpc_is_build_reports(settings: AnalyticsSettings, stored: None) -> None:
    async def exercise(stub: reports_pb2_grpc.ReportsStub) -> None:
        for tenant in (ACME, BETA):
            reply = await stub.GetKpiReport(
                reports_pb2.GetKpiReportRequest(tenant_id=tenant, period=_period(START, END)),
                metadata=_metadata(tenant),
            )
            direct = kpi_report(settings, CONFIG, tenant, START, END)
            assert _without_generated_at(protodict.to_dict(reply)) == _without_generated_at(
                direct
            )
        acme = protodict.to_dict(
            await stub.GetKpiReport(
                reports_pb2.GetKpiReportRequest(tenant_id=ACME, period=_period(START, END)),
                metadata=_metadata(ACME),
            )
        )
        queues = {q["queue_id"]: q for q in acme["queues"]}
        assert (queues["support"]["queued"], queues["support"]["answered"]) == (5, 3)
        assert (queues["sales"]["queued"], queues["sales"]["abandoned"]) == (1, 1)
        assert acme["definitions"]["service_level"] == "missed"
        only_sales = protodict.to_dict(
            await stub.GetKpiReport(
                reports_pb2.GetKpiReportRequest(
                    tenant_id=ACME, period=_period(START, END), queue_ids=["sales"]
                ),
                metadata=_metadata(ACME),
            )
        )
        assert [q["queue_id"] for q in only_sales["queues"]] == ["sales"]
        assert only_sales["total"]["queued"] == 1

    _serve(settings, exercise)


def test_a_callers_earlier_contacts_across_queues(
    settings: AnalyticsSettings, stored: None
) -> None:
    phone = reports_pb2.CustomerIdentity(kind=IdentityKind.IDENTITY_KIND_PHONE, value=CALLER)

    async def exercise(stub: reports_pb2_grpc.ReportsStub) -> None:
        reply = await stub.ListCustomerContacts(
            reports_pb2.ListCustomerContactsRequest(tenant_id=ACME, identity=phone),
            metadata=_metadata(ACME),
        )
        contacts = [protodict.to_dict(c) for c in reply.contacts]
        assert [c["interaction_id"] for c in contacts] == [_id("c3"), _id("c2"), _id("c1")]
        c3, c2, c1 = contacts
        assert (c3["queue_id"], c3["outcome"], c3["agent_id"]) == (
            "support", "answered", "agent-2"
        )
        assert (c3["disposition_code"], c3["resolved"], c3["channel"]) == (
            "resolved", True, "voice"
        )
        assert (c2["queue_id"], c2["outcome"], c2["agent_id"]) == ("sales", "abandoned", "")
        assert c1["arrived_at"] == protodict.iso_utc(START + timedelta(seconds=60))
        assert c1["entry_point_id"] == "+35121000001"

        # the contact on the line now left out, and a limit
        reply = await stub.ListCustomerContacts(
            reports_pb2.ListCustomerContactsRequest(
                tenant_id=ACME, identity=phone, limit=1, exclude_interaction_id=_id("c3")
            ),
            metadata=_metadata(ACME),
        )
        assert [c.interaction_id for c in reply.contacts] == [_id("c2")]

        # the from address finds them too; the other number only its own contacts
        by_address = await stub.ListCustomerContacts(
            reports_pb2.ListCustomerContactsRequest(
                tenant_id=ACME,
                identity=reports_pb2.CustomerIdentity(
                    kind=IdentityKind.IDENTITY_KIND_PHONE, value=f"sip:{CALLER}@10.0.0.1"
                ),
            ),
            metadata=_metadata(ACME),
        )
        assert len(by_address.contacts) == 3
        other = await stub.ListCustomerContacts(
            reports_pb2.ListCustomerContactsRequest(
                tenant_id=ACME,
                identity=reports_pb2.CustomerIdentity(
                    kind=IdentityKind.IDENTITY_KIND_PHONE, value=OTHER
                ),
            ),
            metadata=_metadata(ACME),
        )
        assert {c.interaction_id for c in other.contacts} == {_id("o1"), _id("w1"), _id("s1")}
        assert {c.outcome for c in other.contacts} == {
            reports_pb2.CONTACT_OUTCOME_ANSWERED,
            reports_pb2.CONTACT_OUTCOME_WAITING,
            reports_pb2.CONTACT_OUTCOME_SHORT_ABANDONED,
        }
        # the same number at another tenant: that tenant's contact only
        beta = await stub.ListCustomerContacts(
            reports_pb2.ListCustomerContactsRequest(tenant_id=BETA, identity=phone),
            metadata=_metadata(BETA),
        )
        assert [c.interaction_id for c in beta.contacts] == [_id("b1")]
        # another kind of identity with the same value finds nothing
        email = await stub.ListCustomerContacts(
            reports_pb2.ListCustomerContactsRequest(
                tenant_id=ACME,
                identity=reports_pb2.CustomerIdentity(
                    kind=IdentityKind.IDENTITY_KIND_EMAIL, value=CALLER
                ),
            ),
            metadata=_metadata(ACME),
        )
        assert list(email.contacts) == []

    _serve(settings, exercise)


DELEGATION_KEY = f"screen-pop-key-{RUN}"


def test_an_agent_reads_the_contacts_of_the_customer_of_its_offered_contact(
    settings: AnalyticsSettings, stored: None
) -> None:
    """An agent (interaction.read_own, as the gateway delegates it) reads the customer's other
    contacts of an interaction offered to its agent, checked in ClickHouse; nothing else."""
    delegation = Delegation(DELEGATION_KEY.encode())

    def agent(tenant: str, user: str) -> tuple[tuple[str, str], ...]:
        token = delegation.issue(tenant, user, int(time.time() * 1000))
        return (("authorization", f"Bearer {token}"),)

    def ask(**fields: Any) -> reports_pb2.ListCustomerContactsRequest:
        return reports_pb2.ListCustomerContactsRequest(**{"tenant_id": ACME, **fields})

    async def exercise(stub: reports_pb2_grpc.ReportsStub) -> None:
        ana, ivo = agent(ACME, "ana"), agent(ACME, "ivo")
        reply = await stub.ListCustomerContacts(
            ask(for_agent_id="agent-2", for_interaction_id=_id("c3"),
                exclude_interaction_id=_id("c3")),
            metadata=ana,
        )
        assert [c.interaction_id for c in reply.contacts] == [_id("c2"), _id("c1")]
        assert (reply.identity.kind, reply.identity.value) == (
            IdentityKind.IDENTITY_KIND_PHONE, CALLER
        )
        # offered to agent-9 as well (it rang there, unanswered): its agent may look too,
        # naming the customer by its address
        by_address = await stub.ListCustomerContacts(
            ask(for_agent_id="agent-9", for_interaction_id=_id("c3"),
                identity=reports_pb2.CustomerIdentity(
                    kind=IdentityKind.IDENTITY_KIND_PHONE, value=f"sip:{CALLER}@10.0.0.1")),
            metadata=ivo,
        )
        assert len(by_address.contacts) == 3

        async def refused(request: Message, metadata: Any) -> grpc.StatusCode:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.ListCustomerContacts(request, metadata=metadata)
            return err.value.code()

        denied = grpc.StatusCode.PERMISSION_DENIED
        other = reports_pb2.CustomerIdentity(kind=IdentityKind.IDENTITY_KIND_PHONE, value=OTHER)
        cases = [
            # o1 was offered to agent-1, not to ana's agent
            (ask(for_agent_id="agent-2", for_interaction_id=_id("o1")), ana),
            # another agent's agent_id
            (ask(for_agent_id="agent-1", for_interaction_id=_id("o1")), ana),
            # another customer than c3's
            (ask(for_agent_id="agent-2", for_interaction_id=_id("c3"), identity=other), ana),
            # another tenant's interaction, named in this tenant and in the other
            (ask(for_agent_id="agent-1", for_interaction_id=_id("b1")), agent(ACME, "ana")),
            (ask(tenant_id=BETA, for_agent_id="agent-2", for_interaction_id=_id("b1")), ana),
        ]
        for request, metadata in cases:
            assert await refused(request, metadata) == denied, request
        assert await refused(
            ask(for_agent_id="agent-2", identity=other), ana
        ) == grpc.StatusCode.INVALID_ARGUMENT  # no contact of its own named
        # the tenant credential (interaction.read): any customer, as before
        tenant_wide = await stub.ListCustomerContacts(ask(identity=other), metadata=_metadata(ACME))
        assert len(tenant_wide.contacts) == 3

    _serve(settings.model_copy(update={"delegation_key": DELEGATION_KEY}), exercise)


def test_interactions_of_a_period_paged_filtered_and_one_with_its_events(
    settings: AnalyticsSettings, stored: None
) -> None:
    newest_first = [_id(n) for n in ("c3", "s1", "w1", "c2", "o1", "c1")]

    async def listed(**fields: Any) -> tuple[list[str], str]:
        reply = await stub_ref[0].ListInteractions(
            reports_pb2.ListInteractionsRequest(
                tenant_id=ACME, period=_period(START, END), **fields
            ),
            metadata=_metadata(ACME),
        )
        return [i.interaction_id for i in reply.interactions], reply.next_page_token

    stub_ref: list[reports_pb2_grpc.ReportsStub] = []

    async def exercise(stub: reports_pb2_grpc.ReportsStub) -> None:
        stub_ref.append(stub)
        assert await listed() == (newest_first, "")
        # paged by twos: each page continues where the last ended, the last has no token
        pages, token = [], ""
        while True:
            ids, token = await listed(page_size=2, page_token=token)
            pages.append(ids)
            if not token:
                break
        assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:6]]
        assert (await listed(queue_id="sales"))[0] == [_id("c2")]
        phone = reports_pb2.CustomerIdentity(kind=IdentityKind.IDENTITY_KIND_PHONE, value=CALLER)
        assert (await listed(identity=phone))[0] == [_id("c3"), _id("c2"), _id("c1")]
        assert (await listed(channel=1))[0] == newest_first  # CHANNEL_VOICE
        assert (await listed(channel=2))[0] == []  # CHANNEL_CHAT
        # a narrower period, and another tenant's interactions never
        narrow = await stub.ListInteractions(
            reports_pb2.ListInteractionsRequest(
                tenant_id=ACME,
                period=_period(START + timedelta(seconds=200), START + timedelta(seconds=700)),
            ),
            metadata=_metadata(ACME),
        )
        assert [i.interaction_id for i in narrow.interactions] == [_id("c2"), _id("o1")]
        code, text = await _refused(
            stub.ListInteractions(
                reports_pb2.ListInteractionsRequest(
                    tenant_id=ACME, period=_period(START, END), page_token="not-a-token"
                ),
                metadata=_metadata(ACME),
            )
        )
        assert (code, text) == (
            grpc.StatusCode.INVALID_ARGUMENT, "page_token is not a token of this list"
        )

        one = await stub.GetInteraction(
            reports_pb2.GetInteractionRequest(tenant_id=ACME, interaction_id=_id("c3")),
            metadata=_metadata(ACME),
        )
        summary = protodict.to_dict(one.interaction)
        assert (summary["outcome"], summary["agent_id"], summary["queue_id"]) == (
            "answered", "agent-2", "support"
        )
        planted = [e for _, e in EVENTS if e.envelope.interaction_id == _id("c3")]  # type: ignore[attr-defined]
        assert {e.envelope.event_id for e in one.events} == {
            e.envelope.event_id for e in planted  # type: ignore[attr-defined]
        }
        assert len(one.events) == len(planted)
        times = [e.envelope.occurred_at.ToMilliseconds() for e in one.events]
        assert times == sorted(times)
        assert one.events[0].WhichOneof("event") == "arrived"
        code, _ = await _refused(
            stub.GetInteraction(
                reports_pb2.GetInteractionRequest(tenant_id=ACME, interaction_id=_id("b1")),
                metadata=_metadata(ACME),
            )
        )
        assert code == grpc.StatusCode.NOT_FOUND  # BETA's interaction: not ACME's

    _serve(settings, exercise)


def test_the_lifecycle_check(settings: AnalyticsSettings, stored: None) -> None:
    async def exercise(stub: reports_pb2_grpc.ReportsStub) -> None:
        check = await stub.CheckLifecycle(
            reports_pb2.CheckLifecycleRequest(tenant_id=ACME, period=_period(START, END)),
            metadata=_metadata(ACME),
        )
        assert list(check.unfinished_interactions) == [_id("w1")]
        assert [(e.interaction_id, e.terminal_events) for e in check.ended_twice] == [
            (_id("o1"), 2)
        ]
        assert [
            (o.interaction_id, o.agent_id, list(o.still_offered_to))
            for o in check.concurrent_offers
        ] == [(_id("c3"), "agent-9", ["agent-2"])]
        clean = await stub.CheckLifecycle(
            reports_pb2.CheckLifecycleRequest(tenant_id=BETA, period=_period(START, END)),
            metadata=_metadata(BETA),
        )
        assert protodict.to_dict(clean) == {
            "unfinished_interactions": [], "ended_twice": [], "concurrent_offers": []
        }

    _serve(settings, exercise)


async def _refused(call: Awaitable[Any]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code(), err.value.details() or ""


def _calls(
    stub: reports_pb2_grpc.ReportsStub, tenant: str, period: reports_pb2.Period
) -> Sequence[Callable[[tuple[tuple[str, str], ...]], Awaitable[Any]]]:
    phone = reports_pb2.CustomerIdentity(kind=IdentityKind.IDENTITY_KIND_PHONE, value=CALLER)
    return [
        lambda md: stub.GetKpiReport(
            reports_pb2.GetKpiReportRequest(tenant_id=tenant, period=period), metadata=md
        ),
        lambda md: stub.ListCustomerContacts(
            reports_pb2.ListCustomerContactsRequest(tenant_id=tenant, identity=phone),
            metadata=md,
        ),
        lambda md: stub.CheckLifecycle(
            reports_pb2.CheckLifecycleRequest(tenant_id=tenant, period=period), metadata=md
        ),
        lambda md: stub.ListInteractions(
            reports_pb2.ListInteractionsRequest(tenant_id=tenant, period=period), metadata=md
        ),
        lambda md: stub.GetInteraction(
            reports_pb2.GetInteractionRequest(tenant_id=tenant, interaction_id=_id("c1")),
            metadata=md,
        ),
    ]


def test_other_tenants_bad_periods_and_no_clickhouse_are_refused(
    settings: AnalyticsSettings, stored: None
) -> None:
    async def exercise(stub: reports_pb2_grpc.ReportsStub) -> None:
        for call in _calls(stub, ACME, _period(START, END)):
            code, text = await _refused(call(_metadata(BETA)))
            assert code == grpc.StatusCode.PERMISSION_DENIED, text
            assert BETA in text and ACME in text
            code, _ = await _refused(call(()))
            assert code == grpc.StatusCode.UNAUTHENTICATED
        for name in ("GetKpiReport", "CheckLifecycle"):
            call = _calls(stub, ACME, _period(END, START))[0 if name == "GetKpiReport" else 2]
            code, text = await _refused(call(_metadata(ACME)))
            assert code == grpc.StatusCode.INVALID_ARGUMENT
            assert text == (
                "period is empty: to (2026-11-03T09:00:00Z) must be after from"
                " (2026-11-03T11:00:00Z)"
            )
            no_period = await _refused(
                stub.GetKpiReport(
                    reports_pb2.GetKpiReportRequest(tenant_id=ACME), metadata=_metadata(ACME)
                )
            )
            assert no_period == (grpc.StatusCode.INVALID_ARGUMENT, "period.from is required")

    _serve(settings, exercise)

    # ClickHouse unreachable: every method UNAVAILABLE, saying where
    nowhere = settings.model_copy(update={"clickhouse_port": find_free_port()})

    async def unavailable(stub: reports_pb2_grpc.ReportsStub) -> None:
        for call in _calls(stub, ACME, _period(START, END)):
            code, text = await _refused(call(_metadata(ACME)))
            assert code == grpc.StatusCode.UNAVAILABLE, text
            assert f"127.0.0.1:{nowhere.clickhouse_port}" in text

    _serve(nowhere, unavailable)
