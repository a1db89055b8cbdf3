"""The event table: each event type and the one handler that applies it.

A handler takes ``(state, event, now, out)``, changes the state and appends the commands to
``out``; ``Router.handle`` fires the due timers first and looks the handler up here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from acd.core.commands import Command
from acd.core.events import (
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    CallArrived,
    CallbackRequested,
    CallCompleted,
    CallerHungUp,
    CallTransferred,
    ConfigReplaced,
    ContactStatusChanged,
    CountersReset,
    IvrEntered,
    PhoneBusyChanged,
    RingFailed,
    Tick,
    VoicemailRequested,
    WrapUpDone,
    WrapUpExtended,
)
from acd.core.routing import agent_events, call_events
from acd.core.routing.configuration import on_config_replaced
from acd.core.routing.counters import on_counters_reset
from acd.core.routing.state import RoutingState

Handler = Callable[[RoutingState, Any, float, list[Command]], None]
E = TypeVar("E")


def _row(
    kind: type[E], handler: Callable[[RoutingState, E, float, list[Command]], None]
) -> tuple[type, Handler]:
    """One table row; mypy checks that ``handler`` takes events of type ``kind``."""
    return kind, handler


def _on_tick(state: RoutingState, event: Tick, now: float, out: list[Command]) -> None:
    """Nothing beyond the due timers, which ``Router.handle`` fires for every event."""


HANDLERS: dict[type, Handler] = dict(
    (
        _row(Tick, _on_tick),
        _row(AgentLoggedIn, agent_events.on_login),
        _row(AgentReady, agent_events.on_ready),
        _row(AgentPaused, agent_events.on_paused),
        _row(AgentLoggedOut, agent_events.on_logout),
        _row(WrapUpDone, agent_events.on_wrapup_done),
        _row(WrapUpExtended, agent_events.on_wrapup_extended),
        _row(ContactStatusChanged, agent_events.on_contact),
        _row(PhoneBusyChanged, agent_events.on_phone_busy),
        _row(IvrEntered, call_events.on_ivr_entered),
        _row(CallArrived, call_events.on_call_arrived),
        _row(CallerHungUp, call_events.on_caller_hung_up),
        _row(AgentAnswered, call_events.on_answered),
        _row(RingFailed, call_events.on_ring_failed),
        _row(CallCompleted, call_events.on_call_completed),
        _row(CallTransferred, call_events.on_transferred),
        _row(CallbackRequested, call_events.on_callback_requested),
        _row(VoicemailRequested, call_events.on_voicemail_requested),
        _row(ConfigReplaced, on_config_replaced),
        _row(CountersReset, on_counters_reset),
    )
)
