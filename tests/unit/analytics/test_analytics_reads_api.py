"""The analytics read API without ClickHouse: the generic dict <-> protobuf mapping of the KPI
report (lossless, so `hotline report` prints the same table and JSON through gRPC), the
lifecycle rules, and the `Reports` servicer over real gRPC on loopback with an in-memory store
(tenant guard, errors, every method). ClickHouse: tests/integration/test_analytics_reads.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from hotline.analytics.v1 import reports_pb2, reports_pb2_grpc
from hotline.interaction.v1.events_pb2 import IdentityKind
from hotline_analytics.adapters import grpc_api
from hotline_analytics.application.reads import ReportsService, StoreUnavailable
from hotline_analytics.application.report import build_report, format_report, to_ms
from hotline_analytics.domain.contacts import ContactRecord, summarise
from hotline_analytics.domain.kpi import (
    AbandonDenominator,
    CountingRules,
    InteractionFacts,
    Outcome,
    QueueTally,
    ServiceLevelDefinition,
)
from hotline_analytics.domain.lifecycle import (
    ConcurrentOffer,
    EndedTwice,
    OfferStep,
    concurrent_offers,
)
from hotline_cli.embedded import find_free_port
from hotline_platform import grpc_server, protodict, tenancy

CONFIG = tenancy.parse(
    {
        "sites": [{"id": "lisbon"}],
        "tenants": [
            {
                "id": "acme",
                "name": "ACME",
                "credential": "acme-secret",
                "kpi": {"service_level": "missed", "short_abandon_s": 3},
                "queues": [
                    {"id": "support", "service_level": {"threshold_s": 20, "target": 0.8}},
                    {"id": "sales", "service_level": {"threshold_s": 10, "target": 0.9}},
                    {"id": "idle"},
                ],
            },
            {"id": "beta", "credential": "beta-secret", "queues": [{"id": "support"}]},
        ],
    }
)
START = datetime(2026, 11, 2, 10, 0, 0, 123000, tzinfo=UTC)  # a fraction Timestamp writes as .123
END = START + timedelta(hours=1)
Q = to_ms(START) + 60_000


def answered(interaction_id: str, queue: str, wait_s: float) -> InteractionFacts:
    at = Q + int(wait_s * 1000)
    return InteractionFacts(
        interaction_id,
        queue_id=queue,
        queued_at_ms=Q,
        answered_at_ms=at,
        talk_ms=60_000,
        wrap_up_ms=10_000,
        wrap_up_ended_at_ms=at + 70_000,
        agent_id="agent-1",
    )


FACTS = [
    answered("i1", "support", 15),
    answered("i2", "support", 25),
    answered("i3", "sales", 12),
    answered("i4", "legacy", 30),  # a queue no longer configured
    InteractionFacts("i5", queue_id="support", queued_at_ms=Q),  # still waiting
]


class MemoryStore:
    """ReadStore in memory: tallies of FACTS, contacts and lifecycle facts as given."""

    def __init__(self) -> None:
        self.contacts: list[tuple[str, str, ContactRecord]] = []
        self.down = False
        self.asked: list[tuple[Any, ...]] = []

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("ClickHouse at 127.0.0.1:1: connection refused")

    def queue_tallies(
        self,
        tenant_id: str,
        start_ms: int,
        end_ms: int,
        thresholds_s: Mapping[str, int],
        short_abandon_ms: int,
    ) -> dict[str, QueueTally]:
        self._check()
        rules = CountingRules(short_abandon_s=short_abandon_ms / 1000)
        out: dict[str, QueueTally] = {}
        for f in FACTS if tenant_id == "acme" else []:
            if start_ms <= f.queued_at_ms < end_ms:
                t = thresholds_s.get(f.queue_id, 20)
                out.setdefault(f.queue_id, QueueTally()).add(f, t, rules)
        return out

    def contacts_by_identity(
        self, tenant_id: str, kind: str, value: str, limit: int, exclude_interaction_id: str
    ) -> list[ContactRecord]:
        self._check()
        self.asked.append((tenant_id, kind, value, limit, exclude_interaction_id))
        found = [
            r
            for t, identity, r in self.contacts
            if t == tenant_id
            and identity == f"{kind}:{value}"
            and r.facts.interaction_id != exclude_interaction_id
        ]
        return sorted(found, key=lambda r: -r.arrived_at_ms)[:limit]

    def interactions(
        self, tenant_id: str, where: Any, after: tuple[int, str] | None, limit: int
    ) -> list[ContactRecord]:
        self._check()
        return []

    def interaction(self, tenant_id: str, interaction_id: str) -> ContactRecord | None:
        self._check()
        return None

    def interaction_events(self, tenant_id: str, interaction_id: str) -> list[bytes]:
        self._check()
        return []

    def unfinished(self, tenant_id: str, start_ms: int, end_ms: int) -> list[str]:
        self._check()
        return ["i5"] if tenant_id == "acme" else []

    def ended_twice(self, tenant_id: str, start_ms: int, end_ms: int) -> list[EndedTwice]:
        self._check()
        return [EndedTwice("i6", 2)] if tenant_id == "acme" else []

    def offer_steps(self, tenant_id: str, start_ms: int) -> list[OfferStep]:
        self._check()
        if tenant_id != "acme":
            return []
        return [
            OfferStep("i7", 1_000, "offered", "o1", "agent-1"),
            OfferStep("i7", 2_000, "offered", "o2", "agent-2"),
            OfferStep("i7", 3_000, "offer_timed_out", "o1", "agent-1"),
        ]


def _report(tenant: str = "acme", **kwargs: Any) -> dict[str, Any]:
    return build_report(MemoryStore(), CONFIG, tenant, START, END, **kwargs)


# --- the mapping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "report",
    [
        _report(),
        _report("beta"),  # no contacts: every ratio undefined (None)
        _report("ghost"),  # not configured: no tenant name, no queues
        _report(
            rules=CountingRules(
                7.5, ServiceLevelDefinition.REMOVED_WITHIN_T, AbandonDenominator.QUEUED
            )
        ),
    ],
    ids=["acme", "no-contacts", "unknown-tenant", "other-rules"],
)
def test_the_report_dict_survives_protobuf_unchanged(report: dict[str, Any]) -> None:
    message = protodict.to_message(report, reports_pb2.KpiReport)
    back = protodict.to_dict(message)
    assert back == report
    # same types too (an int64 stays an int, a 5.0 stays a float), so the JSON is identical
    assert json.dumps(back, indent=2) == json.dumps(report, indent=2)
    assert format_report(back) == format_report(report)
    # and through the wire format
    wire = reports_pb2.KpiReport.FromString(message.SerializeToString())
    assert protodict.to_dict(wire) == report


def test_undefined_figures_are_unset_optional_fields() -> None:
    message = protodict.to_message(_report("beta"), reports_pb2.KpiReport)
    (queue,) = message.queues
    assert not queue.HasField("service_level") and not queue.HasField("asa_s")
    assert not queue.HasField("service_level_met")
    assert queue.HasField("service_level_threshold_s") and queue.service_level_threshold_s == 20
    assert not message.total.HasField("aht_s")
    assert message.total.tally.queued == 0
    legacy = next(
        q for q in protodict.to_message(_report(), reports_pb2.KpiReport).queues
        if q.queue_id == "legacy"
    )
    assert not legacy.HasField("service_level_threshold_s")
    assert legacy.threshold_source == "recorded at queueing"
    assert getattr(message.period, "from").ToJsonString() == "2026-11-02T10:00:00.123Z"


def test_a_field_on_one_side_only_is_an_error() -> None:
    report = _report()
    report["definitions"] = {**report["definitions"], "new_definition": "x"}
    with pytest.raises(ValueError, match="KpiDefinitions has no field new_definition"):
        protodict.to_message(report, reports_pb2.KpiReport)
    with pytest.raises(TypeError, match=r"\.total\.queued"):
        protodict.to_message({"total": {"queued": 1.5}}, reports_pb2.KpiReport)


def test_enums_by_short_name_and_dataclasses() -> None:
    facts = answered("i1", "support", 15)
    contact = summarise(
        ContactRecord(facts, "VOICE", "+351210000001", Q - 40, "resolved", True)
    )
    message = protodict.to_message(contact, reports_pb2.CustomerContact)
    assert message.channel == 1 and message.outcome == reports_pb2.CONTACT_OUTCOME_ANSWERED
    assert message.arrived_at.ToMilliseconds() == Q - 40
    back = protodict.to_dict(message)
    assert back["channel"] == "voice" and back["outcome"] == "answered"
    never = summarise(ContactRecord(InteractionFacts("i9")))
    message = protodict.to_message(never, reports_pb2.CustomerContact)
    assert message.channel == 0 and not message.HasField("arrived_at")
    assert message.outcome == reports_pb2.CONTACT_OUTCOME_NOT_QUEUED
    with pytest.raises(ValueError, match="not a value of hotline.common.v1.Channel"):
        protodict.to_message({"channel": "pigeon"}, reports_pb2.CustomerContact)


def test_every_domain_outcome_has_a_contract_value() -> None:
    names = {v.name for v in reports_pb2.ContactOutcome.DESCRIPTOR.values}
    prefix = protodict.enum_prefix(reports_pb2.ContactOutcome.DESCRIPTOR)
    assert {prefix + o.value.upper() for o in Outcome} == names - {prefix + "UNSPECIFIED"}


# --- lifecycle rules --------------------------------------------------------------------------


def test_concurrent_offers() -> None:
    steps = [
        OfferStep("a", 1_000, "offered", "o1", "ann"),
        OfferStep("a", 2_000, "offer_timed_out", "o1", "ann"),
        OfferStep("a", 2_000, "offered", "o2", "bob"),  # same ms: the resolution came first
        OfferStep("a", 3_000, "completed"),
        OfferStep("a", 4_000, "offered", "o3", "cid"),  # after the end: nothing rings
        OfferStep("b", 1_000, "offered", "o4", "ann"),
        OfferStep("b", 1_500, "offered", "o5", "bob"),
    ]
    assert concurrent_offers(steps) == [ConcurrentOffer("b", "bob", ("ann",))]


# --- the servicer -----------------------------------------------------------------------------


def _metadata(credential: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {credential}"),)


def _period(start: datetime | None, end: datetime | None) -> reports_pb2.Period:
    period = reports_pb2.Period()
    if start is not None:
        getattr(period, "from").CopyFrom(protodict.timestamp(start))
    if end is not None:
        period.to.CopyFrom(protodict.timestamp(end))
    return period


async def _code(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code()  # type: ignore[no-any-return]


async def _exercise(port: int, store: MemoryStore) -> None:
    service = ReportsService(store, lambda: CONFIG)
    server = await grpc_server.start(
        port, lambda s: grpc_api.register(s, service, lambda: CONFIG), grpc_api.SERVICE_NAMES
    )
    acme, beta = _metadata("acme-secret"), _metadata("beta-secret")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = reports_pb2_grpc.ReportsStub(channel)
            period = _period(START, END)

            reply = await stub.GetKpiReport(
                reports_pb2.GetKpiReportRequest(tenant_id="acme", period=period), metadata=acme
            )
            report = protodict.to_dict(reply)
            expected = _report()
            assert {k: v for k, v in report.items() if k != "generated_at"} == {
                k: v for k, v in expected.items() if k != "generated_at"
            }
            assert report["definitions"]["service_level"] == "missed"  # the tenant's contract

            only = protodict.to_dict(
                await stub.GetKpiReport(
                    reports_pb2.GetKpiReportRequest(
                        tenant_id="acme", period=period, queue_ids=["sales", "legacy"]
                    ),
                    metadata=acme,
                )
            )
            assert [q["queue_id"] for q in only["queues"]] == ["legacy", "sales"]
            assert only["total"]["queued"] == 2 and only["total"]["answered"] == 2

            # bad periods, each with a message naming the field
            for bad, text in [
                (reports_pb2.Period(), "period.from is required"),
                (_period(START, None), "period.to is required"),
                (_period(END, START), "period is empty: to (2026-11-02T10:00:00.123000Z)"),
                (_period(START, START), "must be after from"),
            ]:
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await stub.GetKpiReport(
                        reports_pb2.GetKpiReportRequest(tenant_id="acme", period=bad),
                        metadata=acme,
                    )
                assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                assert text in (err.value.details() or "")
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.CheckLifecycle(
                    reports_pb2.CheckLifecycleRequest(tenant_id="acme"), metadata=acme
                )
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT

            # contacts: newest first, the current one left out, the limit passed on
            phone = reports_pb2.CustomerIdentity(
                kind=IdentityKind.IDENTITY_KIND_PHONE, value="+351910000001"
            )
            contacts = await stub.ListCustomerContacts(
                reports_pb2.ListCustomerContactsRequest(
                    tenant_id="acme", identity=phone, limit=5, exclude_interaction_id="i2"
                ),
                metadata=acme,
            )
            assert [c.interaction_id for c in contacts.contacts] == ["i3", "i1"]
            assert contacts.contacts[0].channel == 2  # CHAT
            assert contacts.contacts[1].outcome == reports_pb2.CONTACT_OUTCOME_ANSWERED
            assert contacts.contacts[1].disposition_code == "resolved"
            assert store.asked[-1] == ("acme", "phone", "+351910000001", 5, "i2")
            default = await stub.ListCustomerContacts(
                reports_pb2.ListCustomerContactsRequest(tenant_id="acme", identity=phone),
                metadata=acme,
            )
            assert len(default.contacts) == 3 and store.asked[-1][3] == 20
            for bad_request, text in [
                (reports_pb2.ListCustomerContactsRequest(tenant_id="acme"), "identity.kind"),
                (
                    reports_pb2.ListCustomerContactsRequest(
                        tenant_id="acme", identity=reports_pb2.CustomerIdentity(kind=1)
                    ),
                    "identity.value is required",
                ),
                (
                    reports_pb2.ListCustomerContactsRequest(
                        tenant_id="acme", identity=phone, limit=201
                    ),
                    "limit must be between 0 and 200",
                ),
            ]:
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await stub.ListCustomerContacts(bad_request, metadata=acme)
                assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                assert text in (err.value.details() or "")

            check = await stub.CheckLifecycle(
                reports_pb2.CheckLifecycleRequest(tenant_id="acme", period=period), metadata=acme
            )
            assert list(check.unfinished_interactions) == ["i5"]
            assert [(e.interaction_id, e.terminal_events) for e in check.ended_twice] == [
                ("i6", 2)
            ]
            (offer,) = check.concurrent_offers
            assert (offer.interaction_id, offer.agent_id, list(offer.still_offered_to)) == (
                "i7",
                "agent-2",
                ["agent-1"],
            )

            # the tenant guard, on every method
            calls = [
                lambda md: stub.GetKpiReport(
                    reports_pb2.GetKpiReportRequest(tenant_id="acme", period=period), metadata=md
                ),
                lambda md: stub.ListCustomerContacts(
                    reports_pb2.ListCustomerContactsRequest(tenant_id="acme", identity=phone),
                    metadata=md,
                ),
                lambda md: stub.CheckLifecycle(
                    reports_pb2.CheckLifecycleRequest(tenant_id="acme", period=period),
                    metadata=md,
                ),
            ]
            for call in calls:
                assert await _code(call(beta)) == grpc.StatusCode.PERMISSION_DENIED
                assert await _code(call(())) == grpc.StatusCode.UNAUTHENTICATED
                assert await _code(call(_metadata("nope"))) == grpc.StatusCode.UNAUTHENTICATED
            assert await _code(
                stub.GetKpiReport(
                    reports_pb2.GetKpiReportRequest(tenant_id="ghost", period=period),
                    metadata=acme,
                )
            ) in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)

            # ClickHouse down: UNAVAILABLE, and back when it is
            store.down = True
            for call in calls:
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await call(acme)
                assert err.value.code() == grpc.StatusCode.UNAVAILABLE
                assert "connection refused" in (err.value.details() or "")
            store.down = False
            assert (await calls[0](acme)).tenant_id == "acme"
    finally:
        await server.stop(grace=1)


def test_reports_service_over_grpc() -> None:
    store = MemoryStore()
    base = to_ms(START)
    for i, (queue, channel, arrived_ms) in enumerate(
        [("support", "VOICE", base + 1_000), ("support", "VOICE", base + 2_000),
         ("sales", "CHAT", base + 3_000)],
        start=1,
    ):
        facts = replace(answered(f"i{i}", queue, 5), interaction_id=f"i{i}")
        store.contacts.append(
            ("acme", "phone:+351910000001",
             ContactRecord(facts, channel, "ep", arrived_ms, "resolved", True))
        )
    store.contacts.append(  # another tenant's contact of the same number
        ("beta", "phone:+351910000001", ContactRecord(answered("b1", "support", 5), "VOICE"))
    )
    asyncio.run(_exercise(find_free_port(), store))


def test_unknown_tenants_are_not_found_in_the_use_cases() -> None:
    from hotline_analytics.application.reads import UnknownTenant

    service = ReportsService(MemoryStore(), lambda: CONFIG)
    with pytest.raises(UnknownTenant, match="no tenant 'ghost'"):
        service.kpi_report("ghost", START, END)
    with pytest.raises(UnknownTenant):
        service.customer_contacts("ghost", "phone", "1")
    with pytest.raises(UnknownTenant):
        service.check_lifecycle("ghost", START, END)


def test_interaction_list_requests_are_checked_and_page_tokens_round_trip() -> None:
    from hotline_analytics.application.reads import (
        InvalidRequest,
        UnknownInteraction,
        decode_page_token,
        encode_page_token,
    )

    assert decode_page_token(encode_page_token((1_700_000_000_123, "i:7"))) == (
        1_700_000_000_123, "i:7"
    )
    service = ReportsService(MemoryStore(), lambda: CONFIG)
    for kwargs, message in [
        ({"page_token": "bm9wZQ"}, "page_token is not a token of this list"),
        ({"page_size": 201}, "page_size must be between 0 and 200"),
        ({"channel": "pigeon"}, "channel must be one of VOICE, CHAT, EMAIL, FAX"),
        ({"identity": ("shoe", "9")}, "identity.kind must be one of"),
        ({"identity": ("phone", " ")}, "identity.value is required"),
    ]:
        with pytest.raises(InvalidRequest, match=message):
            service.list_interactions("acme", START, END, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match="period.from is required"):
        service.list_interactions("acme", None, END)
    assert service.list_interactions("acme", START, END) == ([], "")
    with pytest.raises(UnknownInteraction):
        service.get_interaction("acme", "nope")


def test_timestamps_keep_microseconds() -> None:
    moment = datetime(2026, 11, 2, 10, 0, 0, 123456, tzinfo=UTC)
    ts: Timestamp = protodict.timestamp(moment)
    assert protodict.to_datetime(ts) == moment
    assert protodict.iso_utc(protodict.to_datetime(ts)) == "2026-11-02T10:00:00.123456Z"


# --- the tenant x role matrix (hotline_platform.policy) --------------------------------------


async def _run_matrix(port: int) -> list[str]:
    from support import authz_matrix
    from support.authz_matrix import UNAUTHENTICATED
    from support.grpc_matrix import call_outcome, sample_request
    from support.identity_fakes import MatrixIdentities

    from hotline_platform import policy
    from hotline_platform.auth import tenancy_resolver

    config = tenancy.parse(
        {
            "sites": [{"id": "lisbon"}],
            "tenants": [
                {"id": t, "credential": f"{t}-secret", "queues": [{"id": "sales"}]}
                for t in ("ta", "tb")
            ],
        }
    )
    table = {
        m: r for m, r in policy.GRPC_METHODS.items() if m.startswith("/hotline.analytics.v1.")
    }
    assert len(table) == 5
    identities = MatrixIdentities(
        "ta", "tb", "a1", "a2", {t: f"{t}-secret" for t in config.tenants}
    )
    legacy = tenancy_resolver(config)
    resolver = identities.resolver(legacy.tenant_of, legacy.tenant_credential_cached)
    service = ReportsService(MemoryStore(), lambda: config)
    server = await grpc_server.start(
        port,
        lambda s: grpc_api.register(s, service, lambda: config, resolver=resolver),
        grpc_api.SERVICE_NAMES,
    )
    wrong: list[str] = []
    cases = authz_matrix.cases(table)
    assert len(cases) >= 50 and {c.expected for c in cases} == {"allow", "forbidden"}
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            for case in cases:
                request = sample_request(
                    case.route, identities.tenant(case.tenant), identities.agent(case.agent)
                )
                outcome = await call_outcome(
                    channel, case.route, request, identities.token(case.caller)
                )
                if outcome != case.expected:
                    wrong.append(f"{case.id}: got {outcome}")
            for route in table:
                for name, token in authz_matrix.unauthenticated_tokens():
                    request = sample_request(route, "ta")
                    outcome = await call_outcome(channel, route, request, token)
                    if outcome != UNAUTHENTICATED:
                        wrong.append(f"{route}[{name}]: got {outcome}")
    finally:
        await server.stop(grace=1)
    return wrong


def test_every_reports_method_refuses_other_tenants_and_roles_without_permission() -> None:
    wrong = asyncio.run(_run_matrix(find_free_port()))
    assert not wrong, "\n".join(wrong)


def test_an_interactions_events_never_precede_their_cause_in_the_same_millisecond() -> None:
    from hotline_analytics.adapters.interaction_reads import causal_order

    # ingress-sip's arrived and the router's queued it caused, in one millisecond, listed
    # in the wrong order (the router's topic sorts first)
    assert causal_order([("queued", 5, "arrived"), ("arrived", 5, ""), ("offered", 6, "queued")]) \
        == ["arrived", "queued", "offered"]
    assert causal_order([("c", 5, "b"), ("b", 5, "a"), ("a", 5, "")]) == ["a", "b", "c"]
    # a cause in an earlier millisecond, and a corrupt cycle, leave the order alone
    assert causal_order([("a", 4, ""), ("b", 5, "a")]) == ["a", "b"]
    assert causal_order([("x", 5, "y"), ("y", 5, "x")]) in (["x", "y"], ["y", "x"])
