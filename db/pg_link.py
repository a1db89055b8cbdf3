"""The durable writer's one connection to PostgreSQL: a batch in one transaction, cut off
when the server does not answer in time; records refused for their content set aside."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg

from db.record_sql import apply_records, is_content_error
from db.records import Record

Reject = Callable[[Record, str], Awaitable[None]]


class PgLink:
    """Connects on first use and after any failure; `write` raises when PostgreSQL is
    unavailable (the caller spools), and hands a record PostgreSQL refuses alone to
    ``reject`` with the reason instead of blocking the others."""

    def __init__(
        self, dsn: str, *, write_timeout: float, connect_timeout: float, reject: Reject
    ) -> None:
        self._dsn = dsn
        self.write_timeout = write_timeout
        self.connect_timeout = connect_timeout
        self._reject = reject
        self._conn: asyncpg.Connection | None = None

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def write(self, records: list[Record]) -> None:
        conn = await self._connection()
        try:
            await self._apply_with_deadline(conn, records)
        except Exception as exc:
            if not is_content_error(exc):
                raise
            await self._write_one_by_one(conn, records)

    async def _write_one_by_one(self, conn: asyncpg.Connection, records: list[Record]) -> None:
        for record in records:
            try:
                await self._apply_with_deadline(conn, [record])
            except Exception as exc:
                if not is_content_error(exc):
                    raise
                await self._reject(record, str(exc).splitlines()[0])

    async def _apply_with_deadline(self, conn: asyncpg.Connection, records: list[Record]) -> None:
        """apply_records, but a server that does not answer in ``write_timeout`` is cut off.

        asyncio.wait_for would wait for the cancelled transaction to roll back, which a hung
        server never acknowledges; terminating the connection ends it at once (the server then
        aborts the uncommitted transaction).
        """
        task = asyncio.ensure_future(apply_records(conn, records))
        done, _ = await asyncio.wait({task}, timeout=self.write_timeout)
        if not done:
            conn.terminate()
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise TimeoutError(f"PostgreSQL did not answer within {self.write_timeout:g} s")
        task.result()

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(
                self._dsn,
                timeout=self.connect_timeout,
                server_settings={"application_name": "madoguchi-writer"},
            )
        return self._conn

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            # terminate, not close: a server that stopped answering must not hang us.
            conn.terminate()
