"""A real PostgreSQL for the db tests: one cluster per session (madoguchi.stack.postgres), a
fresh database per test, so tests never see each other's rows."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from db.migrate import migrate
from madoguchi.stack.pg_tools import free_port
from madoguchi.stack.postgres import LocalCluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[LocalCluster]:
    # mkdtemp, not tmp_path_factory: pytest's temp dirs are 0700 and the server runs as
    # another user.
    var = Path(tempfile.mkdtemp(prefix="madoguchi-db-"))
    var.chmod(0o755)
    cluster = LocalCluster(var / "pg", port=free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(var, ignore_errors=True)


def _with_database(dsn: str, name: str) -> str:
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture
async def empty_dsn(pg_cluster: LocalCluster) -> AsyncIterator[str]:
    """DSN of a new, empty database (dropped afterwards)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_with_database(pg_cluster.dsn, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield _with_database(pg_cluster.dsn, name)
    admin = await asyncpg.connect(_with_database(pg_cluster.dsn, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def dsn(empty_dsn: str) -> str:
    """DSN of a new database with the schema migrated."""
    conn = await asyncpg.connect(empty_dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return empty_dsn


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def spool_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="madoguchi-spool-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
