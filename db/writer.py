"""The durable writer: call records, timeline events and agent states reach PostgreSQL, or disk.

The ACD adapter calls ``record_call`` / ``record_event`` / ``record_agent_state`` /
``record_recording``: plain methods (call them from the event loop's thread) that validate, queue
in memory and return at once. They never raise and never wait on the database.

One task drains the queue in batches (``batch_size`` records or ``flush_interval`` seconds after the
first queued record, whichever comes first), one transaction per batch. When PostgreSQL is
unreachable, refuses for a server-side reason, or is slower than ``write_timeout``, the batch and
everything after it goes to the on-disk spool (``db.spool``, fsync'd) and the writer retries with
backoff; once a retry succeeds the spool is replayed in order, then normal writing resumes. A
non-empty spool found at start is replayed first. Every statement is idempotent (upsert by call id,
insert-or-ignore by event uid, upsert by agent + start), so replaying twice never duplicates.

A record PostgreSQL refuses for its content (data or constraint error; should not happen after
sanitising) is written alone, and if it still fails it is kept in ``rejected.jsonl`` with the reason
instead of blocking the others.

Loss window: records still in memory when the process is killed (at most ``flush_interval`` plus
one write). ``stop()`` flushes everything, to PostgreSQL or else to the spool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import asyncpg

from db.records import (
    BOOL_FIELDS,
    CALL_COLUMNS,
    INT_FIELDS,
    JSON_FIELDS,
    TIME_FIELDS,
    AgentStateInterval,
    CallEvent,
    CallUpdate,
    Record,
    RecordError,
    RecordingMeta,
    build_agent_state,
    build_call_update,
    build_event,
    build_recording,
)
from db.spool import Spool

log = logging.getLogger(__name__)

WriterState = Literal["stopped", "connecting", "connected", "spooling"]


@dataclass(frozen=True, slots=True)
class WriterStatus:
    state: WriterState
    spool_depth: int  # records on disk waiting for PostgreSQL
    pending: int  # records in memory waiting for the next batch
    written: int  # records written to PostgreSQL since start (including replays)
    rejected: int  # records PostgreSQL refused, kept in rejected.jsonl
    last_error: str | None


def _sql_type(column: str) -> str:
    if column in TIME_FIELDS:
        return "timestamptz"
    if column in INT_FIELDS:
        return "integer" if column == "priority" else "bigint"
    if column in BOOL_FIELDS:
        return "boolean"
    if column in JSON_FIELDS:
        return "jsonb"
    return "text"


def _upsert_call_sql() -> str:
    # Every column is bound; a NULL parameter means "not provided" and keeps the stored value,
    # so a later update never blanks a timestamp set earlier.
    params = {col: f"${i}::{_sql_type(col)}" for i, col in enumerate(CALL_COLUMNS, start=2)}
    insert_values = [
        f"coalesce({params[c]}, false)" if c in BOOL_FIELDS else params[c] for c in CALL_COLUMNS
    ]
    updates = ",\n    ".join(f"{c} = coalesce({params[c]}, calls.{c})" for c in CALL_COLUMNS)
    return (
        f"INSERT INTO calls (call_id, {', '.join(CALL_COLUMNS)})\n"
        f"VALUES ($1::text, {', '.join(insert_values)})\n"
        f"ON CONFLICT (call_id) DO UPDATE SET\n    {updates},\n    updated_at = now()"
    )


UPSERT_CALL = _upsert_call_sql()
INSERT_EVENT = """
INSERT INTO call_events (call_id, event_uid, ts, kind, data)
VALUES ($1, $2, $3, $4, $5::jsonb)
ON CONFLICT (call_id, event_uid) DO NOTHING
"""
UPSERT_AGENT_STATE = """
INSERT INTO agent_state_intervals AS a (agent_id, started_at, state, reason, ended_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (agent_id, started_at) DO UPDATE SET
    state = EXCLUDED.state,
    reason = coalesce(EXCLUDED.reason, a.reason),
    ended_at = coalesce(EXCLUDED.ended_at, a.ended_at)
"""
UPSERT_RECORDING = """
INSERT INTO recordings AS r (call_id, recording_id, path, started_at, ended_at, size_bytes)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (call_id, recording_id) DO UPDATE SET
    path = EXCLUDED.path,
    ended_at = coalesce(EXCLUDED.ended_at, r.ended_at),
    size_bytes = coalesce(EXCLUDED.size_bytes, r.size_bytes)
"""
INSERT_AGENT = "INSERT INTO agents (id) VALUES ($1) ON CONFLICT (id) DO NOTHING"


def _call_row(record: CallUpdate) -> tuple[Any, ...]:
    values: list[Any] = [record.call_id]
    for column in CALL_COLUMNS:
        value = record.fields.get(column)
        if column in JSON_FIELDS and value is not None:
            value = json.dumps(value, ensure_ascii=False)
        values.append(value)
    return tuple(values)


async def apply_records(conn: asyncpg.Connection, records: Sequence[Record]) -> None:
    """Write ``records`` in one transaction (idempotent; order kept within each kind)."""
    calls = [_call_row(r) for r in records if isinstance(r, CallUpdate)]
    events = [
        (r.call_id, r.event_uid, r.ts, r.kind, json.dumps(r.data, ensure_ascii=False))
        for r in records
        if isinstance(r, CallEvent)
    ]
    states = [
        (r.agent_id, r.started_at, r.state, r.reason, r.ended_at)
        for r in records
        if isinstance(r, AgentStateInterval)
    ]
    recordings = [
        (r.call_id, r.recording_id, r.path, r.started_at, r.ended_at, r.size_bytes)
        for r in records
        if isinstance(r, RecordingMeta)
    ]
    async with conn.transaction():
        if calls:
            await conn.executemany(UPSERT_CALL, calls)
        if events:
            await conn.executemany(INSERT_EVENT, events)
        if states:
            agents = sorted({row[0] for row in states})
            await conn.executemany(INSERT_AGENT, [(a,) for a in agents])
            await conn.executemany(UPSERT_AGENT_STATE, states)
        if recordings:
            await conn.executemany(UPSERT_RECORDING, recordings)


def _is_content_error(exc: BaseException) -> bool:
    """True when PostgreSQL refused the data itself (retrying the same record cannot help)."""
    return isinstance(exc, asyncpg.DataError | asyncpg.IntegrityConstraintViolationError)


class DurableWriter:
    def __init__(
        self,
        dsn: str,
        spool_dir: Path,
        *,
        batch_size: int = 200,
        flush_interval: float = 0.2,
        write_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        retry_min: float = 0.5,
        retry_max: float = 5.0,
        replay_batch: int = 500,
    ) -> None:
        self._dsn = dsn
        self._spool = Spool(Path(spool_dir))
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.write_timeout = write_timeout
        self.connect_timeout = connect_timeout
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.replay_batch = replay_batch
        self._pending: deque[Record] = deque()
        self._first_pending_at: float | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self._stopping = False
        self._running = False
        self._retry_delay = retry_min
        self._next_retry = 0.0
        self._written = 0
        self._last_error: str | None = None
        self._state: WriterState = "stopped"
        self._busy = False  # a batch or replay is being written right now
        self._final_replay_tried = False

    # -- the call path's API (never raises, never blocks) --------------------------------------

    def record_call(self, call_id: str, **fields: Any) -> None:
        """Upsert the call row ``call_id``: given fields are set (later calls win), fields not
        given or None are left as stored. Field names: see ``db.records.CALL_COLUMNS`` (short
        aliases such as ``answered`` for ``answered_at`` are accepted)."""
        try:
            record, warnings = build_call_update(call_id, fields)
            for warning in warnings:
                log.warning("writer: %s", warning)
            self._enqueue(record)
        except RecordError as exc:
            log.error("writer: call record refused: %s", exc)
        except Exception:
            log.exception("writer: record_call failed")

    def record_event(
        self, call_id: str, event_uid: str, ts: datetime | float, kind: str, data: Any = None
    ) -> None:
        """Append an event to the call's timeline; the same ``event_uid`` twice is stored once."""
        try:
            self._enqueue(build_event(call_id, event_uid, ts, kind, data))
        except RecordError as exc:
            log.error("writer: event refused: %s", exc)
        except Exception:
            log.exception("writer: record_event failed")

    def record_agent_state(
        self,
        agent: str,
        state: str,
        reason: str | None,
        start: datetime | float,
        end: datetime | float | None = None,
    ) -> None:
        """Record (or close, by passing ``end`` for the same ``start``) an agent state interval."""
        try:
            self._enqueue(build_agent_state(agent, state, reason, start, end))
        except RecordError as exc:
            log.error("writer: agent state refused: %s", exc)
        except Exception:
            log.exception("writer: record_agent_state failed")

    def record_recording(
        self,
        call_id: str,
        recording_id: str,
        path: str,
        started_at: datetime | float,
        ended_at: datetime | float | None = None,
        size_bytes: int | None = None,
    ) -> None:
        """Store (or complete, by sending it again with ``ended_at``) a recording's metadata."""
        try:
            self._enqueue(
                build_recording(call_id, recording_id, path, started_at, ended_at, size_bytes)
            )
        except RecordError as exc:
            log.error("writer: recording refused: %s", exc)
        except Exception:
            log.exception("writer: record_recording failed")

    def status(self) -> WriterStatus:
        return WriterStatus(
            state=self._state,
            spool_depth=self._spool.depth,
            pending=len(self._pending),
            written=self._written,
            rejected=self._spool.rejected,
            last_error=self._last_error,
        )

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the spool and start the writing task. Does not wait for PostgreSQL."""
        if self._task is not None:
            return
        await asyncio.to_thread(self._spool.open)
        if self._spool.depth:
            log.info("writer: %d spooled records to replay", self._spool.depth)
        self._stopping = False
        self._running = True
        self._state = "connecting"
        self._task = asyncio.create_task(self._run(), name="db-writer")

    async def stop(self, limit: float = 30.0) -> None:
        """Flush everything (to PostgreSQL, or else to the spool) and stop.

        Gives up after ``limit`` seconds (only when neither PostgreSQL nor the spool's disk
        accepts writes); what is still in memory then is logged as lost.
        """
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        task = self._task
        try:
            try:
                await asyncio.wait_for(asyncio.shield(task), limit)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                if self._pending:
                    log.error(
                        "writer: stopped with %d records neither in PostgreSQL nor "
                        "on disk: they are lost",
                        len(self._pending),
                    )
        finally:
            self._task = None
            self._running = False
            self._state = "stopped"
            await self._close()

    async def wait_idle(self, limit: float) -> bool:
        """Wait up to ``limit`` seconds until nothing is pending in memory or in the spool."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while self._pending or self._spool.depth or self._busy:
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    # -- internals -----------------------------------------------------------------------------

    def _enqueue(self, record: Record) -> None:
        if not self._running:
            # Not started or already stopped: straight to disk so nothing is lost.
            self._spool.append([record])
            return
        if not self._pending:
            self._first_pending_at = time.monotonic()
        self._pending.append(record)
        if len(self._pending) >= self.batch_size or len(self._pending) == 1:
            self._wake.set()

    def _flush_due(self, now: float) -> bool:
        if not self._pending:
            return False
        if self._stopping or len(self._pending) >= self.batch_size:
            return True
        return self._first_pending_at is not None and (
            now - self._first_pending_at >= self.flush_interval
        )

    def _take(self, count: int) -> list[Record]:
        batch = [self._pending.popleft() for _ in range(min(count, len(self._pending)))]
        if not self._pending:
            self._first_pending_at = None
        return batch

    async def _run(self) -> None:
        self._final_replay_tried = False
        while True:
            try:
                if await self._step():
                    return
            except asyncio.CancelledError:
                await asyncio.shield(self._to_spool(self._take(len(self._pending))))
                raise
            except Exception:  # a bug here must neither lose records nor stop the writer
                log.exception("writer: unexpected failure; spooling pending records")
                await self._to_spool(self._take(len(self._pending)))
                await asyncio.sleep(self.retry_min)

    async def _step(self) -> bool:
        """One round of work; True when the writer has finished stopping."""
        self._wake.clear()
        now = time.monotonic()
        if self._spool.depth:
            # Spooling: keep order by putting new records behind the spooled ones.
            if self._flush_due(now):
                await self._to_spool(self._take(len(self._pending)))
            if self._stopping:
                if self._final_replay_tried:
                    return True
                self._final_replay_tried = True
                await self._replay()
            elif now >= self._next_retry:
                self._busy = True
                try:
                    await self._replay()
                finally:
                    self._busy = False
            else:
                await self._sleep_until(self._next_wakeup(min_deadline=self._next_retry))
            return False
        if self._flush_due(now):
            batch = self._take(self.batch_size)
            self._busy = True
            try:
                if not await self._write(batch):
                    await self._to_spool(batch)
                    self._schedule_retry()
            finally:
                self._busy = False
            return False
        if self._stopping:
            return True
        await self._sleep_until(self._next_wakeup(min_deadline=None))
        return False

    def _next_wakeup(self, min_deadline: float | None) -> float | None:
        deadlines = [d for d in (min_deadline,) if d is not None]
        if self._first_pending_at is not None:
            deadlines.append(self._first_pending_at + self.flush_interval)
        return min(deadlines) if deadlines else None

    async def _sleep_until(self, deadline: float | None) -> None:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    def _schedule_retry(self) -> None:
        self._next_retry = time.monotonic() + self._retry_delay
        self._retry_delay = min(self.retry_max, self._retry_delay * 2)

    async def _to_spool(self, records: list[Record]) -> None:
        if not records:
            return
        try:
            await asyncio.to_thread(self._spool.append, records)
        except OSError as exc:
            # Disk full or spool dir unwritable: keep them in memory, in order, and retry later.
            self._pending.extendleft(reversed(records))
            if self._first_pending_at is None:
                self._first_pending_at = time.monotonic()
            self._last_error = f"spool write failed: {exc}"
            log.error("writer: cannot write the spool %s: %s", self._spool.path, exc)
            await asyncio.sleep(self.retry_min)
            return
        self._state = "spooling"

    async def _replay(self) -> None:
        """Replay the spool in order; on failure leave the rest for the next retry."""
        while self._spool.depth:
            records, next_offset, consumed = await asyncio.to_thread(
                self._spool.read_batch, self.replay_batch
            )
            if consumed == 0:
                await asyncio.to_thread(self._spool.clear)  # counted lines vanished: nothing left
                break
            if records and not await self._write(records):
                self._schedule_retry()
                return
            await asyncio.to_thread(self._spool.commit, next_offset, consumed)
        log.info("writer: spool replayed; writing directly again")
        self._retry_delay = self.retry_min

    async def _write(self, records: list[Record]) -> bool:
        """True when every record is in PostgreSQL (or rejected for its content)."""
        try:
            conn = await self._connection()
            try:
                await self._apply_with_deadline(conn, records)
            except Exception as exc:
                if not _is_content_error(exc):
                    raise
                await self._write_one_by_one(conn, records)
        except Exception as exc:
            self._last_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            if self._state != "spooling":
                log.warning("writer: PostgreSQL unavailable (%s); spooling", self._last_error)
            self._state = "spooling"
            await self._close()
            return False
        self._written += len(records)
        self._state = "connected"
        self._last_error = None
        return True

    async def _write_one_by_one(self, conn: asyncpg.Connection, records: list[Record]) -> None:
        for record in records:
            try:
                await self._apply_with_deadline(conn, [record])
            except Exception as exc:
                if not _is_content_error(exc):
                    raise
                await asyncio.to_thread(self._spool.reject, record, str(exc).splitlines()[0])

    async def _apply_with_deadline(self, conn: asyncpg.Connection, records: list[Record]) -> None:
        """apply_records, but a server that does not answer in ``write_timeout`` is cut off.

        asyncio.wait_for would wait for the cancelled transaction to roll back, which a hung
        server never acknowledges; terminating the connection ends it at once (the server then
        aborts the uncommitted transaction).
        """
        task = asyncio.ensure_future(apply_records(conn, records))
        done, _ = await asyncio.wait({task}, timeout=self.write_timeout)
        if not done:
            conn.terminate()
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise TimeoutError(f"PostgreSQL did not answer within {self.write_timeout:g} s")
        task.result()

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._state = "connecting" if self._state != "spooling" else "spooling"
            self._conn = await asyncpg.connect(
                self._dsn,
                timeout=self.connect_timeout,
                server_settings={"application_name": "madoguchi-writer"},
            )
        return self._conn

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            # terminate, not close: a server that stopped answering must not hang us.
            conn.terminate()
