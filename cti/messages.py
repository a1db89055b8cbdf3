"""Websocket message types and the payload shapes the CTI expects from its publishers.

These TypedDicts document the contract (docs/cti-protocol.md is the full catalogue); the hub
forwards any JSON-able payload as is, and the pages read exactly these fields.
Times are epoch seconds (float); durations are seconds.
"""

from __future__ import annotations

from typing import Final, NotRequired, TypedDict

# Server -> client message types that are part of the replayable stream (they carry `seq`).
SNAPSHOT: Final = "snapshot"
AGENT_STATE: Final = "agent.state"
CALL_OFFERED: Final = "call.offered"
CALL_CONNECTED: Final = "call.connected"
CALL_HELD: Final = "call.held"
CALL_ENDED: Final = "call.ended"
QUEUE_STATS: Final = "queue.stats"
WALLBOARD: Final = "wallboard"
RECENT_CALLS: Final = "recent_calls"
NOTICE: Final = "notice"
# Control messages for one connection only (no `seq`, never replayed).
RESUMED: Final = "resumed"
HEARTBEAT: Final = "heartbeat"
PONG: Final = "pong"
RESULT: Final = "result"
ERROR: Final = "error"

CALL_TYPES: Final = frozenset({CALL_OFFERED, CALL_CONNECTED, CALL_HELD, CALL_ENDED})


class Caller(TypedDict):
    number: str
    name: str


class IvrInfo(TypedDict):
    flow: str
    path: list[str]
    entered: dict[str, str]  # already masked by the IVR (e.g. card "************1234")


class Customer(TypedDict):
    id: str
    name: str
    tier: NotRequired[str]
    account: NotRequired[str]
    notes: NotRequired[str]


class Contact(TypedDict):
    at: float
    call_id: NotRequired[str]
    queue: NotRequired[str]
    agent_id: NotRequired[str]
    outcome: NotRequired[str]
    disposition: NotRequired[str]
    notes: NotRequired[str]


class CallOffered(TypedDict):
    """`call.offered`, the screen pop: published to the agent the call is offered to, before
    (or as) its phone is rung."""

    call_id: str
    queue: str
    caller: Caller
    wait_seconds: float  # time the caller has waited in queue so far
    offered_at: float
    priority: NotRequired[int]
    language: NotRequired[str]
    ivr: NotRequired[IvrInfo | None]
    customer: NotRequired[Customer | None]
    last_contacts: NotRequired[list[Contact]]
    ring_timeout: NotRequired[int]


class CallConnected(TypedDict):
    call_id: str
    connected_at: float


class CallHeld(TypedDict):
    call_id: str
    on_hold: bool


class CallEnded(TypedDict):
    call_id: str
    outcome: str  # answered, abandoned, transferred, no_answer, system_failure, ...
    ended_at: float
    wrapup_seconds: NotRequired[int]


class AgentState(TypedDict):
    """`agent.state`: an absolute state, so applying one twice is harmless."""

    agent_id: str
    state: str  # logged_out | ready | reserved | on_call | wrap_up | not_ready
    since: float
    name: NotRequired[str]
    reason: NotRequired[str | None]
    call_id: NotRequired[str | None]


class QueueStats(TypedDict):
    """`queue.stats`: absolute figures for one queue."""

    queue: str
    waiting: int
    longest_wait_since: float | None  # enqueue time of the oldest waiting caller, None if empty
    service_level: float | None  # percent answered within the threshold today, None if no calls
    service_level_threshold: NotRequired[int]
    answered_today: NotRequired[int]
    abandoned_today: NotRequired[int]
    offered_today: NotRequired[int]
    # What a caller arriving now is told (the routing core's forecast): seconds, the likely
    # range, and the words of the announcement ("3 to 5 minutes"); None: nobody staffs it.
    estimated_wait: NotRequired[EstimatedWait | None]


class EstimatedWait(TypedDict):
    seconds: float
    low: float
    high: float
    callback_within: float
    text: str


class RecentCall(TypedDict):
    call_id: str
    at: float
    direction: NotRequired[str]  # inbound | outbound
    number: NotRequired[str]
    name: NotRequired[str]
    queue: NotRequired[str]
    duration: NotRequired[float]
    outcome: NotRequired[str]
    disposition: NotRequired[str | None]
    notes: NotRequired[str]


class AgentSnapshot(TypedDict):
    """What `StateSource.agent_snapshot` returns; sent as the `snapshot` payload to agents."""

    agent: AgentState
    call: NotRequired[CallOffered | None]  # the current call, with `state` added if known
    recent_calls: NotRequired[list[RecentCall]]


class WallboardSnapshot(TypedDict):
    """What `StateSource.wallboard_snapshot` returns; the `snapshot` / `wallboard` payload
    for supervisors."""

    queues: list[QueueStats]
    agents: list[AgentState]
