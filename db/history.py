"""An agent's recent calls for the desktop (CTI ``recent_calls``; shape: cti.messages.RecentCall).

    recent = await recent_calls(pool, "1001", 20)
    # [{"call_id": ..., "at": 1775034000.0, "direction": "inbound", "number": "0312345678",
    #   "name": ..., "queue": "sales", "duration": 180.0, "outcome": "answered",
    #   "disposition": "resolved", "notes": "..."}, ...]   newest first

``at`` is when the agent answered (epoch seconds), ``duration`` the talk time in seconds; keys
whose value is unknown are left out (``disposition`` is always present, possibly None).
``name`` is the CRM's name where the CRM knows the caller (the customer the IVR found, else the
one owning the caller's number), otherwise the caller ID name: softphones often send none.
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg

from db.sanitize import clean_field

MAX_LIMIT: Final[int] = 200

# The customer: the one the IVR identified (customer_id), else the owner of the caller's number
# (the same choice as CrmRepository.find_by_phone), for calls that came in without the IVR.
RECENT_CALLS = """
SELECT c.call_id,
       extract(epoch FROM coalesce(c.answered_at, c.offered_at, c.ended_at, c.created_at))::float8
           AS at,
       c.caller_number, coalesce(known.name, by_phone.name, c.caller_name) AS caller_name, c.queue,
       extract(epoch FROM c.ended_at - c.answered_at)::float8 AS duration,
       c.outcome, c.disposition, c.notes
FROM calls c
LEFT JOIN customers known ON known.id = c.customer_id
LEFT JOIN LATERAL (
    SELECT cu.name FROM customers cu JOIN customer_phones p ON p.customer_id = cu.id
    WHERE c.customer_id IS NULL AND p.number = c.caller_number
    ORDER BY cu.updated_at DESC, cu.id DESC LIMIT 1
) by_phone ON true
WHERE c.agent_id = $1
ORDER BY coalesce(c.answered_at, c.offered_at, c.ended_at, c.created_at) DESC, c.call_id DESC
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
