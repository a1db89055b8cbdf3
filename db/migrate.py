"""Schema migrations: ``db/migrations/NNN_name.sql`` applied in order, each in its own transaction.

``schema_version`` records what has been applied. A session advisory lock serialises concurrent
migrators (two services starting at once), so running ``migrate`` again is harmless.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import asyncpg

log = logging.getLogger(__name__)

MIGRATIONS_DIR: Final[Path] = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_LOCK_KEY: Final[int] = 0x6D61646F  # "mado": advisory lock id for migrations


class MigrationError(RuntimeError):
    """A migration file is misnamed or failed; the message names the file."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    path: Path


def available_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Migration files in version order; raises MigrationError on a bad name or duplicate."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: migration files must be named NNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path}: version {version} used twice")
        found[version] = Migration(version, match.group(2), path)
    return [found[v] for v in sorted(found)]


async def migrate(pool_or_conn: Any, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply every migration not yet applied; return the versions applied now (may be empty)."""
    if isinstance(pool_or_conn, asyncpg.Pool):
        async with pool_or_conn.acquire() as conn:
            return await _migrate(conn, directory)
    return await _migrate(pool_or_conn, directory)


async def _migrate(conn: asyncpg.Connection, directory: Path) -> list[int]:
    migrations = available_migrations(directory)
    # A session lock for the whole run: one migrator applies everything, the others wait and
    # then find nothing left to do. Each migration still commits on its own.
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        return await _apply_pending(conn, migrations)
    finally:
        if not conn.is_closed():
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def _apply_pending(conn: asyncpg.Connection, migrations: list[Migration]) -> list[int]:
    applied_now: list[int] = []
    await conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_version (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    for migration in migrations:
        async with conn.transaction():
            done = await conn.fetchval(
                "SELECT 1 FROM schema_version WHERE version = $1", migration.version
            )
            if done:
                continue
            sql = migration.path.read_text(encoding="utf-8")
            try:
                await conn.execute(sql)
            except asyncpg.PostgresError as exc:
                raise MigrationError(f"{migration.path.name}: {exc}") from exc
            await conn.execute(
                "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
            applied_now.append(migration.version)
            log.info("applied migration %03d_%s", migration.version, migration.name)
    return applied_now


async def schema_version(conn: asyncpg.Connection) -> int:
    """Highest applied migration version (0 for an empty database)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version"))
