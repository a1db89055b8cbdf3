"""The ACD feed: what the router decides reaches the desktop (screen pop first) and the DB."""

from __future__ import annotations

import base64
from typing import Any

from acd.core.events import AgentAnswered, AgentLoggedIn, CallArrived, CallerHungUp
from acd.core.router import Router
from acd.core.specs import AgentSpec, QueueSpec
from madoguchi.wiring.feed import AcdFeed


class RecordingHub:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def publish_to_agent(self, agent_id: str, type: str, payload: Any) -> None:
        self.sent.append((f"agent:{agent_id}", type, dict(payload)))

    def publish_to_supervisors(self, type: str, payload: Any) -> None:
        self.sent.append(("supervisors", type, dict(payload)))


class RecordingWriter:
    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}
        self.events: list[tuple[str, str, str]] = []
        self.states: list[tuple[str, str, float, float | None]] = []

    def record_call(self, call_id: str, **fields: Any) -> None:
        self.calls.setdefault(call_id, {}).update(fields)

    def record_event(self, call_id: str, uid: str, ts: float, kind: str, data: Any = None) -> None:
        self.events.append((call_id, uid, kind))

    def record_agent_state(
        self, agent: str, state: str, reason: str | None, start: float, end: float | None = None
    ) -> None:
        self.states.append((agent, state, start, end))


def _setup() -> tuple[Router, AcdFeed, RecordingHub, RecordingWriter]:
    router = Router(
        [QueueSpec("support", ring_timeout=15)],
        [AgentSpec("1003", "鈴木 一郎", queues={"support": 1})],
        now=0.0,
    )
    hub, writer = RecordingHub(), RecordingWriter()
    feed = AcdFeed(hub, writer, ring_timeouts=lambda q: 15.0)
    return router, feed, hub, writer


def _run(router: Router, feed: AcdFeed, event: Any, now: float) -> None:
    feed(event, router.handle(event, now), now)


def test_screen_pop_reaches_the_agent_before_anything_else_about_the_call() -> None:
    router, feed, hub, writer = _setup()
    _run(router, feed, AgentLoggedIn("1003"), 1.0)
    hub.sent.clear()
    context = {
        "flow": "main",
        "path": [{"node": "menu", "kind": "menu", "value": "2"}],
        "entered": {"card": {"value": "************1234", "sensitive": True}},
        "customer": {"id": "7", "name": "山田 太郎", "tier": "gold", "account": "A-1001"},
        "language": "ja",
    }
    _run(
        router,
        feed,
        CallArrived("c1", "support", 5, "", "0312345678", '<b>"x"</b>', context),
        2.0,
    )
    offered = [m for m in hub.sent if m[1] == "call.offered"]
    assert len(offered) == 1
    target, _, pop = offered[0]
    assert target == "agent:1003"
    assert pop["caller"] == {"number": "0312345678", "name": '<b>"x"</b>'}
    assert pop["customer"]["name"] == "山田 太郎"
    assert pop["ivr"]["path"] == ["menu menu: 2"]
    assert pop["ivr"]["entered"] == {"card": "************1234"}
    assert pop["ring_timeout"] == 15
    assert writer.calls["c1"]["caller_number"] == "0312345678"
    assert writer.calls["c1"]["customer_id"] == 7
    assert writer.calls["c1"]["entered_queue_at"] == 2.0


def test_answered_call_is_recorded_with_one_outcome_and_agent_intervals_close() -> None:
    router, feed, hub, writer = _setup()
    _run(router, feed, AgentLoggedIn("1003"), 1.0)
    _run(router, feed, CallArrived("c1", "support", caller_number="0311112222"), 2.0)
    _run(router, feed, AgentAnswered("c1", "1003"), 4.0)
    _run(router, feed, CallerHungUp("c1"), 64.0)
    record = writer.calls["c1"]
    assert record["answered_at"] == 4.0
    assert record["ended_at"] == 64.0
    assert record["outcome"] == "answered"
    assert record["agent_id"] == "1003"
    assert len([e for e in writer.events if e[2] == "call.ended"]) == 1
    types = [m[1] for m in hub.sent if m[0] == "agent:1003"]
    assert types.index("call.offered") < types.index("call.connected") < types.index("call.ended")
    # Every agent state interval but the current one has an end.
    opened = [s for s in writer.states if s[3] is None]
    closed = {(s[0], s[2]) for s in writer.states if s[3] is not None}
    assert all((a, start) in closed for a, _, start, _ in opened[:-1])


def test_abandon_while_waiting_is_recorded_as_abandoned_queue() -> None:
    router, feed, _hub, writer = _setup()
    _run(router, feed, CallArrived("c2", "support", caller_number="0399998888"), 1.0)
    _run(router, feed, CallerHungUp("c2"), 9.0)
    assert writer.calls["c2"]["outcome"] == "abandoned_queue"
    assert "answered_at" not in writer.calls["c2"]


def test_the_number_dialled_before_queueing_goes_into_the_record_once_it_queues() -> None:
    router, feed, _hub, writer = _setup()
    feed.note_dialled("c4", "200")
    feed.note_dialled("gone", "200")  # hung up before queueing: nothing is written for it
    assert writer.calls == {}
    _run(router, feed, CallArrived("c4", "support", caller_number="0399998888"), 1.0)
    assert writer.calls["c4"]["dialled_number"] == "200"
    _run(router, feed, CallArrived("c5", "support", caller_number="0399998889"), 2.0)
    assert "dialled_number" not in writer.calls["c5"]  # an IVR call: the IVR records it


def test_numbers_noted_for_callers_who_never_queue_are_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr("madoguchi.wiring.feed.MAX_PREFETCHED", 3)
    _router, feed, _hub, _writer = _setup()
    for n in range(10):
        feed.note_dialled(f"c{n}", "200")
    assert len(feed._dialled) == 3 and "c9" in feed._dialled


def test_context_is_decoded_not_trusted() -> None:
    router, feed, hub, _writer = _setup()
    _run(router, feed, AgentLoggedIn("1003"), 1.0)
    weird = {"path": "not-a-list", "entered": ["x"], "customer": "nope"}
    raw = base64.urlsafe_b64encode(b"{}").decode()
    _run(router, feed, CallArrived("c3", "support", context={**weird, "raw": raw}), 2.0)
    pop = next(m[2] for m in hub.sent if m[1] == "call.offered")
    assert pop["customer"] is None
    assert pop["ivr"]["entered"] == {}


def test_call_owners_are_remembered_but_bounded() -> None:
    from madoguchi.wiring import cti_ports

    router = Router([QueueSpec("support")], [AgentSpec("1003", "a", queues={"support": 1})])
    source = cti_ports.RouterStateSource(router, lambda: 0.0, {})
    for n in range(cti_ports.MAX_REMEMBERED_OWNERS + 10):
        source.note_owner(f"c{n}", "1003")
    assert len(source._owners) == cti_ports.MAX_REMEMBERED_OWNERS
    assert (
        "c0" not in source._owners and f"c{cti_ports.MAX_REMEMBERED_OWNERS + 9}" in source._owners
    )


async def test_a_customer_prefetched_by_the_ivr_is_in_the_first_pop() -> None:
    import asyncio

    router = Router([QueueSpec("support")], [AgentSpec("1003", "a", queues={"support": 1})])
    hub, writer = RecordingHub(), RecordingWriter()
    looked_up: list[str] = []

    async def lookup(context: Any, number: str) -> dict[str, Any]:
        looked_up.append(number)
        return {"id": 7, "name": "小林 誠", "notes": "VIP", "last_contacts": [{"call_id": "old"}]}

    feed = AcdFeed(hub, writer, ring_timeouts=lambda q: 15.0, customer_lookup=lookup)
    _run(router, feed, AgentLoggedIn("1003"), 1.0)
    feed.prefetch("c9", {"customer": {"account": "A-1"}}, "0312000111")
    await asyncio.sleep(0)  # the look-up runs while the caller walks into the queue
    _run(router, feed, CallArrived("c9", "support", caller_number="0312000111"), 2.0)
    pops = [m[2] for m in hub.sent if m[1] == "call.offered"]
    assert pops[0]["customer"]["notes"] == "VIP"
    assert pops[0]["last_contacts"][0]["call_id"] == "old"
    assert looked_up == ["0312000111"]  # once: the arrival does not look it up again


async def test_prefetch_wait_returns_once_the_record_is_there_or_at_the_limit() -> None:
    import asyncio

    router = Router([QueueSpec("support")], [AgentSpec("1003", "a", queues={"support": 1})])
    hub, writer = RecordingHub(), RecordingWriter()
    release = asyncio.Event()

    async def slow_lookup(context: Any, number: str) -> dict[str, Any]:
        await release.wait()
        return {"id": 1, "name": "x"}

    feed = AcdFeed(hub, writer, ring_timeouts=lambda q: 15.0, customer_lookup=slow_lookup)
    await asyncio.wait_for(feed.prefetch_wait("c1", {}, "0311", limit=0.05), timeout=2)
    release.set()  # a CRM slower than the limit never holds the caller longer
    await feed.prefetch_wait("c2", {}, "0322", limit=2)
    assert feed._crm["c2"] == {"id": 1, "name": "x"}
    _run(router, feed, AgentLoggedIn("1003"), 1.0)


async def test_the_wallboard_shows_the_wait_a_caller_arriving_now_would_hear() -> None:
    from acd.core.wait_estimates import spoken_wait
    from madoguchi.wiring import cti_ports

    router = Router([QueueSpec("support")], [AgentSpec("1003", "a", queues={"support": 1})])
    source = cti_ports.RouterStateSource(router, lambda: 5.0, {})
    (nobody,) = (await source.wallboard_snapshot())["queues"]
    assert nobody["estimated_wait"] is None  # nobody staffs it
    router.handle(AgentLoggedIn("1003"), 0.0)
    router.handle(CallArrived("c1", "support"), 1.0)
    router.handle(AgentAnswered("c1", "1003"), 2.0)
    router.handle(CallArrived("c2", "support"), 3.0)  # waits for 1003
    (queue,) = (await source.wallboard_snapshot())["queues"]
    estimate = router.new_caller_wait("support")
    assert estimate is not None and estimate.seconds > router.estimated_wait("c2")  # type: ignore[operator]
    assert queue["estimated_wait"]["text"] == spoken_wait(estimate).text()
    assert queue["estimated_wait"]["seconds"] == round(estimate.seconds, 1)
