"""Running sipp (Debian's sip-tester) as simulated callers and agent phones.

Scenario files live in tests/sipp/; timing values (patience, talk, ring) are templated into a
copy of the scenario because sipp reads `timeout=` and `milliseconds=` literally.
"""

from __future__ import annotations

import csv
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[2] / "tests" / "sipp"


def sipp_binary() -> str:
    found = shutil.which("sipp")
    if not found:
        raise RuntimeError("sipp not found: run `make install` (Debian package sip-tester)")
    return found


@dataclass
class SippRun:
    kind: str  # "caller" or "phone"
    name: str
    args: list[str]
    workdir: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def stat_file(self) -> Path:
        return self.workdir / f"{self.name}.stat.csv"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / f"{self.name}.log", "wb")  # noqa: SIM115 (child keeps it)
        self.proc = subprocess.Popen(
            [
                sipp_binary(),
                *self.args,
                "-nostdin",
                "-trace_stat",
                "-stf",
                str(self.stat_file),
                "-fd",
                "1",
                "-trace_err",
                "-error_file",
                str(self.workdir / f"{self.name}.err"),
            ],
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.running():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGUSR1)  # sipp: dump final stats and quit
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _last_stats(self) -> dict[str, str]:
        try:
            rows = list(csv.reader(self.stat_file.read_text().splitlines(), delimiter=";"))
        except OSError:
            return {}
        if len(rows) < 2:
            return {}
        return dict(zip(rows[0], rows[-1], strict=False))

    def calls_created(self) -> int:
        return int(self._last_stats().get("TotalCallCreated", "0") or 0)

    def calls_failed(self) -> int:
        return int(self._last_stats().get("FailedCall(C)", "0") or 0)
