"""An agent's recent calls for the desktop (newest first, JSON-ready)."""

from __future__ import annotations

from typing import Any

import asyncpg

RECENT_CALLS_SQL = """
SELECT call_id, caller_number, caller_name, queue, outcome, disposition, notes,
       COALESCE(answered_at, offered_at, entered_queue_at, entered_ivr_at) AS at,
       EXTRACT(EPOCH FROM (ended_at - answered_at)) AS duration
  FROM calls
 WHERE agent_id = $1
 ORDER BY COALESCE(answered_at, offered_at, entered_queue_at, entered_ivr_at) DESC NULLS LAST
 LIMIT $2
"""


async def recent_calls(pool: asyncpg.Pool, agent_id: str, limit: int) -> list[dict[str, Any]]:
    async with pool.acquire(timeout=2.0) as conn:
        rows = await conn.fetch(RECENT_CALLS_SQL, agent_id, limit, timeout=2.0)
    return [
        {
            "call_id": r["call_id"],
            "at": r["at"].timestamp() if r["at"] else 0.0,
            "direction": "inbound",
            "number": r["caller_number"] or "",
            "name": r["caller_name"] or "",
            "queue": r["queue"] or "",
            "duration": float(r["duration"]) if r["duration"] is not None else None,
            "outcome": r["outcome"] or "",
            "disposition": r["disposition"],
            "notes": r["notes"] or "",
        }
        for r in rows
    ]
