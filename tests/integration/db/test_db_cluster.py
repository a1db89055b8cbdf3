"""The local cluster manager: idempotent start, stale pid, port taken, broken dir, DATABASE_URL."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

import madoguchi.stack.pg_tools as cluster_module
from madoguchi.stack.database import configured_dsn, start_database
from madoguchi.stack.pg_tools import ClusterError, free_port
from madoguchi.stack.postgres import LocalCluster

pytestmark = pytest.mark.integration


@pytest.fixture
def var_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="madoguchi-cluster-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def test_lifecycle_is_idempotent_and_recovers_a_stale_pid(var_dir: Path) -> None:
    cluster = LocalCluster(var_dir / "pg", port=free_port())
    assert cluster.status().state == "absent"
    try:
        dsn = cluster.start()
        assert cluster.start() == dsn  # reused
        status = cluster.status()
        assert (status.state, status.port) == ("running", cluster.port)
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SELECT current_database()") == "madoguchi"
            assert await conn.fetchval("SHOW listen_addresses") == "127.0.0.1"
            assert await conn.fetchval("SELECT 'こんにちは'::text") == "こんにちは"
        finally:
            await conn.close()
        assert "***" in cluster.display_dsn and cluster._password() not in cluster.display_dsn
        assert (var_dir / "pg-socket" / f".s.PGSQL.{cluster.port}").exists()

        other = LocalCluster(var_dir / "pg", port=free_port())
        with pytest.raises(ClusterError, match="already running on port"):
            other.start()

        cluster.stop()
        cluster.stop()  # stopping a stopped cluster is fine
        assert cluster.status().state == "stopped"
        (var_dir / "pg" / "postmaster.pid").write_text(f"999999\n{var_dir}/pg\n1\n{cluster.port}\n")
        assert "stale postmaster.pid" in cluster.status().detail
        assert cluster.start() == dsn
    finally:
        cluster.stop()


def test_port_taken_is_reported(var_dir: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        cluster = LocalCluster(var_dir / "pg", port=sock.getsockname()[1])
        with pytest.raises(ClusterError, match=r"already in use.*choose another port"):
            cluster.start()
    assert cluster.status().state == "stopped"  # initialised, just not started


def test_broken_data_dir_is_refused(var_dir: Path) -> None:
    (var_dir / "pg").mkdir()
    (var_dir / "pg" / "leftover").write_text("x")
    with pytest.raises(ClusterError, match="not a PostgreSQL data directory"):
        LocalCluster(var_dir / "pg", port=free_port()).start()


def test_missing_binaries_name_the_package(var_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster_module, "PG_ROOT", var_dir / "nothing")
    with pytest.raises(ClusterError, match="apt-get install postgresql"):
        LocalCluster(var_dir / "pg", port=free_port()).start()


def test_database_url_wins_over_the_local_cluster(
    var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:secret@127.0.0.1:1/x")
    database = start_database(var_dir)
    assert database.cluster is None and database.dsn.endswith("@127.0.0.1:1/x")
    assert "secret" not in database.display_dsn
    database.stop()  # leaves an external server alone
    assert not (var_dir / "pg").exists()
    explicit = start_database(var_dir, url="postgresql://v@127.0.0.1:2/y")
    assert explicit.dsn == "postgresql://v@127.0.0.1:2/y"
    assert configured_dsn(var_dir) == "postgresql://u:secret@127.0.0.1:1/x"
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(ClusterError, match="password file"):
        configured_dsn(var_dir)  # never initialised
