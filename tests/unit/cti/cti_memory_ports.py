"""In-memory implementations of the CTI ports for tests (and the browser tests).

`MemoryFloor` is a tiny contact-center floor: agents with a state machine, calls with an
owner, a disposition store. It publishes through the real Hub the way the composition root
will, so the tests exercise the real fan-out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from cti.app import build_app
from cti.auth import Credential, StaticAuthenticator
from cti.commands import (
    AgentCommand,
    Dial,
    Disposition,
    Hangup,
    Hold,
    Logout,
    Pause,
    Ready,
    Transfer,
    Unhold,
    WrapupDone,
)
from cti.hub import Hub
from cti.ports import CommandResult, JsonObject, Role

AGENTS = {"1001": "山田 花子", "1002": "佐藤 次郎", "1003": "Carol Jones"}
SUPERVISORS = {"admin": "管理者"}


def authenticator() -> StaticAuthenticator:
    creds = [Credential(Role.AGENT, a, f"pw{a}", n) for a, n in AGENTS.items()]
    creds += [Credential(Role.SUPERVISOR, s, "superpw", n) for s, n in SUPERVISORS.items()]
    return StaticAuthenticator(creds)


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# The one transition table of the fake agent: command -> states it is legal in.
LEGAL: dict[type, frozenset[str]] = {
    Ready: frozenset({"logged_out", "not_ready", "wrap_up", "ready"}),
    Pause: frozenset({"ready", "not_ready", "wrap_up", "logged_out"}),
    Logout: frozenset({"ready", "not_ready", "wrap_up", "logged_out"}),
    Hangup: frozenset({"on_call", "reserved"}),
    Hold: frozenset({"on_call"}),
    Unhold: frozenset({"on_call"}),
    Transfer: frozenset({"on_call"}),
    Dial: frozenset({"not_ready", "ready", "wrap_up"}),
    WrapupDone: frozenset({"wrap_up"}),
}


@dataclass
class FakeCall:
    call_id: str
    agent_id: str
    offered: dict[str, Any]
    state: str = "offered"
    on_hold: bool = False


@dataclass
class MemoryFloor:
    hub: Hub
    clock: Callable[[], float]
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, FakeCall] = field(default_factory=dict)
    dispositions: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    received: list[tuple[str, AgentCommand]] = field(default_factory=list)
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for agent_id, name in AGENTS.items():
            self.agents[agent_id] = {
                "agent_id": agent_id,
                "name": name,
                "state": "logged_out",
                "reason": None,
                "since": self.clock(),
                "call_id": None,
            }
        for q in ("sales", "support"):
            self.queues[q] = {
                "queue": q,
                "waiting": 0,
                "longest_wait_since": None,
                "service_level": None,
                "service_level_threshold": 20,
                "answered_today": 0,
                "abandoned_today": 0,
            }

    # -- helpers driving the floor like the ACD would --

    def set_state(self, agent_id: str, state: str, reason: str | None = None) -> None:
        agent = self.agents[agent_id]
        agent.update(state=state, reason=reason, since=self.clock())
        self.hub.publish_to_agent(agent_id, "agent.state", dict(agent))
        self.hub.publish_to_supervisors("agent.state", dict(agent))

    def offer_call(
        self,
        agent_id: str,
        call_id: str,
        *,
        number: str = "0312345678",
        name: str = "田中 一郎",
        queue: str = "sales",
    ) -> dict[str, Any]:
        offered: dict[str, Any] = {
            "call_id": call_id,
            "queue": queue,
            "caller": {"number": number, "name": name},
            "wait_seconds": 42.0,
            "offered_at": self.clock(),
            "priority": 5,
            "language": "ja",
            "ivr": {
                "flow": "main",
                "path": ["welcome", "menu:1", "account"],
                "entered": {"account": "12345678", "card": "************1234"},
            },
            "customer": {"id": "C-1", "name": name, "tier": "gold", "account": "12345678"},
            "last_contacts": [
                {
                    "at": self.clock() - 86400,
                    "queue": "support",
                    "agent_id": "1003",
                    "outcome": "answered",
                    "disposition": "resolved",
                    "notes": "住所変更",
                }
            ],
            "ring_timeout": 15,
        }
        self.calls[call_id] = FakeCall(call_id, agent_id, offered)
        self.agents[agent_id].update(call_id=call_id)
        self.hub.publish_to_agent(agent_id, "call.offered", offered)
        self.set_state(agent_id, "reserved")
        return offered

    def connect_call(self, call_id: str) -> None:
        call = self.calls[call_id]
        call.state = "connected"
        self.hub.publish_to_agent(
            call.agent_id, "call.connected", {"call_id": call_id, "connected_at": self.clock()}
        )
        self.set_state(call.agent_id, "on_call")

    def end_call(self, call_id: str, outcome: str = "answered") -> None:
        call = self.calls[call_id]
        call.state = "ended"
        self.hub.publish_to_agent(
            call.agent_id,
            "call.ended",
            {
                "call_id": call_id,
                "outcome": outcome,
                "ended_at": self.clock(),
                "wrapup_seconds": 10,
            },
        )
        self.history.setdefault(call.agent_id, []).insert(
            0,
            {
                "call_id": call_id,
                "at": call.offered["offered_at"],
                "direction": "inbound",
                "number": call.offered["caller"]["number"],
                "name": call.offered["caller"]["name"],
                "queue": call.offered["queue"],
                "duration": 30.0,
                "outcome": outcome,
                "disposition": None,
            },
        )
        self.agents[call.agent_id].update(call_id=None)
        self.set_state(call.agent_id, "wrap_up")

    def queue_update(self, queue: str, **fields: Any) -> None:
        self.queues[queue].update(fields)
        self.hub.publish_to_supervisors("queue.stats", dict(self.queues[queue]))

    # -- CommandHandler --

    async def agent_command(self, agent_id: str, command: AgentCommand) -> CommandResult:
        self.received.append((agent_id, command))
        if isinstance(command, Disposition):
            return CommandResult(True)
        state = self.agents[agent_id]["state"]
        legal = LEGAL.get(type(command))
        if legal is not None and state not in legal:
            return CommandResult(False, f"illegal in state {state}")
        match command:
            case Ready() | WrapupDone():
                self.set_state(agent_id, "ready")
            case Pause(reason=reason):
                self.set_state(agent_id, "not_ready", reason)
            case Logout():
                self.set_state(agent_id, "logged_out")
            case Hangup(call_id=call_id) | Transfer(call_id=call_id, mode="blind"):
                self.end_call(
                    call_id, "transferred" if isinstance(command, Transfer) else "answered"
                )
            case Hold(call_id=call_id) | Unhold(call_id=call_id):
                self.calls[call_id].on_hold = isinstance(command, Hold)
                self.hub.publish_to_agent(
                    agent_id,
                    "call.held",
                    {"call_id": call_id, "on_hold": isinstance(command, Hold)},
                )
            case Dial(number=number):
                call_id = f"out-{len(self.calls) + 1}"
                return CommandResult(True, data={"call_id": call_id, "number": number})
            case _:
                pass
        return CommandResult(True)

    async def set_agent_state(
        self, supervisor_id: str, agent_id: str, state: str, reason: str | None
    ) -> CommandResult:
        if agent_id not in self.agents:
            return CommandResult(False, "unknown agent")
        self.set_state(agent_id, state, reason)
        return CommandResult(True, data={"by": supervisor_id})

    # -- StateSource --

    async def agent_snapshot(self, agent_id: str) -> JsonObject:
        agent = self.agents[agent_id]
        call = self.calls.get(agent["call_id"] or "")
        current = None
        if call is not None:
            current = {**call.offered, "state": call.state, "on_hold": call.on_hold}
        return {
            "agent": dict(agent),
            "call": current,
            "recent_calls": self.history.get(agent_id, [])[:20],
        }

    async def wallboard_snapshot(self) -> JsonObject:
        return {
            "queues": [dict(q) for q in self.queues.values()],
            "agents": [dict(a) for a in self.agents.values()],
        }

    async def call_owner(self, call_id: str) -> str | None:
        call = self.calls.get(call_id)
        return call.agent_id if call else None

    # -- CrmStore --

    async def save_disposition(self, agent_id: str, call_id: str, code: str, notes: str) -> None:
        self.dispositions[call_id] = (agent_id, code, notes)
        for row in self.history.get(agent_id, []):
            if row["call_id"] == call_id:
                row.update(disposition=code, notes=notes)

    async def recent_calls(self, agent_id: str, limit: int) -> Sequence[Mapping[str, Any]]:
        return self.history.get(agent_id, [])[:limit]


def memory_app(floor: MemoryFloor, **options: Any) -> web.Application:
    """The real CTI app on the memory floor (commands, state and CRM) and the floor's hub,
    with the demo's agent and supervisor logins; `options` go to build_app."""
    return build_app(
        authenticator=authenticator(),
        commands=floor,
        state=floor,
        crm=floor,
        hub=floor.hub,
        **options,
    )
