"""What the ACD decides, fanned out: screen pops and state to the CTI hub, records to the DB.

The AMI runtime calls `AcdFeed.__call__(event, commands, now)` after every routing
step. Nothing here blocks: the hub and the writer both queue and return at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from acd.core.agent_state import AgentState
from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import (
    AgentStateChanged,
    CallEnded,
    CallStateChanged,
    Command,
    Overflow,
    PushToDesktop,
    RingAgent,
)
from acd.core.events import CallArrived
from madoguchi.wiring.outcomes import RECORD_OUTCOME
from madoguchi.wiring.screen_pop import customer_of, screen_pop

log = logging.getLogger(__name__)
MAX_PREFETCHED = 10_000

CustomerLookup = Callable[[Mapping[str, Any], str], Awaitable[Mapping[str, Any] | None]]


class HubLike(Protocol):
    def publish_to_agent(self, agent_id: str, type: str, payload: Mapping[str, Any]) -> None: ...
    def publish_to_supervisors(self, type: str, payload: Mapping[str, Any]) -> None: ...


class WriterLike(Protocol):
    def record_call(self, call_id: str, **fields: Any) -> None: ...
    def record_event(
        self, call_id: str, event_uid: str, ts: float, kind: str, data: Any = None
    ) -> None: ...
    def record_agent_state(
        self, agent: str, state: str, reason: str | None, start: float, end: float | None = None
    ) -> None: ...


class AcdFeed:
    """The listener the AMI runtime calls after each routing step."""

    def __init__(
        self,
        hub: HubLike,
        writer: WriterLike,
        *,
        ring_timeouts: Callable[[str], float | None],
        customer_lookup: CustomerLookup | None = None,
        on_queue_change: Callable[[str], None] = lambda _q: None,
    ) -> None:
        self._hub = hub
        self._writer = writer
        self._ring_timeouts = ring_timeouts
        self._lookup = customer_lookup
        self._on_queue_change = on_queue_change
        self._crm: dict[str, Mapping[str, Any] | None] = {}
        # call -> the number it dialled, noted before it queues (queue numbers without IVR)
        self._dialled: dict[str, str] = {}
        # Pops that went out while the CRM look-up was still running: sent again with the
        # customer if it answers while the call is still only offered to that agent.
        self._looking_up: set[str] = set()
        self._pops_before_crm: dict[str, tuple[PushToDesktop, float]] = {}
        self._lookups: set[asyncio.Task[None]] = set()
        # agent -> (state, reason, since): the open interval, closed on the next change
        self._intervals: dict[str, tuple[str, str | None, float]] = {}
        # agent -> the answered call its wrap-up belongs to (the router forgets it at hang-up)
        self._wrapping: dict[str, str] = {}
        self._seq = 0

    def __call__(self, event: object, commands: Sequence[Command], now: float) -> None:
        if isinstance(event, CallArrived):
            self._record_arrival(event, now)
            self._prefetch_customer(event)
        for cmd in commands:
            try:
                self._apply(cmd, now)
            except Exception:  # a feed bug must never stop routing
                log.exception("feed: %s failed", type(cmd).__name__)

    def _record_arrival(self, event: CallArrived, now: float) -> None:
        ctx: Mapping[str, Any] = event.context or {}
        customer = customer_of(ctx)
        fields: dict[str, Any] = {
            "caller_number": event.caller_number,
            "caller_name": event.caller_name,
            "queue": event.queue,
            "priority": event.priority,
            "entered_queue_at": now,
        }
        if isinstance(ctx.get("path"), list):
            fields["ivr_path"] = ctx["path"]
        if customer and str(customer.get("id", "")).isdigit():
            fields["customer_id"] = int(str(customer["id"]))
        dialled = self._dialled.pop(event.call_id, None)
        if dialled:
            fields["dialled_number"] = dialled
        self._writer.record_call(event.call_id, **fields)

    def note_dialled(self, call_id: str, number: str) -> None:
        """The number a caller dialled, for its record once it queues (a caller who hangs
        up before that leaves no record from here, so nothing is written yet)."""
        while len(self._dialled) >= MAX_PREFETCHED:  # callers who left before queueing
            self._dialled.pop(next(iter(self._dialled)))
        self._dialled[call_id] = number

    # -- CRM prefetch: the screen pop must not wait for PostgreSQL -----------------------

    def _prefetch_customer(self, event: CallArrived) -> None:
        self.prefetch(event.call_id, event.context, event.caller_number)

    async def prefetch_wait(
        self, call_id: str, context: Mapping[str, Any], caller_number: str, limit: float
    ) -> None:
        """Look the caller up and wait for the answer, at most ``limit`` seconds (a queue
        number without IVR does this before the caller queues, so the first pop has it)."""
        self.prefetch(call_id, context, caller_number)
        pending = [t for t in self._lookups if t.get_name() == f"crm-{call_id}"]
        if pending:
            await asyncio.wait(pending, timeout=limit)

    def prefetch(self, call_id: str, context: Mapping[str, Any], caller_number: str) -> None:
        """Start the CRM look-up for a call about to queue (the IVR calls this when it hands
        the caller over, so the record is usually there before the first pop)."""
        if self._lookup is None or call_id in self._crm:
            return
        while len(self._crm) >= MAX_PREFETCHED:  # callers who left before queueing
            self._crm.pop(next(iter(self._crm)))
        self._crm[call_id] = None
        self._looking_up.add(call_id)
        lookup = self._lookup

        async def fetch() -> None:
            try:
                found = await lookup(context, caller_number)
            except Exception as exc:  # CRM down: the pop goes out with what the IVR knew
                log.warning("feed: CRM look-up for %s failed: %s", call_id, exc)
                found = None
            finally:
                self._looking_up.discard(call_id)
            if call_id not in self._crm:
                return  # ended meanwhile
            self._crm[call_id] = found
            early = self._pops_before_crm.pop(call_id, None)
            if found and early is not None:
                self._push_pop(*early)

        try:
            task = asyncio.get_running_loop().create_task(fetch(), name=f"crm-{call_id}")
        except RuntimeError:
            return
        self._lookups.add(task)
        task.add_done_callback(self._lookups.discard)

    # -- commands ----------------------------------------------------------------------

    def _timeline(self, call_id: str, tag: str, at: float, kind: str, data: dict[str, Any]) -> None:
        """One event on the call's timeline; `tag` and a sequence number make its uid unique."""
        self._seq += 1
        self._writer.record_event(call_id, f"{call_id}:{tag}:{at:.6f}:{self._seq}", at, kind, data)

    def _apply(self, cmd: Command, now: float) -> None:
        if isinstance(cmd, PushToDesktop):
            self._push_pop(cmd, now)
            if cmd.call.call_id in self._looking_up:
                self._pops_before_crm[cmd.call.call_id] = (cmd, now)
        elif isinstance(cmd, RingAgent):
            data = {"agent": cmd.agent_id, "timeout": cmd.timeout}
            self._timeline(cmd.call_id, "ring", now, "ring", data)
        elif isinstance(cmd, AgentStateChanged):
            self._agent_state(cmd)
        elif isinstance(cmd, CallStateChanged):
            self._call_state(cmd)
        elif isinstance(cmd, CallEnded):
            self._call_ended(cmd)
        elif isinstance(cmd, Overflow):
            data = {"from": cmd.source_queue, "to": str(cmd.target), "reason": cmd.reason}
            self._timeline(cmd.call_id, "overflow", now, "overflow", data)

    def _push_pop(self, cmd: PushToDesktop, now: float) -> None:
        pop = screen_pop(
            cmd, now, self._ring_timeouts(cmd.call.queue), self._crm.get(cmd.call.call_id)
        )
        self._hub.publish_to_agent(cmd.agent_id, "call.offered", pop)

    def _agent_state(self, cmd: AgentStateChanged) -> None:
        if cmd.old == AgentState.WRAP_UP and cmd.new != AgentState.WRAP_UP:
            # Wrap-up time is part of the handle time (docs/kpis.md): close it on the call.
            wrapped = self._wrapping.pop(cmd.agent_id, None)
            if wrapped is not None:
                self._writer.record_call(wrapped, wrapup_ended_at=cmd.at)
        previous = self._intervals.get(cmd.agent_id)
        if previous is not None:
            state, reason, since = previous
            self._writer.record_agent_state(cmd.agent_id, state, reason, since, cmd.at)
        new = str(cmd.new)
        self._intervals[cmd.agent_id] = (new, cmd.reason, cmd.at)
        self._writer.record_agent_state(cmd.agent_id, new, cmd.reason, cmd.at)
        payload = {
            "agent_id": cmd.agent_id,
            "state": new,
            "since": cmd.at,
            "reason": cmd.reason,
            "call_id": cmd.call_id,
        }
        self._hub.publish_to_agent(cmd.agent_id, "agent.state", payload)
        self._hub.publish_to_supervisors("agent.state", payload)

    def _call_state(self, cmd: CallStateChanged) -> None:
        if cmd.new != CallState.OFFERED:
            # Answered, or back in the queue: a late customer must not pop up again.
            self._pops_before_crm.pop(cmd.call_id, None)
        fields: dict[str, Any] = {}
        if cmd.queue:
            fields["queue"] = cmd.queue
            self._on_queue_change(cmd.queue)
        if cmd.new == CallState.QUEUED and cmd.old in (None, CallState.IVR):
            fields["entered_queue_at"] = cmd.at
        elif cmd.new == CallState.OFFERED:
            fields["offered_at"] = cmd.at
        elif cmd.new == CallState.CONNECTED:
            fields["answered_at"] = cmd.at
            if cmd.agent_ids:
                fields["agent_id"] = cmd.agent_ids[0]
                self._hub.publish_to_agent(
                    cmd.agent_ids[0],
                    "call.connected",
                    {"call_id": cmd.call_id, "connected_at": cmd.at},
                )
        if fields:
            self._writer.record_call(cmd.call_id, **fields)
        self._timeline(
            cmd.call_id,
            "state",
            cmd.at,
            f"state.{cmd.new}",
            {
                "from": None if cmd.old is None else str(cmd.old),
                "trigger": cmd.trigger,
                "agents": list(cmd.agent_ids),
                "queue": cmd.queue,
            },
        )

    def _call_ended(self, cmd: CallEnded) -> None:
        fields: dict[str, Any] = {
            "outcome": RECORD_OUTCOME.get(cmd.outcome, str(cmd.outcome)),
            "ended_at": cmd.ended_at,
        }
        if cmd.queue:
            fields["queue"] = cmd.queue
            self._on_queue_change(cmd.queue)
        if cmd.agent_id:
            fields["agent_id"] = cmd.agent_id
            if cmd.outcome in (CallOutcome.ANSWERED, CallOutcome.TRANSFERRED):
                self._wrapping[cmd.agent_id] = cmd.call_id
        if cmd.outcome == CallOutcome.TRANSFERRED:
            fields["transferred"] = True
        if cmd.outcome == CallOutcome.CALLBACK_REQUESTED:
            fields["callback"] = True
        self._writer.record_call(cmd.call_id, **fields)
        self._timeline(
            cmd.call_id,
            "ended",
            cmd.ended_at,
            "call.ended",
            {
                "outcome": str(cmd.outcome),
                "detail": cmd.detail,
                "wait": cmd.wait_time,
                "talk": cmd.talk_time,
            },
        )
        if cmd.agent_id:
            self._hub.publish_to_agent(
                cmd.agent_id,
                "call.ended",
                {"call_id": cmd.call_id, "outcome": str(cmd.outcome), "ended_at": cmd.ended_at},
            )
        self._crm.pop(cmd.call_id, None)
        self._pops_before_crm.pop(cmd.call_id, None)
