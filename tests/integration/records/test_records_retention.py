"""Retention on the stack's database: `db.retention.purge` with the configured period
(config/madoguchi.toml `[retention] days`) removes call details older than it, keeps the rest,
and never touches customers. Old rows are inserted directly (nobody waits 400 days)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db.retention import purge
from madoguchi.stack.runner import Stack


@pytest.fixture
async def prefix(db: asyncpg.Connection) -> AsyncIterator[str]:
    """A call id / agent id prefix of this test's rows, all removed afterwards."""
    tag = f"ret-{uuid.uuid4().hex[:10]}-"
    yield tag
    like = tag + "%"
    for table, column in (
        ("call_events", "call_id"),
        ("dispositions", "call_id"),
        ("recordings", "call_id"),
        ("calls", "call_id"),
        ("agent_state_intervals", "agent_id"),
        ("agents", "id"),
    ):
        await db.execute(f"DELETE FROM {table} WHERE {column} LIKE $1", like)


async def _insert_call(db: asyncpg.Connection, call_id: str, ended: datetime) -> None:
    await db.execute(
        "INSERT INTO calls (call_id, caller_number, queue, entered_queue_at, answered_at, "
        "ended_at, outcome, agent_id) VALUES ($1, '0505000001', 'support', $2, $3, $4, "
        "'answered', '1003')",
        call_id,
        ended - timedelta(minutes=3),
        ended - timedelta(minutes=2),
        ended,
    )
    await db.execute(
        "INSERT INTO call_events (call_id, event_uid, ts, kind, data) "
        "VALUES ($1, $1 || ':ended', $2, 'call.ended', $3::jsonb)",
        call_id,
        ended,
        json.dumps({"outcome": "answered"}),
    )
    await db.execute(
        "INSERT INTO dispositions (call_id, agent_id, code, notes, created_at) "
        "VALUES ($1, '1003', 'resolved', 'メモ', $2)",
        call_id,
        ended,
    )
    await db.execute(
        "INSERT INTO recordings (call_id, recording_id, path, started_at, ended_at) "
        "VALUES ($1, 'r1', $2, $3, $4)",
        call_id,
        f"/var/recordings/{call_id}.wav",
        ended - timedelta(minutes=2),
        ended,
    )


async def _left(db: asyncpg.Connection, call_id: str) -> dict[str, int]:
    counts = {}
    for table in ("calls", "call_events", "dispositions", "recordings"):
        counts[table] = await db.fetchval(
            f"SELECT count(*) FROM {table} WHERE call_id = $1",
            call_id,
        )
    return counts


async def test_purge_removes_call_details_older_than_the_configured_period(
    stack: Stack, db: asyncpg.Connection, prefix: str
) -> None:
    days = stack.config.service.retention.days
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=days)
    old = [f"{prefix}old-{i}" for i in range(3)]
    kept = [f"{prefix}kept-{i}" for i in range(2)]
    for i, call_id in enumerate(old):
        await _insert_call(db, call_id, cutoff - timedelta(hours=1 + 24 * i))
    await _insert_call(db, kept[0], cutoff + timedelta(hours=1))  # just inside the period
    await _insert_call(db, kept[1], now - timedelta(minutes=5))
    agent = f"{prefix}agent"
    await db.execute("INSERT INTO agents (id) VALUES ($1)", agent)
    await db.execute(
        "INSERT INTO agent_state_intervals (agent_id, started_at, state, ended_at) VALUES "
        "($1, $2, 'ready', $3), ($1, $4, 'ready', NULL)",
        agent,
        cutoff - timedelta(hours=3),
        cutoff - timedelta(hours=2),
        now - timedelta(hours=1),
    )
    customers = await db.fetchval("SELECT count(*) FROM customers")

    result = await purge(db, days, now=now)

    gone = dict.fromkeys(("calls", "call_events", "dispositions", "recordings"), 0)
    one = dict.fromkeys(gone, 1)
    for call_id in old:
        assert await _left(db, call_id) == gone, call_id
    for call_id in kept:
        assert await _left(db, call_id) == one, call_id
    assert result.calls >= len(old) and result.events >= len(old)
    assert result.dispositions >= len(old)
    assert {f"/var/recordings/{c}.wav" for c in old} <= set(result.recording_paths)
    assert not {f"/var/recordings/{c}.wav" for c in kept} & set(result.recording_paths)
    intervals = await db.fetch(
        "SELECT ended_at FROM agent_state_intervals WHERE agent_id = $1", agent
    )
    assert [r["ended_at"] for r in intervals] == [None]  # the open one stays
    assert await db.fetchval("SELECT count(*) FROM customers") == customers

    # Purging again finds nothing more of ours.
    await purge(db, days, now=now)
    for call_id in kept:
        assert await _left(db, call_id) == one, call_id


async def test_purge_refuses_a_period_that_would_delete_everything(db: asyncpg.Connection) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await purge(db, 0)
