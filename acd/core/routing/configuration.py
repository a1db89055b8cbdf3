"""The configuration in force: the state built from the specs, ``ConfigReplaced``, and the
specs a rebuild should take.

**Configuration changes** (``ConfigReplaced(queues, agents, drain_targets)``): new queues open;
removed queues drain (their waiting callers overflow to the given drain target, or stay and are
served by the queue's old members until the queue is empty; new callers for them get
``system_failure``); a changed strategy applies to the next decision; changed
requirements/relaxation apply to waiting callers at once; agents keep their state and their
calls; removed agents are logged out, or finish their current call first.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from acd.core.agent_state import AgentState, AgentTrigger
from acd.core.call_state import CallState
from acd.core.commands import CancelRing, Command
from acd.core.errors import RouterConfigError
from acd.core.events import ConfigReplaced
from acd.core.records import AgentRecord, CallRecord
from acd.core.routing.membership import delete_agent, drop_if_drained, rebuild_memberships
from acd.core.routing.offers import route_all_agents
from acd.core.routing.overflow import overflow
from acd.core.routing.requeue import requeue
from acd.core.routing.state import RoutingState
from acd.core.routing.transitions import agent_to
from acd.core.routing.waiting import place
from acd.core.specs import AgentSpec, QueueSpec


def new_state(
    queues: Iterable[QueueSpec],
    agents: Iterable[AgentSpec],
    *,
    rng: random.Random | None,
    default_handle_time: float,
    handle_time_window: int,
    now: float,
    not_ready_reasons: Iterable[str] | None,
) -> RoutingState:
    """A state with every agent logged out and no calls; raises RouterConfigError."""
    queue_specs = tuple(queues)
    agent_specs = tuple(agents)
    validate_specs(queue_specs, agent_specs)
    state = RoutingState(
        rng=rng if rng is not None else random.Random(),
        reasons=None if not_ready_reasons is None else frozenset(not_ready_reasons),
        default_handle_time=default_handle_time,
        handle_time_window=handle_time_window,
        now=now,
    )
    state.queues = {spec.name: state.new_queue(spec, now) for spec in queue_specs}
    state.agents = {spec.id: AgentRecord(spec=spec, order=i) for i, spec in enumerate(agent_specs)}
    rebuild_memberships(state)
    return state


def validate_specs(queues: tuple[QueueSpec, ...], agents: tuple[AgentSpec, ...]) -> None:
    """Raise RouterConfigError for specs that do not fit together."""
    names = [q.name for q in queues]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise RouterConfigError(f"duplicate queue names: {sorted(duplicates)}")
    ids = [a.id for a in agents]
    duplicate_ids = {i for i in ids if ids.count(i) > 1}
    if duplicate_ids:
        raise RouterConfigError(f"duplicate agent ids: {sorted(duplicate_ids)}")
    known = set(names)
    for queue in queues:
        for target in queue.overflow.targets():
            if target.kind == "queue" and target.queue not in known:
                raise RouterConfigError(
                    f"queue.{queue.name}.overflow: target queue {target.queue!r} is not configured"
                )
    for agent in agents:
        unknown = sorted(set(agent.queues) - known)
        if unknown:
            raise RouterConfigError(f"agent.{agent.id}.queues: unknown queues {unknown}")


def specs_in_force(state: RoutingState) -> tuple[tuple[QueueSpec, ...], tuple[AgentSpec, ...]]:
    """(queues, agents), agents in configuration order; draining queues and removed agents
    (even while they finish a call) left out."""
    queues = tuple(q.spec for q in state.queues.values() if not q.draining)
    live = [a for a in state.agents.values() if not a.removed]
    agents = tuple(a.spec for a in sorted(live, key=lambda a: a.order))
    return queues, agents


def on_config_replaced(
    state: RoutingState, event: ConfigReplaced, now: float, out: list[Command]
) -> None:
    validate_specs(event.queues, event.agents)
    for target in event.drain_targets.values():
        if target.kind == "queue" and target.queue not in {q.name for q in event.queues}:
            raise RouterConfigError(f"drain target queue {target.queue!r} is not configured")
    new_queue_names = {spec.name for spec in event.queues}
    for spec in event.queues:
        queue = state.queues.get(spec.name)
        if queue is None:
            state.queues[spec.name] = state.new_queue(spec, now)
        else:
            queue.apply_spec(spec)
            queue.draining = False
    removed_queues = [q for name, q in state.queues.items() if name not in new_queue_names]
    for queue in removed_queues:
        queue.draining = True
    new_agent_ids = {spec.id for spec in event.agents}
    for order, agent_spec in enumerate(event.agents):
        agent = state.agents.get(agent_spec.id)
        if agent is None:
            state.agents[agent_spec.id] = AgentRecord(spec=agent_spec, order=order)
        else:
            agent.spec = agent_spec
            agent.order = order
            agent.removed = False
    removed_agents = [a for a in state.agents.values() if a.agent_id not in new_agent_ids]
    for position, agent in enumerate(removed_agents):
        agent.removed = True
        agent.order = len(event.agents) + position
    rebuild_memberships(state)
    # Removed agents: log out now, or after their call (then the wrap-up path logs out).
    withdrawn: list[CallRecord] = []
    for agent in removed_agents:
        if agent.state is AgentState.ON_CALL:
            continue
        call_id = agent.call_id
        if agent.state is not AgentState.LOGGED_OUT:
            agent_to(state, agent, AgentTrigger.LOGOUT, now, out, "removed_from_config")
        if call_id is not None and call_id in state.calls:
            call = state.calls[call_id]
            out.append(CancelRing(call_id, agent.agent_id, "agent_removed"))
            call.offered_to.remove(agent.agent_id)
            agent.call_id = None
            if not call.offered_to:
                withdrawn.append(call)
        delete_agent(state, agent)
    # Waiting callers: requirements and timers follow the new queue specs.
    for call in state.calls.values():
        if call.queue is None or call.state not in (CallState.QUEUED, CallState.OFFERED):
            continue
        queue = state.queues[call.queue]
        if call.state is CallState.QUEUED:
            queue.remove(call)
        place(state, call, queue, now, entered_at=call.queue_entered_at)
    for call in withdrawn:
        requeue(state, call, now, out, "agent_removed", route=False)
    # One pass over the agents restores the invariant for the changed eligibility; only
    # then do drained callers enter their target queue (routed as they arrive).
    route_all_agents(state, now, out)
    for queue in removed_queues:
        drain_target = event.drain_targets.get(queue.name)
        if drain_target is not None:
            for key in list(queue.waiting):
                waiting = state.calls[key[3]]
                if waiting.state is CallState.QUEUED and waiting.queue == queue.name:
                    overflow(state, waiting, drain_target, "queue_removed", now, out)
        drop_if_drained(state, queue.name)
