"""The real stack for integration tests: PostgreSQL, Asterisk in its namespace, and
`madoguchi serve`, started once per session from the shipped config/ with a private
var dir, and stopped at the end (nothing left running)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from madoguchi.paths import PROJECT_ROOT, Paths, default_paths
from madoguchi.service_config import load_service_config
from madoguchi.stack.runner import Stack

ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


def _offset_ports(service_file: Path, offset: int) -> None:
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


@pytest.fixture(scope="session")
def stack_paths() -> Iterator[Paths]:
    # mkdtemp + 0755: PostgreSQL runs as an unprivileged user and must reach its data dir.
    var = Path(tempfile.mkdtemp(prefix="madoguchi-it-"))
    var.chmod(0o755)
    base = default_paths()
    # A copy of the shipped config: reload tests edit it; the shipped files stay untouched.
    config = var / "config"
    shutil.copytree(base.config, config)
    _offset_ports(config / "madoguchi.toml", int(os.environ.get("MADOGUCHI_TEST_PORT_OFFSET", "0")))
    yield Paths(project=base.project, config=config, var=var, rootfs=base.rootfs)
    logs = ARTIFACTS / "integration-logs"
    shutil.rmtree(logs, ignore_errors=True)
    for src in (var / "log", var / "asterisk" / "log"):
        if src.exists():
            shutil.copytree(src, logs / src.relative_to(var), dirs_exist_ok=True)
    shutil.rmtree(var, ignore_errors=True)


@pytest.fixture(scope="session")
def stack(stack_paths: Paths) -> Iterator[Stack]:
    st = Stack(stack_paths, load_service_config(stack_paths.config))
    st.up(lambda msg: print(msg, flush=True))
    # What Asterisk logged while starting, before any test placed a call.
    boot_log = stack_paths.asterisk_var / "log" / "messages.log"
    st.boot_log = (  # type: ignore[attr-defined]
        boot_log.read_text(encoding="utf-8", errors="replace") if boot_log.exists() else ""
    )
    try:
        yield st
    finally:
        st.down(lambda msg: print(msg, flush=True))


@pytest.fixture
def sipp_dir(tmp_path: Path) -> Path:
    return tmp_path / "sipp"
