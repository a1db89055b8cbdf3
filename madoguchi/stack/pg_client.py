"""The cluster as its own client programs see it: pg_isready until it answers, and psql to
create the service's database once (setting up the cluster, not the service's SQL)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Final

from madoguchi.stack.pg_tools import LISTEN_HOST, ClusterError, last_line

DB_NAME: Final[str] = "madoguchi"  # also spelled out in ensure_database's SQL
DB_ROLE: Final[str] = "madoguchi"


def wait_ready(bin_dir: Path, port: int, timeout: float, log_file: Path) -> None:
    """Poll pg_isready until the server accepts connections or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    isready = str(bin_dir / "pg_isready")
    while True:
        result = subprocess.run(
            [isready, "-q", "-h", LISTEN_HOST, "-p", str(port), "-d", "postgres"],
            capture_output=True,
            check=False,
            timeout=30,
        )
        if result.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise ClusterError(
                f"PostgreSQL on {LISTEN_HOST}:{port} not ready after {timeout:.0f} s: "
                f"see {log_file}"
            )
        time.sleep(0.1)


def ensure_database(bin_dir: Path, port: int, password: str) -> None:
    """Create the ``madoguchi`` database unless it exists."""
    psql = str(bin_dir / "psql")
    env = {**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"}
    base = [psql, "-X", "-q", "-h", LISTEN_HOST, "-p", str(port), "-U", DB_ROLE]
    probe = subprocess.run(
        [
            *base,
            "-d",
            "postgres",
            "-tAc",
            "SELECT 1 FROM pg_database WHERE datname = 'madoguchi'",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    if probe.returncode != 0:
        raise ClusterError(f"cannot query the cluster: {last_line(probe.stderr)}")
    if probe.stdout.strip() == "1":
        return
    create = subprocess.run(
        [*base, "-d", "postgres", "-c", f"CREATE DATABASE {DB_NAME}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    if create.returncode != 0 and "already exists" not in create.stderr:
        raise ClusterError(f"cannot create database {DB_NAME}: {last_line(create.stderr)}")
