"""Who may take a call: the agent's derived flags and the ready indexes that find them fast.

An agent is *eligible* for a call when it is ready, its contact reachable, its phone not on a
call the ACD did not give it (``PhoneBusyChanged``), it is a member of the call's queue and
its skills satisfy the call's effective requirement. Per queue and requirement a ready index
keeps those agents sorted by (level, strategy key); it is synced lazily, so an agent that
becomes ready and is given a call within the same event never touches it.
"""

from __future__ import annotations

from acd.core.agent_state import STAFFED_STATES, AgentState
from acd.core.records import AgentKey, AgentRecord, QueueRecord, ReadyIndex
from acd.core.requirements import Requirement
from acd.core.routing.state import RoutingState
from acd.core.specs import Strategy


def matches(state: RoutingState, agent: AgentRecord, key: str, requirement: Requirement) -> bool:
    cache_key = (agent.agent_id, key)
    result = state.match_cache.get(cache_key)
    if result is None:
        result = state.match_cache[cache_key] = requirement.matches(agent.spec.skills)
    return result


def agent_key(queue: QueueRecord, agent: AgentRecord, level: int) -> AgentKey:
    """The agent's sort key in ``queue``'s ready indexes: level, then the strategy's order."""
    strategy = queue.spec.strategy
    if strategy is Strategy.LONGEST_IDLE:
        return (level, agent.idle_since, agent.order, agent.agent_id)
    if strategy is Strategy.FEWEST_CALLS:
        return (level, agent.calls_answered, agent.idle_since, agent.order, agent.agent_id)
    return (level, agent.order, agent.agent_id)


def ready_index(
    state: RoutingState, queue: QueueRecord, key: str, requirement: Requirement
) -> ReadyIndex:
    """The ready index of ``queue`` for ``requirement``, built on first use."""
    index = queue.ready.get(key)
    if index is None:
        index = queue.ready[key] = ReadyIndex(requirement)
        agents = state.agents
        for agent_id, level in queue.members.items():
            agent = agents[agent_id]
            if agent.available and matches(state, agent, key, requirement):
                index.add(agent_id, agent_key(queue, agent, level))
    return index


def refresh_agent(state: RoutingState, agent: AgentRecord) -> None:
    """Bring the derived flags, queue counters and ready indexes in line with the agent."""
    live = not agent.removed
    available = (
        live and agent.state is AgentState.READY and agent.reachable and not agent.phone_busy
    )
    staffed = live and agent.state in STAFFED_STATES and agent.reachable
    logged_in = live and agent.state is not AgentState.LOGGED_OUT
    if available != agent.available:
        agent.available = available
        # Ready indexes are synced lazily: an agent that becomes ready and is given a call
        # within the same event never touches them.
        if available != agent.indexed:
            state.unsynced[agent.agent_id] = None
        else:
            state.unsynced.pop(agent.agent_id, None)
    if staffed != agent.staffed:
        agent.staffed = staffed
        for name in agent.memberships:
            state.queues[name].staffed += 1 if staffed else -1
    if logged_in != agent.logged_in:
        agent.logged_in = logged_in
        for name in agent.memberships:
            state.queues[name].logged_in += 1 if logged_in else -1


def sync_ready_indexes(state: RoutingState) -> None:
    """Apply pending availability changes to the ready indexes (before reading them)."""
    for agent_id in state.unsynced:
        agent = state.agents.get(agent_id)
        if agent is None or agent.available == agent.indexed:
            continue
        agent.indexed = agent.available
        for name, level in agent.memberships.items():
            queue = state.queues[name]
            for key, index in queue.ready.items():
                if not agent.available:
                    index.discard(agent_id)
                elif matches(state, agent, key, index.requirement):
                    index.add(agent_id, agent_key(queue, agent, level))
    state.unsynced.clear()
