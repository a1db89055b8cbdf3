"""Fixtures for the CTI on the real stack: desktops (from the e2e fixtures), a supervisor,
SIPp phones for agents 1003/1004, raw websocket clients, and a clean floor after each test.

No __init__.py here on purpose: a package named `cti` would shadow the real `cti`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from e2e.conftest import Desktop, desktop_for
from live_floor import Floor, active_channels

from bench.harness.agent import SippAgent
from bench.harness.ports import free_udp_port
from madoguchi.stack.asterisk import cli
from madoguchi.stack.runner import Stack
from tests.polling import wait_for

__all__ = ["Desktop", "desktop_for"]

AGENTS = ("1003", "1004")


@pytest.fixture
async def floor(stack: Stack) -> AsyncIterator[Floor]:
    """The live CTI; afterwards no call is left on Asterisk and agents 1003/1004 are logged
    out (other tests share the stack)."""
    session = aiohttp.ClientSession()
    f = Floor(stack, session)
    try:
        yield f

        async def idle() -> bool:
            return await asyncio.to_thread(active_channels, stack) == 0

        try:
            await f.wait_idle(10)
        except AssertionError as exc:
            left = await asyncio.to_thread(
                cli, stack.paths, stack.asterisk_pid(), "core show channels concise"
            )
            # Leave the shared stack clean for the next test, then report the leak.
            await asyncio.to_thread(
                cli, stack.paths, stack.asterisk_pid(), "channel request hangup all"
            )
            await wait_for("Asterisk to hang up what was left", idle, 10)
            raise AssertionError(f"channels left behind by the test:\n{left}") from exc
        for agent in AGENTS:
            # 409 = already logged out; anything else is a finding.
            assert await f.supervise(agent, "logout") in (200, 409)
    finally:
        await f.close()
        await session.close()


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[Callable[..., SippAgent]]:
    """`phones("1003", talk_ms=None)`: a registered SIPp phone, stopped after the test."""
    started: list[SippAgent] = []

    def start(ext: str, **kw: Any) -> SippAgent:
        kw.setdefault("talk_ms", None)
        kw.setdefault("ring_ms", 200)
        agent = SippAgent(ext, f"pw{ext}", port=free_udp_port(), workdir=tmp_path, **kw)
        agent.start()
        started.append(agent)
        assert agent.register(expires=120) == 0, f"{ext} could not register"
        return agent

    yield start
    for agent in started:
        agent.stop()
