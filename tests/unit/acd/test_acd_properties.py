"""Property tests: invariants of the router over random event sequences.

Time moves only with ``Tick`` events, so no timer is ever due when another event arrives;
invariants are checked against the router's public views and an independent computation of
eligibility from the specs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.core import (
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    AgentSpec,
    AgentState,
    CallArrived,
    CallbackCreated,
    CallbackRequested,
    CallCompleted,
    CallEnded,
    CallerHungUp,
    CallState,
    CallTransferred,
    CallView,
    Command,
    ConfigReplaced,
    ContactStatusChanged,
    Event,
    IllegalAgentTransition,
    IvrEntered,
    OverflowPolicy,
    OverflowTarget,
    PhoneBusyChanged,
    QueueSpec,
    RecoveredAgent,
    RecoveredCall,
    RecoverySnapshot,
    RelaxStep,
    RingAgent,
    RingFailed,
    Router,
    RouterSnapshot,
    Strategy,
    Tick,
    VoicemailRequested,
    WrapUpDone,
    WrapUpExtended,
)
from acd.core.requirements import Requirement, any_of, parse_requirement

REQUIREMENTS = [
    "",
    "lang_ja>=3",
    "billing>=2",
    "lang_ja>=1 and billing>=1",
    "lang_ja>=4 or billing>=3",
]
QUEUES = ["q1", "q2", "q3"]
AGENTS = ["a1", "a2", "a3", "a4", "a5"]


@dataclass
class World:
    router: Router
    queues: dict[str, QueueSpec]
    agents: dict[str, AgentSpec]
    now: float = 0.0
    requested: dict[str, str] = field(default_factory=dict)  # call id -> requirement text
    created: set[str] = field(default_factory=set)
    ended: dict[str, int] = field(default_factory=dict)
    offer_strategy: dict[str, Strategy] = field(default_factory=dict)
    counter: int = 0

    def send(self, event: Event) -> list[Command]:
        out = self.router.handle(event, self.now)
        for command in out:
            if isinstance(command, CallEnded):
                self.ended[command.call_id] = self.ended.get(command.call_id, 0) + 1
            if isinstance(command, CallbackCreated):
                self.created.add(command.call_id)
                self.requested[command.call_id] = self.requested[command.original_call_id]
            if isinstance(command, RingAgent):
                self.offer_strategy[command.call_id] = self.queues[command.queue].strategy
        return out

    def effective(self, call: CallView) -> Requirement:
        assert call.queue is not None
        spec = self.queues[call.queue]
        text = self.requested.get(call.call_id, "")
        base = parse_requirement(text or spec.requirements)
        steps = [
            parse_requirement(step.requirements)
            for step in spec.relax
            if call.queue_entered_at + step.after <= self.now
        ]
        return any_of(base, *steps)

    def eligible(self, agent_id: str, call: CallView, snapshot: RouterSnapshot) -> bool:
        agent = next(a for a in snapshot.agents if a.agent_id == agent_id)
        if agent.state is not AgentState.READY or not agent.reachable or agent.phone_busy:
            return False
        if call.queue not in agent.queues:
            return False
        return self.effective(call).matches(self.agents[agent_id].skills)


def score(world: World, call: CallView) -> tuple[int, float]:
    assert call.queue is not None
    return (call.priority, world.queues[call.queue].weight * (world.now - call.arrived_at))


def check_invariants(world: World, event: Event, out: list[Command]) -> None:
    snapshot = world.router.snapshot(world.now)
    agents = {a.agent_id: a for a in snapshot.agents}
    calls = {c.call_id: c for c in snapshot.calls}
    # every call ends at most once, and an ended call is gone
    assert all(count == 1 for count in world.ended.values()), world.ended
    assert not set(calls) & set(world.ended)
    # no agent has two calls; views agree with each other
    busy: dict[str, str] = {}
    for call in calls.values():
        if call.state in (CallState.OFFERED, CallState.CONNECTED):
            assert call.agent_ids, call
            for agent_id in call.agent_ids:
                assert agent_id not in busy, (agent_id, busy[agent_id], call.call_id)
                busy[agent_id] = call.call_id
                expected = (
                    AgentState.RESERVED if call.state is CallState.OFFERED else AgentState.ON_CALL
                )
                assert agents[agent_id].state is expected
                assert agents[agent_id].call_id == call.call_id
        # only ring-all offers ring several agents
        if call.state is CallState.OFFERED and len(call.agent_ids) > 1:
            assert world.offer_strategy[call.call_id] is Strategy.RING_ALL
    for agent in agents.values():
        if agent.state in (AgentState.RESERVED, AgentState.ON_CALL):
            assert busy.get(agent.agent_id) == agent.call_id
        else:
            assert agent.call_id is None
    # no ready eligible agent next to a waiting call it could take
    waiting = [c for c in calls.values() if c.state is CallState.QUEUED]
    for call in waiting:
        for agent_id in agents:
            assert not world.eligible(agent_id, call, snapshot), (event, agent_id, call)
    # nobody is rung while its phone is on a call the ACD did not give it
    for ring in (c for c in out if isinstance(c, RingAgent)):
        assert not agents[ring.agent_id].phone_busy, (event, ring)
    # priorities and (weighted) waiting order: whoever was offered a call could not have
    # taken a better one that is still waiting
    if not isinstance(event, Tick):
        for ring in (c for c in out if isinstance(c, RingAgent)):
            offered = calls.get(ring.call_id)
            if offered is None or offered.state is not CallState.OFFERED:
                continue
            spec = world.agents[ring.agent_id]
            for other in waiting:
                if other.queue not in agents[ring.agent_id].queues:
                    continue
                if not world.effective(other).matches(spec.skills):
                    continue
                better = score(world, other)
                mine = score(world, offered)
                assert better[0] <= mine[0], (ring, other)
                if better[0] == mine[0]:
                    assert better[1] <= mine[1] + 1e-9, (ring, other)
    # queue counts agree with the calls
    for queue in snapshot.queues:
        assert queue.waiting == sum(1 for c in waiting if c.queue == queue.name)


def build_world(data: st.DataObject) -> World:
    strategies = [data.draw(st.sampled_from(list(Strategy))) for _ in QUEUES]
    queues = {
        "q1": QueueSpec(
            "q1",
            strategy=strategies[0],
            ring_timeout=10,
            wrapup=data.draw(st.sampled_from([0, 5])),
            max_wait=data.draw(st.sampled_from([0, 120])),
            announce_interval=15,
            overflow=OverflowPolicy(after=40, target=OverflowTarget("queue", "q2")),
        ),
        "q2": QueueSpec(
            "q2",
            strategy=strategies[1],
            ring_timeout=8,
            wrapup=3,
            weight=2,
            requirements="lang_ja>=3",
            relax=(RelaxStep(20, "lang_ja>=1"), RelaxStep(50, "")),
            overflow=OverflowPolicy(when_no_agents=OverflowTarget("callback")),
        ),
        "q3": QueueSpec(
            "q3",
            strategy=strategies[2],
            ring_timeout=12,
            wrapup=0,
            max_wait=0,
            overflow=OverflowPolicy(
                estimated_wait_above=400, position_above=6, target=OverflowTarget("voicemail")
            ),
        ),
    }
    agents = {}
    for agent_id in AGENTS:
        member_of = data.draw(
            st.lists(st.sampled_from(QUEUES), min_size=1, max_size=3, unique=True)
        )
        agents[agent_id] = AgentSpec(
            agent_id,
            f"担当 {agent_id}",
            skills={
                "lang_ja": data.draw(st.integers(0, 5)),
                "billing": data.draw(st.integers(0, 3)),
            },
            queues={q: data.draw(st.integers(1, 2)) for q in member_of},
        )
    router = Router(
        queues.values(), agents.values(), rng=random.Random(data.draw(st.integers(0, 99)))
    )
    return World(router, queues, agents)


ACTIONS = [
    "arrive",
    "arrive",
    "arrive",
    "ivr",
    "hangup",
    "login",
    "login",
    "ready",
    "pause",
    "logout",
    "wrapup_done",
    "wrapup_extend",
    "answer",
    "answer",
    "answer",
    "ring_failed",
    "complete",
    "complete",
    "transfer",
    "callback",
    "voicemail",
    "contact",
    "phone_busy",
    "tick",
    "tick",
    "tick",
    "reconfigure",
]


def next_event(world: World, data: st.DataObject) -> Event:
    action = data.draw(st.sampled_from(ACTIONS))
    snapshot = world.router.snapshot(world.now)
    live = [c for c in snapshot.calls]
    agent_id = data.draw(st.sampled_from(AGENTS))
    match action:
        case "arrive" | "ivr":
            ivr_calls = [c for c in live if c.state is CallState.IVR]
            if action == "ivr" or not ivr_calls or data.draw(st.booleans()):
                world.counter += 1
                call_id = f"c{world.counter}"
                world.created.add(call_id)
                if action == "ivr":
                    return IvrEntered(call_id, caller_number=f"03{world.counter:08d}")
            else:
                call_id = data.draw(st.sampled_from(ivr_calls)).call_id
            requirement = data.draw(st.sampled_from(REQUIREMENTS))
            world.requested[call_id] = requirement
            number = data.draw(st.sampled_from(["", f"090{world.counter:08d}"]))
            return CallArrived(
                call_id,
                data.draw(st.sampled_from(QUEUES)),
                priority=data.draw(st.integers(0, 2)),
                requirements=requirement,
                caller_number=number,
            )
        case "hangup" if live:
            return CallerHungUp(data.draw(st.sampled_from(live)).call_id)
        case "login":
            reason = data.draw(st.sampled_from([None, None, "break"]))
            return AgentLoggedIn(agent_id, not_ready_reason=reason)
        case "ready":
            return AgentReady(agent_id)
        case "pause":
            return AgentPaused(agent_id, data.draw(st.sampled_from(["break", "lunch"])))
        case "logout":
            return AgentLoggedOut(agent_id)
        case "wrapup_done":
            return WrapUpDone(agent_id)
        case "wrapup_extend":
            return WrapUpExtended(agent_id, 10)
        case "answer" | "ring_failed":
            offered = [c for c in live if c.state is CallState.OFFERED]
            if offered:
                call = data.draw(st.sampled_from(offered))
                agent_id = data.draw(st.sampled_from(list(call.agent_ids)))
                call_id = call.call_id
            else:
                call_id = "nothing"
            if action == "answer":
                return AgentAnswered(call_id, agent_id)
            return RingFailed(call_id, agent_id, data.draw(st.sampled_from(["busy", "rejected"])))
        case "complete" | "transfer":
            connected = [c for c in live if c.state is CallState.CONNECTED]
            call_id = data.draw(st.sampled_from(connected)).call_id if connected else "nothing"
            if action == "complete":
                return CallCompleted(call_id)
            target = data.draw(st.sampled_from(["queue:q1", "queue:q3", "0120000000"]))
            return CallTransferred(call_id, target)
        case "callback" if live:
            return CallbackRequested(data.draw(st.sampled_from(live)).call_id)
        case "voicemail" if live:
            return VoicemailRequested(data.draw(st.sampled_from(live)).call_id)
        case "contact":
            return ContactStatusChanged(agent_id, reachable=data.draw(st.booleans()))
        case "phone_busy":
            return PhoneBusyChanged(agent_id, busy=data.draw(st.booleans()))
        case "reconfigure":
            name = data.draw(st.sampled_from(QUEUES))
            new_strategy = data.draw(st.sampled_from(list(Strategy)))
            world.queues[name] = _with_strategy(world.queues[name], new_strategy)
            spec = world.agents[agent_id]
            skills = dict(spec.skills)
            skills["lang_ja"] = data.draw(st.integers(0, 5))
            world.agents[agent_id] = AgentSpec(spec.id, spec.name, skills, dict(spec.queues))
            return ConfigReplaced(tuple(world.queues.values()), tuple(world.agents.values()))
    world.now += data.draw(st.sampled_from([0.5, 3.0, 7.0, 15.0, 30.0]))
    return Tick()


def _with_strategy(spec: QueueSpec, strategy: Strategy) -> QueueSpec:
    from dataclasses import replace

    return replace(spec, strategy=strategy)


def run_random_sequence(world: World, data: st.DataObject) -> None:
    steps = data.draw(st.integers(5, 70))
    for _ in range(steps):
        event = next_event(world, data)
        before = world.router.snapshot(world.now)
        try:
            out = world.send(event)
        except IllegalAgentTransition:
            # no timer was due (time moves only with Tick): nothing may have changed
            assert world.router.snapshot(world.now) == before
            continue
        check_invariants(world, event, out)


PROPERTY_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY_SETTINGS
@given(st.data())
def test_invariants_hold_over_random_event_sequences(data: st.DataObject) -> None:
    world = build_world(data)
    run_random_sequence(world, data)
    # drain: end every call; each one must then have exactly one outcome
    for _ in range(200):
        calls = world.router.snapshot(world.now).calls
        if not calls:
            break
        call = calls[0]
        if call.state is CallState.CONNECTED:
            out = world.send(CallCompleted(call.call_id))
        else:
            out = world.send(CallerHungUp(call.call_id))
        check_invariants(world, Tick(), out)
    assert world.router.snapshot(world.now).calls == ()
    assert set(world.ended) == world.created
    assert all(count == 1 for count in world.ended.values())


@settings(PROPERTY_SETTINGS, max_examples=60)
@given(st.data())
def test_recovery_from_any_state_restores_the_invariants(data: st.DataObject) -> None:
    world = build_world(data)
    run_random_sequence(world, data)
    live = world.router.snapshot(world.now)
    recovered_agents = tuple(
        RecoveredAgent(
            a.agent_id,
            not_ready_reason=a.reason if a.state is AgentState.NOT_READY else None,
            reachable=a.reachable,
        )
        for a in live.agents
        if a.state is not AgentState.LOGGED_OUT
    )
    recovered_calls = tuple(
        RecoveredCall(
            c.call_id,
            c.queue,
            arrived_at=c.arrived_at,
            priority=c.priority,
            requirements=world.requested.get(c.call_id, ""),
            caller_number=c.caller_number,
            agent_id=c.agent_ids[0] if c.state is CallState.CONNECTED else None,
            callback_number=c.callback_number,
        )
        for c in live.calls
        if c.queue is not None and c.state is not CallState.IVR
    )
    router, out = Router.recover(
        world.queues.values(),
        world.agents.values(),
        RecoverySnapshot(recovered_agents, recovered_calls),
        world.now,
        rng=random.Random(3),
    )
    rebuilt = World(router, world.queues, world.agents, world.now, world.requested)
    for command in out:
        if isinstance(command, RingAgent):
            rebuilt.offer_strategy[command.call_id] = world.queues[command.queue].strategy
        if isinstance(command, CallEnded):
            rebuilt.ended[command.call_id] = rebuilt.ended.get(command.call_id, 0) + 1
    check_invariants(rebuilt, Tick(), out)
    after = {c.call_id: c for c in router.snapshot(world.now).calls}
    for call in recovered_calls:
        if call.agent_id is not None:
            assert after[call.call_id].state is CallState.CONNECTED
            assert after[call.call_id].agent_ids == (call.agent_id,)
        elif call.call_id not in rebuilt.ended:
            assert after[call.call_id].state in (CallState.QUEUED, CallState.OFFERED)


@settings(PROPERTY_SETTINGS, max_examples=60)
@given(st.data())
def test_next_agent_is_the_agent_an_arrival_would_be_rung(data: st.DataObject) -> None:
    """The ring-ahead query names exactly whom ``CallArrived`` (no skills) rings at once,
    and changes nothing; None when the arrival would ring nobody or must be decided then."""
    import copy

    world = build_world(data)
    run_random_sequence(world, data)
    before = world.router.snapshot(world.now)
    for queue in QUEUES:
        predicted = world.router.next_agent(queue, world.now)
        assert world.router.snapshot(world.now) == before
        trial = copy.deepcopy(world.router)
        out = trial.handle(CallArrived("probe", queue, 0, ""), world.now)
        rung = [c.agent_id for c in out if isinstance(c, RingAgent)]
        spec = world.queues.get(queue)
        decided_later = spec is None or spec.strategy in (Strategy.RING_ALL, Strategy.RANDOM)
        if predicted is not None:
            assert rung == [predicted]
        elif not decided_later and world.router.waiting_count(queue) == 0:
            assert rung == []
        if predicted is not None:
            assert world.router.next_agent(queue, world.now, taken={predicted}) is None
