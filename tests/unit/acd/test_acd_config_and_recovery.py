"""Live configuration changes and rebuilding the router after a restart."""

import random

import pytest
from acd_routing_helpers import Harness, agent, of_type, rung

from acd.core import (
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentState,
    CallArrived,
    CallCompleted,
    CallOutcome,
    CallState,
    CancelRing,
    ConfigReplaced,
    HangupCaller,
    OverflowTarget,
    QueueSpec,
    RecoveredAgent,
    RecoveredCall,
    RecoverySnapshot,
    RelaxStep,
    RingAgent,
    Router,
    RouterConfigError,
    Strategy,
    Tick,
    UnknownAgent,
)


def test_new_queue_opens_and_new_agent_can_log_in() -> None:
    h = Harness([QueueSpec("sales")], [agent("a1", {"sales": 1})])
    with pytest.raises(UnknownAgent):
        h.send(AgentLoggedIn("a2"))
    h.send(
        ConfigReplaced(
            (QueueSpec("sales"), QueueSpec("support")),
            (agent("a1", {"sales": 1}), agent("a2", {"support": 1})),
        ),
        at=1,
    )
    h.send(AgentLoggedIn("a2"), at=2)
    assert rung(h.send(CallArrived("c1", "support"), at=3)) == [("c1", "a2")]


def test_removed_queue_drains_with_its_old_members_and_refuses_new_callers() -> None:
    h = Harness(
        [QueueSpec("old", max_wait=0), QueueSpec("new")],
        [agent("a1", {"old": 1}), agent("a2", {"new": 1})],
    )
    h.send(CallArrived("c1", "old"), at=0)
    h.send(ConfigReplaced((QueueSpec("new"),), (agent("a1", {"new": 1}), agent("a2", {"new": 1}))))
    assert "old" in h.router.queue_names()
    out = h.send(CallArrived("c2", "old"), at=1)
    assert of_type(out, HangupCaller) == [HangupCaller("c2", "unknown_queue")]
    assert rung(h.send(AgentLoggedIn("a1"), at=2)) == [("c1", "a1")]
    h.send(AgentAnswered("c1", "a1"), at=3)
    assert "old" not in h.router.queue_names()  # empty: gone
    h.send(CallCompleted("c1"), at=4)
    assert h.state("a1") is AgentState.WRAP_UP


def test_removed_queue_with_a_drain_target_moves_its_callers() -> None:
    h = Harness([QueueSpec("old", max_wait=0), QueueSpec("new")], [agent("a1", {"new": 1})])
    h.send(CallArrived("c1", "old"), at=0)
    h.send(AgentLoggedIn("a1"), at=1)
    out = h.send(
        ConfigReplaced(
            (QueueSpec("new"),),
            (agent("a1", {"new": 1}),),
            drain_targets={"old": OverflowTarget("queue", "new")},
        ),
        at=2,
    )
    assert rung(out) == [("c1", "a1")]
    assert "old" not in h.router.queue_names()


def test_changed_strategy_and_requirements_apply_to_the_next_decision() -> None:
    agents = (agent("a1", {"q": 1}, lang_ja=1), agent("a2", {"q": 1}, lang_ja=5))
    h = Harness([QueueSpec("q", strategy=Strategy.LINEAR, requirements="lang_ja>=3")], agents)
    h.send(AgentLoggedIn("a2"), at=0)
    h.send(AgentLoggedIn("a1"), at=1)
    h.send(CallArrived("c1", "q"), at=2)  # only a2 qualifies
    h.send(AgentAnswered("c1", "a2"), at=2)
    h.send(AgentLoggedOut("a1"), at=3)
    h.send(CallArrived("c2", "q"), at=4)  # nobody qualified and ready
    relaxed = QueueSpec("q", strategy=Strategy.LONGEST_IDLE, relax=(RelaxStep(5, ""),))
    out = h.send(ConfigReplaced((relaxed,), agents), at=10)
    assert rung(out) == []  # a1 is logged out
    assert rung(h.send(AgentLoggedIn("a1"), at=11)) == [("c2", "a1")]  # relaxed: c2 waited 7 s


def test_removed_agent_is_logged_out_or_finishes_its_call() -> None:
    h = Harness(
        [QueueSpec("q", wrapup=5, max_wait=0)],
        [agent("a1", {"q": 1}), agent("a2", {"q": 1}), agent("a3", {"q": 1})],
    )
    for agent_id in ("a1", "a2", "a3"):
        h.send(AgentLoggedIn(agent_id), at=0)
    h.send(CallArrived("c1", "q"), at=1)  # a1
    h.send(AgentAnswered("c1", "a1"), at=1)
    h.send(CallArrived("c2", "q"), at=2)  # a2 rings
    out = h.send(ConfigReplaced((QueueSpec("q", wrapup=5, max_wait=0),), (agent("a3", {"q": 1}),)))
    assert CancelRing("c2", "a2", "agent_removed") in out
    assert rung(out) == [("c2", "a3")]
    assert h.router.agent_view("a2", 2) is None
    view = h.router.agent_view("a1", 2)
    assert view is not None and view.removed and view.state is AgentState.ON_CALL
    h.send(CallCompleted("c1"), at=3)
    h.advance(8)
    assert h.router.agent_view("a1", 8) is None
    with pytest.raises(UnknownAgent):
        h.send(AgentLoggedIn("a1"), at=9)


def test_bad_replacement_changes_nothing() -> None:
    h = Harness([QueueSpec("q")], [agent("a1", {"q": 1})])
    before = h.router.snapshot(0)
    with pytest.raises(RouterConfigError):
        h.send(ConfigReplaced((QueueSpec("q"),), (agent("a1", {"missing": 1}),)))
    with pytest.raises(RouterConfigError):
        h.send(
            ConfigReplaced(
                (QueueSpec("q"),), (), drain_targets={"q": OverflowTarget("queue", "gone")}
            )
        )
    assert h.router.snapshot(0) == before


def test_recovery_rebuilds_agents_and_calls_and_resumes_routing() -> None:
    queues = [QueueSpec("q", max_wait=300, relax=(RelaxStep(30, ""),), requirements="vip>=1")]
    agents = [agent("a1", {"q": 1}), agent("a2", {"q": 1}), agent("a3", {"q": 1})]
    snapshot = RecoverySnapshot(
        agents=(
            RecoveredAgent("a1"),
            RecoveredAgent("a2", not_ready_reason="lunch"),
            RecoveredAgent("ghost"),
        ),
        calls=(
            RecoveredCall("talking", "q", arrived_at=900, agent_id="a2", connected_at=950),
            RecoveredCall("waiting", "q", arrived_at=960, caller_name="山田"),
            RecoveredCall("ancient", "q", arrived_at=500),
            RecoveredCall("lost", "gone", arrived_at=990),
        ),
        unreachable=("a3",),
    )
    router, out = Router.recover(queues, agents, snapshot, now=1000, rng=random.Random(1))
    ended = {c.call_id: c.outcome for c in out if c.__class__.__name__ == "CallEnded"}
    assert ended == {"ancient": CallOutcome.MAX_WAIT, "lost": CallOutcome.SYSTEM_FAILURE}
    talking = router.call_view("talking", 1000)
    assert talking is not None and talking.state is CallState.CONNECTED
    a2 = router.agent_view("a2", 1000)
    assert a2 is not None and a2.state is AgentState.ON_CALL and a2.call_id == "talking"
    assert rung(out) == [("waiting", "a1")]  # waited 40 s: relaxed to anyone
    a3 = router.agent_view("a3", 1000)
    assert a3 is not None and a3.state is AgentState.LOGGED_OUT and not a3.reachable
    later = router.handle(AgentLoggedIn("a3"), 1001) + router.handle(Tick(), 1040)
    assert [c for c in later if isinstance(c, RingAgent) and c.agent_id == "a3"] == []
    waiting = router.call_view("waiting", 1040)
    assert waiting is not None and waiting.state is CallState.QUEUED  # a1 did not answer
    out = router.handle(CallCompleted("talking"), 1010)
    assert any(c.__class__.__name__ == "WrapUpScheduled" for c in out)
