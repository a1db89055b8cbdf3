"""Who was rung for each call, noted from the routing core's commands: a desktop may save
a disposition after the call ended and the router forgot it."""

from __future__ import annotations

from collections.abc import Sequence

from acd.core.commands import Command, RingAgent
from madoguchi.wiring.cti_ports import RouterStateSource


class OwnerListener:
    """The runtime listener that tells the state source each call's agent."""

    def __init__(self, state: RouterStateSource) -> None:
        self._state = state

    def __call__(self, _event: object, commands: Sequence[Command], _now: float) -> None:
        for cmd in commands:
            # The screen pop (PushToDesktop) always comes with its RingAgent.
            if isinstance(cmd, RingAgent) and cmd.agent_id and cmd.call_id:
                self._state.note_owner(cmd.call_id, cmd.agent_id)
