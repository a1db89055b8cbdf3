"""Contact-center KPIs from ``calls`` and ``agent_state_intervals`` (definitions: docs/kpis.md).

SQL returns additive raw counts and second sums per interval (``date_bin`` over local time,
``generate_series`` so empty intervals appear); the ratios and averages are derived in Python by
``db.kpi_math``, so that a period total is just the sum of its intervals' raw figures.

Attribution: a call belongs to the interval in which it entered the queue (calls that never
reached a queue: the interval in which they entered the IVR, else ended, else were first
recorded), whatever happens to it later.
Agent state time is split exactly at interval boundaries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from datetime import datetime, timedelta
from typing import Any, Final, Literal

import asyncpg

from db.kpi_math import Dimension, KpiRow, RawCounts

Interval = Literal["15min", "hour", "day"]
INTERVALS: Final[Mapping[str, timedelta]] = {
    "15min": timedelta(minutes=15),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
TOTAL_KEY: Final[str] = "*"

DEFAULT_SERVICE_LEVEL_S: Final[float] = 20.0
SHORT_ABANDON_S: Final[float] = 5.0
BUSY_STATES: Final[tuple[str, ...]] = ("reserved", "on_call", "wrap_up")
AVAILABLE_STATES: Final[tuple[str, ...]] = ("ready",)
NOT_READY_STATES: Final[tuple[str, ...]] = ("not_ready",)


# -- SQL -------------------------------------------------------------------------------------

_BUCKETS = """
params AS (
    SELECT $1::timestamptz AS t0, $2::timestamptz AS t1, $3::interval AS step, $4::text AS tz,
           $5::timestamptz AS as_of
),
buckets AS (
    SELECT b AS local_start,
           b AT TIME ZONE p.tz AS bstart,
           (b + p.step) AT TIME ZONE p.tz AS bend
    FROM params p,
         generate_series(date_bin(p.step, p.t0 AT TIME ZONE p.tz, TIMESTAMP '2000-01-01'),
                         (p.t1 AT TIME ZONE p.tz) - interval '1 microsecond',
                         p.step) AS b
),
span AS (SELECT min(bstart) AS lo, max(bend) AS hi FROM buckets)
"""

# $6 jsonb {queue: threshold seconds}, $7 default threshold, $8 short abandon seconds,
# $9 text[] queues to list even without calls.
QUEUE_SQL = f"""
WITH {_BUCKETS},
attributed AS (
    SELECT c.*,
           date_bin(p.step, t.at AT TIME ZONE p.tz, TIMESTAMP '2000-01-01') AS local_start,
           coalesce((($6::jsonb) ->> c.queue)::float8, $7::float8) AS sl_s,
           extract(epoch FROM c.answered_at - c.entered_queue_at) AS wait_s
    FROM calls c
    CROSS JOIN LATERAL (
        SELECT coalesce(c.entered_queue_at, c.entered_ivr_at, c.ended_at, c.created_at) AS at
    ) t
    CROSS JOIN params p
    CROSS JOIN span s
    WHERE t.at >= s.lo AND t.at < s.hi
),
agg AS (
    SELECT local_start,
           CASE WHEN grouping(queue) = 1 THEN '{TOTAL_KEY}' ELSE coalesce(queue, '') END AS key,
           count(*) FILTER (WHERE entered_queue_at IS NOT NULL) AS offered,
           count(*) FILTER (WHERE entered_queue_at IS NOT NULL AND answered_at IS NOT NULL)
               AS answered,
           count(*) FILTER (WHERE entered_queue_at IS NOT NULL AND wait_s <= sl_s)
               AS answered_within_sl,
           count(*) FILTER (WHERE outcome = 'abandoned_ivr') AS abandoned_ivr,
           count(*) FILTER (WHERE entered_queue_at IS NOT NULL AND outcome = 'abandoned_queue')
               AS abandoned_queue,
           count(*) FILTER (WHERE entered_queue_at IS NOT NULL
                            AND outcome = 'abandoned_ringing') AS abandoned_ringing,
           count(*) FILTER (WHERE entered_queue_at IS NOT NULL
                            AND outcome IN ('abandoned_queue', 'abandoned_ringing')
                            AND ended_at IS NOT NULL
                            AND extract(epoch FROM ended_at - entered_queue_at) < $8::float8)
               AS short_abandons,
           coalesce(sum(wait_s) FILTER (WHERE entered_queue_at IS NOT NULL), 0)::float8
               AS answer_wait_s,
           count(*) FILTER (WHERE entered_queue_at IS NOT NULL AND answered_at IS NOT NULL
                            AND ended_at IS NOT NULL) AS handled,
           coalesce(sum(extract(epoch FROM ended_at - answered_at))
                    FILTER (WHERE entered_queue_at IS NOT NULL), 0)::float8 AS talk_s,
           coalesce(sum(extract(epoch FROM wrapup_ended_at - ended_at))
                    FILTER (WHERE entered_queue_at IS NOT NULL AND wrapup_ended_at >= ended_at),
                    0)::float8 AS wrap_s,
           count(*) FILTER (WHERE entered_queue_at IS NOT NULL AND answered_at IS NOT NULL
                            AND transferred) AS transferred,
           count(*) FILTER (WHERE callback) AS callbacks
    FROM attributed
    GROUP BY GROUPING SETS ((local_start, queue), (local_start))
),
dims AS (
    SELECT key FROM agg WHERE key <> ''
    UNION SELECT unnest($9::text[])
    UNION SELECT '{TOTAL_KEY}'
)
SELECT b.bstart AS start, b.bend AS "end", d.key,
       a.offered, a.answered, a.answered_within_sl, a.abandoned_ivr, a.abandoned_queue,
       a.abandoned_ringing, a.short_abandons, a.answer_wait_s, a.handled, a.talk_s, a.wrap_s,
       a.transferred, a.callbacks
FROM buckets b CROSS JOIN dims d
LEFT JOIN agg a ON a.local_start = b.local_start AND a.key = d.key
ORDER BY b.bstart, d.key = '{TOTAL_KEY}', d.key
"""  # noqa: S608 (only module constants are interpolated; every value is a bind parameter)

# $6 text[] agents to list even without activity, $7 busy states, $8 available, $9 not ready.
AGENT_SQL = f"""
WITH {_BUCKETS},
handled AS (
    SELECT date_bin(p.step, coalesce(c.entered_queue_at, c.answered_at) AT TIME ZONE p.tz,
                    TIMESTAMP '2000-01-01') AS local_start,
           c.agent_id AS key,
           count(*) AS answered,
           count(*) FILTER (WHERE c.ended_at IS NOT NULL) AS handled,
           coalesce(sum(extract(epoch FROM c.ended_at - c.answered_at)), 0)::float8 AS talk_s,
           coalesce(sum(extract(epoch FROM c.wrapup_ended_at - c.ended_at))
                    FILTER (WHERE c.wrapup_ended_at >= c.ended_at), 0)::float8 AS wrap_s,
           count(*) FILTER (WHERE c.transferred) AS transferred
    FROM calls c, params p, span s
    WHERE c.answered_at IS NOT NULL AND c.agent_id IS NOT NULL
      AND coalesce(c.entered_queue_at, c.answered_at) >= s.lo
      AND coalesce(c.entered_queue_at, c.answered_at) < s.hi
    GROUP BY 1, 2
),
clipped AS (
    SELECT b.local_start, i.agent_id, i.state,
           extract(epoch FROM least(coalesce(i.ended_at, p.as_of), b.bend)
                              - greatest(i.started_at, b.bstart)) AS secs
    FROM buckets b
    CROSS JOIN params p
    JOIN agent_state_intervals i
      ON i.started_at < b.bend AND coalesce(i.ended_at, p.as_of) > b.bstart
),
states AS (
    SELECT local_start,
           CASE WHEN grouping(agent_id) = 1 THEN '{TOTAL_KEY}' ELSE agent_id END AS key,
           coalesce(sum(secs) FILTER (WHERE state = ANY($7::text[])), 0)::float8 AS busy_s,
           coalesce(sum(secs) FILTER (WHERE state = ANY($8::text[])), 0)::float8 AS ready_s,
           coalesce(sum(secs) FILTER (WHERE state = ANY($9::text[])), 0)::float8 AS not_ready_s
    FROM clipped WHERE secs > 0
    GROUP BY GROUPING SETS ((local_start, agent_id), (local_start))
),
dims AS (
    SELECT key FROM handled
    UNION SELECT key FROM states
    UNION SELECT unnest($6::text[])
)
SELECT b.bstart AS start, b.bend AS "end", d.key,
       h.answered, h.handled, h.talk_s, h.wrap_s, h.transferred,
       st.busy_s, st.ready_s, st.not_ready_s
FROM buckets b CROSS JOIN dims d
LEFT JOIN handled h ON h.local_start = b.local_start AND h.key = d.key
LEFT JOIN states st ON st.local_start = b.local_start AND st.key = d.key
WHERE d.key <> '{TOTAL_KEY}'
ORDER BY b.bstart, d.key
"""  # noqa: S608 (only module constants are interpolated; every value is a bind parameter)

# Overall occupancy for the total rows (all agents), per interval.
TOTAL_STATES_SQL = AGENT_SQL.replace(
    f"WHERE d.key <> '{TOTAL_KEY}'", f"WHERE d.key = '{TOTAL_KEY}'"
)


def _raw(record: Mapping[str, Any]) -> RawCounts:
    values: dict[str, Any] = {}
    for f in fields(RawCounts):
        value = record.get(f.name)
        if value is not None:
            values[f.name] = float(value) if f.type == "float" else int(value)
    return RawCounts(**values)


def _check_range(start: datetime, end: datetime, interval: str) -> timedelta:
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("report start and end must be timezone-aware")
    if end <= start:
        raise ValueError("report end must be after its start")
    step = INTERVALS[interval]
    if (end - start) / step > 5000:
        raise ValueError(f"too many {interval} intervals between start and end (max 5000)")
    return step


async def kpi_rows(
    conn: asyncpg.Connection,
    start: datetime,
    end: datetime,
    interval: Interval,
    *,
    tz: str = "UTC",
    service_levels: Mapping[str, float] | None = None,
    default_service_level: float = DEFAULT_SERVICE_LEVEL_S,
    short_abandon: float = SHORT_ABANDON_S,
    queues: Sequence[str] = (),
    agents: Sequence[str] = (),
    as_of: datetime | None = None,
) -> list[KpiRow]:
    """KPI rows for every interval in [start, end) (widened to whole intervals, in ``tz``).

    Rows: every queue seen or listed in ``queues``, every agent seen or listed in ``agents``,
    and the total (key ``*``) for each interval. ``as_of`` closes open agent states (default now).
    """
    step = _check_range(start, end, interval)
    base = (start, end, step, tz, as_of or datetime.now(start.tzinfo))
    states = (list(BUSY_STATES), list(AVAILABLE_STATES), list(NOT_READY_STATES))
    async with conn.transaction(readonly=True):
        # JIT compilation costs far more than these small aggregate queries ever save.
        await conn.execute("SET LOCAL jit = off")
        queue_records = await conn.fetch(
            QUEUE_SQL,
            *base,
            json.dumps(dict(service_levels or {})),
            float(default_service_level),
            float(short_abandon),
            list(queues),
        )
        agent_records = await conn.fetch(AGENT_SQL, *base, list(agents), *states)
        total_records = await conn.fetch(TOTAL_STATES_SQL, *base, [], *states)
    return _rows(queue_records, agent_records, {r["start"]: r for r in total_records})


def _rows(
    queue_records: list[Any], agent_records: list[Any], total_states: Mapping[Any, Any]
) -> list[KpiRow]:
    """The fetched records as KPI rows: queues, then agents, then totals, each by key and time."""
    rows: list[KpiRow] = []
    for r in queue_records:
        raw = _raw(r)
        dimension: Dimension = "total" if r["key"] == TOTAL_KEY else "queue"
        if dimension == "total" and r["start"] in total_states:
            s = total_states[r["start"]]
            raw = replace(
                raw,
                busy_s=float(s["busy_s"] or 0),
                ready_s=float(s["ready_s"] or 0),
                not_ready_s=float(s["not_ready_s"] or 0),
            )
        rows.append(KpiRow(dimension, r["key"], r["start"], r["end"], raw))
    rows.extend(KpiRow("agent", r["key"], r["start"], r["end"], _raw(r)) for r in agent_records)
    order = {"queue": 0, "agent": 1, "total": 2}
    rows.sort(key=lambda row: (order[row.dimension], row.key, row.start))
    return rows
