"""Retention: delete call details older than the retention period (config ``[retention] days``).

A call's age is taken from its latest known time (ended, else entered queue, else entered IVR,
else when the row was created). Purged with a call: its timeline events and dispositions.
Also purged with a call: its recordings' metadata (the file paths are returned for the caller to
delete the files). Also purged: timeline events, dispositions and recordings older than the
cutoff whose call row is gone, and closed agent state intervals that ended before the cutoff.
Customers (CRM) are never purged here.
Deletes run in batches, one short transaction each, so a large purge does not block the writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

_CALL_AGE = "coalesce(ended_at, entered_queue_at, entered_ivr_at, created_at)"

PURGE_CALLS = f"""
WITH doomed AS (
    SELECT call_id FROM calls WHERE {_CALL_AGE} < $1 LIMIT $2
),
events AS (
    DELETE FROM call_events e USING doomed d WHERE e.call_id = d.call_id RETURNING 1
),
disps AS (
    DELETE FROM dispositions x USING doomed d WHERE x.call_id = d.call_id RETURNING 1
),
recs AS (
    DELETE FROM recordings r USING doomed d WHERE r.call_id = d.call_id RETURNING r.path
),
gone AS (
    DELETE FROM calls c USING doomed d WHERE c.call_id = d.call_id RETURNING 1
)
SELECT (SELECT count(*) FROM gone) AS calls,
       (SELECT count(*) FROM events) AS events,
       (SELECT count(*) FROM disps) AS dispositions,
       (SELECT coalesce(array_agg(path), ARRAY[]::text[]) FROM recs) AS recording_paths
"""  # noqa: S608 (a module constant is interpolated; values are bind parameters)

PURGE_ORPHAN_EVENTS = """
WITH doomed AS (
    SELECT e.call_id, e.event_uid FROM call_events e
    WHERE e.ts < $1 AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.call_id = e.call_id)
    LIMIT $2
)
DELETE FROM call_events e USING doomed d
WHERE e.call_id = d.call_id AND e.event_uid = d.event_uid
"""

PURGE_ORPHAN_DISPOSITIONS = """
DELETE FROM dispositions x
WHERE x.id IN (
    SELECT id FROM dispositions y
    WHERE y.created_at < $1 AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.call_id = y.call_id)
    LIMIT $2
)
"""

PURGE_ORPHAN_RECORDINGS = """
WITH doomed AS (
    SELECT r.call_id, r.recording_id FROM recordings r
    WHERE r.started_at < $1 AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.call_id = r.call_id)
    LIMIT $2
)
DELETE FROM recordings r USING doomed d
WHERE r.call_id = d.call_id AND r.recording_id = d.recording_id
RETURNING r.path
"""

PURGE_AGENT_STATES = """
DELETE FROM agent_state_intervals a
WHERE (a.agent_id, a.started_at) IN (
    SELECT agent_id, started_at FROM agent_state_intervals
    WHERE ended_at IS NOT NULL AND ended_at < $1 LIMIT $2
)
"""

# What customers asked the FAQ bot is their own words: kept no longer than the calls.
PURGE_FAQ_TURNS = """
DELETE FROM faq_turns t
WHERE t.id IN (SELECT id FROM faq_turns WHERE at < $1 LIMIT $2)
"""


@dataclass(frozen=True, slots=True)
class PurgeResult:
    calls: int = 0
    events: int = 0
    dispositions: int = 0
    agent_intervals: int = 0
    faq_turns: int = 0
    # Files of the purged recordings: the caller deletes them (db/ only touches the database).
    recording_paths: tuple[str, ...] = ()


async def purge(
    pool: Any, older_than_days: int, *, now: datetime | None = None, batch: int = 5000
) -> PurgeResult:
    """Delete call details older than ``older_than_days`` days (at least 1); return the counts."""
    if isinstance(older_than_days, bool) or not isinstance(older_than_days, int):
        raise ValueError("older_than_days must be a whole number of days")
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1 (0 would delete everything)")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
    if isinstance(pool, asyncpg.Pool):
        async with pool.acquire() as conn:
            return await _purge(conn, cutoff, batch)
    return await _purge(pool, cutoff, batch)


def _deleted(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])  # "DELETE 42"


async def _purge(conn: asyncpg.Connection, cutoff: datetime, batch: int) -> PurgeResult:
    calls = events = dispositions = intervals = faq_turns = 0
    paths: list[str] = []
    while True:
        async with conn.transaction():
            row = await conn.fetchrow(PURGE_CALLS, cutoff, batch)
        assert row is not None
        calls += row["calls"]
        events += row["events"]
        dispositions += row["dispositions"]
        paths.extend(row["recording_paths"])
        if row["calls"] < batch:
            break
    while True:
        orphans = [r["path"] for r in await conn.fetch(PURGE_ORPHAN_RECORDINGS, cutoff, batch)]
        paths.extend(orphans)
        if len(orphans) < batch:
            break
    statements = (
        PURGE_ORPHAN_EVENTS,
        PURGE_ORPHAN_DISPOSITIONS,
        PURGE_AGENT_STATES,
        PURGE_FAQ_TURNS,
    )
    for statement in statements:
        while True:
            count = _deleted(await conn.execute(statement, cutoff, batch))
            if statement is PURGE_ORPHAN_EVENTS:
                events += count
            elif statement is PURGE_ORPHAN_DISPOSITIONS:
                dispositions += count
            elif statement is PURGE_AGENT_STATES:
                intervals += count
            else:
                faq_turns += count
            if count < batch:
                break
    return PurgeResult(calls, events, dispositions, intervals, faq_turns, tuple(paths))
