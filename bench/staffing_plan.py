"""WFM: an Erlang C interval plan for 500 queues × 96 fifteen-minute intervals × 7 days.

336,000 (queue, interval) staffing computations, each the smallest N meeting the queue's
target (80/20, 90/15 or 70/30) plus shrinkage, from forecast-like volumes (a day-of-week ×
time-of-day profile scaled per queue, with noise, so volumes are fractional and rarely repeat:
the plan's cache of identical inputs barely helps, as with real forecasts) and AHTs of
120-600 s. Queues range from under one to about 650 agents at the peak. One process, pure
Python. Writes bench/results/staffing_plan.json with `seconds` and `intervals_per_second`.

Sizes: BENCH_WFM_QUEUES (default 500), BENCH_WFM_DAYS (default 7).
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from pathlib import Path

from hotline_wfm.domain.erlang import Target
from hotline_wfm.domain.forecast import DAY_MS, DAY_SLOTS, SLOT_MS
from hotline_wfm.domain.plan import IntervalDemand, StaffingParams, build_plan

RESULTS = Path(__file__).resolve().parent / "results" / "staffing_plan.json"
START_MS = 1_762_732_800_000  # a Monday, 00:00 UTC
TARGETS = (Target(0.8, 20), Target(0.9, 15), Target(0.7, 30))


def demand(queues: int, days: int, seed: int = 7) -> tuple[list[IntervalDemand], dict[str, Target]]:
    rng = random.Random(seed)
    out = []
    targets = {}
    for q in range(queues):
        queue_id = f"q{q:04d}"
        targets[queue_id] = TARGETS[q % len(TARGETS)]
        peak = math.exp(rng.uniform(math.log(2), math.log(1000)))  # contacts per 15 min
        aht = rng.uniform(120, 600)
        for day in range(days):
            weekday = 1.0 if day < 5 else 0.4
            for tod in range(DAY_SLOTS):
                hour = tod / 4
                shape = math.exp(-((hour - 11) ** 2) / 8) + 0.8 * math.exp(-((hour - 16) ** 2) / 6)
                volume = max(0.0, peak * weekday * shape * rng.uniform(0.9, 1.1))
                out.append(
                    IntervalDemand(queue_id, START_MS + day * DAY_MS + tod * SLOT_MS, volume, aht)
                )
    return out, targets


def main() -> None:
    queues = int(os.environ.get("BENCH_WFM_QUEUES", "500"))
    days = int(os.environ.get("BENCH_WFM_DAYS", "7"))
    items, targets = demand(queues, days)
    started = time.perf_counter()
    plan = build_plan(items, StaffingParams(shrinkage=0.3), SLOT_MS / 1000, targets)
    seconds = time.perf_counter() - started
    result = {
        "queues": queues,
        "days": days,
        "intervals": len(plan.rows),
        "model": plan.params.model,
        "seconds": round(seconds, 3),
        "intervals_per_second": round(len(plan.rows) / seconds),
        "peak_agents_one_queue": max(t.peak_agents for t in plan.by_queue.values()),
        "total_agent_hours": round(plan.total.agent_hours, 1),
        "total_scheduled_hours": round(plan.total.scheduled_hours, 1),
        "service_level": round(plan.total.service_level, 4),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"staffing plan: {queues} queues × {DAY_SLOTS} intervals × {days} days = "
        f"{len(plan.rows):,} intervals in {seconds:.2f} s "
        f"({result['intervals_per_second']:,} intervals/s); wrote {RESULTS}"
    )


if __name__ == "__main__":
    main()
