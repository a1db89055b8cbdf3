"""Helpers for the hot-reload tests: edit the stack's config copy, SIGHUP the service, wait for
its reload outcome; every test puts the demo config back (and reloads) so others see it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from e2e.conftest import Desktop, desktop_for  # noqa: F401  (fixtures)

from madoguchi.reload_status import ReloadStatus, read_status
from madoguchi.stack import asterisk
from madoguchi.stack.runner import Stack
from tests.integration.cti_login import cti_base, login
from tests.integration.madoguchi_command import run_madoguchi
from tests.polling import wait_for

__all__ = ["Desktop"]


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


async def sighup_and_wait(stack: Stack, limit: float = 60) -> ReloadStatus:
    """What `madoguchi reload` does (SIGHUP), then the service's outcome of that reload."""
    pid = stack.service_pid()
    assert pid is not None, "the service is not running"
    before = read_status(stack.paths.run)
    seen = before.seq if before is not None and before.pid == pid else 0
    os.kill(pid, signal.SIGHUP)

    async def outcome() -> ReloadStatus | None:
        status = read_status(stack.paths.run)
        return status if status is not None and status.pid == pid and status.seq > seen else None

    status: ReloadStatus = await wait_for("the service's reload outcome", outcome, limit)
    return status


def madoguchi_cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MADOGUCHI_VAR": str(stack.paths.var)}
    return run_madoguchi("--config", str(stack.paths.config), *args, env=env, timeout=120)


def asterisk_cli(stack: Stack, command: str) -> str:
    pid = stack.asterisk_pid()
    assert pid is not None
    return asterisk.cli(stack.paths, pid, command)


def generated_etc(stack: Stack) -> dict[str, bytes]:
    etc = stack.paths.asterisk_var / "etc"
    return {p.name: p.read_bytes() for p in sorted(etc.glob("*.conf"))}


@pytest.fixture
async def demo_config_restored(stack: Stack, tmp_path: Path) -> AsyncIterator[Path]:
    """The stack's config dir; after the test its files are put back and reloaded."""
    config = stack.paths.config
    saved = tmp_path / "config-before"
    shutil.copytree(config, saved)
    yield config
    shutil.rmtree(config)
    shutil.copytree(saved, config)
    status = await sighup_and_wait(stack)
    assert status.ok, status.lines


@pytest.fixture
async def wallboard(stack: Stack) -> AsyncIterator[Callable[[], Any]]:
    """GET /api/wallboard as the demo supervisor."""
    base = cti_base(stack)
    password = os.environ.get("MADOGUCHI_ADMIN_PASSWORD", "madoguchi-admin")
    async with aiohttp.ClientSession() as session:
        token = await login(session, base, {"supervisor": "admin", "password": password})
        headers = {"Origin": base, "Authorization": f"Bearer {token}"}

        async def fetch() -> Any:
            async with session.get(base + "/api/wallboard", headers=headers) as r:
                assert r.status == 200, await r.text()
                return await r.json()

        yield fetch
