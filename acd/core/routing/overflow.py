"""Overflow: moving a waiting caller out of its queue (another queue, voicemail, callback).

**When** (``Overflow`` command with the reason): after ``overflow.after`` seconds in the queue
(the timer, or at once when a failed ring returns a caller past it); on arrival if the caller's
place in line (after priority) is beyond ``overflow.position_above`` (``queue_full``) or the
estimated wait exceeds ``overflow.estimated_wait_above`` or nobody staffs the queue
(``estimated_wait``); when no member is logged in (``no_agents``: on arrival, and for everyone
waiting when the last one logs out); at the caller's request (``caller_request``); when its
queue is removed with a drain target (``queue_removed``).

**Targets**: another queue (the caller keeps its arrival time, so its place; the new queue's
timers start on entry; at most ``MAX_OVERFLOW_HOPS``), voicemail (outcome
``overflow_voicemail``), callback (outcome ``callback_requested``; a callback entry
``<call_id>:callback`` keeps the caller's arrival time and place and rings an agent with
``callback_number`` set). A target that is not possible leaves the caller where it is.
"""

from __future__ import annotations

from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import CallbackCreated, CallStateChanged, Command, Overflow, RoutingWarning
from acd.core.records import AgentRecord, CallRecord, QueueRecord
from acd.core.routing.counters import count_callback, count_entered, count_overflow
from acd.core.routing.membership import delete_agent, drop_if_drained
from acd.core.routing.offers import route_call
from acd.core.routing.outcomes import end_call
from acd.core.routing.state import RoutingState
from acd.core.routing.waiting import enqueue, estimated_wait, position
from acd.core.specs import OverflowTarget

MAX_OVERFLOW_HOPS = 3  # a caller overflows into other queues at most this often
CALLBACK_SUFFIX = ":callback"


def after_arrival(state: RoutingState, call: CallRecord, now: float, out: list[Command]) -> None:
    """Route a call that just entered a queue, else apply the entry overflow rules."""
    route_call(state, call, now, out)
    if call.state is not CallState.QUEUED or call.queue is None:
        return
    queue = state.queues[call.queue]
    policy = queue.spec.overflow
    if policy.when_no_agents is not None and queue.logged_in == 0:
        if overflow(state, call, policy.when_no_agents, "no_agents", now, out):
            return
    if policy.position_above is not None and policy.target is not None:
        place = position(state, call.call_id)
        if place is not None and place > policy.position_above:
            if overflow(state, call, policy.target, "queue_full", now, out):
                return
    if policy.estimated_wait_above is not None and policy.target is not None:
        wait = estimated_wait(state, call.call_id)
        if wait is None or wait > policy.estimated_wait_above:
            overflow(state, call, policy.target, "estimated_wait", now, out)


def after_logout(state: RoutingState, agent: AgentRecord, now: float, out: list[Command]) -> None:
    """A removed agent is forgotten; a queue it leaves with nobody logged in overflows its
    waiting callers to ``when_no_agents``."""
    queues = [state.queues[name] for name in agent.memberships if name in state.queues]
    if agent.removed:
        delete_agent(state, agent)
    for queue in queues:
        target = queue.spec.overflow.when_no_agents
        if target is None or queue.logged_in > 0 or not queue.waiting:
            continue
        for key in list(queue.waiting):
            call = state.calls[key[3]]
            if call.state is CallState.QUEUED and call.queue == queue.name:
                overflow(state, call, target, "no_agents", now, out)


def overflow(
    state: RoutingState,
    call: CallRecord,
    target: OverflowTarget,
    reason: str,
    now: float,
    out: list[Command],
) -> bool:
    """Move a QUEUED call out of its queue; False (and nothing changed) if not possible."""
    assert call.queue is not None and call.state is CallState.QUEUED
    source = state.queues[call.queue]
    if target.kind == "queue":
        destination = state.queues.get(target.queue or "")
        if (
            destination is None
            or destination.draining
            or destination is source
            or call.hops >= MAX_OVERFLOW_HOPS
        ):
            return False
        source.remove(call)
        out.append(Overflow(call.call_id, source.name, target, reason))
        count_overflow(source)
        call.hops += 1
        count_entered(destination)
        enqueue(state, call, destination, now, entered_at=now)
        drop_if_drained(state, source.name)
        after_arrival(state, call, now, out)
        return True
    if target.kind == "voicemail":
        if not source.spec.allow_voicemail or call.callback_number is not None:
            return False
        out.append(Overflow(call.call_id, source.name, target, reason))
        count_overflow(source)
        end_call(state, call, CallOutcome.OVERFLOW_VOICEMAIL, now, out)
        return True
    if not source.spec.allow_callback or call.callback_number is not None or not call.caller_number:
        return False
    out.append(Overflow(call.call_id, source.name, target, reason))
    count_overflow(source)
    convert_to_callback(state, call, source, call.caller_number, now, out)
    return True


def convert_to_callback(
    state: RoutingState,
    call: CallRecord,
    queue: QueueRecord,
    number: str,
    now: float,
    out: list[Command],
) -> None:
    """End the caller's call (callback_requested); a callback entry takes its place."""
    entered_at = call.queue_entered_at
    callback_id = call.call_id + CALLBACK_SUFFIX
    duplicate = callback_id in state.calls or callback_id in state.ended
    end_call(
        state,
        call,
        CallOutcome.CALLBACK_REQUESTED,
        now,
        out,
        detail="callback",
        drop_drained=duplicate,
    )
    if duplicate:
        out.append(RoutingWarning(call.call_id, "a callback for this call already exists"))
        return
    entry = CallRecord(
        call_id=callback_id,
        state=CallState.QUEUED,
        since=now,
        arrived_at=call.arrived_at,  # keeps the caller's place in line
        caller_number=call.caller_number,
        caller_name=call.caller_name,
        context=call.context,
        priority=call.priority,
        requested=call.requested,
        seq=call.seq,
        callback_number=number,
    )
    state.calls[callback_id] = entry
    out.append(CallStateChanged(callback_id, None, CallState.QUEUED, queue.name, now, "callback"))
    out.append(CallbackCreated(callback_id, call.call_id, queue.name, number))
    count_callback(queue)
    enqueue(state, entry, queue, now, entered_at=entered_at)
    route_call(state, entry, now, out)
