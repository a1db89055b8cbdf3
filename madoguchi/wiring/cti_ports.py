"""The CTI's ports implemented on the ACD runtime, the routing core's views and the DB."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from acd.ami.client import AmiActionFailed, AmiUnavailable
from acd.ami.controls import NoActiveCall
from acd.core.agent_state import AgentState
from acd.core.errors import IllegalAgentTransition
from acd.core.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    Event,
    WrapUpDone,
    WrapUpExtended,
)
from acd.core.router import Router
from acd.core.views import AgentView, QueueStats
from acd.core.wait_estimates import WaitEstimate, spoken_wait
from cti import commands as c
from cti.auth import Credential, StaticAuthenticator
from cti.ports import CommandResult, JsonObject, Role
from madoguchi.config import Config

log = logging.getLogger(__name__)
MAX_REMEMBERED_OWNERS = 50_000
Clock = Callable[[], float]


class Runtime(Protocol):
    """The part of acd.ami's AcdRuntime the desktop uses."""

    def submit(self, event: Event) -> list[Any]: ...
    async def hangup(self, agent_id: str) -> None: ...
    async def blind_transfer(self, agent_id: str, target: str) -> None: ...
    async def attended_transfer(self, agent_id: str, target: str) -> None: ...
    async def hold(self, agent_id: str, on: bool) -> None: ...
    async def dial(self, agent_id: str, number: str) -> None: ...


def authenticator(config: Config) -> StaticAuthenticator:
    creds = [Credential(Role.AGENT, a.id, a.password, a.name) for a in config.agents.values()]
    creds += [
        Credential(Role.SUPERVISOR, s.id, s.password, s.name) for s in config.supervisors.values()
    ]
    return StaticAuthenticator(creds)


def agent_state_payload(view: AgentView) -> dict[str, Any]:
    return {
        "agent_id": view.agent_id,
        "name": view.name,
        "state": str(view.state),
        "since": view.since,
        "reason": view.reason,
        "call_id": view.call_id,
        "reachable": view.reachable,
    }


def estimated_wait_payload(estimate: WaitEstimate | None) -> dict[str, Any] | None:
    """The forecast as the CTI shows it, with the words the caller hears."""
    if estimate is None:
        return None
    return {
        "seconds": round(estimate.seconds, 1),
        "low": round(estimate.low, 1),
        "high": round(estimate.high, 1),
        "callback_within": round(estimate.callback_within, 1),
        "text": spoken_wait(estimate).text(),
    }


def queue_stats_payload(
    stats: QueueStats, now: float, estimate: WaitEstimate | None = None
) -> dict[str, Any]:
    counters = stats.counters
    sl = stats.service_level
    return {
        "queue": stats.name,
        "waiting": stats.waiting,
        "longest_wait_since": (now - stats.longest_wait) if stats.waiting else None,
        "service_level": None if sl is None else round(100.0 * sl, 1),
        "offered_today": counters.entered,
        "answered_today": counters.answered,
        "abandoned_today": counters.abandoned,
        "agents_by_state": {str(k): v for k, v in stats.agents_by_state.items()},
        "logged_in": stats.logged_in,
        "estimated_wait": estimated_wait_payload(estimate),
    }


class RouterStateSource:
    """Snapshots for desktops and the wallboard, read from the routing core's views."""

    def __init__(self, router: Router, clock: Clock, service_levels: Mapping[str, int]) -> None:
        self._router = router
        self._clock = clock
        self._sl = service_levels
        # Who had each recent call, for dispositions after it ended. Bounded: the oldest
        # entries go first (a desktop saves a disposition minutes after the call, not days).
        self._owners: OrderedDict[str, str] = OrderedDict()

    def note_owner(self, call_id: str, agent_id: str) -> None:
        self._owners[call_id] = agent_id
        self._owners.move_to_end(call_id)
        while len(self._owners) > MAX_REMEMBERED_OWNERS:
            self._owners.popitem(last=False)

    async def agent_snapshot(self, agent_id: str) -> JsonObject:
        now = self._clock()
        view = self._router.agent_view(agent_id, now)
        if view is None:
            return {"agent": {"agent_id": agent_id, "state": "logged_out", "since": now}}
        snapshot: dict[str, Any] = {"agent": agent_state_payload(view), "call": None}
        if view.call_id:
            call = self._router.call_view(view.call_id, now)
            if call is not None:
                snapshot["call"] = {
                    "call_id": call.call_id,
                    "queue": call.queue or "",
                    "caller": {"number": call.caller_number, "name": call.caller_name},
                    "wait_seconds": round(call.waited, 1),
                    "offered_at": now,
                    "priority": call.priority,
                    "state": str(call.state),
                }
        return snapshot

    async def wallboard_snapshot(self) -> JsonObject:
        now = self._clock()
        snap = self._router.snapshot(now)
        queues = []
        for q in snap.queues:
            payload = queue_stats_payload(q, now, self._router.new_caller_wait(q.name))
            payload["service_level_threshold"] = self._sl.get(q.name, 20)
            queues.append(payload)
        return {"queues": queues, "agents": [agent_state_payload(a) for a in snap.agents]}

    async def call_owner(self, call_id: str) -> str | None:
        now = self._clock()
        view = self._router.call_view(call_id, now)
        if view is not None and view.agent_ids:
            return view.agent_ids[0]
        return self._owners.get(call_id)


Publish = Callable[[str, str, Mapping[str, Any]], None]


class AcdCommandHandler:
    """Desktop commands -> routing-core events (state) or AMI call controls (calls).

    `publish` (the hub's publish_to_agent) tells the agent's desktops about what only the
    command itself knows: a successful hold / resume (`call.held`)."""

    def __init__(
        self, runtime: Runtime, router: Router, clock: Clock, publish: Publish | None = None
    ) -> None:
        self._runtime = runtime
        self._router = router
        self._clock = clock
        self._publish = publish

    def _held(self, agent_id: str, call_id: str, on_hold: bool) -> None:
        if self._publish is not None:
            self._publish(agent_id, "call.held", {"call_id": call_id, "on_hold": on_hold})

    def _state(self, agent_id: str) -> AgentState | None:
        view = self._router.agent_view(agent_id, self._clock())
        return None if view is None else view.state

    def _submit(self, event: Event) -> CommandResult:
        try:
            self._runtime.submit(event)
        except IllegalAgentTransition as exc:
            return CommandResult(ok=False, reason="illegal_state", data={"detail": str(exc)})
        return CommandResult(ok=True)

    async def agent_command(self, agent_id: str, command: c.AgentCommand) -> CommandResult:
        """State commands become routing events; call controls become AMI actions. What the
        ACD or Asterisk refuses is a refusal with a reason (409), never a server error."""
        try:
            return await self._agent_command(agent_id, command)
        except NoActiveCall:
            return CommandResult(ok=False, reason="no_active_call")
        except AmiActionFailed as exc:
            log.warning("agent %s: %s refused by Asterisk: %s", agent_id, command.name, exc)
            return CommandResult(ok=False, reason="pbx_refused", data={"detail": str(exc)})
        except AmiUnavailable:
            return CommandResult(ok=False, reason="pbx_unavailable")
        except ValueError as exc:  # e.g. a transfer target that is not allowed
            return CommandResult(ok=False, reason="not_allowed", data={"detail": str(exc)})

    async def _agent_command(self, agent_id: str, command: c.AgentCommand) -> CommandResult:
        state = self._state(agent_id)
        if state is None:
            return CommandResult(ok=False, reason="unknown_agent")
        logged_out = state == AgentState.LOGGED_OUT
        match command:
            case c.Ready():
                return self._submit(AgentLoggedIn(agent_id) if logged_out else AgentReady(agent_id))
            case c.Pause(reason=reason):
                if logged_out:
                    return self._submit(AgentLoggedIn(agent_id, not_ready_reason=reason))
                return self._submit(AgentPaused(agent_id, reason))
            case c.Logout():
                return self._submit(AgentLoggedOut(agent_id))
            case c.WrapupDone():
                return self._submit(WrapUpDone(agent_id))
            case c.WrapupExtend(seconds=seconds):
                return self._submit(WrapUpExtended(agent_id, float(seconds)))
            case c.Hangup():
                await self._runtime.hangup(agent_id)
            case c.Hold(call_id=call_id):
                await self._runtime.hold(agent_id, True)
                self._held(agent_id, call_id, True)
            case c.Unhold(call_id=call_id):
                await self._runtime.hold(agent_id, False)
                self._held(agent_id, call_id, False)
            case c.Transfer(mode=mode, target=target):
                if mode == "attended":
                    await self._runtime.attended_transfer(agent_id, target)
                else:
                    await self._runtime.blind_transfer(agent_id, target)
            case c.Dial(number=number):
                await self._runtime.dial(agent_id, number)
            case _:
                return CommandResult(ok=False, reason="unsupported")
        return CommandResult(ok=True)

    async def set_agent_state(
        self, supervisor_id: str, agent_id: str, state: str, reason: str | None
    ) -> CommandResult:
        log.info("supervisor %s sets agent %s to %s", supervisor_id, agent_id, state)
        current = self._state(agent_id)
        if current is None:
            return CommandResult(ok=False, reason="unknown_agent")
        if state == "ready":
            return await self.agent_command(agent_id, c.Ready())
        if state == "not_ready":
            return await self.agent_command(agent_id, c.Pause(reason or "supervisor"))
        if state == "logged_out":
            return await self.agent_command(agent_id, c.Logout())
        return CommandResult(ok=False, reason="unknown_state")


class DbCrmStore:
    """Dispositions and recent calls in PostgreSQL (db.crm)."""

    def __init__(self, crm: Any, recent: Callable[[str, int], Any]) -> None:
        self._crm = crm
        self._recent = recent

    async def save_disposition(self, agent_id: str, call_id: str, code: str, notes: str) -> None:
        await self._crm.save_disposition(call_id, agent_id, code, notes)

    async def recent_calls(self, agent_id: str, limit: int) -> Sequence[JsonObject]:
        result: Sequence[JsonObject] = await self._recent(agent_id, limit)
        return result
