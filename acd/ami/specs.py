"""The queues and agents the runtime serves, by name; replaced whole on a config reload."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from acd.core.specs import AgentSpec, QueueSpec


@dataclass(slots=True)
class ServedSpecs:
    queues: dict[str, QueueSpec] = field(default_factory=dict)
    agents: dict[str, AgentSpec] = field(default_factory=dict)

    def replace(self, queues: Sequence[QueueSpec], agents: Sequence[AgentSpec]) -> set[str]:
        """Take the new specs; returns the agents no longer served."""
        removed = self.agents.keys() - {spec.id for spec in agents}
        self.queues = {spec.name: spec for spec in queues}
        self.agents = {spec.id: spec for spec in agents}
        return removed
