"""The service's pool of PostgreSQL connections (CRM look-ups, reports, migrations)."""

from __future__ import annotations

import asyncpg


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """Released to the pool without asyncpg's reset query (``pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL``): one round trip to PostgreSQL on every release, just as a
    caller's CRM look-up ends and the caller enters the queue. Nothing on these connections
    leaves session state behind: no LISTEN, no cursor outside a transaction, only ``SET
    LOCAL``, and the migrator's advisory lock is released in its own ``finally``. asyncpg
    still rolls back a transaction left open."""

    def get_reset_query(self) -> str:
        return ""


async def create_pool(dsn: str) -> asyncpg.Pool:
    # min_size=0: the service starts (and calls flow) while PostgreSQL is down.
    return await asyncpg.create_pool(
        dsn, min_size=0, max_size=10, timeout=3, connection_class=PooledConnection
    )
