"""An agent's recent calls for the desktop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db.crm import CrmRepository, CustomerInput, upsert_customer
from db.history import recent_calls
from db.record_sql import apply_records
from db.records import build_call_update

pytestmark = pytest.mark.integration

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


async def test_recent_calls_newest_first_with_optional_keys_left_out(pool: asyncpg.Pool) -> None:
    records = [
        build_call_update(
            f"c{i}",
            {
                "agent_id": "1001",
                "caller_number": "0312345678",
                "caller_name": "山田 太郎",
                "queue": "sales",
                "answered": T0 + timedelta(minutes=i),
                "ended": T0 + timedelta(minutes=i, seconds=90),
                "outcome": "answered",
            },
        )[0]
        for i in range(3)
    ]
    records.append(build_call_update("other", {"agent_id": "1002", "answered": T0})[0])
    records.append(
        build_call_update("ringing", {"agent_id": "1001", "offered": T0 + timedelta(hours=1)})[0]
    )
    async with pool.acquire() as conn:
        await apply_records(conn, records)
    await CrmRepository(pool).save_disposition("c2", "1001", "resolved", "完了")

    calls = await recent_calls(pool, "1001", 3)
    assert [c["call_id"] for c in calls] == ["ringing", "c2", "c1"]
    assert calls[0] == {
        "call_id": "ringing",
        "at": (T0 + timedelta(hours=1)).timestamp(),
        "direction": "inbound",
        "disposition": None,
    }
    assert calls[1] == {
        "call_id": "c2",
        "at": (T0 + timedelta(minutes=2)).timestamp(),
        "direction": "inbound",
        "number": "0312345678",
        "name": "山田 太郎",
        "queue": "sales",
        "duration": 90.0,
        "outcome": "answered",
        "disposition": "resolved",
        "notes": "完了",
    }
    assert await recent_calls(pool, "1001' OR '1'='1", 10) == []
    assert len(await recent_calls(pool, "1001", 10_000)) == 4


async def test_a_caller_the_crm_knows_shows_the_crm_name_not_the_empty_caller_id(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        await upsert_customer(
            conn, CustomerInput("A-1002", "鈴木 花子", phones=("090-1111-2222",), tier="silver")
        )
        customer_id = await conn.fetchval(
            "SELECT id FROM customers WHERE account_number = 'A-1002'"
        )
    calls = {
        # through the IVR, which found her: a softphone that sends no display name
        "ivr": {"caller_number": "09011112222", "caller_name": "", "customer_id": customer_id},
        # through the IVR with a display name of the phone's own
        "named": {"caller_number": "0399990000", "caller_name": "Mobile", "customer": customer_id},
        # straight into a queue (no IVR, no customer_id): known by her number
        "no_ivr": {"caller_number": "09011112222", "caller_name": ""},
        # nobody the CRM knows: the caller ID name stays
        "stranger": {"caller_number": "0311112222", "caller_name": "Someone"},
    }
    records = [
        build_call_update(
            call_id,
            {
                **fields,
                "agent_id": "1003",
                "queue": "support",
                "answered": T0 + timedelta(minutes=i),
            },
        )[0]
        for i, (call_id, fields) in enumerate(calls.items())
    ]
    async with pool.acquire() as conn:
        await apply_records(conn, records)

    names = {c["call_id"]: c.get("name") for c in await recent_calls(pool, "1003", 10)}
    assert names == {
        "ivr": "鈴木 花子",
        "named": "鈴木 花子",
        "no_ivr": "鈴木 花子",
        "stranger": "Someone",
    }
