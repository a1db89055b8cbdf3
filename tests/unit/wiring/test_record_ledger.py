"""The call ledger (madoguchi/wiring/record_ledger.py), wired as the service wires it: the real
router, the feed writing through the ledger, AMI events into the ledger after the router.
Every call placed on a caller-facing number leaves one record whose outcome is written once."""

from __future__ import annotations

from typing import Any

import pytest

from acd.core.events import AgentLoggedIn, CallArrived, CallbackRequested, CallerHungUp
from acd.core.router import Router
from acd.core.specs import AgentSpec, OverflowPolicy, OverflowTarget, QueueSpec
from madoguchi.wiring.feed import AcdFeed
from madoguchi.wiring.record_ledger import CallLedger
from madoguchi.wiring.record_state import (
    RECORD_TRANSITIONS,
    IllegalRecordTransition,
    RecordState,
    RecordTrigger,
    next_record_state,
)

NUMBERS: dict[str, str | None] = {"100": None, "200": "support"}


class MergingWriter:
    """What PostgreSQL keeps (given fields set, later writes win) and every outcome written."""

    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}
        self.outcomes: dict[str, list[str]] = {}

    def record_call(self, call_id: str, **fields: Any) -> None:
        self.calls.setdefault(call_id, {}).update(
            {k: v for k, v in fields.items() if v is not None}
        )
        if fields.get("outcome") is not None:
            self.outcomes.setdefault(call_id, []).append(str(fields["outcome"]))

    def record_event(self, call_id: str, uid: str, ts: float, kind: str, data: Any = None) -> None:
        pass

    def record_agent_state(
        self, agent: str, state: str, reason: str | None, start: float, end: float | None = None
    ) -> None:
        pass


class NullHub:
    def publish_to_agent(self, agent_id: str, type: str, payload: Any) -> None:
        pass

    def publish_to_supervisors(self, type: str, payload: Any) -> None:
        pass


class Wiring:
    def __init__(self, *, staffed: bool = False) -> None:
        policy = OverflowPolicy(when_no_agents=OverflowTarget("voicemail"))
        self.router = Router(
            [QueueSpec("support", ring_timeout=15, overflow=policy)],
            [AgentSpec("1003", "Suzuki", queues={"support": 1})],
            now=0.0,
        )
        self.now = 10.0
        self.writer = MergingWriter()
        self.ledger = CallLedger(self.writer, numbers=lambda: NUMBERS, clock=lambda: self.now)
        self.feed = AcdFeed(NullHub(), self.ledger, ring_timeouts=lambda q: 15.0)
        if staffed:
            self.acd(AgentLoggedIn("1003"))

    def acd(self, event: Any) -> None:
        commands = self.router.handle(event, self.now)
        self.ledger.observe(event, commands, self.now)
        self.feed(event, commands, self.now)

    def ami(self, **event: str) -> None:
        self.ledger.on_ami(event)

    def arrive(self, uid: str, number: str) -> None:
        self.ami(
            Event="Newchannel",
            Context="from-callers",
            Exten=number,
            Uniqueid=uid,
            Linkedid=uid,
            CallerIDNum="0312345678",
            CallerIDName="Caller",
        )

    def hang_up(self, uid: str) -> None:
        if self.router.call_view(uid, self.now) is not None:
            self.acd(CallerHungUp(uid))  # the runtime handles the Hangup first
        self.ami(Event="Hangup", Uniqueid=uid)

    def prompt(self, uid: str, prompt: str) -> None:
        self.ami(Event="UserEvent", UserEvent="AcdPromptPlayed", Uniqueid=uid, Prompt=prompt)

    def record(self, uid: str) -> dict[str, Any]:
        assert len(self.writer.outcomes.get(uid, [])) == 1, self.writer.outcomes.get(uid)
        return self.writer.calls[uid]


def test_a_caller_gone_before_the_ivr_started_is_an_ivr_abandon() -> None:
    w = Wiring()
    w.arrive("c1", "100")
    w.now = 10.005
    w.hang_up("c1")
    row = w.record("c1")
    assert row["outcome"] == "abandoned_ivr" and row["dialled_number"] == "100"
    assert row["entered_ivr_at"] == 10.0 and row["ended_at"] == 10.005
    assert "entered_queue_at" not in row and w.ledger.open_count() == 0


def test_a_caller_gone_before_the_queue_heard_of_it_is_a_queue_abandon() -> None:
    w = Wiring()
    w.arrive("c1", "200")
    w.now = 10.05
    w.hang_up("c1")
    row = w.record("c1")
    assert row["outcome"] == "abandoned_queue" and row["queue"] == "support"
    assert row["entered_queue_at"] == 10.0 and row["ended_at"] == 10.05


def test_voicemail_is_the_outcome_only_once_the_caller_heard_the_prompt() -> None:
    w = Wiring()  # nobody logged in: the ACD sends every caller to voicemail at once
    for uid in ("early", "heard"):
        w.arrive(uid, "200")
        w.acd(CallArrived(uid, "support", caller_number="0312345678"))
    assert "outcome" not in w.writer.calls["early"]
    w.now = 10.5
    w.hang_up("early")
    w.prompt("heard", "voicemail")
    w.now = 20.0
    w.hang_up("heard")
    early, heard = w.record("early"), w.record("heard")
    assert early["outcome"] == "abandoned_queue" and early["ended_at"] == 10.5
    assert early["entered_queue_at"] == 10.0 and early["queue"] == "support"
    assert heard["outcome"] == "voicemail" and heard["ended_at"] == 10.0  # left the queue then


def test_the_ivrs_hand_off_makes_a_hang_up_a_queue_abandon() -> None:
    w = Wiring()
    w.arrive("c1", "100")
    w.now = 15.0
    w.ledger.handed_off("c1", "support", w.now)
    w.now = 15.001
    w.hang_up("c1")
    row = w.record("c1")
    assert row["outcome"] == "abandoned_queue" and row["entered_queue_at"] == 15.0


def test_the_classic_ivrs_late_word_after_its_hand_off_is_a_queue_abandon() -> None:
    w = Wiring()
    w.arrive("c1", "100")
    w.ami(Event="UserEvent", UserEvent="IvrEnded", Uniqueid="c1", Left="queue", Queue="support")
    w.ledger.record_call("c1", outcome="abandoned_ivr", ended_at=11.0)  # `h`: Left: hangup
    w.hang_up("c1")
    row = w.record("c1")
    assert row["outcome"] == "abandoned_queue" and row["queue"] == "support"


def test_the_ivrs_own_outcome_stands_and_is_written_once() -> None:
    w = Wiring()
    w.arrive("c1", "100")
    w.ledger.record_call("c1", outcome="ivr_completed", ended_at=12.0)
    w.hang_up("c1")
    w.ledger.record_call("c1", outcome="abandoned_ivr", ended_at=12.5, ivr_path=[])
    row = w.record("c1")
    assert row["outcome"] == "ivr_completed" and row["ended_at"] == 12.0
    assert row["ivr_path"] == []  # other fields still land


def test_the_acds_outcome_stands_for_a_call_it_knows() -> None:
    w = Wiring(staffed=True)
    w.arrive("c1", "200")
    w.acd(CallArrived("c1", "support", caller_number="0312345678"))
    w.now = 11.0
    w.hang_up("c1")
    row = w.record("c1")
    assert row["outcome"] == "abandoned_ringing"  # the agent's phone was ringing for it
    assert w.ledger.open_count() == 0


def test_a_callback_the_caller_chose_is_final_at_once() -> None:
    w = Wiring(staffed=True)
    w.acd(CallArrived("busy", "support", caller_number="0300000000"))  # takes the agent
    w.arrive("c1", "200")
    w.acd(CallArrived("c1", "support", caller_number="0312345678"))
    w.acd(CallbackRequested("c1"))
    w.hang_up("c1")
    row = w.record("c1")
    assert row["outcome"] == "callback" and row["callback"] is True


def test_calls_never_seen_on_a_caller_facing_number_pass_as_before() -> None:
    w = Wiring()
    w.acd(CallArrived("agent-call", "support", caller_number="1004"))
    w.ami(Event="Hangup", Uniqueid="agent-call")
    assert w.record("agent-call")["outcome"] == "voicemail"
    w.arrive("other", "9000")  # the line test: no record of its own
    w.hang_up("other")
    assert "other" not in w.writer.calls


@pytest.mark.parametrize(("state", "trigger"), sorted(RECORD_TRANSITIONS))
def test_every_row_of_the_table_is_reachable_by_name(
    state: RecordState, trigger: RecordTrigger
) -> None:
    assert next_record_state("c", state, trigger) is RECORD_TRANSITIONS[(state, trigger)]


def test_a_closed_record_takes_no_trigger() -> None:
    for trigger in RecordTrigger:
        with pytest.raises(IllegalRecordTransition):
            next_record_state("c", RecordState.CLOSED, trigger)
