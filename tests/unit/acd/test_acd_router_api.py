"""Router API details: deadlines, clock, counters, reasons, queries."""

import random

import pytest
from acd_routing_helpers import Harness, agent, rung

from acd.core import (
    AgentAnswered,
    AgentLoggedIn,
    AgentPaused,
    CallArrived,
    CallCompleted,
    ConfigReplaced,
    CountersReset,
    EventIgnored,
    QueueSpec,
    RingFailed,
    Router,
    Tick,
    UnknownNotReadyReason,
)


def test_next_deadline_is_none_when_nothing_is_pending() -> None:
    h = Harness([QueueSpec("q", max_wait=0, announce_interval=0)], [agent("a1", {"q": 1})])
    assert h.router.next_deadline() is None
    h.send(CallArrived("c1", "q"), at=3)
    assert h.router.next_deadline() is None  # no timers configured for a waiting call
    h.send(AgentLoggedIn("a1"), at=4)
    assert h.router.next_deadline() == 19  # the ring timeout
    h.send(AgentAnswered("c1", "a1"), at=5)
    assert h.router.next_deadline() is None


def test_clock_stepping_back_is_treated_as_no_time_passing() -> None:
    h = Harness([QueueSpec("q", max_wait=100)], [])
    h.send(CallArrived("c1", "q"), at=50)
    h.send(Tick(), at=10)
    view = h.router.call_view("c1", 50)
    assert view is not None and view.arrived_at == 50
    assert h.router.next_deadline() == 80  # first announcement, 30 s after arrival


def test_not_ready_reasons_are_checked_when_configured() -> None:
    router = Router(
        [QueueSpec("q")],
        [agent("a1", {"q": 1})],
        rng=random.Random(1),
        not_ready_reasons=["break", "lunch"],
    )
    with pytest.raises(UnknownNotReadyReason, match="nap"):
        router.handle(AgentLoggedIn("a1", not_ready_reason="nap"), 0)
    router.handle(AgentLoggedIn("a1", not_ready_reason="break"), 0)
    with pytest.raises(UnknownNotReadyReason):
        router.handle(AgentPaused("a1", "nap"), 1)
    router.handle(AgentPaused("a1", "lunch"), 1)
    view = router.agent_view("a1", 2)
    assert view is not None and view.reason == "lunch" and view.time_in_state == 1


def test_counters_reset_starts_new_service_level_figures() -> None:
    h = Harness([QueueSpec("q", wrapup=0)], [agent("a1", {"q": 1}), agent("a2", {"q": 1})])
    h.send(AgentLoggedIn("a1"))
    h.send(CallArrived("c1", "q"), at=1)
    h.send(AgentAnswered("c1", "a1"), at=2)
    h.send(CallCompleted("c1"), at=3)
    h.send(AgentLoggedIn("a2"), at=4)
    stats = h.router.queue_stats("q", 5)
    assert stats is not None and stats.counters.answered == 1
    h.send(CountersReset(), at=10)
    stats = h.router.queue_stats("q", 10)
    assert stats is not None and stats.counters.answered == 0 and stats.counters.since == 10
    view = h.router.agent_view("a1", 10)
    assert view is not None and view.calls_answered == 0


def test_waiting_count_and_unknown_queries() -> None:
    h = Harness([QueueSpec("q", max_wait=0), QueueSpec("r", max_wait=0)], [])
    h.send(CallArrived("c1", "q"), at=1)
    h.send(CallArrived("c2", "r"), at=2)
    h.send(CallArrived("c3", "r"), at=3)
    assert (h.router.waiting_count(), h.router.waiting_count("r")) == (3, 2)
    assert h.router.waiting_count("nope") == 0
    assert h.router.queue_stats("nope", 3) is None
    assert h.router.call_view("nope", 3) is None
    assert h.router.position("nope") is None and h.router.estimated_wait("nope") is None
    assert isinstance(h.send(RingFailed("c1", "a1", "busy"))[0], EventIgnored)
    assert isinstance(h.send(CallCompleted("c1"))[0], EventIgnored)


def test_many_waiting_calls_are_served_in_order() -> None:
    h = Harness([QueueSpec("q", max_wait=0, wrapup=0)], [agent("a1", {"q": 1})])
    for i in range(200):
        h.send(CallArrived(f"c{i:03d}", "q", priority=i % 3), at=float(i))
    h.send(AgentLoggedIn("a1"), at=300)
    served = []
    for step in range(200):
        (pair,) = rung(h.history[-6:])
        served.append(pair[0])
        h.send(AgentAnswered(pair[0], "a1"), at=301 + step)
        h.send(CallCompleted(pair[0]), at=301.5 + step)
    expected = sorted((f"c{i:03d}" for i in range(200)), key=lambda c: (-(int(c[1:]) % 3), c))
    assert served == expected


def test_specs_are_the_configuration_in_force() -> None:
    queues = [QueueSpec("q", max_wait=0), QueueSpec("old", max_wait=0)]
    agents = [agent("a1", {"q": 1}), agent("a2", {"q": 1, "old": 1}), agent("a3", {"q": 1})]
    h = Harness(queues, agents)
    assert h.router.specs() == (tuple(queues), tuple(agents))
    h.send(AgentLoggedIn("a1"))
    h.send(CallArrived("c1", "q"), at=1)
    h.send(AgentAnswered("c1", "a1"), at=2)  # a1 is on a call when it is removed
    h.send(CallArrived("w1", "old"), at=3)  # keeps the removed queue draining
    new_q = QueueSpec("q", max_wait=0, ring_timeout=20)
    new_agents = (agent("a3", {"q": 1}), agent("a2", {"q": 2}))
    h.send(ConfigReplaced((new_q,), new_agents), at=4)
    assert h.router.queue_names() == ("q", "old")  # still draining, still known
    assert h.router.agent_view("a1", 4) is not None  # still finishing its call
    assert h.router.specs() == ((new_q,), new_agents)


def test_next_agent_names_the_ring_ahead_only_where_it_is_safe() -> None:
    from acd.core import Strategy

    queues = [
        QueueSpec("q", max_wait=0),
        QueueSpec("off", ring_ahead=False),
        QueueSpec("all", strategy=Strategy.RING_ALL),
    ]
    members = {"q": 1, "off": 1, "all": 1}
    h = Harness(queues, [agent("a1", members), agent("a2", members)])
    assert h.router.next_agent("q", 0) is None  # nobody logged in
    h.send(AgentLoggedIn("a1"), at=1)
    h.send(AgentLoggedIn("a2"), at=2)
    assert h.router.next_agent("q", 3) == "a1"  # longest idle
    assert h.router.next_agent("q", 3, taken={"a1"}) is None  # offered elsewhere already
    assert h.router.next_agent("off", 3) is None  # the queue turned it off
    assert h.router.next_agent("all", 3) is None  # the decision is every agent
    assert h.router.next_agent("nowhere", 3) is None
    h.send(CallArrived("c1", "q", 0, "billing>=9"), at=5)  # nobody qualifies: it waits
    assert h.router.next_agent("q", 6) is None  # a caller waits: the next is not the first
