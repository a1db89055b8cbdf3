"""Database upkeep while the service runs: migrations once PostgreSQL answers, the demo CRM
seed, and the daily retention purge."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import asyncpg

from db.import_customers import CustomerImportError, seed_if_empty
from db.migrate import migrate
from db.retention import purge
from madoguchi.config import Config

log = logging.getLogger(__name__)

RETRY_PURGE_S = 3600.0
PURGE_EVERY_S = 86400.0
MAX_MIGRATE_DELAY_S = 30.0


class DatabaseUpkeep:
    """`migrate_when_reachable` and `purge_daily` run as tasks; `config` is read at each use."""

    def __init__(self, pool: asyncpg.Pool, config: Callable[[], Config]) -> None:
        self._pool = pool
        self._config = config
        self.migrated = asyncio.Event()

    async def migrate_when_reachable(self) -> None:
        delay = 1.0
        while True:
            try:
                applied = await migrate(self._pool)
                if applied:
                    log.info("database migrated: %s", applied)
                await self._seed_crm()
                self.migrated.set()
                return
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("database not reachable for migrations (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_MIGRATE_DELAY_S)

    async def _seed_crm(self) -> None:
        """The demo customers (config/crm_seed.csv) go into an empty CRM, once."""
        source_dir = self._config().source_dir
        if source_dir is None:
            return
        seed = source_dir / "crm_seed.csv"
        if not seed.is_file():
            return
        try:
            result = await seed_if_empty(self._pool, seed)
        except CustomerImportError as exc:
            log.error("CRM seed %s not imported:\n%s", seed, "\n".join(map(str, exc.problems)))
            return
        if result is not None:
            log.info("CRM seeded from %s: %d customers", seed, result.created + result.updated)

    async def purge_daily(self) -> None:
        """Retention: call details older than [retention] days go, once at start and daily.
        Recording files of purged calls are deleted with them."""
        await self.migrated.wait()  # the tables exist before anything is purged
        while True:
            days = self._config().service.retention.days
            try:
                result = await purge(self._pool, days)
                for path in result.recording_paths:
                    await asyncio.to_thread(Path(path).unlink, missing_ok=True)
                if result.calls:
                    log.info("retention: purged %d calls older than %d days", result.calls, days)
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("retention purge failed (%s); next try in an hour", exc)
                await asyncio.sleep(RETRY_PURGE_S)
                continue
            await asyncio.sleep(PURGE_EVERY_S)
