"""What the call benchmarks observe besides SIPp: AMI event times, /proc, CTI desktops.

* `AmiRecorder` logs in with the service's least-privilege AMI user (classes call and
  user) and keeps, per caller number, when the caller entered the queue as its own channel
  stamped it (``Entered`` of UserEvent AcdEnqueue, ``At`` of BenchEntered), and the AMI
  `Timestamp` of AcdEnqueue and MusicOnHoldStart (the manager's time of writing the event).
* `ProcSampler` reads utime+stime and VmRSS of a pid from /proc.
* `Desktops` logs every bench agent into the CTI websocket, makes it ready, and stamps
  each `call.offered` (the screen pop) on receipt, per caller number.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

# The channel's own stamp of queue entry: (c)/(d)/(e) in AcdEnqueue, (a)/(b) in BenchEntered.
ENTRY_STAMPS = {"AcdEnqueue": "Entered", "BenchEntered": "At"}

CLK_TCK = os.sysconf("SC_CLK_TCK")


class AmiRecorder:
    """A read-mostly AMI session recording queue-entry events by caller number.

    It reads in batches (every ``READ_EVERY_S``), never as each event arrives: the events it
    wants are sent inside the interval being measured (AcdEnqueue before a ring ahead's
    Dial(), MusicOnHoldStart as app_queue takes the caller), and a reader woken by them would
    compete with Asterisk for the cores right then. Events wait in the socket meanwhile;
    their times are Asterisk's own (the stamps, the AMI Timestamp)."""

    WANTED = frozenset({"UserEvent", "MusicOnHoldStart"})
    READ_EVERY_S = 0.1
    # Asked for (the kernel caps it at net.core.rmem_max); Asterisk's writetimeout covers
    # the rest of a batch period at the highest step rates.
    RECEIVE_BUFFER = 4 << 20

    def __init__(self) -> None:
        # AMI Timestamp per event (a UserEvent by its name), then per caller number.
        self.times: dict[str, dict[str, float]] = {}
        self.entered: dict[str, float] = {}
        self._sock: socket.socket | None = None
        self._pending = b""
        self._task: asyncio.Task[None] | None = None

    async def connect(self, host: str, port: int, user: str, secret: str) -> None:
        self._sock = await asyncio.to_thread(self._login, host, port, user, secret)
        self._task = asyncio.create_task(self._run())

    def _login(self, host: str, port: int, user: str, secret: str) -> socket.socket:
        sock = socket.create_connection((host, port), timeout=10)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.RECEIVE_BUFFER)
            sock.sendall(
                (
                    f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\n"
                    "Events: call,user\r\n\r\n"
                ).encode()
            )
            data = b""
            while b"\r\n\r\n" not in data.partition(b"\r\n")[2]:  # banner, then reply
                chunk = sock.recv(4096)
                if not chunk:
                    raise ConnectionError("AMI closed the connection")
                data += chunk
            _banner, _, rest = data.partition(b"\r\n")
            reply_text, _, self._pending = rest.partition(b"\r\n\r\n")
            reply = _parse_message(reply_text)
            if reply.get("Response") != "Success":
                raise RuntimeError(f"AMI login refused: {reply.get('Message', reply)}")
            sock.setblocking(False)
            return sock
        except BaseException:
            sock.close()
            raise

    async def _run(self) -> None:
        while self._drain():  # noqa: ASYNC110 - a batch period, not a wait for a condition
            await asyncio.sleep(self.READ_EVERY_S)

    def _drain(self) -> bool:
        """Read and record everything waiting; False once AMI has closed the connection."""
        assert self._sock is not None
        open_ = True
        chunks = [self._pending]
        while True:
            try:
                chunk = self._sock.recv(1 << 20)
            except BlockingIOError:
                break
            except OSError:
                open_ = False
                break
            if not chunk:
                open_ = False
                break
            chunks.append(chunk)
        *messages, self._pending = b"".join(chunks).split(b"\r\n\r\n")
        for text in messages:
            self._record(_parse_message(text))
        return open_

    def _record(self, msg: dict[str, str]) -> None:
        event = msg.get("Event")
        if event not in self.WANTED:
            return
        number = msg.get("CallerIDNum", "")
        if event == "UserEvent":
            event = msg.get("UserEvent", "")
            stamp = ENTRY_STAMPS.get(event)
            if stamp is None:
                return
            with contextlib.suppress(ValueError):
                self.entered.setdefault(number, float(msg.get(stamp, "")))
        try:
            at = float(msg.get("Timestamp", ""))
        except ValueError:
            return  # timestampevents is on in manager.conf: an event without one is not ours
        self.times.setdefault(event, {}).setdefault(number, at)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._drain()  # the last batch: events sent since the last read
            self._sock.close()


def _parse_message(text: bytes) -> dict[str, str]:
    msg: dict[str, str] = {}
    for line in text.decode(errors="replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            msg.setdefault(key.strip(), value.strip())
    return msg


@dataclass(frozen=True, slots=True)
class ProcSample:
    at: float
    cpu_s: float
    rss_kb: int


def sample_proc(pid: int) -> ProcSample | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, IndexError):
        return None
    cpu = (int(stat[11]) + int(stat[12])) / CLK_TCK  # utime, stime (fields 14, 15)
    rss = 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return ProcSample(time.monotonic(), cpu, rss)


@dataclass
class ProcWindow:
    """CPU (percent of one core) and peak RSS of one pid over a time window."""

    pid: int
    samples: list[ProcSample] = field(default_factory=list)

    def add(self) -> None:
        s = sample_proc(self.pid)
        if s is not None:
            self.samples.append(s)

    def figures(self) -> dict[str, float] | None:
        if len(self.samples) < 2:
            return None
        first, last = self.samples[0], self.samples[-1]
        wall = last.at - first.at
        if wall <= 0:
            return None
        return {
            "cpu_pct": round(100 * (last.cpu_s - first.cpu_s) / wall, 1),
            "rss_mb_max": round(max(s.rss_kb for s in self.samples) / 1024, 1),
            "rss_mb_end": round(last.rss_kb / 1024, 1),
        }


class Sampler:
    """Samples some pids every `period` seconds while running."""

    def __init__(self, pids: dict[str, int | None], period: float = 0.5) -> None:
        self.windows = {name: ProcWindow(pid) for name, pid in pids.items() if pid}
        self.period = period
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Sampler:
        for w in self.windows.values():
            w.add()
        self._task = asyncio.create_task(self._loop())
        return self

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            for w in self.windows.values():
                w.add()

    async def __aexit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for w in self.windows.values():
            w.add()

    def figures(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for name, w in self.windows.items():
            fig = w.figures()
            if fig is not None:
                out[name] = fig
        return out


class Desktops:
    """One CTI websocket per bench agent; stamps screen pops, tracks agent states."""

    def __init__(self, base_url: str, agents: Iterable[tuple[str, str]]) -> None:
        self.base = base_url
        self.credentials = dict(agents)
        self.states: dict[str, str] = {}
        self.offered: dict[str, float] = {}
        self._session: aiohttp.ClientSession | None = None
        self._sockets: dict[str, aiohttp.ClientWebSocketResponse] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        for agent_id, password in self.credentials.items():
            async with asyncio.timeout(15):
                async with self._session.post(
                    f"{self.base}/api/login", json={"agent": agent_id, "password": password}
                ) as resp:
                    body: dict[str, Any] = await resp.json()
                    if resp.status != 200 or "token" not in body:
                        raise RuntimeError(f"CTI login of {agent_id} failed: {resp.status} {body}")
                ws = await self._session.ws_connect(
                    f"{self.base}/ws", params={"token": body["token"]}, heartbeat=None
                )
            self._sockets[agent_id] = ws
            self._tasks.append(asyncio.create_task(self._listen(agent_id, ws)))

    async def _listen(self, agent_id: str, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            received = time.time()
            data = json.loads(msg.data)
            kind = data.get("type")
            payload = data.get("payload") or {}
            if kind == "call.offered":
                number = str((payload.get("caller") or {}).get("number", ""))
                self.offered.setdefault(number, received)
            elif kind == "agent.state" and payload.get("agent_id") == agent_id:
                self.states[agent_id] = str(payload.get("state"))
            elif kind == "snapshot":
                agent = payload.get("agent") or {}
                if isinstance(agent, dict) and agent.get("state"):
                    self.states[agent_id] = str(agent["state"])

    async def make_ready(self, within_s: float = 20.0) -> list[str]:
        """Sends `ready` to every agent not ready; returns those still not ready at the end."""
        deadline = time.monotonic() + within_s
        sent_at: dict[str, float] = {}
        while time.monotonic() < deadline:
            waiting = [a for a in self._sockets if self.states.get(a) != "ready"]
            if not waiting:
                return []
            now = time.monotonic()
            for agent_id in waiting:
                if now - sent_at.get(agent_id, 0.0) > 2.0:
                    sent_at[agent_id] = now
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await self._sockets[agent_id].send_json({"cmd": "ready"})
            await asyncio.sleep(0.1)
        return [a for a in self._sockets if self.states.get(a) != "ready"]

    async def close(self) -> None:
        for ws in self._sockets.values():
            with contextlib.suppress(Exception):
                await ws.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()
