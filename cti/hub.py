"""Websocket fan-out: per-principal streams with sequence numbers, replay and slow-client cut-off.

Every agent has its own stream; all supervisors share one. A stream numbers its messages
1, 2, 3, ... (`seq`) and keeps the last few in a bounded replay buffer. A connection starts
with a `snapshot` stamped with the stream's current `seq`, then receives every later message
of its stream in order, so the `seq` a connection sees rises by exactly one each time.
A client that reconnects with `since=<last seq>` (and the `epoch` from its snapshot) is
sent what it missed from the buffer, or a fresh snapshot when that is no longer there.

Publishing is synchronous and never awaits a socket: each connection has a bounded send
queue drained by its own writer task, and a connection whose queue overflows is closed
(code 4008) without holding up anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from cti.messages import CALL_TYPES, HEARTBEAT, RESUMED, SNAPSHOT
from cti.ports import Clock, Role

log = logging.getLogger("cti.hub")

CLOSE_TOKEN_EXPIRED: Final = 4001
CLOSE_LOGGED_OUT: Final = 4003
CLOSE_SLOW_CONSUMER: Final = 4008
CLOSE_SHUTDOWN: Final = 1001


@dataclass(frozen=True, slots=True)
class StreamKey:
    role: Role
    user_id: str


SUPERVISORS: Final = StreamKey(Role.SUPERVISOR, "*")


def stream_key_for(role: Role, user_id: str) -> StreamKey:
    return SUPERVISORS if role is Role.SUPERVISOR else StreamKey(Role.AGENT, user_id)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True, slots=True)
class _Entry:
    seq: int
    ts: float
    text: str


class _Stream:
    def __init__(self, key: StreamKey, limit: int) -> None:
        self.key = key
        self.head = 0  # seq of the newest message; 0 before the first
        self.buffer: deque[_Entry] = deque(maxlen=limit)
        self.connections: set[Connection] = set()

    def append(self, type_json: str, payload_json: str, ts: float, max_age: float) -> _Entry:
        # Drop what no resume may ask for any more, so idle agents hold little memory.
        while self.buffer and self.buffer[0].ts < ts - max_age:
            self.buffer.popleft()
        self.head += 1
        text = (
            f'{{"type":{type_json},"seq":{self.head},"ts":{_dumps(ts)},"payload":{payload_json}}}'
        )
        entry = _Entry(self.head, ts, text)
        self.buffer.append(entry)
        return entry

    def missed_since(self, since: int, oldest_ts: float) -> list[_Entry] | None:
        """Entries after `since`, or None when some of them are gone (or `since` is bogus)."""
        if since < 0 or since > self.head:
            return None
        if since == self.head:
            return []
        while self.buffer and self.buffer[0].ts < oldest_ts:
            self.buffer.popleft()
        if not self.buffer or self.buffer[0].seq > since + 1:
            return None
        return [e for e in self.buffer if e.seq > since]


class Connection:
    """One websocket: a bounded queue of serialised messages and a writer task draining it."""

    def __init__(
        self,
        hub: Hub,
        stream: _Stream,
        ws: web.WebSocketResponse,
        request: web.BaseRequest,
        token: str,
        expires_at: float,
    ) -> None:
        self.hub = hub
        self.stream = stream
        self.ws = ws
        self.token = token
        self.expires_at = expires_at
        self.closed = False
        self._request = request
        self._queue: deque[str] = deque()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._writer: asyncio.Task[None] | None = None

    @property
    def key(self) -> StreamKey:
        return self.stream.key

    @property
    def queued(self) -> int:
        return len(self._queue)

    def offer(self, text: str) -> bool:
        """Queue a message without waiting; False when the queue is full (the caller cuts)."""
        if self.closed:
            return True
        if len(self._queue) >= self.hub.send_queue_limit:
            return False
        self._queue.append(text)
        self._wake.set()
        return True

    def preload(self, texts: Iterable[str]) -> None:
        """Queue a replay regardless of the limit: it is bounded by the replay buffer."""
        self._queue.extend(texts)
        self._wake.set()

    def start(self, first: str | None = None) -> None:
        """Start writing; `first` (the snapshot) goes ahead of anything queued meanwhile."""
        if first is not None:
            self._queue.appendleft(first)
            self._wake.set()
        if self._writer is None and not self.closed:
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def _write_loop(self) -> None:
        try:
            while True:
                if not self._queue:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                await self.ws.send_str(self._queue.popleft())
                if len(self._queue) <= self.hub.send_queue_limit // 2:
                    self._room.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # peer gone mid-write: the reader side will notice too
            log.info("websocket send failed for %s: %s", self.key.user_id, type(exc).__name__)
            self.hub.cut(self, 1011, "send failed", abort=True)

    async def wait_for_room(self) -> None:
        """Hold this connection's next command until its writer has caught up.

        Each command queues its own answer (and usually a stream message); a client that
        pipelines commands would otherwise fill its own queue before the writer ever ran,
        and be cut as a slow consumer although it reads promptly."""
        while not self.closed and len(self._queue) > self.hub.send_queue_limit // 2:
            self._room.clear()
            await self._room.wait()

    def stop_writer(self) -> None:
        self.closed = True
        self._room.set()
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()

    async def close(self, code: int, reason: str, *, abort: bool, grace: float) -> None:
        self.stop_writer()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.ws.close(code=code, message=reason.encode(), drain=False), grace
            )
        transport = self._request.transport
        if abort and transport is not None:
            # A client that stopped reading leaves a full socket buffer behind: a graceful
            # close would wait for it forever.
            transport.abort()


class Hub:
    """The websocket fan-out. Publishing methods are synchronous and never block."""

    def __init__(
        self,
        *,
        clock: Clock,
        replay_limit: int = 256,
        replay_max_age: float = 300.0,
        send_queue_limit: int = 256,
        heartbeat_interval: float = 15.0,
        close_timeout: float = 2.0,
    ) -> None:
        if replay_limit < 1 or send_queue_limit < 2 or heartbeat_interval <= 0:
            raise ValueError("hub limits must be positive")
        self.clock = clock
        self.replay_limit = replay_limit
        self.replay_max_age = replay_max_age
        self.send_queue_limit = send_queue_limit
        self.heartbeat_interval = heartbeat_interval
        self.close_timeout = close_timeout
        # Stream positions are only meaningful within one run of the service.
        self.epoch = secrets.token_hex(8)
        self.slow_consumers_cut = 0
        self.snapshots_sent = 0
        self.resumes = 0
        self._streams: dict[StreamKey, _Stream] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._heartbeat: asyncio.Task[None] | None = None

    # ---- publishing (for the composition root) ----

    def publish_to_agent(self, agent_id: str, type: str, payload: Mapping[str, Any]) -> None:
        """Send to every desktop of one agent (and remember it for replay)."""
        self._publish(self._stream(StreamKey(Role.AGENT, agent_id)), type, payload)

    def publish_to_supervisors(self, type: str, payload: Mapping[str, Any]) -> None:
        """Send to every supervisor wallboard."""
        self._publish(self._stream(SUPERVISORS), type, payload)

    def publish_all(self, type: str, payload: Mapping[str, Any]) -> None:
        """Send to every agent stream and the supervisors (e.g. queue.stats, notice).
        Call events are refused here: an agent only ever receives its own calls."""
        if type in CALL_TYPES:
            raise ValueError(f"{type} must be published to one agent, not to all")
        type_json, payload_json = _dumps(type), _dumps(payload)
        self._stream(SUPERVISORS)
        for stream in list(self._streams.values()):
            self._publish_serialised(stream, type_json, payload_json)

    def _publish(self, stream: _Stream, type: str, payload: Mapping[str, Any]) -> None:
        self._publish_serialised(stream, _dumps(type), _dumps(payload))

    def _publish_serialised(self, stream: _Stream, type_json: str, payload_json: str) -> None:
        entry = stream.append(type_json, payload_json, self.clock(), self.replay_max_age)
        for conn in list(stream.connections):
            if not conn.offer(entry.text):
                self.slow_consumers_cut += 1
                log.warning(
                    "cutting slow websocket client of %s (send queue full)", stream.key.user_id
                )
                self.cut(conn, CLOSE_SLOW_CONSUMER, "send queue overflow", abort=True)

    def _stream(self, key: StreamKey) -> _Stream:
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream(key, self.replay_limit)
        return stream

    # ---- connections (for the websocket handler) ----

    def connect(
        self,
        key: StreamKey,
        ws: web.WebSocketResponse,
        request: web.BaseRequest,
        *,
        token: str,
        expires_at: float,
        since: int | None = None,
        epoch: str | None = None,
    ) -> tuple[Connection, int | None]:
        """Register a connection. Returns it and, when it must start with a snapshot, the
        `seq` to stamp that snapshot with (then call `start_with_snapshot`); None when it
        resumed: the missed messages are already queued and the writer runs."""
        stream = self._stream(key)
        conn = Connection(self, stream, ws, request, token, expires_at)
        stream.connections.add(conn)
        missed = None
        if since is not None and epoch == self.epoch:
            missed = stream.missed_since(since, self.clock() - self.replay_max_age)
        if missed is None:
            return conn, stream.head
        self.resumes += 1
        resumed = {"type": RESUMED, "epoch": self.epoch, "since": since, "head": stream.head}
        conn.offer(_dumps(resumed))
        conn.preload(entry.text for entry in missed)
        conn.start()
        return conn, None

    def start_with_snapshot(self, conn: Connection, seq: int, payload: Mapping[str, Any]) -> None:
        message = {
            "type": SNAPSHOT,
            "seq": seq,
            "ts": self.clock(),
            "epoch": self.epoch,
            "payload": payload,
        }
        self.snapshots_sent += 1
        conn.start(_dumps(message))

    def send_control(self, conn: Connection, message: Mapping[str, Any]) -> None:
        """A reply for one connection (result, error, pong): not numbered, never replayed."""
        if not conn.offer(_dumps(message)):
            self.cut(conn, CLOSE_SLOW_CONSUMER, "send queue overflow", abort=True)

    def disconnect(self, conn: Connection) -> None:
        conn.stop_writer()
        conn.stream.connections.discard(conn)

    def cut(self, conn: Connection, code: int, reason: str, *, abort: bool = False) -> None:
        """Close a connection from the server side, in the background."""
        if conn.closed and conn not in conn.stream.connections:
            return
        self.disconnect(conn)
        task = asyncio.get_running_loop().create_task(
            conn.close(code, reason, abort=abort, grace=self.close_timeout)
        )
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def close_token(
        self, token: str, code: int = CLOSE_LOGGED_OUT, reason: str = "logged out"
    ) -> None:
        for conn in self.connections():
            if conn.token == token:
                self.cut(conn, code, reason)

    def connections(self) -> list[Connection]:
        return [c for s in self._streams.values() for c in s.connections]

    @property
    def connection_count(self) -> int:
        return sum(len(s.connections) for s in self._streams.values())

    # ---- heartbeats and lifecycle ----

    def beat(self) -> None:
        """Send each connection a heartbeat with its stream position, and close connections
        whose token has expired. Runs every `heartbeat_interval` once started."""
        now = self.clock()
        for conn in self.connections():
            if now >= conn.expires_at:
                self.cut(conn, CLOSE_TOKEN_EXPIRED, "token expired")
            else:
                self.send_control(
                    conn, {"type": HEARTBEAT, "ts": now, "last_seq": conn.stream.head}
                )

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            self.beat()

    async def start(self) -> None:
        if self._heartbeat is None:
            self._heartbeat = asyncio.get_running_loop().create_task(self._heartbeat_loop())

    async def close_all(
        self, code: int = CLOSE_SHUTDOWN, reason: str = "server shutting down"
    ) -> None:
        """Close every websocket and wait (each at most `close_timeout`) for the closes."""
        for conn in self.connections():
            self.cut(conn, code, reason)
        if self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        await self.close_all()
