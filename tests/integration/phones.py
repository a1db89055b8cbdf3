"""Watching a SIPp agent phone on the live stack: when its next INVITE arrives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bench.harness.agent import SippAgent
from tests.polling import block_until


def invite_watch(agent: SippAgent, limit: float = 60) -> Callable[[], Awaitable[float]]:
    """Start watching a SIPp phone for its next INVITE; the returned coroutine gives the
    monotonic time it was first seen (polled every 2 ms, in a thread), or fails after `limit`."""
    uas = agent.uas
    assert uas is not None, f"{agent.extension}'s phone is not started"
    before = len(uas.invites())

    def watch() -> float:
        what = f"an INVITE on {agent.extension}'s phone"
        block_until(
            what, lambda: len(uas.invites()), limit, until=lambda n: n > before, every=0.002
        )
        return time.monotonic()

    task = asyncio.create_task(asyncio.to_thread(watch))

    async def result() -> float:
        return await task

    return result
