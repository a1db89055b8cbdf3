"""What the CTI layer needs from the rest of madoguchi, as Protocols.

The composition root passes implementations of these to `cti.app.build_app`. The CTI
never imports the ACD, the AMI adapter or the database: it only speaks HTTP.
Every Mapping returned by a port must be JSON-serialisable (str/int/float/bool/None,
lists and dicts of those); `cti.messages` describes the expected shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from cti.commands import AgentCommand

Clock = Callable[[], float]
"""Wall-clock time in seconds since the epoch (time.time in production)."""

JsonObject = Mapping[str, Any]


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a token belongs to. Agents and supervisors have separate id spaces."""

    user_id: str
    role: Role
    name: str = ""


@dataclass(frozen=True, slots=True)
class CommandResult:
    """Outcome of a command. `ok=False` means refused (illegal in the current state, unknown
    call, ...); `reason` is a short machine-readable word shown to the user, `data` any extra
    JSON-able detail (e.g. the new call id of a dial)."""

    ok: bool
    reason: str = ""
    data: JsonObject = field(default_factory=dict)


class Authenticator(Protocol):
    def authenticate(self, role: Role, user_id: str, password: str) -> Principal | None:
        """The principal when `password` is right for `user_id` in `role`, else None.
        Must compare in constant time and must not log the password."""
        ...

    def knows(self, principal: Principal) -> bool:
        """Whether this user still exists: a stored session of a removed user is dropped
        when the sessions are read back after a restart."""
        ...


class CommandHandler(Protocol):
    async def agent_command(self, agent_id: str, command: AgentCommand) -> CommandResult:
        """Carry out a validated desktop command for `agent_id` (ready, pause, hangup, ...).
        The CTI has already checked that any call id in the command belongs to that agent."""
        ...

    async def set_agent_state(
        self, supervisor_id: str, agent_id: str, state: str, reason: str | None
    ) -> CommandResult:
        """A supervisor forces an agent's state: `state` is "ready", "not_ready" (with a
        reason) or "logged_out"."""
        ...


class StateSource(Protocol):
    async def agent_snapshot(self, agent_id: str) -> JsonObject:
        """Current view for one agent's desktop; see `cti.messages.AgentSnapshot`."""
        ...

    async def wallboard_snapshot(self) -> JsonObject:
        """Current floor view for supervisors; see `cti.messages.WallboardSnapshot`."""
        ...

    async def call_owner(self, call_id: str) -> str | None:
        """The agent id a call is (or was last) assigned to, or None if unknown / never
        assigned. Used to keep an agent away from other agents' calls."""
        ...


class CrmStore(Protocol):
    async def save_disposition(self, agent_id: str, call_id: str, code: str, notes: str) -> None:
        """Durably store the wrap-up result of a call (idempotent per call id: the last save
        wins)."""
        ...

    async def recent_calls(self, agent_id: str, limit: int) -> Sequence[JsonObject]:
        """The agent's most recent calls, newest first; see `cti.messages.RecentCall`."""
        ...


class ReportUnavailable(Exception):
    """The report could not be built right now (database unreachable, timed out); the CTI
    answers 503. The message is shown to the supervisor: no secrets in it."""


class ReportSource(Protocol):
    @property
    def timezone(self) -> str:
        """IANA time zone of the report (config calendar): `from`/`to` without a UTC offset
        are wall-clock times there, and interval boundaries are aligned there."""
        ...

    async def report(self, start: datetime, end: datetime, interval: str) -> JsonObject:
        """KPIs over [start, end) per `interval` ("15min", "hour" or "day"); both times are
        timezone-aware and start < end. The shape is `db.report.to_dict`'s (docs/kpis.md):
        start, end, interval, timezone, service_level_thresholds_s, short_abandon_s, rows,
        totals. Raises ReportUnavailable when the data cannot be read."""
        ...
