"""One SIPp process: its command line, its start, and what it logged in its work dir."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SIPP = "sipp"


def default_server() -> str:
    """Asterisk's SIP address: MADOGUCHI_SIP_SERVER (set by the test stack), else the demo's."""
    return os.environ.get("MADOGUCHI_SIP_SERVER", "127.0.0.1:5060")


def rate_args(count: int, rate: float) -> list[str]:
    """SIPp arguments for `count` calls placed at `rate` calls per second."""
    return ["-m", str(count), "-r", str(rate), "-rp", "1000"]


@dataclass
class SippProcess:
    """One running SIPp instance with its own work dir (scenario, logs, stats)."""

    name: str
    workdir: Path
    proc: subprocess.Popen[bytes]

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def messages_log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.workdir.glob("*_logs.log"))
        )

    def errors(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.workdir.glob("*_errors.log"))
        )

    def invites(self) -> list[str]:
        """The INVITE log lines a UAS wrote, one per offered call."""
        return [line for line in self.messages_log().splitlines() if line.startswith("INVITE ")]

    def output(self) -> str:
        out = self.workdir / "stdout.txt"
        return out.read_text(errors="replace") if out.exists() else ""


def sipp_command(
    workdir: Path, scenario_xml: str | Path, args: Sequence[str], target: str, local_ip: str
) -> list[str]:
    """The SIPp command line for one process in `workdir` (the scenario written there when
    given as text), logging errors and messages to files there."""
    workdir.mkdir(parents=True, exist_ok=True)
    if isinstance(scenario_xml, Path):
        scenario = scenario_xml
    else:
        scenario = workdir / "scenario.xml"
        scenario.write_text(scenario_xml, encoding="utf-8")
    return [
        SIPP,
        target,
        "-sf",
        str(scenario),
        "-i",
        local_ip,
        "-nostdin",
        "-trace_err",
        "-trace_logs",
        *args,
    ]


def run_sipp(
    name: str,
    workdir: Path,
    scenario_xml: str | Path,
    args: Sequence[str],
    target: str,
    local_ip: str = "127.0.0.1",
) -> SippProcess:
    """Starts SIPp in `workdir`, its screen output in stdout.txt there."""
    cmd = sipp_command(workdir, scenario_xml, args, target, local_ip)
    stdout = (workdir / "stdout.txt").open("wb")
    try:
        proc = subprocess.Popen(
            cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.STDOUT
        )
    finally:
        stdout.close()
    return SippProcess(name, workdir, proc)
