"""The real stack the integration and browser tests share: its private var dir with a copy
of the shipped config (ports moved by MADOGUCHI_TEST_PORT_OFFSET), and its database once the
service has migrated it."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import asyncpg

from db.migrate import available_migrations, schema_version
from madoguchi.paths import PROJECT_ROOT, Paths, default_paths
from tests.polling import wait_for

ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def offset_ports(service_file: Path, offset: int) -> None:
    """MADOGUCHI_TEST_PORT_OFFSET=N moves SIP, AMI, FastAGI, CTI and PostgreSQL by N, so
    several test runs (or a `make run` demo) can share one machine."""
    if not offset:
        return
    text = service_file.read_text(encoding="utf-8")
    for port in (5060, 5038, 4573, 8080):
        text = re.sub(rf"^port = {port}\b", f"port = {port + offset}", text, flags=re.M)
        text = text.replace(f':{port}"', f':{port + offset}"')
    service_file.write_text(text, encoding="utf-8")
    os.environ["MADOGUCHI_PG_PORT"] = str(5433 + offset)
    os.environ["MADOGUCHI_SIP_SERVER"] = f"127.0.0.1:{5060 + offset}"


@contextmanager
def private_paths() -> Iterator[Paths]:
    """A fresh var dir with a copy of config/; afterwards its logs go to
    test-artifacts/integration-logs and the var dir is removed."""
    # mkdtemp + 0755: PostgreSQL runs as an unprivileged user and must reach its data dir.
    var = Path(tempfile.mkdtemp(prefix="madoguchi-it-"))
    var.chmod(0o755)
    base = default_paths()
    # A copy of the shipped config: reload tests edit it; the shipped files stay untouched.
    config = var / "config"
    shutil.copytree(base.config, config)
    offset_ports(config / "madoguchi.toml", int(os.environ.get("MADOGUCHI_TEST_PORT_OFFSET", "0")))
    yield Paths(project=base.project, config=config, var=var, rootfs=base.rootfs)
    logs = ARTIFACTS / "integration-logs"
    shutil.rmtree(logs, ignore_errors=True)
    for src in (var / "log", var / "asterisk" / "log"):
        if src.exists():
            shutil.copytree(src, logs / src.relative_to(var), dirs_exist_ok=True)
    shutil.rmtree(var, ignore_errors=True)


async def wait_migrated(conn: asyncpg.Connection, limit: float = 30) -> None:
    """The service migrates in the background once PostgreSQL answers (after "ready")."""
    latest = available_migrations()[-1].version
    version = partial(schema_version, conn)
    await wait_for(f"schema version {latest}", version, limit, until=lambda v: v >= latest)
