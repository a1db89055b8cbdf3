"""The ACD feed: wrap-up closed on the call record (AHT = talk + wrap-up, docs/kpis.md), and a
screen pop that beat the CRM look-up is completed with the customer."""

from __future__ import annotations

import asyncio
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


class _PopHub(_Hub):
    def __init__(self) -> None:
        self.pops: list[tuple[str, dict[str, Any]]] = []

    def publish_to_agent(self, agent_id: str, type: str, payload: Any) -> None:
        if type == "call.offered":
            self.pops.append((agent_id, dict(payload)))


async def _pop_setup() -> tuple[Router, AcdFeed, _PopHub, asyncio.Event]:
    router = Router(
        [QueueSpec("support", ring_timeout=15)],
        [AgentSpec("1003", "鈴木 一郎", queues={"support": 1})],
        now=0.0,
    )
    hub = _PopHub()
    crm_answers = asyncio.Event()

    async def lookup(_context: Any, number: str) -> dict[str, Any] | None:
        await crm_answers.wait()
        return {"id": 7, "name": "山田 太郎", "tier": "gold", "account_number": "A-1001"}

    feed = AcdFeed(hub, _Writer(), ring_timeouts=lambda q: 15.0, customer_lookup=lookup)
    _run(router, feed, AgentLoggedIn("1003"), 1.0)
    return router, feed, hub, crm_answers


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_pop_sent_before_the_crm_answered_is_sent_again_with_the_customer() -> None:
    router, feed, hub, crm_answers = await _pop_setup()
    _run(router, feed, CallArrived("c1", "support", caller_number="0312345678"), 2.0)
    assert [(a, p["customer"]) for a, p in hub.pops] == [("1003", None)]
    crm_answers.set()
    await _settle()
    assert len(hub.pops) == 2
    agent, again = hub.pops[1]
    assert agent == "1003" and again["call_id"] == "c1"
    assert again["customer"]["name"] == "山田 太郎"
    assert again["customer"]["account"] == "A-1001"
    assert {k: v for k, v in again.items() if k not in ("customer", "last_contacts")} == {
        k: v for k, v in hub.pops[0][1].items() if k not in ("customer", "last_contacts")
    }


async def test_no_second_pop_once_the_call_is_answered_or_ended() -> None:
    router, feed, hub, crm_answers = await _pop_setup()
    _run(router, feed, CallArrived("c1", "support", caller_number="0312345678"), 2.0)
    _run(router, feed, AgentAnswered("c1", "1003"), 3.0)
    _run(router, feed, CallArrived("c2", "support", caller_number="0312345678"), 3.5)
    _run(router, feed, CallerHungUp("c2"), 4.0)
    crm_answers.set()
    await _settle()
    assert [p["call_id"] for _, p in hub.pops] == ["c1"]
