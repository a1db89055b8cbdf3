"""Queue counters (the KPIs since start or the last ``CountersReset``) and their reset.

Service level: answered within ``service_level`` seconds over answered plus abandoned after
it; a callback entry's answer never counts as within (the caller hung up long before), and a
short abandon (before the threshold) counts in neither.
"""

from __future__ import annotations

from dataclasses import replace

from acd.core.call_state import CallOutcome
from acd.core.commands import Command
from acd.core.events import CountersReset
from acd.core.records import CallRecord, QueueRecord
from acd.core.routing.state import RoutingState
from acd.core.views import QueueCounters


def count_entered(queue: QueueRecord) -> None:
    queue.counters = replace(queue.counters, entered=queue.counters.entered + 1)


def count_answered(queue: QueueRecord, call: CallRecord, now: float) -> None:
    waited = now - call.arrived_at
    counters = queue.counters
    within = call.callback_number is None and waited <= queue.spec.service_level
    queue.counters = replace(
        counters,
        answered=counters.answered + 1,
        answered_within_sl=counters.answered_within_sl + within,
        total_answer_wait=counters.total_answer_wait + waited,
    )


def count_ended(queue: QueueRecord, outcome: CallOutcome, wait_time: float) -> None:
    counters = queue.counters
    if outcome in (CallOutcome.ABANDONED_QUEUE, CallOutcome.ABANDONED_RINGING):
        short = wait_time < queue.spec.service_level
        queue.counters = replace(
            counters,
            abandoned=counters.abandoned + 1,
            abandoned_within_sl=counters.abandoned_within_sl + short,
        )
    elif outcome is CallOutcome.MAX_WAIT:
        queue.counters = replace(counters, max_wait=counters.max_wait + 1)


def count_overflow(queue: QueueRecord) -> None:
    queue.counters = replace(queue.counters, overflowed=queue.counters.overflowed + 1)


def count_transfer(queue: QueueRecord) -> None:
    queue.counters = replace(queue.counters, transferred=queue.counters.transferred + 1)


def count_callback(queue: QueueRecord) -> None:
    queue.counters = replace(queue.counters, callbacks=queue.counters.callbacks + 1)


def on_counters_reset(
    state: RoutingState, event: CountersReset, now: float, out: list[Command]
) -> None:
    for queue in state.queues.values():
        queue.counters = QueueCounters(since=now)
    for agent in state.agents.values():
        agent.calls_answered = 0
    for queue in state.queues.values():
        queue.ready.clear()  # fewest_calls keys changed: rebuilt on demand
