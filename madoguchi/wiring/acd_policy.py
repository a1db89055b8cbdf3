"""What the ACD asks of the configuration in force while it routes: transfer targets and
ring timeouts (read at each call, so a reload applies at once)."""

from __future__ import annotations

from collections.abc import Callable

from madoguchi.config import Config


class ConfigPolicy:
    def __init__(self, config: Callable[[], Config]) -> None:
        self._config = config

    def transfer_allowed(self, target: str) -> bool:
        """Blind transfers reach agents and queues; no outside number is allowed by default."""
        cfg = self._config()
        return target in cfg.agents or target.removeprefix("queue:") in cfg.queues

    def ring_timeout(self, queue: str) -> float | None:
        q = self._config().queues.get(queue)
        return None if q is None else float(q.ring_timeout)
