"""`hotline`: the command-line tool (embedded stack, events, reports, demo)."""

from __future__ import annotations

import argparse
import base64
import json
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta

from hotline_cli import stack


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
        settings.config_path = args.config
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


def cmd_report(args: argparse.Namespace) -> int:
    from hotline_cli.reporting import format_report, kpi_report_from_state

    state = _state_or_exit(stack.StackSettings())
    start = _parse_time(args.start)
    end = _parse_time(args.end)
    report = kpi_report_from_state(state, args.tenant, start, end)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(format_report(report))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hotline_cli.demo import DemoOptions, run_demo

    options = DemoOptions(
        duration_s=args.duration,
        seed=args.seed,
        kill_router_at_s=args.kill_router_at,
        json_path=args.json,
    )
    return run_demo(options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("up", help="start the embedded stack (broker, ClickHouse, services)")
    p.add_argument("--config", help="tenancy config file (default config/hotline.yaml)")
    p.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop what `hotline up` started").set_defaults(func=cmd_down)
    sub.add_parser("status", help="where the running stack listens").set_defaults(func=cmd_status)

    events = sub.add_parser("events", help="look at the event streams")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    tail = events_sub.add_parser("tail", help="print live events as protobuf-JSON, one per line")
    tail.add_argument("--topic", action="append", help="topic name (repeatable; default: all)")
    tail.add_argument("--tenant", help="only this tenant's events")
    tail.add_argument("--from-beginning", action="store_true", help="start at the first event")
    tail.add_argument("--limit", type=int, default=0, help="stop after N events (0: never)")
    tail.add_argument("--bootstrap", help="broker address (default: the running stack's)")
    tail.set_defaults(func=cmd_events_tail)

    report = sub.add_parser("report", help="KPI report per queue from ClickHouse")
    report.add_argument("--tenant", required=True)
    report.add_argument(
        "--from",
        dest="start",
        default="-24h",
        help="start (ISO-8601, UTC by default, or -2h); default -24h",
    )
    report.add_argument("--to", dest="end", default="now", help="end (exclusive); default now")
    report.add_argument("--json", action="store_true", help="print JSON")
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
        "--kill-router-at",
        type=float,
        default=None,
        help="SIGKILL the router this many seconds in, then restart it",
    )
    demo.add_argument("--json", help="also write the demo's result (report + checks) here")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
