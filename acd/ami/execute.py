"""Router commands carried out: each goes to the part that acts on Asterisk for it (the
others only inform the runtime's listeners)."""

from __future__ import annotations

import logging

from acd.ami.callers import Callers
from acd.ami.rings import Rings
from acd.ami.stats import RuntimeStats
from acd.core.commands import (
    Announce,
    CallEnded,
    CancelRing,
    Command,
    EventIgnored,
    HangupCaller,
    Overflow,
    RingAgent,
    RoutingWarning,
)

log = logging.getLogger(__name__)


class CommandExecutor:
    def __init__(self, rings: Rings, callers: Callers, stats: RuntimeStats) -> None:
        self._rings = rings
        self._callers = callers
        self._stats = stats

    def execute(self, command: Command) -> None:
        match command:
            case RingAgent():
                self._rings.ring(command)
            case CancelRing():
                self._rings.cancel(command.call_id, command.agent_id)
            case HangupCaller():
                self._callers.say_goodbye(command.call_id)
            case Overflow():
                self._callers.overflow(command)
            case Announce():
                self._stats.announcements[command.call_id] = command
            case CallEnded():
                self._stats.announcements.pop(command.call_id, None)
                caller = self._callers.by_call.get(command.call_id)
                if caller is not None and command.outcome.value != "answered":
                    caller.connected_at = None
            case RoutingWarning():
                log.warning("routing: %s: %s", command.call_id, command.message)
            case EventIgnored():
                log.debug("ignored %r: %s", command.event, command.reason)
            case _:
                pass
