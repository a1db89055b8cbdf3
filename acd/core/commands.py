"""Outputs of the router: what the adapter must do, or record, in the order given.

The adapter stays dumb: each command maps to one action (an AMI action, a websocket push, a
database row) and needs no routing knowledge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from acd.core.agent_state import AgentState
from acd.core.call_state import CallOutcome, CallState
from acd.core.events import Event
from acd.core.specs import OverflowTarget


@dataclass(frozen=True, slots=True)
class CallInfo:
    """What an agent's desktop shows for an offered call (the screen pop)."""

    call_id: str
    queue: str
    priority: int
    caller_number: str
    caller_name: str
    waited: float  # seconds since the caller's place in line was taken
    context: Mapping[str, object] = field(default_factory=dict)
    callback_number: str | None = None  # set for a callback: dial it after the agent answers


@dataclass(frozen=True, slots=True)
class PushToDesktop:
    """Screen pop; always emitted just before the matching ``RingAgent``."""

    agent_id: str
    call: CallInfo


@dataclass(frozen=True, slots=True)
class RingAgent:
    """Ring the agent's phone (Originate) for ``call_id``; report ``AgentAnswered`` or
    ``RingFailed``. The router cancels by itself after ``timeout`` (it sends ``CancelRing``).
    For a callback (``callback_number`` set) there is no caller channel: dial the number
    once the agent answers."""

    call_id: str
    agent_id: str
    timeout: float
    caller_number: str
    caller_name: str
    queue: str
    callback_number: str | None = None


@dataclass(frozen=True, slots=True)
class CancelRing:
    """Stop ringing ``agent_id`` for ``call_id`` (hang up the originated leg)."""

    call_id: str
    agent_id: str
    reason: str  # ring_timeout, answered_elsewhere, caller_hung_up, agent_paused, ...


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """An agent transition (record it; push it to the desktop and wallboard)."""

    agent_id: str
    old: AgentState
    new: AgentState
    reason: str | None  # the not_ready reason when ``new`` is not_ready
    at: float
    trigger: str  # what caused it: login, ring_timeout, answered, wrapup_timer, ...
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class WrapUpScheduled:
    """The agent's wrap-up ends at ``until`` unless ended early (also sent on extension)."""

    agent_id: str
    until: float


@dataclass(frozen=True, slots=True)
class CallStateChanged:
    """A call transition (``old`` is None for a call the router just learned about)."""

    call_id: str
    old: CallState | None
    new: CallState
    queue: str | None
    at: float
    trigger: str
    agent_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The one and only outcome of a call (write the call record)."""

    call_id: str
    outcome: CallOutcome
    queue: str | None
    agent_id: str | None  # the agent it was connected to, if any
    arrived_at: float  # when its place in line was taken (or IVR entry)
    ended_at: float
    wait_time: float  # seconds until connected (or until the end if never connected)
    talk_time: float  # seconds connected
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Overflow:
    """The caller leaves its queue: ``queue`` target - nothing to do on the channel (the
    router moved it); ``voicemail`` - send the caller to voicemail; ``callback`` - confirm the
    callback to the caller and hang up (a callback entry keeps its place)."""

    call_id: str
    source_queue: str
    target: OverflowTarget
    reason: str  # after, estimated_wait, queue_full, no_agents, caller_request, queue_removed


@dataclass(frozen=True, slots=True)
class HangupCaller:
    """Play the apology for ``reason`` (max_wait, unknown_queue, ...) and hang the caller up."""

    call_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Announce:
    """Tell a waiting caller its position and estimated wait (None: unknown, say nothing)."""

    call_id: str
    position: int
    estimated_wait: float | None


@dataclass(frozen=True, slots=True)
class CallbackCreated:
    """A callback entry now holds the place of ``original_call_id`` in line."""

    call_id: str
    original_call_id: str
    queue: str
    number: str


@dataclass(frozen=True, slots=True)
class EventIgnored:
    """A stale or inapplicable telephony event (log it; nothing changed)."""

    event: Event
    reason: str


@dataclass(frozen=True, slots=True)
class RoutingWarning:
    """Something was wrong with input but the call was kept (e.g. bad requirements: the
    queue's default is used instead). Log it."""

    call_id: str
    message: str


Command = (
    PushToDesktop
    | RingAgent
    | CancelRing
    | AgentStateChanged
    | WrapUpScheduled
    | CallStateChanged
    | CallEnded
    | Overflow
    | HangupCaller
    | Announce
    | CallbackCreated
    | EventIgnored
    | RoutingWarning
)
