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
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from db.pending import PendingRecords
from db.pg_link import PgLink
from db.records import (
    Record,
    RecordError,
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
        self._spool = Spool(Path(spool_dir))
        self._link = PgLink(
            dsn,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            reject=self._reject,
        )
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.replay_batch = replay_batch
        self._pending = PendingRecords(batch_size, flush_interval)
        self._task: asyncio.Task[None] | None = None
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

        def build() -> Record:
            record, warnings = build_call_update(call_id, fields)
            for warning in warnings:
                log.warning("writer: %s", warning)
            return record

        self._accept("call record", "record_call", build)

    def record_event(
        self, call_id: str, event_uid: str, ts: datetime | float, kind: str, data: Any = None
    ) -> None:
        """Append an event to the call's timeline; the same ``event_uid`` twice is stored once."""
        self._accept(
            "event", "record_event", lambda: build_event(call_id, event_uid, ts, kind, data)
        )

    def record_agent_state(
        self,
        agent: str,
        state: str,
        reason: str | None,
        start: datetime | float,
        end: datetime | float | None = None,
    ) -> None:
        """Record (or close, by passing ``end`` for the same ``start``) an agent state interval."""
        self._accept(
            "agent state",
            "record_agent_state",
            lambda: build_agent_state(agent, state, reason, start, end),
        )

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
        self._accept(
            "recording",
            "record_recording",
            lambda: build_recording(call_id, recording_id, path, started_at, ended_at, size_bytes),
        )

    def _accept(self, what: str, method: str, build: Callable[[], Record]) -> None:
        # The call path's one rule: validate and queue, log what fails, never raise.
        try:
            self._enqueue(build())
        except RecordError as exc:
            log.error("writer: %s refused: %s", what, exc)
        except Exception:
            log.exception("writer: %s failed", method)

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
        self._pending.wake.set()
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
            await self._link.close()

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
        self._pending.add(record)

    async def _run(self) -> None:
        self._final_replay_tried = False
        while True:
            try:
                if await self._step():
                    return
            except asyncio.CancelledError:
                await asyncio.shield(self._to_spool(self._pending.take_all()))
                raise
            except Exception:  # a bug here must neither lose records nor stop the writer
                log.exception("writer: unexpected failure; spooling pending records")
                await self._to_spool(self._pending.take_all())
                await asyncio.sleep(self.retry_min)

    async def _step(self) -> bool:
        """One round of work; True when the writer has finished stopping."""
        self._pending.wake.clear()
        now = time.monotonic()
        if self._spool.depth:
            # Spooling: keep order by putting new records behind the spooled ones.
            if self._pending.due(now, self._stopping):
                await self._to_spool(self._pending.take_all())
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
                await self._pending.sleep_until(self._pending.next_wakeup(self._next_retry))
            return False
        if self._pending.due(now, self._stopping):
            batch = self._pending.take(self._pending.batch_size)
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
        await self._pending.sleep_until(self._pending.next_wakeup(None))
        return False

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
            self._pending.put_back(records)
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
            if self._state != "spooling" and not self._link.connected:
                self._state = "connecting"
            await self._link.write(records)
        except Exception as exc:
            self._last_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            if self._state != "spooling":
                log.warning("writer: PostgreSQL unavailable (%s); spooling", self._last_error)
            self._state = "spooling"
            await self._link.close()
            return False
        self._written += len(records)
        self._state = "connected"
        self._last_error = None
        return True

    async def _reject(self, record: Record, reason: str) -> None:
        await asyncio.to_thread(self._spool.reject, record, reason)
