"""Overflow, callbacks, max wait, estimated wait time, positions and announcements."""

import pytest
from acd_routing_helpers import Harness, agent, of_type, rung

from acd.core import (
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReady,
    Announce,
    CallArrived,
    CallbackCreated,
    CallbackRequested,
    CallCompleted,
    CallerHungUp,
    CallOutcome,
    CallState,
    EventIgnored,
    HangupCaller,
    Overflow,
    OverflowPolicy,
    OverflowTarget,
    QueueSpec,
    RingAgent,
    SpecError,
    VoicemailRequested,
)
from acd.core.estimator import HandleTimeAverage, estimated_wait

SUPPORT = OverflowTarget("queue", "support")


def test_overflow_after_time_moves_the_caller_keeping_its_arrival() -> None:
    h = Harness(
        [
            QueueSpec("sales", overflow=OverflowPolicy(after=60, target=SUPPORT), max_wait=0),
            QueueSpec("support", max_wait=0),
        ],
        [agent("s1", {"sales": 1}), agent("t1", {"support": 1})],
    )
    h.send(AgentLoggedIn("s1", not_ready_reason="break"))
    h.send(AgentLoggedIn("t1", not_ready_reason="break"))
    h.send(CallArrived("c1", "sales"), at=10)
    h.send(CallArrived("late", "support"), at=30)
    assert of_type(h.advance(69.9), Overflow) == []
    out = h.advance(70)
    assert of_type(out, Overflow) == [Overflow("c1", "sales", SUPPORT, "after")]
    view = h.router.call_view("c1", 70)
    assert view is not None and view.queue == "support" and view.arrived_at == 10
    assert view.queue_entered_at == 70
    assert h.router.position("c1") == 1  # ahead of "late", which arrived later
    assert rung(h.send(AgentReady("t1"), at=71)) == [("c1", "t1")]
    stats = h.router.queue_stats("sales", 71)
    assert stats is not None and stats.counters.overflowed == 1


def test_overflow_to_voicemail_and_when_voicemail_is_not_allowed() -> None:
    policy = OverflowPolicy(after=30, target=OverflowTarget("voicemail"))
    h = Harness([QueueSpec("q", overflow=policy, max_wait=0)], [agent("a1", {"q": 1})])
    h.send(AgentLoggedIn("a1", not_ready_reason="meeting"))
    h.send(CallArrived("c1", "q"), at=0)
    out = h.advance(30)
    assert of_type(out, Overflow)[0].target.kind == "voicemail"
    assert h.outcome("c1").outcome is CallOutcome.OVERFLOW_VOICEMAIL
    h2 = Harness(
        [QueueSpec("q", overflow=policy, max_wait=0, allow_voicemail=False)],
        [agent("a1", {"q": 1})],
    )
    h2.send(AgentLoggedIn("a1", not_ready_reason="meeting"))
    h2.send(CallArrived("c1", "q"), at=0)
    assert of_type(h2.advance(30), Overflow) == []
    assert h2.router.position("c1") == 1


def test_when_no_agents_logged_in_overflow_on_arrival_and_on_last_logout() -> None:
    policy = OverflowPolicy(when_no_agents=OverflowTarget("voicemail"))
    h = Harness([QueueSpec("q", overflow=policy)], [agent("a1", {"q": 1})])
    h.send(CallArrived("c1", "q"), at=0)
    assert h.outcome("c1").outcome is CallOutcome.OVERFLOW_VOICEMAIL
    h.send(AgentLoggedIn("a1", not_ready_reason="break"), at=1)
    h.send(CallArrived("c2", "q"), at=2)
    h.send(CallArrived("c3", "q"), at=3)
    assert h.router.position("c3") == 2  # a paused agent is logged in: they wait
    out = h.send(AgentLoggedOut("a1"), at=4)
    assert [o.call_id for o in of_type(out, Overflow)] == ["c2", "c3"]


def test_overflow_on_estimated_wait_at_arrival() -> None:
    policy = OverflowPolicy(estimated_wait_above=200, target=OverflowTarget("voicemail"))
    h = Harness(
        [QueueSpec("q", overflow=policy, max_wait=0)],
        [agent("a1", {"q": 1})],
        default_handle_time=120,
    )
    h.send(AgentLoggedIn("a1"))
    h.send(CallArrived("c0", "q"), at=0)  # rings a1 immediately
    h.send(AgentAnswered("c0", "a1"), at=1)
    # No talk time seen yet: the rest of c0's call is drawn around 120 - 1 s (exponential:
    # the median of the plays is lower), then the queue's 10 s wrap-up and the 1 s ring seen
    # for c0: c1 stays.
    h.send(CallArrived("c1", "q"), at=2)
    first = h.router.estimated_wait("c1")
    assert first is not None and 60 < first <= 131
    h.send(CallArrived("c2", "q"), at=3)  # then c1's 1 + 120 + 10 s: > 200: voicemail
    assert h.outcome("c2").outcome is CallOutcome.OVERFLOW_VOICEMAIL
    assert h.router.call_view("c1", 3) is not None


def test_a_full_queue_sheds_arrivals_by_their_place_in_line() -> None:
    policy = OverflowPolicy(position_above=2, target=OverflowTarget("voicemail"))
    h = Harness([QueueSpec("q", overflow=policy, max_wait=0)], [agent("a1", {"q": 1})])
    h.send(AgentLoggedIn("a1"))
    h.send(CallArrived("c0", "q"), at=0)  # rings a1: not waiting, not counted
    h.send(CallArrived("c1", "q"), at=1)  # 1st in line
    h.send(CallArrived("c2", "q"), at=2)  # 2nd
    out = h.send(CallArrived("c3", "q"), at=3)  # would be 3rd: shed
    (overflow,) = of_type(out, Overflow)
    assert (overflow.call_id, overflow.reason) == ("c3", "queue_full")
    assert h.outcome("c3").outcome is CallOutcome.OVERFLOW_VOICEMAIL
    # A high-priority caller goes to the front: 1st in line, kept (the line is now 3 long).
    h.send(CallArrived("vip", "q", priority=10), at=4)
    assert h.router.position("vip") == 1
    assert h.router.position("c2") == 3
    # Once the line shortens, arrivals are kept again.
    h.send(CallerHungUp("c1"), at=5)
    h.send(CallerHungUp("c2"), at=5)
    h.send(CallArrived("c4", "q"), at=6)
    assert h.router.position("c4") == 2


def test_position_above_needs_a_target_and_a_sane_bound() -> None:
    with pytest.raises(SpecError):
        OverflowPolicy(position_above=5)
    with pytest.raises(SpecError):
        OverflowPolicy(position_above=0, target=OverflowTarget("voicemail"))


def test_callback_keeps_the_place_in_line() -> None:
    h = Harness([QueueSpec("q", max_wait=0)], [agent("a1", {"q": 1})])
    h.send(CallArrived("c1", "q", caller_number="0312345678"), at=0)
    h.send(CallArrived("c2", "q", caller_number="0311112222"), at=5)
    out = h.send(CallbackRequested("c1"), at=20)
    assert of_type(out, Overflow)[0].reason == "caller_request"
    created = of_type(out, CallbackCreated)[0]
    assert (created.call_id, created.number) == ("c1:callback", "0312345678")
    assert h.outcome("c1").outcome is CallOutcome.CALLBACK_REQUESTED
    assert h.router.position("c1:callback") == 1 and h.router.position("c2") == 2
    out = h.send(AgentLoggedIn("a1"), at=30)
    ring = of_type(out, RingAgent)[0]
    assert (ring.call_id, ring.callback_number) == ("c1:callback", "0312345678")
    h.send(AgentAnswered("c1:callback", "a1"), at=31)
    h.send(CallCompleted("c1:callback"), at=90)
    assert h.outcome("c1:callback").outcome is CallOutcome.ANSWERED
    assert isinstance(h.send(CallbackRequested("c1"), at=91)[0], EventIgnored)


def test_callback_overflow_and_refusals() -> None:
    policy = OverflowPolicy(after=60, target=OverflowTarget("callback"))
    h = Harness([QueueSpec("q", overflow=policy, max_wait=0)], [agent("a1", {"q": 1})])
    h.send(CallArrived("anon", "q"), at=0)  # no number to call back
    h.send(CallArrived("c1", "q", caller_number="0312345678"), at=1)
    h.advance(61)
    assert h.outcome("c1").outcome is CallOutcome.CALLBACK_REQUESTED
    assert h.router.call_view("anon", 61) is not None
    assert h.router.position("anon") == 1 and h.router.position("c1:callback") == 2
    h2 = Harness([QueueSpec("q", allow_callback=False)], [])
    h2.send(CallArrived("c1", "q", caller_number="0312345678"), at=0)
    assert isinstance(h2.send(CallbackRequested("c1"), at=1)[0], EventIgnored)


def test_a_caller_asking_for_voicemail_ends_once_as_overflow_voicemail() -> None:
    h = Harness([QueueSpec("q", max_wait=0)], [agent("a1", {"q": 1})])
    h.send(AgentLoggedIn("a1", not_ready_reason="break"))
    h.send(CallArrived("c1", "q", caller_number="0312345678"), at=0)
    h.send(CallArrived("c2", "q"), at=5)
    out = h.send(VoicemailRequested("c1"), at=20)
    assert of_type(out, Overflow) == [
        Overflow("c1", "q", OverflowTarget("voicemail"), "caller_request")
    ]
    ended = h.outcome("c1")
    assert ended.outcome is CallOutcome.OVERFLOW_VOICEMAIL and ended.wait_time == 20
    assert h.router.call_view("c1", 20) is None and h.router.position("c2") == 1
    stats = h.router.queue_stats("q", 20)
    assert stats is not None
    assert (stats.counters.overflowed, stats.counters.abandoned) == (1, 0)
    # Its hang-up on the way to the mailbox (and a second key press) change nothing.
    assert isinstance(h.send(CallerHungUp("c1"), at=21)[0], EventIgnored)
    assert isinstance(h.send(VoicemailRequested("c1"), at=22)[0], EventIgnored)
    h.outcome("c1")  # still exactly one outcome


def test_voicemail_requests_that_cannot_apply_are_ignored() -> None:
    h = Harness([QueueSpec("q", max_wait=0, allow_voicemail=False)], [agent("a1", {"q": 1})])
    h.send(CallArrived("c1", "q"), at=0)
    out = h.send(VoicemailRequested("c1"), at=1)
    assert [type(c) for c in out] == [EventIgnored]
    assert h.router.position("c1") == 1
    h2 = Harness([QueueSpec("q", max_wait=0)], [agent("a1", {"q": 1})])
    h2.send(AgentLoggedIn("a1"))
    h2.send(CallArrived("c1", "q"), at=0)  # rung at once: no longer waiting
    assert [type(c) for c in h2.send(VoicemailRequested("c1"), at=1)] == [EventIgnored]
    h2.send(CallArrived("c2", "q", caller_number="0312345678"), at=2)
    h2.send(CallbackRequested("c2"), at=3)
    # A callback entry has nobody on the line to leave a message.
    assert [type(c) for c in h2.send(VoicemailRequested("c2:callback"), at=4)] == [EventIgnored]
    assert isinstance(h2.send(VoicemailRequested("unknown"), at=5)[0], EventIgnored)


def test_max_wait_disconnects_with_its_own_outcome() -> None:
    h = Harness([QueueSpec("q", max_wait=120)], [agent("a1", {"q": 1})])
    h.send(CallArrived("c1", "q"), at=0)
    out = h.advance(120)
    assert of_type(out, HangupCaller) == [HangupCaller("c1", "max_wait")]
    assert h.outcome("c1").outcome is CallOutcome.MAX_WAIT
    stats = h.router.queue_stats("q", 120)
    assert stats is not None and stats.counters.max_wait == 1


def test_max_wait_reached_while_ringing_applies_when_the_ring_fails() -> None:
    h = Harness([QueueSpec("q", max_wait=20, ring_timeout=15)], [agent("a1", {"q": 1})])
    h.send(CallArrived("c1", "q"), at=0)
    h.send(AgentLoggedIn("a1"), at=10)
    h.advance(25)
    assert h.outcome("c1").outcome is CallOutcome.MAX_WAIT


def test_announcements_carry_position_and_estimated_wait() -> None:
    h = Harness(
        [QueueSpec("q", announce_interval=30, max_wait=0)],
        [agent("a1", {"q": 1}), agent("a2", {"q": 1})],
        default_handle_time=200,
    )
    h.send(AgentLoggedIn("a1"))
    h.send(AgentLoggedIn("a2", not_ready_reason="break"))
    h.send(CallArrived("c0", "q"), at=0)
    h.send(AgentAnswered("c0", "a1"), at=0)
    h.send(CallArrived("c1", "q"), at=1)
    h.send(CallArrived("c2", "q"), at=2)
    # c1 waits for the rest of a1's call (32 s old) and 10 s of wrap-up; c2 for one more
    # handle time (no talk time seen yet: 200 s, and the 10 s wrap-up) in every play. a2 is
    # paused: no pause has been seen to end yet, so it is not expected back.
    out = h.advance(32)
    c1, c2 = of_type(out, Announce)
    assert (c1.call_id, c1.position, c2.call_id, c2.position) == ("c1", 1, "c2", 2)
    assert c1.estimated_wait is not None and c1.estimated_wait > 10
    assert c2.estimated_wait == pytest.approx(c1.estimated_wait + 210)
    assert c2.estimated_wait == h.router.estimated_wait("c2")  # what the views say too
    h.send(CallerHungUp("c1"), at=40)
    out = h.advance(62)
    (later,) = of_type(out, Announce)
    assert (later.call_id, later.position) == ("c2", 1)
    assert later.estimated_wait is not None and later.estimated_wait < c2.estimated_wait - 150


def test_queue_stats_count_waiting_longest_and_agents_by_state() -> None:
    h = Harness([QueueSpec("q", max_wait=0)], [agent("a1", {"q": 1}), agent("a2", {"q": 1})])
    h.send(AgentLoggedIn("a1"))
    h.send(CallArrived("c1", "q"), at=0)
    h.send(CallArrived("c2", "q"), at=4)
    h.send(CallArrived("c3", "q"), at=6)
    stats = h.router.queue_stats("q", 10)
    assert stats is not None
    assert (stats.waiting, stats.ringing, stats.longest_wait) == (2, 1, 6)
    assert stats.agents_by_state["reserved"] == 1 and stats.agents_by_state["logged_out"] == 1
    h.send(CallerHungUp("c2"), at=10)
    snap = h.router.snapshot(10)
    assert [c.call_id for c in snap.calls if c.state is CallState.QUEUED] == ["c3"]
    assert snap.queues[0].counters.abandoned == 1
    assert snap.queues[0].counters.abandoned_within_sl == 1  # 6 s < 20 s: a short abandon


def test_estimator_formula_and_rolling_average() -> None:
    assert estimated_wait(1, 0, 100) is None
    assert estimated_wait(1, 2, 100) == 25
    assert estimated_wait(4, 2, 100) == 175
    average = HandleTimeAverage(default=180, window=3)
    assert average.mean() == 180
    for seconds in [60, 120, 180, 240]:
        average.add(seconds)
    assert average.mean() == pytest.approx(180) and average.samples == 3
