"""IVR entry points: the YAML form, the flow rules (hotline_platform.ivr.problems), the
directory form and its whole-directory rules (routes to the tenant's queues)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from directory_world import loaded, plan_apply, queue

from hotline.directory.v1 import events_pb2 as pb
from hotline.directory.v1.directory_pb2 import Change
from hotline_platform import directory, ivr, protodict, tenancy

FLOW = """
language: en
hours:
  time_zone: Europe/Berlin
  open: [{days: [mon, tue, wed, thu, fri], from: 08:00, to: "20:00"}]
  holidays: [2026-12-25]
  closed: closed_msg
start: lang
nodes:
  lang:
    menu:
      prompt: choose_language
      prompt_languages: [en, de]
      timeout_ms: 5000
      retries: 2
      options: {1: {language: en, next: account}, "2": {language: de, next: route_de}}
      on_failure: route_en
  account:
    collect: {prompt: enter_account, min_digits: 6, max_digits: 10, terminator: "#",
              timeout_ms: 8000, retries: 2, next: route_en, on_failure: route_en}
  route_en: {route: {queue: support-en, skills: [support], priority: 3, intent: billing}}
  route_de: {route: {queue: support-de, language: de}}
  closed_msg: {message: {prompt: closed, next: hangup}}
"""


def _raw(flow: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "sites": [{"id": "berlin"}],
        "tenants": [{
            "id": "acme", "credential": "acme-dev-credential",
            "queues": [{"id": "support-en"}, {"id": "support-de"}],
            "agents": [{"id": "a1", "skills": ["support"], "phone": "sip:a1@x"}],
            "entry_points": [{
                "address": "4930111", "kind": "ivr",
                "ivr": flow if flow is not None else yaml.safe_load(FLOW),
            }],
        }],
    }


def _flow() -> ivr.IvrFlow:
    flow = tenancy.parse(_raw()).entry_points["4930111"].ivr
    assert flow is not None
    return flow


def test_the_yaml_flow_is_read_whole() -> None:
    flow = _flow()
    assert flow.start == "lang" and flow.language == "en"
    assert flow.hours == ivr.BusinessHours(
        "Europe/Berlin", (ivr.Window(("mon", "tue", "wed", "thu", "fri"), "08:00", "20:00"),),
        ("2026-12-25",), "closed_msg",
    )
    menu = flow.nodes["lang"]
    assert isinstance(menu, ivr.Menu)
    assert menu.options == {"1": ivr.Option("account", "en"), "2": ivr.Option("route_de", "de")}
    assert menu.prompt_languages == ("en", "de")
    assert flow.nodes["account"] == ivr.Collect(
        "enter_account", "route_en", 6, 10, "#", 8000, 2, "route_en"
    )
    assert flow.nodes["route_en"] == ivr.Route(
        "support-en", (tenancy.SkillLevel("support"),), 3, "billing"
    )
    assert flow.nodes["closed_msg"] == ivr.Message("closed", ivr.HANGUP)


def test_the_directory_form_gives_back_the_same_flow() -> None:
    config = tenancy.parse(_raw())
    definitions = directory.definitions_of(config)
    assert definitions["entry_point/4930111"].kind == pb.ENTRY_POINT_KIND_IVR
    again = directory.to_config(definitions).entry_points["4930111"]
    assert again == config.entry_points["4930111"]
    assert directory.validate(definitions, definitions) == ([], [])


def _broken(change: str) -> str:
    """The ConfigError of the demo flow with one YAML edit (path=value)."""
    flow = yaml.safe_load(FLOW)
    path, value = change.split("=", 1)
    *parents, leaf = path.split(".")
    target = flow
    for part in parents:
        target = target[part]
    if value == "<del>":
        del target[leaf]
    else:
        target[leaf] = yaml.safe_load(value)
    with pytest.raises(tenancy.ConfigError) as caught:
        tenancy.parse(_raw(flow))
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("start=nowhere", "start: node 'nowhere' does not exist"),
        ("nodes.lang.menu.on_failure=gone", "node lang: on_failure 'gone' does not exist"),
        ("nodes.route_de.route.queue=sales", "node route_de: queue 'sales' does not exist"),
        ("nodes.orphan={message: {prompt: x}}", "node(s) orphan cannot be reached"),
        ("nodes.lang.menu.options.x={next: account}", "option key 'x' must be one of"),
        ("nodes.account.collect.min_digits=12", "needs 1 <= min_digits (12) <= max_digits"),
        ("nodes.account.collect.terminator=A", "terminator 'A' must be"),
        ("nodes.account.collect.timeout_ms=100", "timeout_ms 100 must be in 1000-60000"),
        ("nodes.lang.menu.retries=10", "retries 10 must be in 0-9"),
        ("nodes.lang.menu.prompt_languages=[en, 'x y']", "language 'x y' is not a language tag"),
        ("hours.time_zone=Mars/Olympus", "unknown time_zone 'Mars/Olympus'"),
        ("hours.open=[{days: [mon], from: '25:00', to: '26:00'}]", "from/to must be HH:MM"),
        ("hours.open=[{days: [mon], from: '18:00', to: '08:00'}]", "from 18:00 must be before"),
        ("hours.open=[{days: [monday], from: '08:00', to: '18:00'}]", "days must be some of"),
        ("hours.holidays=['2026-02-30']", "holiday '2026-02-30' is not a date"),
        ("hours.closed=nope", "hours.closed: node 'nope' does not exist"),
        ("nodes.hangup={hangup: {}}", "an id is 1-64 letters"),
        ("nodes.lang.menu.prompt=<del>", "missing 'prompt'"),
        ("nodes.lang.menu.colour=red", "unknown setting(s) colour"),
        ("nodes.lang={dial: {}}", "a node is {<kind>: {...}}"),
        ("language=<del>", "missing 'language'"),
    ],
)
def test_a_broken_flow_is_refused_naming_the_rule(change: str, reason: str) -> None:
    message = _broken(change)
    assert message.startswith("entry point 4930111 ivr")
    assert reason in message


def test_a_loop_of_messages_only_is_refused_one_through_a_menu_is_not() -> None:
    flow = _flow()
    nodes = {
        **flow.nodes,
        "loop_a": ivr.Message("a", "loop_b"),
        "loop_b": ivr.Message("b", "loop_a"),
        "lang": ivr.Menu("choose_language", {"1": ivr.Option("loop_a")}),
    }
    reasons = ivr.problems(ivr.IvrFlow("lang", nodes, "en"))
    assert "nodes loop_a -> loop_b -> loop_a loop through messages without input" in reasons
    nodes["loop_b"] = ivr.Message("b", "lang")  # back to the menu: it waits for a key
    assert not any("loop" in r for r in ivr.problems(ivr.IvrFlow("lang", nodes, "en")))


def test_every_problem_is_listed_at_once() -> None:
    flow = _flow()
    nodes = dict(flow.nodes)
    nodes["lang"] = ivr.Menu("", {"%": ivr.Option("gone")}, 0, 99)
    broken = ivr.IvrFlow("lang", nodes, "english!", flow.hours)
    reasons = ivr.problems(broken, {"support-en"})
    assert len(reasons) >= 7, reasons


def test_an_ivr_goes_with_kind_ivr_and_no_queue() -> None:
    raw = _raw()
    raw["tenants"][0]["entry_points"][0]["queue"] = "support-en"
    with pytest.raises(tenancy.ConfigError, match="route nodes name the queue"):
        tenancy.parse(raw)
    raw = _raw()
    raw["tenants"][0]["entry_points"][0]["kind"] = "announcement"
    with pytest.raises(tenancy.ConfigError, match="'ivr' goes with kind ivr"):
        tenancy.parse(raw)


@pytest.mark.parametrize(
    ("local", "is_open"),
    [
        ("2026-12-23T07:59", False),  # Wednesday, before opening
        ("2026-12-23T08:00", True),
        ("2026-12-23T19:59", True),
        ("2026-12-23T20:00", False),
        ("2026-12-25T10:00", False),  # Friday, a holiday
        ("2026-12-26T10:00", False),  # Saturday
    ],
)
def test_business_hours_in_local_time(local: str, is_open: bool) -> None:
    hours = _flow().hours
    assert hours is not None
    at = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Europe/Berlin"))
    assert hours.is_open(at) is is_open
    # The instant seen from UTC is converted to the zone's wall clock (CET, UTC+1).
    assert hours.local_time(int(at.timestamp() * 1000)).strftime("%H:%M") == local[-5:]


# ------------------------------------------------------------------ the directory's rules


def _ivr_entry(queue_id: str = "billing", address: str = "+35121000077") -> Change:
    flow = pb.IvrFlow(
        language="en", start="menu",
        nodes={
            "menu": pb.IvrNode(menu=pb.IvrMenu(
                prompt="p", timeout_ms=5000, retries=1, on_failure="hangup",
                options={"1": pb.IvrOption(next="go")},
            )),
            "go": pb.IvrNode(route=pb.IvrRoute(queue_id=queue_id)),
        },
    )
    return Change(define_entry_point=pb.EntryPointDefined(
        tenant_id="acme", address=address, kind=pb.ENTRY_POINT_KIND_IVR, site_id="lisbon",
        ivr=flow,
    ))


def _refused(view: directory.View, *changes: Change) -> str:
    with pytest.raises(directory.Refused) as caught:
        plan_apply(view, *changes)
    return str(caught.value)


def test_an_ivr_route_reaches_its_queue() -> None:
    view = loaded()
    plan_apply(view, queue(), _ivr_entry())  # no queue entry point: the IVR reaches it
    flow = view.config().entry_points["+35121000077"].ivr
    assert flow is not None and flow.nodes["go"] == ivr.Route("billing")


def test_an_ivr_route_to_a_missing_queue_is_refused() -> None:
    view = loaded()
    assert "queue 'billing' of tenant acme does not exist" in _refused(view, _ivr_entry())


def test_a_queue_an_ivr_routes_to_cannot_be_removed() -> None:
    view = loaded()
    plan_apply(view, queue(), _ivr_entry())
    removal = Change(remove_queue=pb.QueueRemoved(tenant_id="acme", queue_id="billing"))
    assert "queue 'billing' of tenant acme does not exist" in _refused(view, removal)


def test_the_directory_refuses_a_bad_flow_and_a_node_of_no_kind() -> None:
    view = loaded()
    change = _ivr_entry()
    change.define_entry_point.ivr.nodes["empty"].CopyFrom(pb.IvrNode())
    change.define_entry_point.ivr.nodes["menu"].menu.timeout_ms = 0
    reasons = _refused(view, queue(), change)
    assert "ivr node empty: no kind" in reasons
    assert "ivr node menu: timeout_ms 0 must be in" in reasons
    no_flow = _ivr_entry()
    no_flow.define_entry_point.ClearField("ivr")
    assert "needs its ivr flow" in _refused(view, queue(), no_flow)


def test_the_flow_passes_through_plain_values_unchanged() -> None:
    """The gateway serves definitions as plain values (protodict): maps become dicts."""
    body = directory.definitions_of(tenancy.parse(_raw()))["entry_point/4930111"]
    plain = protodict.to_dict(body)
    assert plain["ivr"]["nodes"]["lang"]["menu"]["options"]["2"] == {
        "language": "de", "next": "route_de"
    }
    assert plain["ivr"]["nodes"]["closed_msg"]["route"] is None
    assert protodict.to_message(plain, pb.EntryPointDefined) == body
