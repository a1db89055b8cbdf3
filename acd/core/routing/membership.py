"""Who serves which queue: memberships rebuilt from the specs, removed agents and drained
queues forgotten.

A queue removed by ``ConfigReplaced`` drains: its old members keep serving it, and it is
dropped once nobody waits in it and no caller of it is being rung.
"""

from __future__ import annotations

from acd.core.call_state import CallState
from acd.core.records import AgentRecord
from acd.core.routing.eligibility import refresh_agent
from acd.core.routing.state import RoutingState


def rebuild_memberships(state: RoutingState) -> None:
    """Recompute who serves which queue, the queue counters and (lazily) ready indexes."""
    for queue in state.queues.values():
        if queue.draining:
            queue.members = {a: lvl for a, lvl in queue.members.items() if a in state.agents}
        else:
            queue.members = {}
        queue.ready.clear()
        queue.staffed = 0
        queue.logged_in = 0
    for agent in state.agents.values():
        if not agent.removed:
            for name, level in agent.spec.queues.items():
                member_of = state.queues.get(name)
                if member_of is not None and not member_of.draining:
                    member_of.members[agent.agent_id] = level
        agent.memberships = {}
        agent.available = agent.indexed = agent.staffed = agent.logged_in = False
    for name, queue in state.queues.items():
        for agent_id, level in queue.members.items():
            state.agents[agent_id].memberships[name] = level
    state.match_cache.clear()
    state.unsynced.clear()
    for agent in state.agents.values():
        refresh_agent(state, agent)


def delete_agent(state: RoutingState, agent: AgentRecord) -> None:
    for name in agent.memberships:
        queue = state.queues.get(name)
        if queue is not None:
            queue.members.pop(agent.agent_id, None)
            for index in queue.ready.values():
                index.discard(agent.agent_id)
    del state.agents[agent.agent_id]
    state.unsynced.pop(agent.agent_id, None)


def drop_if_drained(state: RoutingState, name: str | None) -> None:
    queue = state.queues.get(name) if name else None
    if queue is None or not queue.draining or queue.waiting:
        return
    if any(c.queue == name and c.state is CallState.OFFERED for c in state.calls.values()):
        return
    for agent_id in queue.members:
        agent = state.agents.get(agent_id)
        if agent is not None:
            agent.memberships.pop(queue.name, None)
    del state.queues[queue.name]
