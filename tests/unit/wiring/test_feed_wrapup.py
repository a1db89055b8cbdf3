"""The ACD feed closes the wrap-up on the call record (AHT = talk + wrap-up, docs/kpis.md)."""

from __future__ import annotations

from typing import Any

from acd.core.events import (
    AgentAnswered,
    AgentLoggedIn,
    CallArrived,
    CallerHungUp,
    WrapUpDone,
)
from acd.core.router import Router
from acd.core.specs import AgentSpec, QueueSpec
from madoguchi.wiring.feed import AcdFeed


class _Hub:
    def publish_to_agent(self, agent_id: str, type: str, payload: Any) -> None:
        pass

    def publish_to_supervisors(self, type: str, payload: Any) -> None:
        pass


class _Writer:
    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}

    def record_call(self, call_id: str, **fields: Any) -> None:
        self.calls.setdefault(call_id, {}).update(fields)

    def record_event(self, call_id: str, uid: str, ts: float, kind: str, data: Any = None) -> None:
        pass

    def record_agent_state(
        self, agent: str, state: str, reason: str | None, start: float, end: float | None = None
    ) -> None:
        pass


def _setup(wrapup: float) -> tuple[Router, AcdFeed, _Writer]:
    router = Router(
        [QueueSpec("support", ring_timeout=15, wrapup=wrapup)],
        [AgentSpec("1003", "鈴木 一郎", queues={"support": 1})],
        now=0.0,
    )
    writer = _Writer()
    return router, AcdFeed(_Hub(), writer, ring_timeouts=lambda q: 15.0), writer


def _run(router: Router, feed: AcdFeed, event: Any, now: float) -> None:
    feed(event, router.handle(event, now), now)


def test_wrapup_end_is_recorded_on_the_call_the_agent_handled() -> None:
    router, feed, writer = _setup(wrapup=30)
    _run(router, feed, AgentLoggedIn("1003"), 1.0)
    _run(router, feed, CallArrived("c1", "support", caller_number="0311112222"), 2.0)
    _run(router, feed, AgentAnswered("c1", "1003"), 4.0)
    _run(router, feed, CallerHungUp("c1"), 64.0)
    assert "wrapup_ended_at" not in writer.calls["c1"]
    _run(router, feed, WrapUpDone("1003"), 71.5)
    assert writer.calls["c1"]["wrapup_ended_at"] == 71.5
    # The next call's wrap-up never lands on the first one.
    _run(router, feed, CallArrived("c2", "support", caller_number="0311113333"), 80.0)
    _run(router, feed, AgentAnswered("c2", "1003"), 81.0)
    _run(router, feed, CallerHungUp("c2"), 90.0)
    _run(router, feed, WrapUpDone("1003"), 95.0)
    assert writer.calls["c1"]["wrapup_ended_at"] == 71.5
    assert writer.calls["c2"]["wrapup_ended_at"] == 95.0


def test_no_wrapup_configured_leaves_no_wrapup_end() -> None:
    router, feed, writer = _setup(wrapup=0)
    _run(router, feed, AgentLoggedIn("1003"), 1.0)
    _run(router, feed, CallArrived("c1", "support", caller_number="0311112222"), 2.0)
    _run(router, feed, AgentAnswered("c1", "1003"), 4.0)
    _run(router, feed, CallerHungUp("c1"), 64.0)
    assert writer.calls["c1"]["outcome"] == "answered"
    assert "wrapup_ended_at" not in writer.calls["c1"]
