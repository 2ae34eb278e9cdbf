"""`hotline`: the command-line tool (embedded stack, events, reports, demo)."""

from __future__ import annotations

import argparse
import base64
import json
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline_cli import config_cmd, credentials_cmd, identity_cmd, keys_cmd, stack


def _parse_time(text: str) -> datetime:
    """ISO-8601 date/time (UTC when no offset is given) or 'now' / '-2h' / '-30m'."""
    text = text.strip()
    now = datetime.now(UTC)
    if text == "now":
        return now
    if text.startswith("-") and text[-1] in "smhd":
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[text[-1]]
        return now - timedelta(**{unit: float(text[1:-1])})
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _state_or_exit(settings: stack.StackSettings) -> stack.StackState:
    state = stack.running_state(settings)
    if state is None:
        sys.exit("no Hotline stack is running here: start it with `hotline up`")
    return state


def cmd_up(args: argparse.Namespace) -> int:
    settings = stack.StackSettings()
    if args.config:
        settings.config_path = Path(args.config)
    try:
        state = stack.up(settings)
    except stack.StackError as exc:
        print(f"hotline up: {exc}", file=sys.stderr)
        return 1
    print("Hotline is up:")
    print(stack.describe(state))
    print("Watch events: hotline events tail   |   KPIs: hotline report --tenant acme")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    stack.down(stack.StackSettings())
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    settings = stack.StackSettings()
    where = settings.state_dir.resolve()
    if not args.yes:
        if not sys.stdin.isatty():
            print("hotline reset: give --yes to delete without asking", file=sys.stderr)
            return 2
        answer = input(f"Delete every event, recording, key and report in {where}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    try:
        stack.reset(settings)
    except stack.StackError as exc:
        print(f"hotline reset: {exc}", file=sys.stderr)
        return 1
    print(f"deleted {where}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state = stack.running_state(stack.StackSettings())
    if state is None:
        print("no Hotline stack is running here")
        return 1
    print(stack.describe(state))
    return 0


def cmd_events_tail(args: argparse.Namespace) -> int:
    from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, KafkaError, TopicPartition

    from hotline_platform.bus import new_consumer
    from hotline_platform.codec import decode, to_json
    from hotline_platform.envelope import ContractViolation
    from hotline_platform.topics import ALL_TOPICS, BY_NAME, EVENT_TOPICS

    state = _state_or_exit(stack.StackSettings())
    bootstrap = args.bootstrap or state.broker
    if args.topic:
        unknown = [t for t in args.topic if t not in BY_NAME]
        if unknown:
            names = ", ".join(t.name for t in ALL_TOPICS)
            sys.exit(f"unknown topic(s) {', '.join(unknown)}; topics: {names}")
        topics = [BY_NAME[t] for t in args.topic]
    else:
        topics = list(EVENT_TOPICS)
    consumer = new_consumer(bootstrap, f"hotline-tail-{datetime.now(UTC).timestamp()}")
    # Live tail starts at the end (Tansu may place "the end" a batch early: a few recent events
    # can show up first).
    start = OFFSET_BEGINNING if args.from_beginning else OFFSET_END
    assignment = [TopicPartition(t.name, p, start) for t in topics for p in range(t.partitions)]
    consumer.assign(assignment)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    printed = 0
    while not stop.is_set() and (args.limit == 0 or printed < args.limit):
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        error = msg.error()
        if error is not None:
            if error.code() != KafkaError._PARTITION_EOF:
                print(f"consume error: {error}", file=sys.stderr)
            continue
        topic = BY_NAME[msg.topic() or ""]
        if topic.value_type is None:
            record = {
                "topic": msg.topic(),
                "headers": {
                    k: v.decode(errors="replace") if isinstance(v, bytes) else v
                    for k, v in list(msg.headers() or [])
                },
                "valueBase64": base64.b64encode(msg.value() or b"").decode(),
            }
            line = json.dumps(record)
        else:
            try:
                event = decode(topic, msg.value(), msg.key())
            except ContractViolation as exc:
                line = json.dumps({"topic": msg.topic(), "undecodable": str(exc)})
            else:
                if args.tenant and event.envelope.tenant_id != args.tenant:  # type: ignore[attr-defined]
                    continue
                line = f'{{"topic": "{msg.topic()}", "event": {to_json(event)}}}'
        print(line, flush=True)
        printed += 1
    consumer.close()
    return 0


def _band_edges(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not integers separated by commas: {text!r}") from None


def cmd_report(args: argparse.Namespace) -> int:
    from hotline_cli.reporting import ReportsError, format_report, kpi_report_from_state

    state = _state_or_exit(stack.StackSettings())
    start = _parse_time(args.start)
    end = _parse_time(args.end)
    try:
        report = kpi_report_from_state(
            state, args.tenant, start, end, args.credential, args.queue or (),
            args.split_by or "", args.priority_bands or (),
        )
    except ReportsError as exc:
        print(f"hotline report: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(format_report(report))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hotline_cli.demo import DemoOptions, parse_chaos, run_demo

    if args.chaos:
        try:
            parse_chaos(args.chaos, args.duration)
        except ValueError as exc:
            print(f"hotline demo: --chaos: {exc}", file=sys.stderr)
            return 2
    options = DemoOptions(
        duration_s=args.duration,
        seed=args.seed,
        chaos=args.chaos,
        json_path=args.json,
        keep=args.keep,
    )
    return run_demo(options)


def cmd_staffing(args: argparse.Namespace) -> int:
    """Staffing for one interval (Erlang C / A), or a plan forecast from ClickHouse history."""
    import logging
    import time

    from hotline_platform import tenancy
    from hotline_wfm.adapters.clickhouse import ClickHouseHistory
    from hotline_wfm.application import render
    from hotline_wfm.application.ports import HistoryUnavailable
    from hotline_wfm.application.service import UnknownTenant, WfmService
    from hotline_wfm.domain.erlang import InvalidInput, Target
    from hotline_wfm.domain.plan import Channel, StaffingParams

    # The driver logs a traceback for a refused connection; the error below says it in a line.
    logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)
    try:
        target = Target.parse(args.target) if args.target else Target()
        target = Target(target.service_level, target.threshold_s, args.max_asa, args.max_occupancy)
        params = StaffingParams(
            target=target,
            shrinkage=args.shrinkage,
            patience_s=args.patience,
            channel=Channel(args.channel),
            concurrency=args.concurrency,
            response_s=args.response_minutes * 60,
        )
        if not args.from_history:
            if args.calls_per_interval is None or args.aht is None:
                sys.exit("hotline staffing: give --calls-per-interval and --aht, or --from-history")
            result = WfmService.staffing(
                args.calls_per_interval, args.interval_minutes * 60, args.aht, params
            )
            print(json.dumps(render.staffing_dict(result)) if args.json
                  else render.staffing_table(result))
            return 0
        host, port, config_path = args.clickhouse_host, args.clickhouse_port, args.config
        if host is None or port is None or config_path is None:
            state = stack.running_state(stack.StackSettings())
            if state is None and (host is None or port is None):
                sys.exit("hotline staffing: no Hotline stack is running here: start it with "
                         "`hotline up`, or give --clickhouse-host and --clickhouse-port")
            if state is not None:
                host = host or state.clickhouse_host
                port = port or state.clickhouse_tcp_port
                config_path = config_path or state.config_path
        config = tenancy.load(config_path or "config/hotline.yaml")
        service = WfmService(lambda: config, ClickHouseHistory(str(host), int(port), args.database))
        now = int(time.time() * 1000)
        start = int(_parse_time(args.start).timestamp() * 1000) if args.start else now
        tenants = [args.tenant] if args.tenant else list(config.tenants)
        outputs = []
        for tenant_id in tenants:
            res = service.plan_from_history(
                tenant_id, args.queue or [], start, args.days, now, params,
                override_target=args.target is not None,
            )
            if args.json:
                outputs.append(render.plan_dict(res.plan, res.forecast))
            elif args.csv:
                print(render.plan_csv(res.plan), end="")
            else:
                print(render.plan_table(res.plan, res.forecast, skip_empty=not args.all_intervals))
                print()
        if args.json:
            print(json.dumps(outputs[0] if args.tenant else outputs, indent=2))
    except (InvalidInput, UnknownTenant, tenancy.ConfigError, HistoryUnavailable) as exc:
        print(f"hotline staffing: {exc}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("up", help="start the embedded stack (broker, ClickHouse, services)")
    p.add_argument("--config", help="tenancy config file (default config/hotline.yaml)")
    p.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop what `hotline up` started").set_defaults(func=cmd_down)
    sub.add_parser("status", help="where the running stack listens").set_defaults(func=cmd_status)
    reset = sub.add_parser(
        "reset", help="delete the embedded stack's data (event log, content, keys, reports)"
    )
    reset.add_argument("--yes", action="store_true", help="do not ask")
    reset.set_defaults(func=cmd_reset)

    events = sub.add_parser("events", help="look at the event streams")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    tail = events_sub.add_parser("tail", help="print live events as protobuf-JSON, one per line")
    tail.add_argument("--topic", action="append", help="topic name (repeatable; default: all)")
    tail.add_argument("--tenant", help="only this tenant's events")
    tail.add_argument("--from-beginning", action="store_true", help="start at the first event")
    tail.add_argument("--limit", type=int, default=0, help="stop after N events (0: never)")
    tail.add_argument("--bootstrap", help="broker address (default: the running stack's)")
    tail.set_defaults(func=cmd_events_tail)

    report = sub.add_parser(
        "report", help="KPI report per queue, from the analytics API (Reports.GetKpiReport)"
    )
    report.add_argument("--tenant", required=True)
    report.add_argument(
        "--from",
        dest="start",
        default="-24h",
        help="start (ISO-8601, UTC by default, or -2h); default -24h",
    )
    report.add_argument("--to", dest="end", default="now", help="end (exclusive); default now")
    report.add_argument("--json", action="store_true", help="print JSON")
    report.add_argument(
        "--queue", action="append", help="only this queue (repeatable; default: all)"
    )
    report.add_argument(
        "--credential",
        help="the tenant's API credential (default: $HOTLINE_CREDENTIAL, else the plaintext"
        " credential of the tenant in the stack's tenancy config)",
    )
    report.add_argument(
        "--split-by",
        choices=("site", "bullseye_step", "priority_band"),
        help="also split each queue and the totals: by the site of the agent who answered"
        " ('-': not answered), the bullseye step it was answered at (not answered: the last"
        " reached), or the band of its queued priority",
    )
    report.add_argument(
        "--priority-bands",
        type=_band_edges,
        help="with --split-by priority_band: the bands' lower edges after the first, e.g."
        " 1,5,10 (the default: <=0, 1-4, 5-9, 10+)",
    )
    report.set_defaults(func=cmd_report)

    demo = sub.add_parser("demo", help="run a simulated BPO slice on the embedded stack")
    demo.add_argument(
        "--duration",
        type=float,
        default=90.0,
        help="seconds during which callers are placed (default 90; the whole demo takes about "
        "a minute more)",
    )
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--chaos",
        metavar="KIND[@SECONDS]",
        help="SIGKILL one process mid-run (ingress-sip, broker, clickhouse, analytics-sink or "
        "router; default half-way); the supervisor restarts it and the checks must still hold",
    )
    demo.add_argument("--json", help="also write the demo's result (report + checks) here")
    demo.add_argument(
        "--keep",
        action="store_true",
        help="leave the stack running afterwards, to look around in the wallboard and desktop "
        "(`hotline down` stops it)",
    )
    demo.set_defaults(func=cmd_demo)

    staffing = sub.add_parser(
        "staffing",
        help="agents needed (Erlang C / Erlang A): one interval, or a plan from history",
    )
    staffing.add_argument("--calls-per-interval", type=float, help="contacts arriving")
    staffing.add_argument("--interval-minutes", type=float, default=15.0)
    staffing.add_argument("--aht", type=float, help="average handle time, seconds")
    staffing.add_argument(
        "--target", help="service level SL/T, e.g. 80/20 (default: 80/20, or each queue's)"
    )
    staffing.add_argument("--max-asa", type=float, help="also: ASA at most this, seconds")
    staffing.add_argument("--max-occupancy", type=float, help="also: occupancy at most (0..1)")
    staffing.add_argument("--shrinkage", type=float, default=0.3, help="0..1 (default 0.3)")
    staffing.add_argument(
        "--patience", type=float, help="mean caller patience, seconds: use Erlang A"
    )
    staffing.add_argument("--channel", choices=["voice", "chat", "email"], default="voice")
    staffing.add_argument("--concurrency", type=int, default=1, help="chat: chats per agent")
    staffing.add_argument("--response-minutes", type=float, default=240.0,
                          help="email: response-time target (default 240)")
    staffing.add_argument("--from-history", action="store_true",
                          help="forecast from ClickHouse history and print the interval plan")
    staffing.add_argument("--tenant", help="with --from-history (default: every tenant)")
    staffing.add_argument("--queue", action="append", help="queue id (repeatable; default all)")
    staffing.add_argument("--days", type=float, default=7.0, help="plan length (default 7)")
    staffing.add_argument("--start", help="plan start (ISO-8601 UTC or -2h; default now)")
    staffing.add_argument("--clickhouse-host", help="default: the running stack's")
    staffing.add_argument("--clickhouse-port", type=int, help="native port")
    staffing.add_argument("--database", default="hotline")
    staffing.add_argument("--config", help="tenancy config (default: the running stack's)")
    staffing.add_argument("--all-intervals", action="store_true",
                          help="table: also intervals with no forecast contacts")
    staffing.add_argument("--json", action="store_true", help="print JSON")
    staffing.add_argument("--csv", action="store_true", help="plan as CSV")
    staffing.set_defaults(func=cmd_staffing)
    credentials_cmd.register(sub)
    keys_cmd.register(sub)
    config_cmd.register(sub)
    identity_cmd.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
