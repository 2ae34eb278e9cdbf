"""Running sipp (Debian's sip-tester) as simulated callers and agent phones.

Scenario files live in tests/sipp/; timing values (patience, talk, ring) are templated into a
copy of the scenario because sipp reads `timeout=` and `milliseconds=` literally.
"""

from __future__ import annotations

import csv
import shutil
import signal
import socket
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

    def calls_successful(self) -> int:
        return int(self._last_stats().get("SuccessfulCall(C)", "0") or 0)


def _rate_args(calls_per_s: float) -> list[str]:
    # sipp's -r is calls per -rp milliseconds; a 100 s period keeps fractional rates exact.
    return ["-r", str(max(1, round(calls_per_s * 100))), "-rp", "100000"]


def free_media_port() -> int:
    """An even UDP port with the next two free too: sipp's RTP (audio, and video at +2). Its
    default (6000 and up) collides when two demos or tests run side by side."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1] & ~1
        if port + 3 > 65535:
            continue
        sockets = []
        try:
            for candidate in (port, port + 1, port + 2, port + 3):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(sock)
                sock.bind(("127.0.0.1", candidate))
            return port
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()


def caller_command(
    workdir: Path,
    name: str,
    host: str,
    port: int,
    entry_point: str,
    *,
    calls_per_s: float,
    count: int,
    patience_s: float,
    talk_s: float,
) -> SippRun:
    """Callers at a steady rate of an anchored entry point with an IVR (caller_ivr.xml): the
    platform answers, each caller presses 1 in the menu and waits for the agent to end the call;
    one still in the call after `patience_s + talk_s` hangs up (an abandon if no agent was
    bridged by then). The working folder needs `copy_sipp_media`."""
    return SippRun(
        "caller",
        name,
        [
            "-sf",
            str(SCENARIOS / "caller_ivr.xml"),
            "-s",
            entry_point,
            f"{host}:{port}",
            "-i",
            "127.0.0.1",
            "-p",
            "0",
            "-mp",
            str(free_media_port()),
            *_rate_args(calls_per_s),
            "-m",
            str(count),
            # sipp's default cap on open calls is 3 x rate x the -d pause, and this scenario
            # has no -d: without a cap of its own sipp would hold calls back.
            "-l",
            str(count),
            "-recv_timeout",
            str(int((patience_s + talk_s) * 1000)),
        ],
        workdir,
    )


DTMF_PCAP = Path("/usr/share/sip-tester/dtmf_2833_1.pcap")  # Debian sip-tester's key 1


def copy_sipp_media(workdir: Path) -> None:
    """What the scenarios play, relative to their working folder: tests/sipp/pcap (speech as
    raw A-law, looped by sipp's rtp_stream so every phone sends audio the whole call, as real
    phones do: the relay ends calls without audio) and the key 1 for caller_ivr.xml."""
    shutil.copytree(SCENARIOS / "pcap", workdir / "pcap", dirs_exist_ok=True)
    shutil.copyfile(DTMF_PCAP, workdir / "pcap" / DTMF_PCAP.name)


PHONE_SCENARIOS = {
    "answer": "agent_phone.xml",
    "hold": "agent_phone_hold.xml",  # answers, holds the caller 3 s, resumes
    "transfer": "agent_phone_transfer.xml",  # answers, transfers blind to `transfer_to`
    "no_answer": "agent_noanswer.xml",
}


def phone_command(
    workdir: Path,
    agent_id: str,
    port: int,
    *,
    behaviour: str,
    ring_ms: int,
    talk_s: float = 0,
    transfer_to: str = "",
) -> SippRun:
    """An agent's phone on its configured port: rings `ring_ms`, then answers (or never does);
    it hangs up after `talk_s` (0: waits for the caller's BYE)."""
    args = ["-sf", str(SCENARIOS / PHONE_SCENARIOS[behaviour]), "-i", "127.0.0.1", "-p", str(port)]
    if behaviour != "no_answer":
        args += ["-d", str(ring_ms), "-mp", str(free_media_port())]
        if talk_s:
            args += ["-recv_timeout", str(int(talk_s * 1000))]
    if behaviour == "transfer":
        args += ["-key", "target", transfer_to]
    return SippRun("phone", f"phone-{agent_id}", args, workdir)


def announcement_caller_command(
    workdir: Path,
    name: str,
    host: str,
    port: int,
    entry_point: str,
    *,
    calls_per_s: float,
    count: int,
    hold_ms: int = 500,
) -> SippRun:
    """Load-test callers of an `announcement` entry point (answered by ingress-sip alone)."""
    return SippRun(
        "caller",
        name,
        [
            "-sf",
            str(SCENARIOS / "announcement_caller.xml"),
            "-s",
            entry_point,
            f"{host}:{port}",
            "-i",
            "127.0.0.1",
            "-p",
            "0",
            "-r",
            str(int(calls_per_s)),
            "-m",
            str(count),
            "-l",
            str(max(100, int(calls_per_s * 4))),
            "-d",
            str(hold_ms),
        ],
        workdir,
    )
