"""A caller's place in a queue: entering it, its effective requirement and timers, its
position and estimated wait.

* **Place in line**: service order is priority, then arrival time, then arrival order; a
  caller that returns after a failed ring or overflows keeps its arrival time, so its place.
* **Requirements**: the call's own expression (from the IVR) or else the queue's default.
  After ``relax[i].after`` seconds in the queue it becomes ``own or relax[0] or … or
  relax[i]``: relaxation only ever widens who qualifies.
* **Timers** count from entering the current queue (relaxation, overflow, max wait; the
  announcements from now); a callback entry has nobody on the line and gets only relaxation.
* **Position**: 1 + the callers of the same queue ahead in service order (O(log n)).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import CallStateChanged, Command, HangupCaller, RoutingWarning
from acd.core.records import CallRecord, QueueRecord
from acd.core.requirements import Requirement, RequirementError, parse_requirement
from acd.core.routing.outcomes import end_call
from acd.core.routing.state import RoutingState
from acd.core.timers import TimerKind
from acd.core.wait_estimates import WaitEstimate
from acd.core.wait_picture import RoutingPicture, picture_of


def new_call(
    state: RoutingState,
    call_id: str,
    now: float,
    caller_number: str,
    caller_name: str,
    context: Mapping[str, object],
) -> CallRecord:
    call = CallRecord(
        call_id=call_id,
        state=CallState.IVR,
        since=now,
        arrived_at=now,
        caller_number=caller_number,
        caller_name=caller_name,
        context=context,
        seq=state.next_seq(),
    )
    state.calls[call_id] = call
    return call


def requested(call_id: str, text: str, out: list[Command]) -> Requirement | None:
    """The call's own requirement; None (the queue's default) if empty or unreadable."""
    if not text.strip():
        return None
    try:
        return parse_requirement(text)
    except RequirementError as error:
        out.append(RoutingWarning(call_id, f"{error}; using the queue's default"))
        return None


def reject_unknown_queue(
    state: RoutingState,
    call: CallRecord,
    name: str,
    now: float,
    out: list[Command],
    *,
    created: bool,
) -> None:
    if created:
        out.append(CallStateChanged(call.call_id, None, CallState.IVR, None, now, "arrived"))
    out.append(HangupCaller(call.call_id, "unknown_queue"))
    detail = f"unknown queue {name!r}"
    end_call(state, call, CallOutcome.SYSTEM_FAILURE, now, out, detail=detail)


def enqueue(
    state: RoutingState, call: CallRecord, queue: QueueRecord, now: float, *, entered_at: float
) -> None:
    """Put a QUEUED call into ``queue`` (new timers); routing is the caller's job."""
    call.queue = queue.name
    place(state, call, queue, now, entered_at=entered_at)


def place(
    state: RoutingState, call: CallRecord, queue: QueueRecord, now: float, *, entered_at: float
) -> None:
    """(Re)compute requirement and timers of a call in ``queue``; index it if QUEUED."""
    call.queue_entered_at = entered_at
    call.queue_generation += 1
    call.stage = queue.stage_at(now, entered_at)
    set_effective(call, queue)
    if call.state is CallState.QUEUED:
        queue.insert(call)
    generation = call.queue_generation
    timers = state.timers
    if call.stage < len(queue.relax):
        when = entered_at + queue.relax[call.stage][0]
        timers.schedule(when, TimerKind.RELAX, call.call_id, generation)
    if call.callback_number is not None:
        return  # a callback has nobody on the line: no overflow, max wait, announcements
    spec = queue.spec
    if spec.overflow.after is not None and spec.overflow.target is not None:
        when = entered_at + spec.overflow.after
        timers.schedule(when, TimerKind.OVERFLOW, call.call_id, generation)
    if spec.max_wait > 0:
        timers.schedule(entered_at + spec.max_wait, TimerKind.MAX_WAIT, call.call_id, generation)
    if spec.announce_interval > 0:
        when = now + spec.announce_interval
        timers.schedule(when, TimerKind.ANNOUNCE, call.call_id, generation)


def set_effective(call: CallRecord, queue: QueueRecord) -> None:
    call.effective = queue.effective_requirement(call.requested, call.stage)
    call.effective_key = str(call.effective)


def position(state: RoutingState, call_id: str) -> int | None:
    """1-based position among the waiting callers of the call's queue (None if not waiting)."""
    call = state.calls.get(call_id)
    if call is None or call.state is not CallState.QUEUED or call.queue is None:
        return None
    return state.queues[call.queue].waiting.index_of(call.key) + 1


def estimated_wait(state: RoutingState, call_id: str) -> float | None:
    """Estimated seconds until answered (``wait_estimate``); None if unknown."""
    found = wait_estimate(state, call_id)
    return None if found is None else found.seconds


def wait_estimate(state: RoutingState, call_id: str) -> WaitEstimate | None:
    """A waiting caller's estimate with its range and callback window (see
    ``acd.core.wait_estimates``); None when not waiting or no staffed agent will take it."""
    if position(state, call_id) is None:
        return None
    return state.forecaster.estimate(call_id, partial(_picture, state), state.now)


def new_caller_wait(state: RoutingState, queue: str) -> WaitEstimate | None:
    """The estimate a caller arriving in ``queue`` now with no skills asked would hear."""
    if queue not in state.queues:
        return None
    return state.forecaster.for_new_caller(queue, partial(_picture, state), state.now)


def _picture(state: RoutingState) -> RoutingPicture:
    return picture_of(state.queues, state.agents, state.calls, state.now)
