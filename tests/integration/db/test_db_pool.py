"""The service's connection pool against a real PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from db.pool import create_pool

pytestmark = pytest.mark.integration


async def test_a_released_connection_costs_no_reset_round_trip(dsn: str) -> None:
    pool = await create_pool(dsn)
    observer = await asyncpg.connect(dsn)
    try:
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
            assert await conn.fetchval("SELECT 'look-up'") == "look-up"
        # The backend's last statement is the look-up, not asyncpg's reset query.
        last = await observer.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
        assert last == "SELECT 'look-up'"
        # A transaction left open is still rolled back before the next acquirer.
        async with pool.acquire() as conn:
            await conn.execute("BEGIN; CREATE TEMP TABLE leftover (x int)")
        async with pool.acquire() as conn:
            assert conn.get_server_pid() == pid
            assert await conn.fetchval("SELECT to_regclass('pg_temp.leftover')") is None
    finally:
        await observer.close()
        await pool.close()
