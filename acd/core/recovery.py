"""What the adapter gathers after a restart to rebuild the router (``Router.recover``).

Channels come from Asterisk (CoreShowChannels / the waiting context), contacts from
PJSIPShowContacts, and the agents' logged-in state from the service's own records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RecoveredAgent:
    """A logged-in agent; ``not_ready_reason`` None = ready. Agents not listed are logged out."""

    agent_id: str
    not_ready_reason: str | None = None
    reachable: bool = True


@dataclass(frozen=True, slots=True)
class RecoveredCall:
    """A live caller: waiting (``agent_id`` None) or bridged to ``agent_id``.

    A caller that was being rung is reported as waiting: the ring is not trusted after a
    restart and the call is offered again. Callback entries have no channel: list them from
    the service's records with ``callback_number`` set.
    """

    call_id: str
    queue: str
    arrived_at: float
    priority: int = 0
    requirements: str = ""
    caller_number: str = ""
    caller_name: str = ""
    context: Mapping[str, object] = field(default_factory=dict)
    agent_id: str | None = None
    connected_at: float | None = None
    callback_number: str | None = None  # a waiting callback entry (kept by the service's db)


@dataclass(frozen=True, slots=True)
class RecoverySnapshot:
    """``unreachable``: ids of agents (logged in or not) whose SIP contact is unreachable."""

    agents: tuple[RecoveredAgent, ...] = ()
    calls: tuple[RecoveredCall, ...] = ()
    unreachable: tuple[str, ...] = ()
