"""Shared helpers for the ACD core tests: a router plus the commands it produced."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import TypeVar

from acd.core import (
    AgentSpec,
    AgentState,
    CallEnded,
    Command,
    Event,
    QueueSpec,
    RingAgent,
    Router,
)

T = TypeVar("T")


class Harness:
    """Drives a Router with an explicit clock and keeps every command it returned."""

    def __init__(
        self,
        queues: Iterable[QueueSpec],
        agents: Iterable[AgentSpec],
        *,
        seed: int = 7,
        default_handle_time: float = 180.0,
    ) -> None:
        self.router = Router(
            queues,
            agents,
            rng=random.Random(seed),
            default_handle_time=default_handle_time,
        )
        self.now = 0.0
        self.history: list[Command] = []

    def send(self, event: Event, at: float | None = None) -> list[Command]:
        if at is not None:
            self.now = at
        out = self.router.handle(event, self.now)
        self.history.extend(out)
        return out

    def advance(self, to: float) -> list[Command]:
        from acd.core import Tick

        return self.send(Tick(), at=to)

    def state(self, agent_id: str) -> AgentState:
        view = self.router.agent_view(agent_id, self.now)
        assert view is not None
        return view.state

    def outcome(self, call_id: str) -> CallEnded:
        ended = [c for c in self.history if isinstance(c, CallEnded) and c.call_id == call_id]
        assert len(ended) == 1, ended
        return ended[0]


def of_type(commands: Iterable[Command], kind: type[T]) -> list[T]:
    return [c for c in commands if isinstance(c, kind)]


def rung(commands: Iterable[Command]) -> list[tuple[str, str]]:
    """(call_id, agent_id) of every RingAgent, in order."""
    return [(c.call_id, c.agent_id) for c in of_type(commands, RingAgent)]


def agent(agent_id: str, queues: dict[str, int], **skills: int) -> AgentSpec:
    return AgentSpec(id=agent_id, name=f"agent {agent_id}", skills=skills, queues=queues)
