"""Firing the router's timers when due: ring timeout, wrap-up end, relaxation step, overflow,
max wait, announcement.

Timers sit in one heap (``acd.core.timers``) and are invalidated lazily: a timer fires only if
its subject still exists, is still in the state it was set for and its generation still
matches (an offer or a queue entry since then made it stale). ``Router.handle`` fires every
timer due at or before ``now`` before it applies the event.

**Max wait**: ``HangupCaller(reason="max_wait")``, outcome ``max_wait``. **Announcements**:
``Announce(position, estimated wait)`` every ``announce_interval`` while the caller waits.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from acd.core.agent_state import AgentState
from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import Announce, Command, HangupCaller
from acd.core.records import CallRecord, QueueRecord
from acd.core.routing.offers import route_call
from acd.core.routing.outcomes import end_call
from acd.core.routing.overflow import overflow
from acd.core.routing.requeue import ring_timed_out
from acd.core.routing.state import RoutingState
from acd.core.routing.waiting import estimated_wait, set_effective
from acd.core.routing.wrapup import end_wrapup
from acd.core.timers import Timer, TimerKind


def timer_valid(state: RoutingState, timer: Timer) -> bool:
    if timer.kind is TimerKind.WRAPUP_END:
        agent = state.agents.get(timer.subject)
        return (
            agent is not None
            and agent.state is AgentState.WRAP_UP
            and agent.wrap_generation == timer.generation
        )
    call = state.calls.get(timer.subject)
    if call is None:
        return False
    if timer.kind is TimerKind.RING_TIMEOUT:
        return call.state is CallState.OFFERED and call.offer_generation == timer.generation
    return call.queue_generation == timer.generation and call.state in (
        CallState.QUEUED,
        CallState.OFFERED,
    )


def next_deadline(state: RoutingState) -> float | None:
    """The time of the earliest pending timer, or None."""
    timer = state.timers.next_valid(partial(timer_valid, state))
    return None if timer is None else timer.when


def run_due_timers(state: RoutingState, now: float, out: list[Command]) -> None:
    """Fire every valid timer due at or before ``now``, earliest first."""
    timers = state.timers
    is_valid = partial(timer_valid, state)
    while True:
        timer = timers.next_valid(is_valid)
        if timer is None or timer.when > now:
            return
        timers.pop()
        FIRE[timer.kind](state, timer, out)


def _fire_wrapup_end(state: RoutingState, timer: Timer, out: list[Command]) -> None:
    end_wrapup(state, state.agents[timer.subject], timer.when, out, "wrapup_timer")


def _subject(state: RoutingState, timer: Timer) -> tuple[CallRecord, QueueRecord]:
    call = state.calls[timer.subject]
    assert call.queue is not None
    return call, state.queues[call.queue]


def _fire_ring_timeout(state: RoutingState, timer: Timer, out: list[Command]) -> None:
    call, _ = _subject(state, timer)
    ring_timed_out(state, call, timer.when, out)


def _fire_relax(state: RoutingState, timer: Timer, out: list[Command]) -> None:
    call, queue = _subject(state, timer)
    when = timer.when
    call.stage = queue.stage_at(when, call.queue_entered_at)
    if call.state is CallState.QUEUED:
        queue.remove(call)
        set_effective(call, queue)
        queue.insert(call)
    else:
        set_effective(call, queue)
    if call.stage < len(queue.relax):
        next_when = call.queue_entered_at + queue.relax[call.stage][0]
        state.timers.schedule(next_when, TimerKind.RELAX, call.call_id, timer.generation)
    route_call(state, call, when, out)


def _fire_overflow(state: RoutingState, timer: Timer, out: list[Command]) -> None:
    call, queue = _subject(state, timer)
    target = queue.spec.overflow.target
    if call.state is CallState.QUEUED and target is not None:
        overflow(state, call, target, "after", timer.when, out)


def _fire_max_wait(state: RoutingState, timer: Timer, out: list[Command]) -> None:
    call, _ = _subject(state, timer)
    if call.state is CallState.QUEUED:
        out.append(HangupCaller(call.call_id, "max_wait"))
        end_call(state, call, CallOutcome.MAX_WAIT, timer.when, out)


def _fire_announce(state: RoutingState, timer: Timer, out: list[Command]) -> None:
    call, queue = _subject(state, timer)
    if call.state is CallState.QUEUED:
        position = queue.waiting.index_of(call.key) + 1
        out.append(Announce(call.call_id, position, estimated_wait(state, call.call_id)))
    next_when = timer.when + queue.spec.announce_interval
    state.timers.schedule(next_when, TimerKind.ANNOUNCE, call.call_id, timer.generation)


FIRE: dict[TimerKind, Callable[[RoutingState, Timer, list[Command]], None]] = {
    TimerKind.RING_TIMEOUT: _fire_ring_timeout,
    TimerKind.WRAPUP_END: _fire_wrapup_end,
    TimerKind.MAX_WAIT: _fire_max_wait,
    TimerKind.OVERFLOW: _fire_overflow,
    TimerKind.RELAX: _fire_relax,
    TimerKind.ANNOUNCE: _fire_announce,
}
