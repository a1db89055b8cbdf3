"""One batch of records in one transaction: the idempotent statements of the durable writer.

Every statement is idempotent (upsert by call id, insert-or-ignore by event uid, upsert by
agent + start), so a batch written twice (a spool replayed again) never duplicates anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

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
    RecordingMeta,
)


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


def is_content_error(exc: BaseException) -> bool:
    """True when PostgreSQL refused the data itself (retrying the same record cannot help)."""
    return isinstance(exc, asyncpg.DataError | asyncpg.IntegrityConstraintViolationError)
