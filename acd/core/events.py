"""Inputs of the router: frozen dataclasses built by the adapter (AMI, CTI) at the edge.

Time is never inside an event: ``Router.handle(event, now)`` receives it. Agent-initiated
events (login, ready, pause, logout, wrap-up) raise ``IllegalAgentTransition`` when the agent's
state forbids them; telephony facts that arrive late (a ring failure for a call already
answered elsewhere, ...) are answered with an ``EventIgnored`` command instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from acd.core.specs import AgentSpec, OverflowTarget, QueueSpec

# ---- agents ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentLoggedIn:
    """Login; ``not_ready_reason`` None = straight to ready, else not_ready(reason)."""

    agent_id: str
    not_ready_reason: str | None = None


@dataclass(frozen=True, slots=True)
class AgentReady:
    """The agent asks to take calls (from not_ready or wrap-up; cancels a pending pause)."""

    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentPaused:
    """not_ready(reason). On a call the pause is kept pending until the call and wrap-up end;
    while ringing the ring is cancelled and the caller keeps its place."""

    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class AgentLoggedOut:
    """Logout; refused (IllegalAgentTransition) while on a call."""

    agent_id: str


@dataclass(frozen=True, slots=True)
class WrapUpDone:
    """The agent ends wrap-up early."""

    agent_id: str


@dataclass(frozen=True, slots=True)
class WrapUpExtended:
    """Add ``seconds`` to the running wrap-up."""

    agent_id: str
    seconds: float


@dataclass(frozen=True, slots=True)
class ContactStatusChanged:
    """The agent's SIP contact became reachable / unreachable (PJSIP ContactStatus)."""

    agent_id: str
    reachable: bool


@dataclass(frozen=True, slots=True)
class PhoneBusyChanged:
    """The agent's phone is (or no longer is) on a call the ACD did not give it: a call the
    agent placed, an internal call, click-to-dial. While busy the agent is not offered calls;
    its ACD state does not change (app_queue's ``ringinuse = no``)."""

    agent_id: str
    busy: bool


# ---- calls ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IvrEntered:
    """Optional: a caller entered the IVR (shown on the wallboard before it queues)."""

    call_id: str
    caller_number: str = ""
    caller_name: str = ""


@dataclass(frozen=True, slots=True)
class CallArrived:
    """A caller entered the waiting context (UserEvent AcdEnqueue).

    ``priority``: higher is served sooner. ``requirements``: a skill expression; empty means
    the queue's default. ``context``: opaque data for the screen pop (decoded ACD_CONTEXT).
    """

    call_id: str
    queue: str
    priority: int = 0
    requirements: str = ""
    caller_number: str = ""
    caller_name: str = ""
    context: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    """The caller's channel hung up (in the IVR, waiting, ringing, or talking)."""

    call_id: str


@dataclass(frozen=True, slots=True)
class AgentAnswered:
    """The agent's leg of an offered call answered (caller bridged)."""

    call_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class RingFailed:
    """Ringing the agent failed: ``cause`` such as no_answer, busy, rejected, unreachable."""

    call_id: str
    agent_id: str
    cause: str


@dataclass(frozen=True, slots=True)
class CallCompleted:
    """A connected call ended (either side hung up)."""

    call_id: str


@dataclass(frozen=True, slots=True)
class CallTransferred:
    """A connected call was transferred: ``queue:<name>`` re-queues it, anything else
    (an extension, a number) takes it out of the ACD with outcome ``transferred``."""

    call_id: str
    target: str


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """A waiting caller asked to be called back on ``number`` (empty: its caller number)."""

    call_id: str
    number: str = ""


@dataclass(frozen=True, slots=True)
class VoicemailRequested:
    """A waiting caller chose to leave a message (a key press where the queue allows
    voicemail): the call ends with ``overflow_voicemail``; the adapter's dialplan takes the
    caller to the queue's mailbox itself."""

    call_id: str


# ---- housekeeping ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tick:
    """Nothing happened except time passing (send it at ``Router.next_deadline()``)."""


@dataclass(frozen=True, slots=True)
class ConfigReplaced:
    """Apply a new configuration as a diff (see ``Router`` for the rules).

    ``drain_targets``: for queues that disappear, where their waiting callers go; a removed
    queue without one keeps serving its waiting callers with its old members until empty.
    """

    queues: tuple[QueueSpec, ...]
    agents: tuple[AgentSpec, ...]
    drain_targets: Mapping[str, OverflowTarget] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CountersReset:
    """Start new service-level counters (e.g. at local midnight)."""


Event = (
    AgentLoggedIn
    | AgentReady
    | AgentPaused
    | AgentLoggedOut
    | WrapUpDone
    | WrapUpExtended
    | ContactStatusChanged
    | PhoneBusyChanged
    | IvrEntered
    | CallArrived
    | CallerHungUp
    | AgentAnswered
    | RingFailed
    | CallCompleted
    | CallTransferred
    | CallbackRequested
    | VoicemailRequested
    | Tick
    | ConfigReplaced
    | CountersReset
)
