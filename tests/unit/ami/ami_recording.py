"""A recording AMI connection for runtime unit tests (no sockets).

It records every action, answers listings from the rows a test sets, completes other actions
with "Success" and leaves Originate futures for the test to resolve (as Asterisk would, with
the OriginateResponse). Events are pushed with ``emit`` exactly as panoramisk dispatches them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from acd.ami.connection import AmiSettings, Backoff
from acd.ami.resync_apply import Resynced
from acd.ami.runtime import AcdRuntime
from acd.core.commands import Command
from acd.core.router import Router
from acd.core.specs import AgentSpec, QueueSpec


@dataclass
class RecordingConnection:
    on_login: Callable[[], None]
    on_lost: Callable[[], None]
    actions: list[dict[str, str]] = field(default_factory=list)
    originates: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    channels: list[dict[str, str]] = field(default_factory=list)
    contacts: list[dict[str, str]] = field(default_factory=list)
    variables: dict[tuple[str, str], str] = field(default_factory=dict)  # (channel, name)
    callback: Any = None
    connected: bool = False
    answer_pings: bool = True
    drops: int = 0
    credentials: tuple[str, str] | None = None
    paused: bool = False
    pauses: int = 0

    @property
    def usable(self) -> bool:
        return self.connected

    def register_event(self, pattern: str, callback: Any) -> Any:
        self.callback = callback
        return callback

    def connect(self) -> None:
        self.connected = True
        asyncio.get_running_loop().call_soon(self.on_login)

    def close(self) -> None:
        self.connected = False

    def use_credentials(self, username: str, secret: str) -> None:
        self.credentials = (username, secret)

    def pause_reading(self) -> None:
        assert not self.paused, "paused twice"
        self.paused = True
        self.pauses += 1

    def resume_reading(self) -> None:
        self.paused = False

    def drop(self) -> None:
        self.drops += 1
        self.connected = False
        self.on_lost()

    def send_action(self, action: dict[str, str]) -> asyncio.Future[Any]:
        self.actions.append(dict(action))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        name = action["Action"]
        if name == "Ping" and not self.answer_pings:
            pass  # a hung Asterisk: no answer ever
        elif name == "Originate" and "ChannelId" in action:
            self.originates[action["ChannelId"]] = future
        elif name == "Getvar":
            value = self.variables.get((action["Channel"], action["Variable"]), "")
            future.set_result(
                {"Response": "Success", "Variable": action["Variable"], "Value": value}
            )
        elif name == "CoreShowChannels":
            future.set_result(self._listing(self.channels, "CoreShowChannelsComplete"))
        elif name == "PJSIPShowContacts":
            if self.contacts:
                future.set_result(self._listing(self.contacts, "ContactListComplete"))
            else:
                future.set_result({"Response": "Error", "Message": "No Contacts found"})
        else:
            future.set_result({"Response": "Success", "ActionID": action.get("ActionID", "")})
        return future

    @staticmethod
    def _listing(rows: list[dict[str, str]], complete: str) -> list[dict[str, str]]:
        return [
            {"Response": "Success", "EventList": "start"},
            *rows,
            {"Event": complete, "EventList": "Complete"},
        ]

    async def emit(self, event: dict[str, object]) -> None:
        await self.callback(self, event)

    def named(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.actions if a["Action"] == name]


@dataclass
class Rig:
    runtime: AcdRuntime
    seen: list[tuple[object, tuple[Command, ...]]]
    clock: list[float]

    @property
    def ami(self) -> RecordingConnection:
        connection = self.runtime._manager
        assert isinstance(connection, RecordingConnection)
        return connection

    def commands(self) -> list[Command]:
        return [c for _, cs in self.seen for c in cs]

    def of(self, kind: type[Any]) -> list[Any]:
        return [c for c in self.commands() if isinstance(c, kind)]

    async def settle(self) -> None:
        """Let the runtime's queue drain (bounded: fails instead of hanging)."""
        idle = 0
        for _ in range(500):
            await asyncio.sleep(0)
            idle = idle + 1 if self.runtime.status()["pending"] == 0 else 0
            if idle >= 3:
                return
        raise AssertionError("the runtime's queue did not drain")


def make_rig(
    *,
    agents: tuple[str, ...] = ("1003", "1004"),
    ring_timeout: float = 5.0,
    wrapup: float = 0.0,
    ping_interval: float = 5.0,
    action_timeout: float = 10.0,
    ring_ahead_yield: float = 0.0,
    ring_ahead: bool = True,
) -> Rig:
    clock = [1000.0]
    queues = [QueueSpec("support", ring_timeout=ring_timeout, wrapup=wrapup, max_wait=0)]
    specs = [AgentSpec(a, f"Agent {a}", queues={"support": 1}) for a in agents]
    router = Router(queues, specs, now=clock[0])

    def factory(
        settings: AmiSettings,
        *,
        on_login: Callable[[], None],
        on_lost: Callable[[], None],
        backoff: Backoff | None = None,
        ping_delay: float = 5.0,
    ) -> RecordingConnection:
        return RecordingConnection(on_login, on_lost)

    runtime = AcdRuntime(
        host="127.0.0.1",
        port=5038,
        username="madoguchi",
        secret="s3cret",
        router=router,
        clock=lambda: clock[0],
        connection_factory=factory,
        ping_interval=ping_interval,
        action_timeout=action_timeout,
        ring_ahead_yield=ring_ahead_yield,
        ring_ahead=ring_ahead,
    )
    seen: list[tuple[object, tuple[Command, ...]]] = []
    runtime.add_listener(lambda event, commands, now: seen.append((event, tuple(commands))))
    return Rig(runtime, seen, clock)


def enqueue(uniqueid: str, number: str = "0312345678", name: str = "Caller") -> dict[str, object]:
    return {
        "Event": "UserEvent",
        "UserEvent": "AcdEnqueue",
        "Channel": f"PJSIP/callers-{uniqueid}",
        "Uniqueid": [uniqueid, uniqueid],
        "CallerIDNum": number,
        "CallerIDName": name,
        "Context": ["madoguchi-wait", ""],
        "Priority": ["2", ""],
        "Queue": "support",
        "Skills": "",
    }


def hangup(uniqueid: str, channel: str = "", cause: int = 16) -> dict[str, object]:
    return {"Event": "Hangup", "Uniqueid": uniqueid, "Channel": channel, "Cause": str(cause)}


def originate_response(channel_id: str, success: bool, reason: int) -> list[dict[str, str]]:
    return [
        {"Response": "Success", "Message": "Originate successfully queued"},
        {
            "Event": "OriginateResponse",
            "ActionID": f"{channel_id}/ring",
            "Response": "Success" if success else "Failure",
            "Channel": "PJSIP/1003-00000001",
            "Reason": str(reason),
            "Uniqueid": channel_id,
        },
    ]


def channel_row(uniqueid: str, channel: str, context: str, **extra: str) -> dict[str, str]:
    return {
        "Event": "CoreShowChannel",
        "Uniqueid": uniqueid,
        "Channel": channel,
        "Context": context,
        "Extension": "s",
        "Duration": "00:00:07",
        "CallerIDNum": "0312345678",
        "CallerIDName": "Caller",
        **extra,
    }


async def started_rig(**options: Any) -> Rig:
    """A rig (``make_rig(**options)``) started, resynced, both phones reachable."""
    rig = make_rig(**options)
    await rig.runtime.start()
    await rig.settle()
    assert any(isinstance(event, Resynced) for event, _ in rig.seen)
    # Both phones register (what later resyncs will list).
    for agent in ("1003", "1004"):
        await rig.ami.emit({"Event": "ContactStatus", "AOR": agent, "ContactStatus": "Reachable"})
        rig.ami.contacts.append(
            {"Event": "ContactList", "ObjectName": f"{agent};@h", "Status": "Reachable"}
        )
    await rig.settle()
    assert rig.runtime.router.agent_view("1003", rig.clock[0]).reachable  # type: ignore[union-attr]
    return rig
