"""The estimated wait (acd.core.wait_estimates / wait_forecast): edge cases and invariants."""

from __future__ import annotations

import itertools

import pytest
from acd_routing_helpers import Harness, agent
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.core import (
    AgentAnswered,
    AgentLoggedIn,
    AgentPaused,
    AgentReady,
    CallArrived,
    CallCompleted,
    QueueSpec,
    RelaxStep,
)
from acd.core.wait_estimates import SpokenWait, WaitEstimate, spoken_wait


def _busy(
    h: Harness, agent_id: str, call_id: str, queue: str, at: float, priority: int = 0
) -> None:
    """``agent_id`` answers ``call_id`` at ``at`` (it must be the one rung)."""
    h.send(CallArrived(call_id, queue, priority), at=at)
    h.send(AgentAnswered(call_id, agent_id), at=at)


def test_no_agents_no_estimate() -> None:
    h = Harness([QueueSpec("q", max_wait=0)], [agent("a1", {"q": 1})])
    h.send(CallArrived("c1", "q"), at=0)
    assert h.router.wait_estimate("c1") is None
    assert h.router.new_caller_wait("q") is None
    assert h.router.call_view("c1", 0).estimated_wait is None  # type: ignore[union-attr]


def test_all_paused_no_estimate_until_pauses_are_seen_to_end() -> None:
    h = Harness([QueueSpec("q", max_wait=0)], [agent("a1", {"q": 1}), agent("a2", {"q": 1})])
    h.send(AgentLoggedIn("a1", not_ready_reason="break"))
    h.send(AgentLoggedIn("a2", not_ready_reason="break"))
    h.send(CallArrived("c1", "q"), at=0)
    assert h.router.wait_estimate("c1") is None  # nobody is known to come back
    # Breaks of 100 s seen to end (a2 goes back and forth while c1... is taken: use c0s).
    t = 0.0
    for n in range(6):
        h.send(AgentReady("a2"), at=t + 100)  # takes the waiting caller at once
        h.send(AgentAnswered(f"c{1 + n}", "a2"), at=t + 100)
        h.send(CallArrived(f"c{2 + n}", "q"), at=t + 101)
        h.send(CallCompleted(f"c{1 + n}"), at=t + 110)
        h.send(AgentPaused("a2", "break"), at=t + 120)  # in wrap-up: paused at once
        t += 120
    estimate = h.router.wait_estimate(f"c{2 + 5}")
    assert estimate is not None and 0 < estimate.seconds <= 100


def test_a_queue_of_one_waits_for_the_rest_of_the_call_and_the_wrap_up() -> None:
    h = Harness([QueueSpec("q", max_wait=0, wrapup=10)], [agent("a1", {"q": 1})])
    h.send(AgentLoggedIn("a1"))
    _busy(h, "a1", "c0", "q", 0)
    h.send(CallArrived("c1", "q"), at=30)
    estimate = h.router.wait_estimate("c1")
    # No talk time seen: the default 180 s; 30 s gone, 150 + 10 s of wrap-up to go.
    assert estimate is not None and estimate.seconds == pytest.approx(160, rel=0.35)
    assert h.router.position("c1") == 1


def test_agent_in_wrap_up_frees_up_at_its_end() -> None:
    h = Harness([QueueSpec("q", max_wait=0, wrapup=60)], [agent("a1", {"q": 1})])
    h.send(AgentLoggedIn("a1"))
    _busy(h, "a1", "c0", "q", 0)
    h.send(CallCompleted("c0"), at=20)  # wrap-up until 80
    h.send(CallArrived("c1", "q"), at=30)
    estimate = h.router.wait_estimate("c1")
    assert estimate is not None and estimate.seconds == pytest.approx(50, abs=1)


def test_a_relaxation_step_reached_while_waiting_counts() -> None:
    relax = (RelaxStep(60, ""),)
    h = Harness(
        [QueueSpec("q", max_wait=0, requirements="lang_ja>=1", relax=relax)],
        [agent("a1", {"q": 1})],  # ready, but no Japanese
    )
    h.send(AgentLoggedIn("a1"))
    h.send(CallArrived("c1", "q"), at=0)
    assert h.router.position("c1") == 1  # nobody qualifies yet
    h.advance(10)
    estimate = h.router.wait_estimate("c1")
    assert estimate is not None and estimate.seconds == pytest.approx(50, abs=1)


def test_without_relaxation_a_caller_nobody_qualifies_for_has_no_estimate() -> None:
    h = Harness([QueueSpec("q", max_wait=0, requirements="lang_ja>=1")], [agent("a1", {"q": 1})])
    h.send(AgentLoggedIn("a1"))
    h.send(CallArrived("c1", "q"), at=0)
    assert h.router.wait_estimate("c1") is None


def test_a_shared_agent_serving_a_heavier_queue_first_makes_the_wait_longer() -> None:
    queues = [QueueSpec("a", max_wait=0, wrapup=0), QueueSpec("b", max_wait=0, wrapup=0, weight=5)]
    h = Harness(queues, [agent("x", {"a": 1, "b": 1})], default_handle_time=30)
    h.send(AgentLoggedIn("x"))
    _busy(h, "x", "c0", "a", 0)
    h.send(CallArrived("a1", "a"), at=10)
    alone = h.router.wait_estimate("a1")
    for n in range(3):  # queue b's callers will be taken first (5 x weighted wait)
        h.send(CallArrived(f"b{n}", "b"), at=11 + n)
    shared = h.router.wait_estimate("a1")
    assert alone is not None and shared is not None
    assert shared.seconds > alone.seconds + 2 * 25  # three more calls of ~30 s first


def test_vip_callers_seen_arriving_are_expected_to_overtake() -> None:
    def harness(priority: int) -> Harness:
        h = Harness(
            [QueueSpec("q", max_wait=0, wrapup=0)], [agent("a1", {"q": 1})], default_handle_time=30
        )
        h.send(AgentLoggedIn("a1"))
        for n in range(10):  # lately, a caller of this priority every 50 s, served at once
            _busy(h, "a1", f"past{n}", "q", n * 50.0, priority)
            h.send(CallCompleted(f"past{n}"), at=n * 50.0 + 30)
        _busy(h, "a1", "c0", "q", 500)
        for n in range(3):
            h.send(CallArrived(f"ahead{n}", "q"), at=501 + n)
        h.send(CallArrived("me", "q"), at=505)
        return h

    calm, busy = harness(0), harness(5)
    me_calm, me_busy = calm.router.wait_estimate("me"), busy.router.wait_estimate("me")
    assert me_calm is not None and me_busy is not None
    assert calm.router.position("me") == busy.router.position("me") == 4
    # Future VIPs (a third of the agent's time) go ahead of the four calls before "me".
    assert me_busy.seconds > me_calm.seconds + 30


def test_spoken_wait_says_a_range_only_when_the_band_is_wide() -> None:
    assert spoken_wait(WaitEstimate(240, 220, 270, 300)) == SpokenWait(4, 4, False, 5)
    wide = spoken_wait(WaitEstimate(240, 170, 330, 400))
    assert (wide.low_minutes, wide.high_minutes, wide.is_range) == (3, 6, True)
    assert wide.text() == "3 to 6 minutes" and wide.callback_minutes == 10
    short = spoken_wait(WaitEstimate(20, 10, 40, 90))
    assert short.text() == "less than 1 minute" and short.callback_minutes == 5


@settings(max_examples=25, deadline=None)
@given(
    agents=st.integers(0, 4),
    paused=st.integers(0, 2),
    callers=st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=1, max_size=8),
    later=st.floats(0, 300),
)
def test_estimates_are_ordered_deterministic_and_follow_the_line(
    agents: int, paused: int, callers: list[tuple[int, bool]], later: float
) -> None:
    specs = [agent(f"a{i}", {"q": 1}, lang_ja=i % 2) for i in range(agents + paused)]
    relax = (RelaxStep(120, ""),)
    h = Harness([QueueSpec("q", max_wait=0, wrapup=5, relax=relax)], specs)
    for i in range(agents):
        h.send(AgentLoggedIn(f"a{i}"))
    for i in range(agents, agents + paused):
        h.send(AgentLoggedIn(f"a{i}", not_ready_reason="break"))
    for n, (priority, ja) in enumerate(callers):
        h.send(CallArrived(f"c{n}", "q", priority, "lang_ja>=1" if ja else ""), at=float(n))
        for ring in h.history[-6:]:
            if getattr(ring, "agent_id", None) and type(ring).__name__ == "RingAgent":
                h.send(AgentAnswered(ring.call_id, ring.agent_id))  # type: ignore[attr-defined]
    h.advance(len(callers) + later)
    waiting = sorted(
        (c for c in h.router.snapshot(h.now).calls if c.position is not None),
        key=lambda c: c.position or 0,
    )
    estimates = [h.router.wait_estimate(c.call_id) for c in waiting]
    again = [h.router.wait_estimate(c.call_id) for c in waiting]
    assert estimates == again  # pure: the same state, the same answer
    for view, estimate in zip(waiting, estimates, strict=True):
        if estimate is None:
            assert agents == 0  # only when nobody staffed will ever take it
            continue
        assert 0 <= estimate.low <= estimate.seconds <= estimate.high
        assert estimate.seconds <= estimate.callback_within
        assert view.estimated_wait == estimate.seconds  # the views say what callers hear
    # Callers asking the same (no skills) in the same priority: the later never sooner.
    plain = [
        (v, e)
        for v, e in zip(waiting, estimates, strict=True)
        if e is not None and v.requirements == "" and v.priority == waiting[0].priority
    ]
    for (_, ahead), (_, behind) in itertools.pairwise(plain):
        assert behind.seconds >= ahead.seconds
