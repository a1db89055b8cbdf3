"""SIPp callers and agents for the call benchmarks, with per-call wall-clock stamps.

The harness's scenarios (bench.harness) give every caller the same number and
log no times. Here each caller gets a unique number (a per-run prefix plus SIPp's
`[call_number]`), and both sides stamp what matters with SIPp's `gettimeofday` action:

* the agent's UAS logs `INVITE <s> <us> <caller number>` when an INVITE arrives;
* the caller logs `ANSWERED ...` on its 200 OK and `DONE ...` when the call ended as
  scripted (BYE from the far end received).

Every process runs on loopback, is bounded in time (`-timeout`), and is stopped by
`SippRun.stop()` (terminate, then kill).
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness.agent import SCENARIOS, register_args, ring_then_answer, talk_then_hang_up
from bench.harness.dtmf import DTMF_PCAPS
from bench.harness.ports import free_udp_port
from bench.harness.sip_messages import (
    OK_EMPTY,
    ack,
    invite,
    send,
)
from bench.harness.sipp_process import SippProcess, rate_args, run_sipp

CALLER_IP = "127.0.0.2"  # the `bench` endpoint in asterisk/etc/pjsip.conf
AGENT_IP = "127.0.0.1"

_STAMP = '<gettimeofday assign_to="ts,tus"/>'


@dataclass(frozen=True, slots=True)
class Digits:
    """RFC 4733 digits played from sip-tester's captures after `after_ms` of silence."""

    after_ms: int
    digits: str
    gap_ms: int = 300


def caller_scenario(
    number: str, prefix: str, bye_timeout_ms: int, dtmf: Sequence[Digits] = ()
) -> str:
    """A caller who dials `number` as `<prefix><call_number>` and waits for the far end's BYE.

    `prefix` holds digits only, so the caller number is digits only and unique in a run.
    """
    if not re.fullmatch(r"[0-9]{1,12}", prefix) or not re.fullmatch(r"[0-9*#]{1,20}", number):
        raise ValueError("prefix and number must be short digit strings")
    num = f"{prefix}[call_number]"
    parts = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<scenario name="bench-caller">',
        f'  <nop><action>{_STAMP}<log message="SENT [$ts] [$tus] {num}"/></action></nop>',
        send(
            invite(number, num, "Bench", "[pid]bc[call_number]", "madoguchi-bench-caller"),
            retrans=True,
        ),
        '  <recv response="100" optional="true"/>',
        '  <recv response="180" optional="true"/>',
        '  <recv response="183" optional="true"/>',
        f'  <recv response="200" rrs="true"><action>{_STAMP}'
        f'<log message="ANSWERED [$ts] [$tus] {num}"/></action></recv>',
        send(ack("bench")),
    ]
    for step in dtmf:
        parts.append(f'  <pause milliseconds="{int(step.after_ms)}"/>')
        for digit in step.digits:
            name = {"*": "star", "#": "pound"}.get(digit, digit)
            pcap = DTMF_PCAPS / f"dtmf_2833_{name}.pcap"
            parts.append(f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>')
            parts.append(f'  <pause milliseconds="{int(step.gap_ms)}"/>')
    parts += [
        f'  <recv request="BYE" timeout="{int(bye_timeout_ms)}"/>',
        send(OK_EMPTY),
        f'  <nop><action>{_STAMP}<log message="DONE [$ts] [$tus] {num}"/></action></nop>',
        "</scenario>",
    ]
    return "\n".join(parts) + "\n"


def agent_scenario(ring_ms: int, talk_ms: int) -> str:
    """An agent's phone: stamps each INVITE, rings `ring_ms`, answers, hangs up after `talk_ms`.

    A CANCEL while ringing ends the call; a BYE from the far end while talking is answered.
    """
    on_invite = (
        "<action>"
        f"{_STAMP}"
        '<ereg regexp="sip:([^@;>]*)@" search_in="hdr" header="From:" assign_to="x,caller"/>'
        '<ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote"/>'
        '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="local"/>'
        '<log message="INVITE [$ts] [$tus] [$caller] [$x]"/>'
        "</action>"
    )
    tag = "[pid]ba[call_number]"
    parts = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<scenario name="bench-agent">',
        f'  <recv request="INVITE" crlf="true" rrs="true">{on_invite}</recv>',
        *ring_then_answer(tag, max(1, int(ring_ms))),
        *talk_then_hang_up(tag, max(1, int(talk_ms))),
        '  <label id="end"/>',
        "</scenario>",
    ]
    return "\n".join(parts) + "\n"


@dataclass
class SippRun(SippProcess):
    """One SIPp process with its own work dir (scenario, logs, final screen)."""

    started: float = field(default_factory=time.monotonic)

    def log_lines(self, tag: str) -> list[list[str]]:
        """Split `<tag> ...` lines of the scenario's log (`-trace_logs`)."""
        rows: list[list[str]] = []
        for path in sorted(self.workdir.glob("*_logs.log")):
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith(tag + " "):
                    rows.append(line.split())
        return rows

    def stamps(self, tag: str) -> dict[str, float]:
        """Caller number -> first wall-clock time logged with `tag`."""
        out: dict[str, float] = {}
        for row in self.log_lines(tag):
            if len(row) < 4:
                continue
            try:
                at = float(row[1]) + float(row[2]) / 1e6
            except ValueError:
                continue
            out.setdefault(row[3], at)
        return out

    def errors(self, limit: int = 2000) -> str:
        return super().errors()[-limit:]


def start_sipp(
    workdir: Path, scenario: str | Path, args: Sequence[str], target: str, local_ip: str
) -> SippRun:
    started = run_sipp(workdir.name, workdir, scenario, args, target, local_ip)
    return SippRun(started.name, started.workdir, started.proc)


def udp_port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@dataclass
class BenchAgent:
    """A registered SIP phone for one agent: its own SIPp UAS on its own port."""

    extension: str
    password: str
    port: int
    media_port: int
    workdir: Path
    server: str
    ring_ms: int
    talk_ms: int
    uas: SippRun | None = None

    def start(self) -> None:
        self.uas = start_sipp(
            self.workdir / f"agent-{self.extension}",
            agent_scenario(self.ring_ms, self.talk_ms),
            ["-p", str(self.port), "-mp", str(self.media_port), "-aa", "-max_recv_loops", "1000"],
            self.server,
            AGENT_IP,
        )

    def register(self, expires: int = 3600) -> bool:
        reg = start_sipp(
            self.workdir / f"register-{self.extension}-{expires}",
            SCENARIOS / "register.xml",
            register_args(self.extension, self.password, self.port, expires),
            self.server,
            AGENT_IP,
        )
        try:
            return reg.proc.wait(timeout=15) == 0
        except subprocess.TimeoutExpired:
            reg.stop()
            return False

    def invites(self) -> dict[str, float]:
        return self.uas.stamps("INVITE") if self.uas is not None else {}

    def invite_count(self) -> int:
        return len(self.uas.log_lines("INVITE")) if self.uas is not None else 0

    def stop(self, unregister: bool = True) -> None:
        if unregister and self.uas is not None and self.uas.running():
            self.register(expires=0)
        if self.uas is not None:
            self.uas.stop()


def start_callers(
    workdir: Path,
    scenario: str,
    count: int,
    rate: float,
    server: str,
    timeout_s: float,
    media_port: int,
) -> SippRun:
    """`count` callers at `rate` calls/s; no concurrency cap, so the offered rate is the rate."""
    args = [
        *rate_args(count, rate),
        "-l",
        "10000",
        "-p",
        str(free_udp_port(CALLER_IP)),
        "-mp",
        str(media_port),
        "-timeout",
        str(int(timeout_s)),
        "-timeout_error",
        "-max_recv_loops",
        "2000",
        "-max_sched_loops",
        "2000",
    ]
    return start_sipp(workdir, scenario, args, server, CALLER_IP)
