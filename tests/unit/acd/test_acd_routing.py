"""Who gets which call: skills, levels, strategies, priorities and fairness across queues."""

import pytest
from acd_routing_helpers import Harness, agent, of_type, rung

from acd.core import (
    AgentAnswered,
    AgentLoggedIn,
    AgentReady,
    AgentState,
    CallArrived,
    CallState,
    CancelRing,
    ContactStatusChanged,
    EventIgnored,
    PhoneBusyChanged,
    PushToDesktop,
    QueueSpec,
    RelaxStep,
    RingAgent,
    RingFailed,
    RoutingWarning,
    Strategy,
    WrapUpDone,
)


def test_screen_pop_comes_just_before_the_ring() -> None:
    h = Harness([QueueSpec("sales")], [agent("1001", {"sales": 1})])
    h.send(AgentLoggedIn("1001"))
    context = {"customer": {"name": "佐藤 一郎", "tier": "gold"}}
    out = h.send(
        CallArrived(
            "c1", "sales", caller_number="0312345678", caller_name="サトウ", context=context
        ),
        at=5,
    )
    kinds = [type(c).__name__ for c in out]
    assert kinds.index("PushToDesktop") + 1 == kinds.index("RingAgent")
    pop = of_type(out, PushToDesktop)[0]
    assert pop.agent_id == "1001" and pop.call.caller_name == "サトウ"
    assert pop.call.context == context
    ring = of_type(out, RingAgent)[0]
    assert (ring.call_id, ring.agent_id, ring.timeout) == ("c1", "1001", 15.0)
    assert ring.caller_number == "0312345678"
    assert h.state("1001") is AgentState.RESERVED
    view = h.router.call_view("c1", h.now)
    assert view is not None and view.state is CallState.OFFERED and view.agent_ids == ("1001",)


def test_unreachable_agent_is_never_offered_a_call() -> None:
    h = Harness([QueueSpec("sales")], [agent("1001", {"sales": 1})])
    h.send(ContactStatusChanged("1001", reachable=False))
    h.send(AgentLoggedIn("1001"))
    assert rung(h.send(CallArrived("c1", "sales"), at=1)) == []
    assert rung(h.send(ContactStatusChanged("1001", reachable=True), at=2)) == [("c1", "1001")]


def test_an_agent_on_another_call_is_not_offered_one_and_keeps_its_state() -> None:
    h = Harness([QueueSpec("sales")], [agent("1001", {"sales": 1}), agent("1002", {"sales": 1})])
    h.send(AgentLoggedIn("1001"))
    h.send(AgentLoggedIn("1002", not_ready_reason="break"))
    h.send(PhoneBusyChanged("1001", busy=True), at=1)  # e.g. a call the agent placed
    assert h.state("1001") is AgentState.READY
    view = h.router.agent_view("1001", 1)
    assert view is not None and view.phone_busy
    assert rung(h.send(CallArrived("c1", "sales"), at=2)) == []
    assert rung(h.send(PhoneBusyChanged("1001", busy=False), at=9)) == [("c1", "1001")]
    # The busy signal of the ACD's own ring changes nothing about that ring.
    out = h.send(PhoneBusyChanged("1001", busy=True), at=9.1)
    assert not of_type(out, CancelRing) and h.state("1001") is AgentState.RESERVED
    assert of_type(h.send(PhoneBusyChanged("nobody", busy=True), at=10), EventIgnored)


def test_skills_pick_the_qualified_agent_and_relax_over_time() -> None:
    queue = QueueSpec(
        "sales",
        requirements="lang_ja>=3",
        relax=(RelaxStep(30, "lang_ja>=1"), RelaxStep(90, "")),
        max_wait=0,
    )
    h = Harness([queue], [agent("novice", {"sales": 1}, lang_ja=1), agent("none", {"sales": 1})])
    h.send(AgentLoggedIn("novice"))
    h.send(AgentLoggedIn("none"))
    assert rung(h.send(CallArrived("c1", "sales"), at=0)) == []
    assert rung(h.advance(29.9)) == []
    assert rung(h.advance(30)) == [("c1", "novice")]
    h.send(AgentAnswered("c1", "novice"), at=30)
    h.send(CallArrived("c2", "sales", requirements="billing>=2"), at=31)
    assert rung(h.advance(120.9)) == []
    assert rung(h.advance(121)) == [("c2", "none")]  # at 90 s anyone qualifies


def test_call_requirement_overrides_queue_default() -> None:
    h = Harness(
        [QueueSpec("sales", requirements="lang_ja>=3")],
        [agent("ja", {"sales": 1}, lang_ja=5), agent("en", {"sales": 1}, lang_en=4)],
    )
    h.send(AgentLoggedIn("ja"))
    h.send(AgentLoggedIn("en"))
    assert rung(h.send(CallArrived("c1", "sales", requirements="lang_en>=3"), at=1)) == [
        ("c1", "en")
    ]


def test_bad_call_requirement_falls_back_to_queue_default_with_a_warning() -> None:
    h = Harness(
        [QueueSpec("sales", requirements="lang_ja>=3")], [agent("ja", {"sales": 1}, lang_ja=3)]
    )
    h.send(AgentLoggedIn("ja"))
    out = h.send(CallArrived("c1", "sales", requirements="lang_ja>>3"), at=1)
    assert "column" in of_type(out, RoutingWarning)[0].message
    assert rung(out) == [("c1", "ja")]


def test_lower_member_level_is_preferred() -> None:
    h = Harness([QueueSpec("sales")], [agent("backup", {"sales": 2}), agent("main", {"sales": 1})])
    h.send(AgentLoggedIn("backup"), at=0)
    h.send(AgentLoggedIn("main"), at=1)  # backup is idle longer but only level 2
    assert rung(h.send(CallArrived("c1", "sales"), at=5)) == [("c1", "main")]
    assert rung(h.send(CallArrived("c2", "sales"), at=6)) == [("c2", "backup")]


def _ready_three(strategy: Strategy, order: list[str]) -> Harness:
    h = Harness(
        [QueueSpec("q", strategy=strategy, wrapup=0)],
        [agent(a, {"q": 1}) for a in ["a1", "a2", "a3"]],
    )
    for i, agent_id in enumerate(order):
        h.send(AgentLoggedIn(agent_id), at=float(i))
    return h


def _take_call(h: Harness, call_id: str, at: float) -> str:
    (pair,) = rung(h.send(CallArrived(call_id, "q"), at=at))
    h.send(AgentAnswered(call_id, pair[1]), at=at)
    return pair[1]


def test_longest_idle_picks_the_agent_ready_longest() -> None:
    h = _ready_three(Strategy.LONGEST_IDLE, ["a3", "a1", "a2"])
    assert _take_call(h, "c1", 10) == "a3"
    assert _take_call(h, "c2", 11) == "a1"


def test_linear_goes_top_down() -> None:
    h = _ready_three(Strategy.LINEAR, ["a3", "a2", "a1"])
    assert _take_call(h, "c1", 10) == "a1"
    assert _take_call(h, "c2", 11) == "a2"


def test_round_robin_remembers_the_last_agent() -> None:
    from acd.core import CallCompleted

    h = _ready_three(Strategy.ROUND_ROBIN, ["a1", "a2", "a3"])
    picks = []
    for i in range(5):
        picked = _take_call(h, f"c{i}", 10 + i)
        h.send(CallCompleted(f"c{i}"), at=10.5 + i)  # wrapup 0: ready again at once
        picks.append(picked)
    assert picks == ["a1", "a2", "a3", "a1", "a2"]


def test_fewest_calls_balances_answered_calls() -> None:
    from acd.core import CallCompleted

    h = _ready_three(Strategy.FEWEST_CALLS, ["a1", "a2", "a3"])
    assert _take_call(h, "c1", 10) == "a1"
    h.send(CallCompleted("c1"), at=11)  # a1 ready again, idle least, but has 1 call
    assert _take_call(h, "c2", 12) == "a2"
    h.send(CallCompleted("c2"), at=13)
    assert _take_call(h, "c3", 14) == "a3"


def test_random_is_deterministic_with_a_seeded_rng() -> None:
    def picks(seed: int) -> list[str]:
        h = Harness(
            [QueueSpec("q", strategy=Strategy.RANDOM)],
            [agent(f"a{i}", {"q": 1}) for i in range(10)],
            seed=seed,
        )
        for i in range(10):
            h.send(AgentLoggedIn(f"a{i}"))
        return [pair[1] for i in range(5) for pair in rung(h.send(CallArrived(f"c{i}", "q")))]

    assert picks(1) == picks(1)
    assert len(set(picks(1))) == 5
    assert {tuple(picks(s)) for s in range(6)} != {tuple(picks(1))}


def test_ring_all_first_answer_wins_and_the_others_are_cancelled() -> None:
    h = Harness(
        [QueueSpec("q", strategy=Strategy.RING_ALL)],
        [agent("a1", {"q": 1}), agent("a2", {"q": 1}), agent("a3", {"q": 2})],
    )
    for agent_id in ["a1", "a2", "a3"]:
        h.send(AgentLoggedIn(agent_id))
    out = h.send(CallArrived("c1", "q"), at=1)
    assert sorted(pair[1] for pair in rung(out)) == ["a1", "a2"]  # best level only
    assert len(of_type(out, PushToDesktop)) == 2
    out = h.send(AgentAnswered("c1", "a2"), at=3)
    assert [(c.call_id, c.agent_id) for c in of_type(out, CancelRing)] == [("c1", "a1")]
    assert h.state("a1") is AgentState.READY
    assert h.state("a2") is AgentState.ON_CALL
    # a late answer by the loser changes nothing
    assert h.send(AgentAnswered("c1", "a1"), at=4)[0].__class__.__name__ == "EventIgnored"


def test_ring_all_keeps_ringing_others_when_one_rejects() -> None:
    h = Harness(
        [QueueSpec("q", strategy=Strategy.RING_ALL)], [agent("a1", {"q": 1}), agent("a2", {"q": 1})]
    )
    h.send(AgentLoggedIn("a1"))
    h.send(AgentLoggedIn("a2"))
    h.send(CallArrived("c1", "q"), at=1)
    h.send(RingFailed("c1", "a1", "rejected"), at=2)
    view = h.router.call_view("c1", h.now)
    assert view is not None and view.state is CallState.OFFERED and view.agent_ids == ("a2",)


def test_priority_first_then_longest_wait() -> None:
    h = Harness([QueueSpec("q", max_wait=0)], [agent("a1", {"q": 1})])
    h.send(CallArrived("old", "q", priority=0), at=0)
    h.send(CallArrived("gold", "q", priority=5), at=10)
    h.send(CallArrived("newer", "q", priority=0), at=11)
    assert h.router.position("gold") == 1 and h.router.position("old") == 2
    assert rung(h.send(AgentLoggedIn("a1"), at=20)) == [("gold", "a1")]


def test_longest_wait_across_all_queues_the_agent_serves() -> None:
    h = Harness(
        [QueueSpec("sales", max_wait=0), QueueSpec("support", max_wait=0)],
        [agent("a1", {"sales": 1, "support": 1})],
    )
    h.send(CallArrived("t1", "support"), at=5)
    h.send(CallArrived("s1", "sales"), at=10)
    assert rung(h.send(AgentLoggedIn("a1"), at=20)) == [("t1", "a1")]


def test_queue_weight_scales_the_wait() -> None:
    h = Harness(
        [QueueSpec("vip", weight=3, max_wait=0), QueueSpec("std", max_wait=0)],
        [agent("a1", {"vip": 1, "std": 1})],
    )
    h.send(CallArrived("std1", "std"), at=0)  # waits 30 s -> score 30
    h.send(CallArrived("vip1", "vip"), at=20)  # waits 10 s x 3 -> score 30.000...
    h.send(CallArrived("vip2", "vip"), at=21)
    assert rung(h.send(AgentLoggedIn("a1"), at=30)) == [("std1", "a1")]  # tie: earlier wins
    h2 = Harness(
        [QueueSpec("vip", weight=3, max_wait=0), QueueSpec("std", max_wait=0)],
        [agent("a1", {"vip": 1, "std": 1})],
    )
    h2.send(CallArrived("std1", "std"), at=0)
    h2.send(CallArrived("vip1", "vip"), at=15)  # 15 s x 3 = 45 > 30
    assert rung(h2.send(AgentLoggedIn("a1"), at=30)) == [("vip1", "a1")]


def test_agent_skips_calls_it_is_not_skilled_for() -> None:
    h = Harness([QueueSpec("q", max_wait=0)], [agent("en", {"q": 1}, lang_en=3)])
    h.send(CallArrived("ja", "q", requirements="lang_ja>=1", priority=9), at=0)
    h.send(CallArrived("en", "q", requirements="lang_en>=2"), at=1)
    assert rung(h.send(AgentLoggedIn("en"), at=2)) == [("en", "en")]


@pytest.mark.parametrize("strategy", list(Strategy))
def test_every_strategy_routes_after_wrap_up(strategy: Strategy) -> None:
    from acd.core import CallCompleted

    h = Harness([QueueSpec("q", strategy=strategy, max_wait=0)], [agent("a1", {"q": 1})])
    h.send(AgentLoggedIn("a1"))
    h.send(CallArrived("c1", "q"), at=1)
    h.send(AgentAnswered("c1", "a1"), at=2)
    h.send(CallArrived("c2", "q"), at=3)
    h.send(CallCompleted("c1"), at=10)
    assert h.state("a1") is AgentState.WRAP_UP
    assert rung(h.send(WrapUpDone("a1"), at=12)) == [("c2", "a1")]


def test_japanese_names_round_trip() -> None:
    h = Harness([QueueSpec("sales")], [agent("1001", {"sales": 1})])
    h.send(AgentLoggedIn("1001"))
    h.send(CallArrived("c1", "sales", caller_name="山田 太郎"), at=1)
    view = h.router.call_view("c1", 1)
    assert view is not None and view.caller_name == "山田 太郎"
    ready = h.router.agent_view("1001", 1)
    assert ready is not None and ready.name == "agent 1001"
    assert AgentReady("1001").agent_id == "1001"
