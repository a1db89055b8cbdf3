"""Helpers of the softphone tests on the shared stack: Asterisk's channels, agent 1003's
state as its desktop hears it, REST reads with the desktop's token."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from e2e.conftest import Desktop

from madoguchi.stack.asterisk import cli
from madoguchi.stack.runner import Stack
from tests.polling import wait_for

AGENT = "1003"


def asterisk_pid(stack: Stack) -> int:
    pid = stack.asterisk_pid()
    assert pid is not None, "Asterisk is not running"
    return pid


def active_channels(stack: Stack) -> int:
    out = cli(stack.paths, asterisk_pid(stack), "core show channels count")
    found = re.search(r"(\d+) active channel", out)
    assert found, f"unexpected 'core show channels count' output: {out!r}"
    return int(found.group(1))


async def wait_idle(stack: Stack, limit: float = 15) -> None:
    """Until Asterisk has no channel left (every leg of the test's calls hung up)."""

    async def idle() -> bool:
        return await asyncio.to_thread(active_channels, stack) == 0

    await wait_for("Asterisk to have no channel left", idle, limit)


async def hang_up_everything(stack: Stack) -> str:
    """Hang up whatever is left (tests share the stack); returns what was left."""
    pid = asterisk_pid(stack)
    left = await asyncio.to_thread(cli, stack.paths, pid, "core show channels concise")
    await asyncio.to_thread(cli, stack.paths, pid, "channel request hangup all")
    await wait_idle(stack, 10)
    return left


async def agent_state(desktop: Desktop, agent: str) -> str | None:
    """The agent's state as its desktop last heard it."""
    states = [m.get("payload", m) for _t, m in desktop.of_type("agent.state")]
    mine = [s for s in states if s.get("agent_id") == agent]
    return str(mine[-1].get("state")) if mine else None


async def make_ready(desktop: Desktop, agent: str = AGENT) -> None:
    """Ready from any state (409 = already ready), then wait for the desktop to say so."""
    status, body = await desktop.post(f"/api/agents/{agent}/state", {"state": "ready"})
    assert status in (200, 409), body

    async def ready() -> bool:
        return await agent_state(desktop, agent) == "ready"

    await wait_for(f"agent {agent} ready", ready, 10)


async def get_json(desktop: Desktop, path: str) -> Any:
    async with desktop.session.get(desktop.base + path, headers=desktop.origin) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def wait_crm_seeded(db: Any, at_least: int = 12, limit: float = 30) -> None:
    """The service seeds the demo CRM (config/crm_seed.csv) into an empty database after its
    migrations: wait until the customers are there."""

    async def seeded() -> bool:
        try:
            return int(await db.fetchval("SELECT count(*) FROM customers")) >= at_least
        except Exception:  # the table itself may not be migrated yet
            return False

    await wait_for("the demo CRM", seeded, limit)
