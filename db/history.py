"""An agent's recent calls for the desktop (CTI ``recent_calls``; shape: cti.messages.RecentCall).

    recent = await recent_calls(pool, "1001", 20)
    # [{"call_id": ..., "at": 1775034000.0, "direction": "inbound", "number": "0312345678",
    #   "name": ..., "queue": "sales", "duration": 180.0, "outcome": "answered",
    #   "disposition": "resolved", "notes": "..."}, ...]   newest first

``at`` is when the agent answered (epoch seconds), ``duration`` the talk time in seconds; keys
whose value is unknown are left out (``disposition`` is always present, possibly None).
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg

from db.sanitize import clean_field

MAX_LIMIT: Final[int] = 200

RECENT_CALLS = """
SELECT call_id,
       extract(epoch FROM coalesce(answered_at, offered_at, ended_at, created_at))::float8 AS at,
       caller_number, caller_name, queue,
       extract(epoch FROM ended_at - answered_at)::float8 AS duration,
       outcome, disposition, notes
FROM calls
WHERE agent_id = $1
ORDER BY coalesce(answered_at, offered_at, ended_at, created_at) DESC, call_id DESC
LIMIT $2
"""


async def recent_calls(pool: Any, agent_id: str, limit: int) -> list[dict[str, Any]]:
    """The agent's last ``limit`` calls (1..200), newest first; ``pool``: pool or connection."""
    agent = clean_field("agent_id", agent_id).strip()
    count = max(1, min(int(limit), MAX_LIMIT))
    if not agent:
        return []
    rows = await pool.fetch(RECENT_CALLS, agent, count)
    return [_recent_call(row) for row in rows]


def _recent_call(row: asyncpg.Record) -> dict[str, Any]:
    call: dict[str, Any] = {"call_id": row["call_id"], "at": row["at"], "direction": "inbound"}
    optional = {
        "number": row["caller_number"],
        "name": row["caller_name"],
        "queue": row["queue"],
        "duration": row["duration"],
        "outcome": row["outcome"],
        "notes": row["notes"],
    }
    call.update({k: v for k, v in optional.items() if v is not None})
    call["disposition"] = row["disposition"]
    return call
