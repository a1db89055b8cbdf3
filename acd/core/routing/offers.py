"""Matching callers and agents, and offering a call (ringing the chosen agents).

* **Call → agent**, when a call starts waiting (arrival, requeue after a failed ring, overflow
  or transfer into a queue, a relaxation step): the best *eligible* agent of its queue (see
  ``eligibility``). Lowest member level first, then the queue strategy: ``longest_idle``
  (ready the longest), ``fewest_calls`` (fewest answered since the counters were reset),
  ``round_robin`` (next after the last one rung, per queue), ``linear`` (configuration
  order), ``random`` (the injected ``random.Random``), ``ring_all`` (all eligible agents of
  the best level; the first answer wins).
* **Agent → call**, when an agent becomes ready, reachable and its phone free: among every
  queue it serves and qualifies for, the waiting call with the highest priority, then the
  longest weighted wait (``queue weight × seconds waited``).
* Together these keep the invariant: after every event no eligible agent is ready while a
  call it could take is waiting.
"""

from __future__ import annotations

from collections.abc import Collection

from acd.core.agent_state import AgentTrigger
from acd.core.call_state import CallState
from acd.core.commands import CallInfo, Command, PushToDesktop, RingAgent
from acd.core.records import AgentRecord, CallRecord, QueueRecord, ReadyIndex
from acd.core.routing.eligibility import matches, ready_index, sync_ready_indexes
from acd.core.routing.state import RoutingState
from acd.core.routing.transitions import agent_to, call_to
from acd.core.specs import Strategy
from acd.core.timers import TimerKind


def route_all_agents(state: RoutingState, now: float, out: list[Command]) -> None:
    for agent in sorted(state.agents.values(), key=lambda a: a.order):
        route_agent(state, agent, now, out)


def route_agent(state: RoutingState, agent: AgentRecord, now: float, out: list[Command]) -> None:
    """Give a newly available agent the best waiting call it can take, if any."""
    if not agent.available:
        return
    best: CallRecord | None = None
    best_score: tuple[int, float, float, int] | None = None
    for name in agent.memberships:
        queue = state.queues[name]
        if not queue.buckets:
            continue
        weight = queue.spec.weight
        for requirement_key, bucket in queue.buckets.items():
            if not matches(
                state, agent, requirement_key, queue.bucket_requirements[requirement_key]
            ):
                continue
            neg_priority, arrived_at, seq, call_id = bucket.first()
            score = (-neg_priority, weight * (now - arrived_at), -arrived_at, -seq)
            if best_score is None or score > best_score:
                best_score = score
                best = state.calls[call_id]
    if best is not None:
        offer(state, best, [agent.agent_id], now, out, "agent_available")


def route_call(state: RoutingState, call: CallRecord, now: float, out: list[Command]) -> None:
    """Offer a newly waiting call to the best eligible ready agent(s) of its queue."""
    if call.queue is None or call.state is not CallState.QUEUED:
        return
    queue = state.queues[call.queue]
    sync_ready_indexes(state)
    index = ready_index(state, queue, call.effective_key, call.effective)
    chosen = choose(state, queue, index)
    if chosen:
        offer(state, call, chosen, now, out, "call_waiting")


def choose(state: RoutingState, queue: QueueRecord, index: ReadyIndex) -> list[str]:
    """The agent(s) the queue's strategy rings among the best level of ``index``."""
    entries = index.entries
    if not entries:
        return []
    best_level = entries.first()[0]
    end = entries.index_of((best_level + 1,))
    strategy = queue.spec.strategy
    if strategy is Strategy.RING_ALL:
        return [entries[i][-1] for i in range(end)]
    if strategy is Strategy.ROUND_ROBIN:
        position = entries.index_of((best_level, queue.round_robin_last + 1))
        return [entries[position if position < end else 0][-1]]
    if strategy is Strategy.RANDOM:
        return [entries[state.rng.randrange(end)][-1]]
    return [entries.first()[-1]]


def next_agent(
    state: RoutingState, queue_name: str, now: float, taken: Collection[str]
) -> str | None:
    """Whom a caller arriving in ``queue_name`` now with no skills asked would be rung (a
    query: nothing changes); see ``Router.next_agent``."""
    queue = state.queues.get(queue_name)
    if queue is None or queue.draining or not queue.spec.ring_ahead or len(queue.waiting):
        return None
    if queue.spec.strategy in (Strategy.RING_ALL, Strategy.RANDOM):
        return None
    requirement = queue.effective_requirement(None, queue.stage_at(now, now))
    sync_ready_indexes(state)
    chosen = choose(state, queue, ready_index(state, queue, str(requirement), requirement))
    if len(chosen) != 1 or chosen[0] in taken:
        return None
    return chosen[0]


def offer(
    state: RoutingState,
    call: CallRecord,
    agent_ids: list[str],
    now: float,
    out: list[Command],
    trigger: str,
) -> None:
    """Ring ``agent_ids`` for a waiting ``call``: screen pop, ring, and the ring timeout."""
    assert call.queue is not None
    queue = state.queues[call.queue]
    queue.remove(call)
    call_to(call, CallState.OFFERED, now, out, trigger, tuple(agent_ids))
    call.offered_to = list(agent_ids)
    call.offer_generation += 1
    info = CallInfo(
        call_id=call.call_id,
        queue=queue.name,
        priority=call.priority,
        caller_number=call.caller_number,
        caller_name=call.caller_name,
        waited=now - call.arrived_at,
        context=call.context,
        callback_number=call.callback_number,
    )
    agents = [state.agents[agent_id] for agent_id in agent_ids]
    for agent in agents:
        agent.call_id = call.call_id
        agent_to(state, agent, AgentTrigger.OFFER, now, out, "offered")
    for agent in agents:
        out.append(PushToDesktop(agent.agent_id, info))
        out.append(
            RingAgent(
                call_id=call.call_id,
                agent_id=agent.agent_id,
                timeout=queue.spec.ring_timeout,
                caller_number=call.caller_number,
                caller_name=call.caller_name,
                queue=queue.name,
                callback_number=call.callback_number,
            )
        )
    if queue.spec.strategy is Strategy.ROUND_ROBIN:
        queue.round_robin_last = agents[0].order
    state.timers.schedule(
        now + queue.spec.ring_timeout,
        TimerKind.RING_TIMEOUT,
        call.call_id,
        call.offer_generation,
    )
