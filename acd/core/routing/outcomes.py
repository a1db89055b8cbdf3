"""Ending a call with its one outcome.

**Exactly one outcome per call**: ``CallEnded`` is emitted once, the call is forgotten, and
its id is remembered (the last ``ENDED_MEMORY``) so that later events about it produce
``EventIgnored``.
"""

from __future__ import annotations

from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import CallEnded, Command
from acd.core.records import CallRecord
from acd.core.routing.counters import count_ended
from acd.core.routing.membership import drop_if_drained
from acd.core.routing.state import ENDED_MEMORY, RoutingState
from acd.core.routing.transitions import call_to


def end_call(
    state: RoutingState,
    call: CallRecord,
    outcome: CallOutcome,
    now: float,
    out: list[Command],
    detail: str = "",
    *,
    drop_drained: bool = True,
) -> None:
    queue = state.queues.get(call.queue) if call.queue else None
    if call.state is CallState.QUEUED and queue is not None:
        queue.remove(call)
    call_to(call, CallState.ENDED, now, out, outcome.value)
    waited_until = call.connected_at if call.connected_at is not None else now
    wait_time = max(0.0, waited_until - call.arrived_at)
    talk_time = 0.0 if call.connected_at is None else max(0.0, now - call.connected_at)
    out.append(
        CallEnded(
            call_id=call.call_id,
            outcome=outcome,
            queue=call.queue,
            agent_id=call.agent_id,
            arrived_at=call.arrived_at,
            ended_at=now,
            wait_time=wait_time,
            talk_time=talk_time,
            detail=detail,
        )
    )
    if queue is not None:
        count_ended(queue, outcome, wait_time)
    del state.calls[call.call_id]
    state.ended[call.call_id] = None
    if len(state.ended) > ENDED_MEMORY:
        del state.ended[next(iter(state.ended))]
    if drop_drained:
        drop_if_drained(state, call.queue)


def record_handle_time(state: RoutingState, call: CallRecord, now: float) -> None:
    """Talk time plus the queue's wrap-up, for the queue's average handle time (EWT)."""
    queue = state.queues.get(call.queue) if call.queue else None
    if queue is not None and call.connected_at is not None:
        queue.handle_time.add(now - call.connected_at + call.wrapup)
