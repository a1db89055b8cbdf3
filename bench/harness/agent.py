"""A synthetic agent's phone: a SIPp UAS answering (or rejecting, or ignoring) INVITEs on its
own port, registered to Asterisk by a short SIPp REGISTER run with digest auth."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bench.harness.ports import free_media_port, free_udp_port
from bench.harness.sip_messages import (
    OK_EMPTY,
    answer,
    request_terminated,
    ringing,
    send,
    uas_bye,
)
from bench.harness.sipp_process import SippProcess, default_server, run_sipp
from madoguchi.paths import PROJECT_ROOT

SCENARIOS = PROJECT_ROOT / "tests" / "sipp"

AgentMode = Literal["answer", "reject", "ignore"]

# SIPp exits at once on a scenario or port problem; a UAS still running after this is up.
_START_CHECK_S = 0.5


def ring_then_answer(tag: str, ring_ms: int) -> list[str]:
    """Scenario lines after the INVITE: 180, then 200 after `ring_ms` unless a CANCEL came
    first (then 200 to it, 487, and on to label `end`); stops after the caller's ACK."""
    return [
        send(ringing(tag)),
        f'  <recv request="CANCEL" timeout="{ring_ms}" ontimeout="answer"/>',
        send(OK_EMPTY),
        send(request_terminated(tag)),
        '  <recv request="ACK" next="end"/>',
        '  <label id="answer"/>',
        send(answer(tag), retrans=True),
        '  <recv request="ACK" crlf="true"/>',
    ]


def talk_then_hang_up(tag: str, talk_ms: int) -> list[str]:
    """Scenario lines of an answered call: the agent hangs up after `talk_ms` unless the far
    end's BYE came first (then 200 to it); the hang-up ends at label `end`."""
    return [
        f'  <recv request="BYE" timeout="{talk_ms}" ontimeout="hangup" next="byeok"/>',
        '  <label id="hangup"/>',
        send(uas_bye(tag), retrans=True),
        '  <recv response="200" next="end"/>',
        '  <label id="byeok"/>',
        send(OK_EMPTY),
    ]


def agent_scenario(mode: AgentMode, ring_ms: int = 200, talk_ms: int | None = 1000) -> str:
    """UAS for one agent: every INVITE is logged (caller ID and call id) then handled.

    answer: 180, 200 after ring_ms (a CANCEL meanwhile ends the call), then hangs up after
    talk_ms or waits for the far end's BYE (talk_ms=None); reject: 486; ignore: rings
    until CANCEL.
    """
    # The far end's From and our To are kept for a BYE we send ourselves (SIPp refuses
    # a scenario that assigns a variable it never uses).
    sends_bye = mode == "answer" and talk_ms is not None
    keep = '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="local"/>' if sends_bye else ""
    actions = (
        "<action>"
        '<ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote"/>'
        + keep
        + '<log message="INVITE [$remote] [call_id]"/>'
        "</action>"
    )
    tag = "[pid]agent[call_number]"
    parts = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        f'<scenario name="agent-{mode}">',
        f'  <recv request="INVITE" crlf="true" rrs="true">{actions}</recv>',
    ]
    if mode == "reject":
        busy = """SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]agent[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0"""
        parts += [
            send(busy),
            '  <recv request="ACK"/>',
        ]
    elif mode == "ignore":
        parts += [
            send(ringing(tag)),
            '  <recv request="CANCEL"/>',
            send(OK_EMPTY),
            send(request_terminated(tag)),
            '  <recv request="ACK"/>',
        ]
    else:
        parts += ring_then_answer(tag, int(ring_ms))
        if talk_ms is None:
            parts += [
                '  <recv request="BYE"/>',
                send(OK_EMPTY),
            ]
        else:
            parts += talk_then_hang_up(tag, int(talk_ms))
        parts.append('  <label id="end"/>')
    parts.append("</scenario>")
    return "\n".join(parts) + "\n"


def register_args(extension: str, password: str, contact_port: int, expires: int) -> list[str]:
    """SIPp arguments for one REGISTER (tests/sipp/register.xml) with digest auth."""
    return [
        "-m",
        "1",
        "-p",
        str(free_udp_port()),
        "-timeout",
        "10",
        "-timeout_error",
        "-key",
        "user",
        extension,
        "-key",
        "contact_port",
        str(contact_port),
        "-key",
        "expires",
        str(expires),
        "-au",
        extension,
        "-ap",
        password,
    ]


@dataclass
class SippAgent:
    """A registered SIP phone for one agent, answering per `mode`."""

    extension: str
    password: str
    port: int
    workdir: Path
    server: str = field(default_factory=default_server)
    mode: AgentMode = "answer"
    ring_ms: int = 200
    talk_ms: int | None = 1000
    media_port: int = 0
    uas: SippProcess | None = field(default=None, init=False)

    def start(self) -> None:
        media = self.media_port or free_media_port()
        uas = run_sipp(
            f"agent-{self.extension}",
            self.workdir / f"agent-{self.extension}",
            agent_scenario(self.mode, self.ring_ms, self.talk_ms),
            ["-p", str(self.port), "-mp", str(media), "-aa", "-max_recv_loops", "1000"],
            self.server,
        )
        self.uas = uas
        # Say so when SIPp exits at once, instead of leaving a silent phone.
        try:
            uas.wait(timeout=_START_CHECK_S)
        except subprocess.TimeoutExpired:
            return
        raise RuntimeError(f"SIPp agent {self.extension} exited: {uas.errors() or uas.output()}")

    def register(self, expires: int = 600, password: str | None = None) -> int:
        """REGISTER with digest auth; returns SIPp's exit code (0: 200 OK received)."""
        reg = run_sipp(
            f"register-{self.extension}",
            self.workdir / f"register-{self.extension}-{time.monotonic_ns()}",
            SCENARIOS / "register.xml",
            register_args(
                self.extension,
                self.password if password is None else password,
                self.port,
                expires,
            ),
            self.server,
        )
        return reg.wait(timeout=20)

    def stop(self, unregister: bool = True) -> None:
        if unregister:
            try:
                self.register(expires=0)
            except subprocess.TimeoutExpired:
                pass
        if self.uas is not None:
            self.uas.stop()
