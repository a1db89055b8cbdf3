"""Synthetic callers: what one does once answered (CallerScript), its SIPp scenario, and
`place_calls`, which starts SIPp to run it `count` times."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from bench.harness.caller_cancel import cancel_scenario
from bench.harness.dtmf import dtmf_pcaps, stock_pcap
from bench.harness.ports import free_media_port, free_udp_port
from bench.harness.sip_messages import (
    CALLER_BYE,
    OK_EMPTY,
    ack,
    header_safe,
    invite,
    safe_user,
    send,
)
from bench.harness.sipp_process import SippProcess, default_server, rate_args, run_sipp


@dataclass(frozen=True, slots=True)
class Pause:
    ms: int


@dataclass(frozen=True, slots=True)
class Dtmf:
    """RFC 2833 digits played from sip-tester's captures, with a gap between them."""

    digits: str
    gap_ms: int = 300


CallerStep = Pause | Dtmf


@dataclass(frozen=True, slots=True)
class CallerScript:
    """What one synthetic caller does after the call is answered.

    steps run in order; then the caller either waits for the far end to hang up
    (`hangup_after_ms=None`, bounded by `max_wait_ms`) or hangs up itself. `cancel`: the
    caller sends CANCEL right after its INVITE instead (steps and hang-up are not used).
    """

    number: str
    caller_num: str = "0312345678"
    caller_name: str = "Test Caller"
    steps: Sequence[CallerStep] = ()
    hangup_after_ms: int | None = None
    max_wait_ms: int = 60_000
    cancel: bool = False


def caller_scenario(script: CallerScript, pcaps: Sequence[Path] | None = None) -> str:
    """The caller's SIPp scenario; `pcaps`: one capture per key press (dtmf_pcaps), else
    sip-tester's own files (fine for keys pressed in rising order only)."""
    presses = iter(pcaps or ())
    name = header_safe(script.caller_name)
    num = safe_user(script.caller_num)
    parts = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<scenario name="caller">',
        send(
            invite(script.number, num, name, "[pid]caller[call_number]", "madoguchi-sipp-caller"),
            retrans=True,
        ),
        '  <recv response="100" optional="true"/>',
        '  <recv response="180" optional="true"/>',
        '  <recv response="183" optional="true"/>',
        '  <recv response="200" rtd="true" rrs="true"/>',
        send(ack("caller")),
    ]
    for step in script.steps:
        if isinstance(step, Pause):
            parts.append(f'  <pause milliseconds="{int(step.ms)}"/>')
            continue
        for digit in step.digits:
            pcap = next(presses, None) or stock_pcap(digit)
            parts.append(
                f'  <nop><action><exec play_pcap_audio="{escape(str(pcap))}"/></action></nop>'
            )
            parts.append(f'  <pause milliseconds="{int(step.gap_ms)}"/>')
    if script.hangup_after_ms is None:
        parts += [
            f'  <recv request="BYE" timeout="{int(script.max_wait_ms)}"/>',
            send(OK_EMPTY),
        ]
    else:
        parts += [
            f'  <pause milliseconds="{int(script.hangup_after_ms)}"/>',
            send(CALLER_BYE, retrans=True),
            '  <recv response="200" crlf="true"/>',
        ]
    parts.append("</scenario>")
    return "\n".join(parts) + "\n"


def place_calls(
    script: CallerScript,
    workdir: Path,
    count: int = 1,
    rate: float = 1.0,
    concurrent: int | None = None,
    server: str | None = None,
    local_port: int = 0,
    media_port: int = 0,
    timeout_s: float = 120,
    local_ip: str = "127.0.0.1",
) -> SippProcess:
    """Start `count` callers at `rate` calls/s running `script`; returns the process.

    SIPp exits 0 when every call followed the script, non-zero otherwise.
    """
    args = [
        "-s",
        script.number,
        *rate_args(count, rate),
        "-p",
        str(local_port or free_udp_port(local_ip)),
        "-timeout",
        str(int(timeout_s)),
        "-timeout_error",
        "-max_recv_loops",
        "1000",
    ]
    if concurrent:
        args += ["-l", str(concurrent)]
    args += ["-mp", str(media_port or free_media_port(local_ip))]
    target = server or default_server()
    digits = "".join(step.digits for step in script.steps if isinstance(step, Dtmf))
    pcaps = dtmf_pcaps(digits, workdir / "dtmf") if digits else None
    scenario = (
        cancel_scenario(script.number, script.caller_num, script.caller_name)
        if script.cancel
        else caller_scenario(script, pcaps)
    )
    return run_sipp("callers", workdir, scenario, args, target, local_ip)
