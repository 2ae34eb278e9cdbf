"""SIP calls/s through ingress-sip, with sipp placing calls at increasing rates.

The calls go to an `announcement` entry point: ingress-sip answers them itself (no agents), so
this measures the SIP stack and its event publishing (every call publishes `arrived` and
`self_service_finished` to the real broker). Each step places rate × STEP_S calls; a step with no
failed call raises `max_zero_failure_cps`. Writes bench/results/sip_call_rate.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from hotline_cli import embedded
from hotline_cli.sipp import SippRun, announcement_caller_command
from hotline_platform.bus import ensure_topics
from hotline_platform.grpc_server import is_serving

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_RATES = "100,200,300,500,700,1000,1500,2000,2500"
RATES = [int(r) for r in os.environ.get("BENCH_SIP_RATES", DEFAULT_RATES).split(",")]
STEP_S = float(os.environ.get("BENCH_SIP_STEP_S", "6"))
HOLD_MS = 500  # each benchmark call is held this long before the caller hangs up

CONFIG = {
    "sites": [{"id": "bench"}],
    "tenants": [
        {
            "id": "bench",
            "credential": "bench-credential",
            "entry_points": [{"address": "announce", "kind": "announcement"}],
        }
    ],
}


def main() -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-sip-"))
    broker_port, sip_port, grpc_port = (embedded.find_free_port() for _ in range(3))
    broker = embedded.start_broker(broker_port, work / "broker.log")
    ingress = None
    steps = []
    try:
        embedded.wait_broker_ready(broker_port, timeout=30)
        bootstrap = f"127.0.0.1:{broker_port}"
        ensure_topics(bootstrap)
        config = work / "tenancy.yaml"
        config.write_text(yaml.safe_dump(CONFIG))
        env = dict(os.environ)
        env.update(
            HOTLINE_KAFKA_BOOTSTRAP=bootstrap,
            HOTLINE_CONFIG_PATH=str(config),
            HOTLINE_SIP_PORT=str(sip_port),
            HOTLINE_GRPC_PORT=str(grpc_port),
            HOTLINE_LOG_LEVEL="WARNING",
        )
        log = open(work / "ingress-sip.log", "wb")  # noqa: SIM115
        ingress = subprocess.Popen(
            [sys.executable, "-m", "hotline_ingress_sip"], env=env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 30
        while not is_serving(f"127.0.0.1:{grpc_port}"):
            if time.monotonic() > deadline or ingress.poll() is not None:
                raise RuntimeError(f"ingress-sip did not start; see {work / 'ingress-sip.log'}")
            time.sleep(0.2)
        best = 0
        for rate in RATES:
            calls = int(rate * STEP_S)
            run: SippRun = announcement_caller_command(
                work / "sipp",
                f"step-{rate}",
                "127.0.0.1",
                sip_port,
                "announce",
                calls_per_s=rate,
                count=calls,
                hold_ms=HOLD_MS,
            )
            started = time.monotonic()
            run.start()
            assert run.proc is not None
            try:
                run.proc.wait(timeout=STEP_S * 4 + 30)
            except subprocess.TimeoutExpired:
                run.stop()
            # Placing took the run minus the last calls' hold time.
            elapsed = time.monotonic() - started - HOLD_MS / 1000
            created, failed = run.calls_created(), run.calls_failed()
            successful = run.calls_successful()
            achieved = successful / elapsed if elapsed > 0 else 0.0
            # A step counts only if every call succeeded AND sipp really placed them at ~rate.
            ok = failed == 0 and successful == calls and achieved >= 0.9 * rate
            steps.append(
                {
                    "target_cps": rate,
                    "calls": calls,
                    "created": created,
                    "successful": successful,
                    "failed": failed,
                    "achieved_cps": round(achieved, 1),
                }
            )
            print(
                f"  {rate:>5} calls/s target: {successful}/{calls} ok, {failed} failed, "
                f"{steps[-1]['achieved_cps']} calls/s achieved",
                flush=True,
            )
            if not ok:
                break
            best = rate
    finally:
        if ingress is not None:
            embedded.stop_process(ingress.pid)
        embedded.stop_process(broker.pid)
    result = {
        "max_zero_failure_cps": best,
        "step_seconds": STEP_S,
        "steps": steps,
        "entry_point": "announcement (answered by ingress-sip, no agents)",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sip_call_rate.json").write_text(json.dumps(result, indent=2))
    print(f"sip_call_rate: max_zero_failure_cps={best} -> {RESULTS / 'sip_call_rate.json'}")
    return result


if __name__ == "__main__":
    main()
