"""A real softphone for the integration tests: baresip (Debian's `baresip`), headless.

Each phone gets a config dir of its own (`config`, `accounts`, written here) and runs
`baresip -f DIR`: SIP and RTP on 127.0.0.1 only, G.711, RFC 2833 DTMF, no sound card
(it sends a WAV file with the `aufile` module, and `sndfile` records both directions into
DIR as `dump-<time>-enc.wav` (what it sent) and `dump-<time>-dec.wav` (what it heard)).
The test drives it over the `ctrl_tcp` module: JSON commands in netstrings
(`{"command": "dial", "params": "sip:100@...", "token": ...}`), and the phone's events
(`CALL_INCOMING`, `CALL_ESTABLISHED`, `CALL_CLOSED`, ...) come back on the same socket.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness.sipp_process import default_server

BARESIP = "baresip"
MODULES = Path("/usr/lib/baresip/modules")

# RTP for baresip: between SIPp's media ports (30000-32700) and the kernel's ephemeral range
# (32768+); Asterisk's own RTP range is 20000-29999.
_RTP_PORTS = itertools.cycle(range(32700, 32764, 4))


def _free(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_sip_port() -> int:
    """A port for baresip's SIP: it binds UDP and TCP on it, and TLS on the port after it."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port < 65535 and _free(port, socket.SOCK_STREAM) and _free(port + 1, socket.SOCK_STREAM):
            return port
    raise RuntimeError("no free port for baresip's SIP")


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_rtp_range() -> tuple[int, int]:
    """Four UDP ports for one phone's RTP and RTCP (never two phones on one range at once)."""
    for _ in range(16):
        base = next(_RTP_PORTS)
        if all(_free(p, socket.SOCK_DGRAM) for p in range(base, base + 4)):
            return base, base + 3
    raise RuntimeError("no free RTP ports for baresip in 32700-32763")


def config_text(
    sip_port: int, ctrl_port: int, rtp: tuple[int, int], source: Path, record_dir: Path
) -> str:
    """baresip's `config` for one headless phone on loopback."""
    return "\n".join(
        [
            "poll_method epoll",
            f"sip_listen 127.0.0.1:{sip_port}",
            # Without it baresip picks the machine's own address for SDP and Contact.
            "net_interface 127.0.0.1",
            "call_local_timeout 120",
            f"audio_source aufile,{source}",
            # No sound card: the aubridge device plays into nothing (sndfile has recorded it).
            "audio_player aubridge,nowhere",
            "audio_alert aubridge,nowhere",
            "audio_level no",
            f"rtp_ports {rtp[0]}-{rtp[1]}",
            "rtcp_mux no",
            "jitter_buffer_delay 1-5",
            f"module_path {MODULES}",
            "module g711.so",
            "module aufile.so",
            "module aubridge.so",
            "module sndfile.so",
            "module_tmp account.so",
            "module_app menu.so",
            "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen 127.0.0.1:{ctrl_port}",
            "statmode_default off",
            f"snd_path {record_dir}",
            "",
        ]
    )


def account_line(user: str, server: str, password: str | None, regint: int) -> str:
    """One `accounts` line: G.711 only, answered by command (the test accepts the call)."""
    params = [f"regint={regint}", "answermode=manual", "audio_codecs=PCMU,PCMA"]
    if password is not None:
        params.insert(0, f"auth_pass={password}")
    return f"<sip:{user}@{server}>;" + ";".join(params) + "\n"


@dataclass
class Baresip:
    """One baresip phone. `regint=0`: no REGISTER (an anonymous caller)."""

    name: str
    user: str
    workdir: Path
    source: Path  # 8 kHz mono 16-bit WAV it sends once a call has audio
    password: str | None = None
    regint: int = 0
    server: str = field(default_factory=default_server)
    sip_port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    events: list[dict[str, Any]] = field(default_factory=list, init=False)
    _responses: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _sock: socket.socket | None = field(default=None, init=False)
    _reader: threading.Thread | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _tokens: itertools.count[int] = field(default_factory=itertools.count, init=False)

    @property
    def dir(self) -> Path:
        return self.workdir / self.name

    def start(self, limit: float = 10) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sip_port = self.sip_port or free_sip_port()
        ctrl_port = free_tcp_port()
        (self.dir / "config").write_text(
            config_text(self.sip_port, ctrl_port, free_rtp_range(), self.source, self.dir),
            encoding="utf-8",
        )
        (self.dir / "accounts").write_text(
            account_line(self.user, self.server, self.password, self.regint), encoding="utf-8"
        )
        with (self.dir / "baresip.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [BARESIP, "-f", str(self.dir)],
                cwd=self.dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + limit
        while self._sock is None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"baresip {self.name} exited: {self.log()[-2000:]}")
            try:
                self._sock = socket.create_connection(("127.0.0.1", ctrl_port), timeout=1)
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"baresip {self.name}: no ctrl_tcp on {ctrl_port}") from None
                time.sleep(0.05)
        self._sock.settimeout(None)
        self._reader = threading.Thread(target=self._read, name=f"baresip-{self.name}", daemon=True)
        self._reader.start()

    def log(self) -> str:
        path = self.dir / "baresip.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- ctrl_tcp ------------------------------------------------------------------------

    def _read(self) -> None:
        assert self._sock is not None
        buffer = b""
        while True:
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while True:
                length, colon, rest = buffer.partition(b":")
                if not colon or not length.isdigit() or len(rest) < int(length) + 1:
                    break
                size = int(length)
                message = json.loads(rest[:size])
                buffer = rest[size + 1 :]  # the netstring's trailing ","
                with self._lock:
                    if message.get("event"):
                        self.events.append(message)
                    elif message.get("response"):
                        self._responses[str(message.get("token"))] = message

    def command(self, command: str, params: str = "", limit: float = 10) -> dict[str, Any]:
        """Run one baresip command (`dial`, `accept`, `hangup`, `sndcode`, `reginfo`, ...)."""
        assert self._sock is not None, "start() the phone first"
        token = f"{self.name}-{next(self._tokens)}"
        body = json.dumps({"command": command, "params": params, "token": token}).encode()
        self._sock.sendall(str(len(body)).encode() + b":" + body + b",")
        deadline = time.monotonic() + limit
        while True:
            with self._lock:
                response = self._responses.pop(token, None)
            if response is not None:
                return response
            if time.monotonic() > deadline:
                raise AssertionError(f"baresip {self.name}: no answer to {command!r}")
            time.sleep(0.02)

    def seen(self, kind: str, after: int = 0) -> dict[str, Any] | None:
        """The first event of type `kind` among events[after:], or None."""
        with self._lock:
            return next((e for e in self.events[after:] if e.get("type") == kind), None)

    def mark(self) -> int:
        """A position in the event list: wait for events that come after it."""
        with self._lock:
            return len(self.events)

    def wait_event(self, kind: str, after: int = 0, limit: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + limit
        while True:
            found = self.seen(kind, after)
            if found is not None:
                return found
            if time.monotonic() > deadline or (
                self.proc is not None and self.proc.poll() is not None
            ):
                kinds = [e.get("type") for e in self.events[after:]]
                raise AssertionError(
                    f"baresip {self.name}: no {kind} within {limit} s; saw {kinds}"
                )
            time.sleep(0.02)

    def registered(self) -> bool:
        """True once its registrar has answered 200 OK (`reginfo` says OK)."""
        data = re.sub(r"\x1b\[[0-9;]*m", "", str(self.command("reginfo").get("data", "")))
        return re.search(r"\bOK\b", data) is not None

    def wait_registered(self, limit: float = 10) -> None:
        deadline = time.monotonic() + limit
        while not self.registered():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"baresip {self.name} did not register: {self.command('reginfo')}"
                )
            time.sleep(0.1)

    # -- calls ---------------------------------------------------------------------------

    def dial(self, number: str) -> None:
        host = self.server
        response = self.command("dial", f"sip:{number}@{host}")
        assert response.get("ok"), response

    def send_digits(self, digits: str) -> None:
        """RFC 2833 key presses, one `sndcode` each (baresip ends each event itself)."""
        for digit in digits:
            response = self.command("sndcode", digit)
            assert response.get("ok"), response

    def recordings(self, direction: str) -> list[Path]:
        """sndfile's files, oldest first: direction `dec` (heard) or `enc` (sent)."""
        return sorted(self.dir.glob(f"dump-*-{direction}.wav"), key=lambda p: p.stat().st_mtime)

    def stop(self, limit: float = 10) -> None:
        """Quit (baresip unregisters on the way out), killed if it hangs."""
        if self._sock is not None and self.proc is not None and self.proc.poll() is None:
            try:
                self.command("quit", limit=2)
            except (AssertionError, OSError):
                pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
        if self._reader is not None:
            self._reader.join(timeout=5)
