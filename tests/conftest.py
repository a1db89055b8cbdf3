"""Fixtures of every test on the real stack (integration and browser): one stack per
session, started from the shipped config/ with a private var dir and stopped at the end
(nothing left running), and its database. One place, so that a run of both directories
starts one stack and not two on the same ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from madoguchi.paths import Paths
from madoguchi.service_config import database_dsn, load_service_config
from madoguchi.stack.runner import Stack
from tests.live_stack import private_paths, wait_migrated


@pytest.fixture(scope="session")
def stack_paths() -> Iterator[Paths]:
    with private_paths() as paths:
        yield paths


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
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    """The stack's database, once the service has migrated it."""
    conn = await asyncpg.connect(database_dsn(stack.paths, stack.config))
    try:
        await wait_migrated(conn)
        yield conn
    finally:
        await conn.close()
