"""Retention purge against a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db.crm import CrmRepository
from db.record_sql import apply_records
from db.records import build_agent_state, build_call_update, build_event, build_recording
from db.retention import purge

pytestmark = pytest.mark.integration

NOW = datetime(2026, 6, 1, tzinfo=UTC)


async def test_purge_removes_only_old_call_details(pool: asyncpg.Pool) -> None:
    records = []
    for i, age_days in enumerate([400, 45, 31, 29, 1]):
        when = NOW - timedelta(days=age_days)
        records.append(
            build_call_update(
                f"c{i}",
                {"entered_queue": when, "queue": "sales", "ended": when + timedelta(minutes=2)},
            )[0]
        )
        records.append(build_event(f"c{i}", "e1", when, "enqueued", {}))
        records.append(build_event(f"c{i}", "e2", when, "ended", {}))
        records.append(build_recording(f"c{i}", "r1", f"/rec/c{i}.wav", when))
    # an ongoing call that entered the IVR long ago but is not ended: aged by entered_ivr
    records.append(build_call_update("ivr-old", {"entered_ivr": NOW - timedelta(days=90)})[0])
    records.append(build_event("orphan", "e1", NOW - timedelta(days=60), "x", {}))
    records.append(build_recording("orphan", "r1", "/rec/orphan.wav", NOW - timedelta(days=60)))
    records.append(
        build_agent_state("1001", "ready", None, NOW - timedelta(days=40), NOW - timedelta(days=39))
    )
    records.append(build_agent_state("1001", "ready", None, NOW - timedelta(days=2), None))
    async with pool.acquire() as conn:
        await apply_records(conn, records)
    await CrmRepository(pool).save_disposition("c0", "1001", "resolved", "old")
    await pool.execute("UPDATE dispositions SET created_at = $1", NOW - timedelta(days=400))

    result = await purge(pool, 30, now=NOW, batch=2)
    assert (result.calls, result.events, result.dispositions, result.agent_intervals) == (
        4,
        7,
        1,
        1,
    )
    assert sorted(result.recording_paths) == [
        "/rec/c0.wav",
        "/rec/c1.wav",
        "/rec/c2.wav",
        "/rec/orphan.wav",
    ]
    assert await pool.fetchval("SELECT count(*) FROM recordings") == 2
    remaining = [r["call_id"] for r in await pool.fetch("SELECT call_id FROM calls ORDER BY 1")]
    assert remaining == ["c3", "c4"]
    assert await pool.fetchval("SELECT count(*) FROM call_events") == 4
    assert await pool.fetchval("SELECT count(*) FROM agent_state_intervals") == 1
    again = await purge(pool, 30, now=NOW)
    assert again == type(again)()


async def test_purge_refuses_zero_days(pool: asyncpg.Pool) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await purge(pool, 0)
