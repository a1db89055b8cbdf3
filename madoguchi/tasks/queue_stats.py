"""Wallboard figures: each changed queue's stats pushed to supervisors, at most 4 times a
second and on change only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from acd.core.router import Router
from madoguchi.wiring.cti_ports import queue_stats_payload
from madoguchi.wiring.feed import HubLike

PUBLISH_EVERY_S = 0.25


class QueueStatsPublisher:
    def __init__(self, router: Router, hub: HubLike, clock: Callable[[], float]) -> None:
        self._router = router
        self._hub = hub
        self._clock = clock
        self._dirty: set[str] = set()

    def queue_changed(self, queue: str) -> None:
        """The feed's `on_queue_change`: the queue's figures go out with the next push."""
        self._dirty.add(queue)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(PUBLISH_EVERY_S)
            if not self._dirty:
                continue
            dirty, self._dirty = self._dirty, set()
            now = self._clock()
            for name in sorted(dirty):
                stats = self._router.queue_stats(name, now)
                if stats is not None:
                    estimate = self._router.new_caller_wait(name)
                    payload = queue_stats_payload(stats, now, estimate)
                    self._hub.publish_to_supervisors("queue.stats", payload)
