"""`python -m bench`: run every benchmark module in turn (each has a `main()`).

A module that is not present is skipped with a message; a benchmark that fails is reported and
the others still run; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback

MODULES: tuple[str, ...] = (
    "event_throughput",
    "sip_call_rate",
    "staffing_plan",
    "content_store",
    "event_log",
    "restart",
    "router",
    "rest_api",
    "report_api",
    "wallboard_freshness",
    "broker_crash",
    "media",
)


def main(names: list[str] | None = None) -> int:
    failed = []
    for name in names or MODULES:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise  # the benchmark exists but one of its imports is missing
            print(f"== {name}: not present, skipped", flush=True)
            continue
        print(f"== {name}", flush=True)
        started = time.monotonic()
        try:
            module.main()
        except Exception:
            traceback.print_exc()
            failed.append(name)
            print(f"== {name}: FAILED after {time.monotonic() - started:.0f}s", flush=True)
        else:
            print(f"== {name}: done in {time.monotonic() - started:.0f}s", flush=True)
    if failed:
        print(f"failed benchmarks: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
