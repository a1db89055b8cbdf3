"""Synthetic callers and agents on real SIP, driven by SIPp (Debian's sip-tester).

Used by the integration tests and the benchmarks. Scenarios are generated per use
(a caller's DTMF script differs per test) and written next to SIPp's logs so a failed
run can be replayed by hand.

An agent is two SIPp processes: a UAS that answers (or rejects, or ignores) INVITEs on
its own port, and a short REGISTER run whose Contact points at that port, with digest
authentication.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

from madoguchi.harness.sip_messages import (
    OK_EMPTY,
    SDP,
    ack,
    answer,
    request_terminated,
    ringing,
    send,
    uas_bye,
)
from madoguchi.paths import PROJECT_ROOT

SCENARIOS = PROJECT_ROOT / "tests" / "sipp"
DTMF_PCAPS = Path("/usr/share/sip-tester")
SIPP = "sipp"

AgentMode = Literal["answer", "reject", "ignore"]


def _header_safe(text: str) -> str:
    """SIP header text: no CR/LF (they would end the header), quotes escaped."""
    return re.sub(r"[\r\n]", " ", text).replace("\\", "\\\\").replace('"', '\\"')


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


_FIRST_SEQ = 1000
_FIRST_TS = 160_000


def dtmf_pcaps(digits: str, workdir: Path) -> list[Path]:
    """One RFC 2833 capture per key press, with RTP sequence numbers and timestamps that
    grow from press to press.

    sip-tester's captures are packets cut from a single call in the order 0-9, *, #, and
    SIPp replays them verbatim. Asterisk drops an event whose sequence number and timestamp
    are not newer than the last it saw, so with the files as they are only keys pressed in
    that order arrive (9 then 2 loses the 2; a repeated key is heard once). Here the same
    packets get fresh numbers per press.
    """
    import struct

    workdir.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for index, digit in enumerate(digits):
        raw = (DTMF_PCAPS / f"dtmf_2833_{_pcap_name(digit)}.pcap").read_bytes()
        header, packets, offset, n = raw[:24], bytearray(), 24, 0
        while offset < len(raw):
            record = bytearray(raw[offset : offset + 16])
            incl = struct.unpack("<I", record[8:12])[0]
            frame = bytearray(raw[offset + 16 : offset + 16 + incl])
            offset += 16 + incl
            ip = 14  # Ethernet
            udp = ip + (frame[ip] & 0x0F) * 4
            rtp = udp + 8
            frame[udp + 6 : udp + 8] = b"\x00\x00"  # no UDP checksum (IPv4 allows it)
            seq = _FIRST_SEQ + 20 * index + n
            ts = _FIRST_TS + 8000 * index
            frame[rtp + 2 : rtp + 8] = struct.pack(">HI", seq, ts)
            packets += record + frame
            n += 1
        path = workdir / f"dtmf-{index:03d}-{_pcap_name(digit)}.pcap"
        path.write_bytes(header + packets)
        out.append(path)
    return out


def caller_scenario(script: CallerScript, pcaps: Sequence[Path] | None = None) -> str:
    """The caller's SIPp scenario; `pcaps`: one capture per key press (dtmf_pcaps), else
    sip-tester's own files (fine for keys pressed in rising order only)."""
    presses = iter(pcaps or ())
    name = _header_safe(script.caller_name)
    num = re.sub(r"[^0-9A-Za-z+*#._-]", "", script.caller_num) or "anonymous"
    invite = f"""INVITE sip:{script.number}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{name}" <sip:{num}@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
      To: <sip:{script.number}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{num}@[local_ip]:[local_port]>
      Max-Forwards: 70
      User-Agent: madoguchi-sipp-caller
      Content-Type: application/sdp
      Content-Length: [len]

      {SDP}"""
    parts = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<scenario name="caller">',
        send(invite, retrans=True),
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
            pcap = next(presses, None) or DTMF_PCAPS / f"dtmf_2833_{_pcap_name(digit)}.pcap"
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
        bye = """BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [last_From:]
      [last_To:]
      [routes]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0"""
        parts += [
            f'  <pause milliseconds="{int(script.hangup_after_ms)}"/>',
            send(bye, retrans=True),
            '  <recv response="200" crlf="true"/>',
        ]
    parts.append("</scenario>")
    return "\n".join(parts) + "\n"


def cancel_scenario(script: CallerScript) -> str:
    """The caller CANCELs its INVITE at once. Asterisk answers these numbers at once too, so
    either the CANCEL wins (487, ACKed) or the 200 does (ACK, then BYE): both are handled."""
    name = _header_safe(script.caller_name)
    num = re.sub(r"[^0-9A-Za-z+*#._-]", "", script.caller_num) or "anonymous"
    dialog = f"""From: "{name}" <sip:{num}@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
      To: <sip:{script.number}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]"""
    invite = f"""INVITE sip:{script.number}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      {dialog}
      CSeq: 1 INVITE
      Contact: <sip:{num}@[local_ip]:[local_port]>
      Max-Forwards: 70
      User-Agent: madoguchi-sipp-caller
      Content-Type: application/sdp
      Content-Length: [len]

      {SDP}"""
    # A CANCEL has the INVITE's branch: [branch-3], that of three messages before.
    cancel = f"""CANCEL sip:{script.number}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3]
      {dialog}
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0"""
    # The ACK of a 487 is part of the INVITE's transaction: its Via (branch) and To-tag.
    ack_487 = """ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0"""
    bye = """BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [last_From:]
      [last_To:]
      [routes]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0"""
    parts = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<scenario name="caller-cancel">',
        # No retransmission: SIPp would hold the CANCEL back until the INVITE is answered.
        send(invite),
        # CANCEL once the INVITE is known there (RFC 3261: after a provisional response);
        # an answer before that is taken as such.
        '  <recv response="200" optional="true" next="answered"/>',
        '  <recv response="100"/>',
        send(cancel),
        '  <label id="wait"/>',
        '  <recv response="100" optional="true" next="wait"/>',
        '  <recv response="180" optional="true" next="wait"/>',
        '  <recv response="183" optional="true" next="wait"/>',
        '  <recv response="487" optional="true" next="refused"/>',
        # The CANCEL shares the INVITE's branch: only the CSeq tells their 200s apart. After
        # the CANCEL's 200 comes the INVITE's 487; an INVITE answered first gets a 481.
        '  <recv response="200" next="answered" test="answered">',
        '    <action><ereg regexp="INVITE" search_in="hdr" header="CSeq:" check_it="false"'
        ' assign_to="answered"/></action>',
        "  </recv>",
        '  <recv response="487" next="refused"/>',
        '  <label id="answered"/>',
        send(ack("caller")),
        send(bye, retrans=True),
        '  <label id="bye"/>',
        '  <recv response="481" optional="true" next="bye"/>',
        '  <recv response="200" crlf="true" next="end"/>',
        '  <label id="refused"/>',
        send(ack_487),
        '  <label id="end"/>',
        "</scenario>",
    ]
    return "\n".join(parts) + "\n"


def _pcap_name(digit: str) -> str:
    if digit == "*":
        return "star"
    if digit == "#":
        return "pound"
    if digit.isdigit():
        return digit
    raise ValueError(f"no RFC 2833 capture for digit {digit!r}")


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
        parts += [
            send(ringing(tag)),
            f'  <recv request="CANCEL" timeout="{int(ring_ms)}" ontimeout="answer"/>',
            send(OK_EMPTY),
            send(request_terminated(tag)),
            '  <recv request="ACK" next="end"/>',
            '  <label id="answer"/>',
            send(answer(tag), retrans=True),
            '  <recv request="ACK" crlf="true"/>',
        ]
        if talk_ms is None:
            parts += [
                '  <recv request="BYE"/>',
                send(OK_EMPTY),
            ]
        else:
            parts += [
                f'  <recv request="BYE" timeout="{int(talk_ms)}" ontimeout="hangup" next="byeok"/>',
                '  <label id="hangup"/>',
                send(uas_bye(tag), retrans=True),
                '  <recv response="200" next="end"/>',
                '  <label id="byeok"/>',
                send(OK_EMPTY),
            ]
        parts.append('  <label id="end"/>')
    parts.append("</scenario>")
    return "\n".join(parts) + "\n"


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


def default_server() -> str:
    """Asterisk's SIP address: MADOGUCHI_SIP_SERVER (set by the test stack), else the demo's."""
    import os

    return os.environ.get("MADOGUCHI_SIP_SERVER", "127.0.0.1:5060")


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nobody uses now (SIPp's own default would be 5060, Asterisk's)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# SIPp media ports: below the kernel's ephemeral range (32768+, where every outgoing TCP
# connection takes a port at any moment) and above Asterisk's RTP range (20000-29999).
_MEDIA_PORTS = itertools.cycle(range(30000, 32700, 4))


def free_media_port(host: str = "127.0.0.1") -> int:
    """A media base port for one SIPp process, with the three after it free too (SIPp uses
    RTP and RTCP for audio and video); never handed out twice in a row by this process."""
    import socket

    for _ in range(700):
        port = next(_MEDIA_PORTS)
        try:
            for p in range(port, port + 4):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.bind((host, p))
        except OSError:
            continue
        return port
    raise RuntimeError("no free SIPp media ports in 30000-32700")


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


def _run_sipp(
    name: str,
    workdir: Path,
    scenario_xml: str | Path,
    args: Sequence[str],
    target: str,
    local_ip: str = "127.0.0.1",
) -> SippProcess:
    cmd = sipp_command(workdir, scenario_xml, args, target, local_ip)
    stdout = (workdir / "stdout.txt").open("wb")
    try:
        proc = subprocess.Popen(
            cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.STDOUT
        )
    finally:
        stdout.close()
    return SippProcess(name, workdir, proc)


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
        self.uas = _run_sipp(
            f"agent-{self.extension}",
            self.workdir / f"agent-{self.extension}",
            agent_scenario(self.mode, self.ring_ms, self.talk_ms),
            ["-p", str(self.port), "-mp", str(media), "-aa", "-max_recv_loops", "1000"],
            self.server,
        )
        # SIPp exits at once on a scenario or port problem: say so instead of a silent phone.
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            if not self.uas.running():
                raise RuntimeError(
                    f"SIPp agent {self.extension} exited: {self.uas.errors() or self.uas.output()}"
                )
            time.sleep(0.05)

    def register(self, expires: int = 600, password: str | None = None) -> int:
        """REGISTER with digest auth; returns SIPp's exit code (0: 200 OK received)."""
        reg = _run_sipp(
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
        "-m",
        str(count),
        "-r",
        str(rate),
        "-rp",
        "1000",
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
    scenario = cancel_scenario(script) if script.cancel else caller_scenario(script, pcaps)
    return _run_sipp("callers", workdir, scenario, args, target, local_ip)
