"""Agent and call lifecycles: no-answer, wrap-up, pauses, logout, hang-ups, transfers."""

import pytest
from acd_routing_helpers import Harness, agent, of_type, rung

from acd.core import (
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    AgentState,
    AgentStateChanged,
    CallArrived,
    CallCompleted,
    CallerHungUp,
    CallOutcome,
    CallState,
    CallStateChanged,
    CallTransferred,
    CancelRing,
    ContactStatusChanged,
    EventIgnored,
    IllegalAgentTransition,
    IvrEntered,
    QueueSpec,
    RingFailed,
    UnknownAgent,
    WrapUpDone,
    WrapUpExtended,
    WrapUpScheduled,
)


def _two_agents(**queue: object) -> Harness:
    h = Harness(
        [QueueSpec("q", max_wait=0, **queue)],  # type: ignore[arg-type]
        [agent("a1", {"q": 1}), agent("a2", {"q": 1})],
    )
    h.send(AgentLoggedIn("a1"), at=0)
    h.send(AgentLoggedIn("a2"), at=1)
    return h


def test_ring_timeout_pauses_the_agent_and_offers_the_next_keeping_the_place() -> None:
    h = _two_agents(ring_timeout=10)
    h.send(AgentAnswered("x", "a2"))  # ignored: no such offer
    assert rung(h.send(CallArrived("c1", "q"), at=5)) == [("c1", "a1")]
    h.send(AgentLoggedOut("a2"), at=6)  # so that c2 arrives behind c1
    h.send(CallArrived("c2", "q"), at=7)
    assert h.router.next_deadline() == 15
    out = h.advance(15)
    assert of_type(out, CancelRing) == [CancelRing("c1", "a1", "ring_timeout")]
    paused = [c for c in of_type(out, AgentStateChanged) if c.agent_id == "a1"][-1]
    assert (paused.new, paused.reason) == (AgentState.NOT_READY, "no_answer")
    assert h.router.position("c1") == 1 and h.router.position("c2") == 2
    assert rung(h.send(AgentLoggedIn("a2"), at=16)) == [("c1", "a2")]


def test_ring_failure_is_handled_like_a_timeout() -> None:
    h = _two_agents()
    h.send(CallArrived("c1", "q"), at=5)
    out = h.send(RingFailed("c1", "a1", "busy"), at=6)
    assert h.state("a1") is AgentState.NOT_READY
    assert rung(out) == [("c1", "a2")]
    assert isinstance(h.send(RingFailed("c1", "a1", "busy"), at=7)[0], EventIgnored)


def test_wrap_up_per_queue_ends_by_timer_early_or_later_on_request() -> None:
    h = Harness(
        [QueueSpec("long", wrapup=30, max_wait=0), QueueSpec("none", wrapup=0, max_wait=0)],
        [agent("a1", {"long": 1, "none": 1})],
    )
    h.send(AgentLoggedIn("a1"))
    h.send(CallArrived("c1", "long"), at=1)
    h.send(AgentAnswered("c1", "a1"), at=2)
    out = h.send(CallCompleted("c1"), at=62)
    assert of_type(out, WrapUpScheduled) == [WrapUpScheduled("a1", 92)]
    out = h.send(WrapUpExtended("a1", 20), at=70)
    assert of_type(out, WrapUpScheduled) == [WrapUpScheduled("a1", 112)]
    assert h.advance(111).count(None) == 0 and h.state("a1") is AgentState.WRAP_UP
    h.advance(112)
    assert h.state("a1") is AgentState.READY
    h.send(CallArrived("c2", "none"), at=113)
    h.send(AgentAnswered("c2", "a1"), at=114)
    h.send(CallCompleted("c2"), at=120)
    assert h.state("a1") is AgentState.READY  # no wrap-up in that queue
    h.send(CallArrived("c3", "long"), at=121)
    h.send(AgentAnswered("c3", "a1"), at=122)
    h.send(CallCompleted("c3"), at=130)
    h.send(WrapUpDone("a1"), at=131)
    assert h.state("a1") is AgentState.READY
    assert h.router.next_deadline() is None  # the wrap-up timer died with the early end


def test_pause_during_a_call_waits_for_the_end_of_wrap_up() -> None:
    h = _two_agents(wrapup=5)
    h.send(CallArrived("c1", "q"), at=2)
    h.send(AgentAnswered("c1", "a1"), at=3)
    assert h.send(AgentPaused("a1", "lunch"), at=4) == []
    assert h.state("a1") is AgentState.ON_CALL
    h.send(CallCompleted("c1"), at=10)
    assert h.state("a1") is AgentState.WRAP_UP
    h.advance(15)
    view = h.router.agent_view("a1", 15)
    assert view is not None and (view.state, view.reason) == (AgentState.NOT_READY, "lunch")


def test_ready_during_a_call_cancels_a_pending_pause() -> None:
    h = _two_agents(wrapup=0)
    h.send(CallArrived("c1", "q"), at=2)
    h.send(AgentAnswered("c1", "a1"), at=3)
    h.send(AgentPaused("a1", "break"), at=4)
    h.send(AgentReady("a1"), at=5)
    h.send(CallCompleted("c1"), at=6)
    assert h.state("a1") is AgentState.READY


def test_pause_while_ringing_puts_the_caller_back_to_the_next_agent() -> None:
    h = _two_agents()
    h.send(CallArrived("c1", "q"), at=2)
    out = h.send(AgentPaused("a1", "break"), at=3)
    assert of_type(out, CancelRing) == [CancelRing("c1", "a1", "agent_paused")]
    assert rung(out) == [("c1", "a2")]


def test_illegal_agent_transitions_raise_and_change_nothing() -> None:
    h = _two_agents()
    with pytest.raises(IllegalAgentTransition):
        h.send(AgentLoggedIn("a1"))
    with pytest.raises(IllegalAgentTransition):
        h.send(WrapUpDone("a1"))
    with pytest.raises(IllegalAgentTransition):
        h.send(WrapUpExtended("a1", 10))
    h.send(CallArrived("c1", "q"), at=2)
    h.send(AgentAnswered("c1", "a1"), at=3)
    before = h.router.snapshot(3)
    with pytest.raises(IllegalAgentTransition):
        h.send(AgentLoggedOut("a1"), at=3)
    with pytest.raises(IllegalAgentTransition):
        h.send(AgentReady("a1"), at=3)
    assert h.router.snapshot(3) == before
    with pytest.raises(UnknownAgent):
        h.send(AgentReady("nobody"))
    h.send(AgentLoggedOut("a2"), at=4)
    with pytest.raises(IllegalAgentTransition):
        h.send(AgentPaused("a2", "break"), at=4)


def test_commands_of_timers_fired_before_a_refused_event_are_not_lost() -> None:
    h = _two_agents(ring_timeout=5)
    h.send(CallArrived("c1", "q"), at=2)
    with pytest.raises(IllegalAgentTransition):
        h.send(AgentLoggedIn("a2"), at=8)  # the ring timeout fires first
    out = h.send(AgentReady("a1"), at=9)
    assert CancelRing("c1", "a1", "ring_timeout") in out


def test_logout_while_ringing_returns_the_call() -> None:
    h = _two_agents()
    h.send(CallArrived("c1", "q"), at=2)
    out = h.send(AgentLoggedOut("a1"), at=3)
    assert rung(out) == [("c1", "a2")]
    assert h.state("a1") is AgentState.LOGGED_OUT


def test_contact_lost_while_ringing_withdraws_the_offer() -> None:
    h = _two_agents()
    h.send(CallArrived("c1", "q"), at=2)
    out = h.send(ContactStatusChanged("a1", reachable=False), at=3)
    assert of_type(out, CancelRing) == [CancelRing("c1", "a1", "contact_unreachable")]
    assert rung(out) == [("c1", "a2")]
    view = h.router.agent_view("a1", 3)
    assert view is not None and view.state is AgentState.READY and not view.reachable
    assert rung(h.send(CallArrived("c2", "q"), at=4)) == []
    assert rung(h.send(ContactStatusChanged("a1", reachable=True), at=5)) == [("c2", "a1")]
    assert isinstance(h.send(ContactStatusChanged("9999", reachable=True))[0], EventIgnored)


@pytest.mark.parametrize(
    ("steps", "outcome"),
    [
        ([], CallOutcome.ABANDONED_QUEUE),
        (["ring"], CallOutcome.ABANDONED_RINGING),
        (["ring", "answer"], CallOutcome.ANSWERED),
    ],
)
def test_caller_hang_up_outcomes(steps: list[str], outcome: CallOutcome) -> None:
    h = Harness([QueueSpec("q")], [agent("a1", {"q": 1})])
    h.send(CallArrived("c1", "q"), at=0)
    if "ring" in steps:
        h.send(AgentLoggedIn("a1"), at=1)
    if "answer" in steps:
        h.send(AgentAnswered("c1", "a1"), at=2)
    h.send(CallerHungUp("c1"), at=10)
    assert h.outcome("c1").outcome is outcome
    assert h.router.call_view("c1", 10) is None
    assert isinstance(h.send(CallerHungUp("c1"), at=11)[0], EventIgnored)
    if "ring" in steps and "answer" not in steps:
        assert h.state("a1") is AgentState.READY


def test_answered_call_record_has_wait_and_talk_time() -> None:
    h = Harness([QueueSpec("q")], [agent("a1", {"q": 1})])
    h.send(CallArrived("c1", "q"), at=10)
    h.send(AgentLoggedIn("a1"), at=25)
    h.send(AgentAnswered("c1", "a1"), at=28)
    h.send(CallCompleted("c1"), at=88)
    ended = h.outcome("c1")
    assert (ended.wait_time, ended.talk_time, ended.agent_id) == (18, 60, "a1")
    stats = h.router.queue_stats("q", 88)
    assert stats is not None and stats.counters.answered == 1
    assert stats.counters.answered_within_sl == 1 and stats.service_level == 1.0
    assert stats.average_handle_time == 70  # 60 s talk + 10 s wrap-up


def test_ivr_calls_are_tracked_until_they_queue() -> None:
    h = Harness([QueueSpec("q")], [agent("a1", {"q": 1})])
    out = h.send(IvrEntered("c1", "0312345678", "山田"), at=0)
    assert of_type(out, CallStateChanged)[0].new is CallState.IVR
    h.send(CallArrived("c1", "q"), at=20)
    view = h.router.call_view("c1", 20)
    assert view is not None and view.state is CallState.QUEUED and view.caller_name == "山田"
    h.send(IvrEntered("c2"), at=21)
    h.send(CallerHungUp("c2"), at=22)
    assert h.outcome("c2").outcome is CallOutcome.ENDED_IN_IVR


def test_unknown_queue_ends_the_call_as_a_system_failure() -> None:
    from acd.core import HangupCaller

    h = Harness([QueueSpec("q")], [])
    out = h.send(CallArrived("c1", "nowhere"), at=0)
    assert of_type(out, HangupCaller) == [HangupCaller("c1", "unknown_queue")]
    assert h.outcome("c1").outcome is CallOutcome.SYSTEM_FAILURE
    assert isinstance(h.send(CallArrived("c1", "q"), at=1)[0], EventIgnored)


def test_transfer_out_and_into_a_queue() -> None:
    h = Harness(
        [QueueSpec("q", wrapup=0), QueueSpec("billing", wrapup=0)],
        [agent("a1", {"q": 1}), agent("b1", {"billing": 1})],
    )
    h.send(AgentLoggedIn("a1"))
    h.send(AgentLoggedIn("b1"))
    h.send(CallArrived("c1", "q"), at=1)
    h.send(AgentAnswered("c1", "a1"), at=2)
    out = h.send(CallTransferred("c1", "queue:billing"), at=30)
    assert rung(out) == [("c1", "b1")]
    assert h.state("a1") is AgentState.READY
    h.send(AgentAnswered("c1", "b1"), at=31)
    h.send(CallTransferred("c1", "0120123456"), at=40)
    ended = h.outcome("c1")
    assert (ended.outcome, ended.detail) == (CallOutcome.TRANSFERRED, "0120123456")
    assert isinstance(h.send(CallTransferred("c1", "queue:q"), at=41)[0], EventIgnored)


def test_ready_during_wrap_up_drops_a_pause_requested_during_the_call() -> None:
    h = Harness([QueueSpec("q", wrapup=30, max_wait=0)], [agent("a1", {"q": 1})])
    h.send(AgentLoggedIn("a1"))
    h.send(CallArrived("c1", "q"), at=2)
    h.send(AgentAnswered("c1", "a1"), at=3)
    h.send(AgentPaused("a1", "break"), at=4)
    h.send(CallCompleted("c1"), at=10)
    assert h.state("a1") is AgentState.WRAP_UP
    h.send(AgentReady("a1"), at=11)
    assert rung(h.send(CallArrived("c2", "q"), at=12)) == [("c2", "a1")]
    h.send(AgentAnswered("c2", "a1"), at=13)
    h.send(CallCompleted("c2"), at=20)
    h.advance(50)
    assert h.state("a1") is AgentState.READY
