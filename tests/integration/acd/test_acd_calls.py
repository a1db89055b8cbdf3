"""Real calls through Asterisk: SIPp callers on number 200 (queue support), SIPp agents."""

from __future__ import annotations

import dataclasses
import time

import pytest
from acd_it_helpers import Acd

from acd.core.agent_state import AgentState
from acd.core.call_state import CallOutcome
from acd.core.commands import AgentStateChanged, CallEnded, CancelRing, Overflow, RingAgent
from acd.core.events import AgentLoggedIn, ConfigReplaced
from acd.core.specs import OverflowTarget
from bench.harness.caller import CallerScript, Dtmf, Pause, place_calls
from madoguchi.config.acd import agent_specs, queue_specs
from tests.polling import wait_until

pytestmark = pytest.mark.integration


# The voicemail intro (vm-intro, 5.7 s) plays before VoiceMail() itself: a caller sent there
# stays on the line long enough to reach it.
VOICEMAIL_CALLER_MS = 12_000


def reachable(acd: Acd, agent_id: str) -> bool:
    view = acd.runtime.router.agent_view(agent_id, time.monotonic())
    return view is not None and view.reachable


async def overflowed_to_voicemail(acd: Acd, reason: str, within: float = 30) -> CallEnded:
    """The one call so far ended in the queue's voicemail, for ``reason``, and the caller
    is in VoiceMail() now."""
    await wait_until("the call overflows", lambda: len(acd.endings()) == 1, within)
    (ending,) = acd.endings()
    assert ending.outcome is CallOutcome.OVERFLOW_VOICEMAIL
    overflows = [c for c in acd.commands() if isinstance(c, Overflow)]
    assert [(o.target.kind, o.reason) for o in overflows] == [("voicemail", reason)]
    await wait_until(
        "the caller is in the queue's voicemail",
        lambda: "VoiceMail" in acd.pbx.cli("core show channels verbose"),
        within=20,
    )
    return ending


def caller(acd: Acd, name: str, **kwargs: object) -> CallerScript:
    return CallerScript(number="200", caller_name=name, **kwargs)  # type: ignore[arg-type]


async def test_caller_is_connected_and_the_agent_sees_the_callers_number(acd: Acd) -> None:
    agent = acd.agent("1003", 41003, talk_ms=1000)
    acd.runtime.submit(AgentLoggedIn("1003"))
    await acd.reachable("1003")
    script = CallerScript(number="200", caller_num="0355501234", caller_name="Sato Ichiro")
    callers = place_calls(script, acd.workdir / "callers", server=acd.pbx.server, timeout_s=30)
    await wait_until("the call ends", lambda: len(acd.endings()) == 1, within=30)
    ending = acd.endings()[0]
    assert ending.outcome is CallOutcome.ANSWERED
    assert ending.agent_id == "1003"
    await acd.callers_done(callers, "caller SIPp exits")
    invites = agent.uas.invites() if agent.uas else []
    assert len(invites) == 1
    assert "0355501234" in invites[0] and "Sato Ichiro" in invites[0]


async def test_distribution_follows_longest_idle_across_two_agents(acd: Acd) -> None:
    first = acd.agent("1003", 41013, talk_ms=3000)
    second = acd.agent("1004", 41014, talk_ms=3000)
    acd.runtime.submit(AgentLoggedIn("1003"))
    acd.runtime.submit(AgentLoggedIn("1004"))
    await acd.reachable("1003", "1004")
    script = caller(acd, "Two")
    callers = place_calls(
        script, acd.workdir / "callers", count=2, rate=5, server=acd.pbx.server, timeout_s=30
    )
    await wait_until("both calls end", lambda: len(acd.endings()) == 2, within=30)
    rings = [c for c in acd.commands() if isinstance(c, RingAgent)]
    # longest idle: 1003 logged in first, so it takes the first call; 1004 the second.
    assert [r.agent_id for r in rings] == ["1003", "1004"]
    assert {e.agent_id for e in acd.endings()} == {"1003", "1004"}
    assert all(e.outcome is CallOutcome.ANSWERED for e in acd.endings())
    assert first.uas is not None and len(first.uas.invites()) == 1
    assert second.uas is not None and len(second.uas.invites()) == 1
    await acd.callers_done(callers, "callers exit")


async def test_no_answer_moves_to_the_next_agent(acd: Acd) -> None:
    acd.agent("1003", 41023, mode="ignore")
    acd.agent("1004", 41024, talk_ms=1000)
    acd.runtime.submit(AgentLoggedIn("1003"))
    acd.runtime.submit(AgentLoggedIn("1004"))
    await acd.reachable("1003", "1004")
    callers = place_calls(caller(acd, "Nobody"), acd.workdir / "callers", server=acd.pbx.server)
    await wait_until("the call ends", lambda: len(acd.endings()) == 1, within=30)
    ending = acd.endings()[0]
    assert ending.outcome is CallOutcome.ANSWERED and ending.agent_id == "1004"
    to_no_answer = [
        c
        for c in acd.commands()
        if isinstance(c, AgentStateChanged) and c.agent_id == "1003" and c.reason == "no_answer"
    ]
    assert len(to_no_answer) == 1 and to_no_answer[0].new is AgentState.NOT_READY
    assert acd.agent_state("1003") is AgentState.NOT_READY
    await acd.callers_done(callers, "callers exit")


async def test_caller_abandons_while_queued(acd: Acd) -> None:
    acd.agent("1003", 41033)
    acd.runtime.submit(AgentLoggedIn("1003", not_ready_reason="break"))  # staffed, not ready
    await acd.reachable("1003")
    script = CallerScript(number="200", caller_name="Impatient", hangup_after_ms=1500)
    callers = place_calls(script, acd.workdir / "callers", server=acd.pbx.server)
    await wait_until("the call ends", lambda: len(acd.endings()) == 1, within=20)
    assert acd.endings()[0].outcome is CallOutcome.ABANDONED_QUEUE
    assert not [c for c in acd.commands() if isinstance(c, RingAgent)]
    await acd.callers_done(callers, "callers exit")


async def test_caller_abandons_while_ringing_and_the_ring_stops(acd: Acd) -> None:
    agent = acd.agent("1003", 41043, mode="ignore")
    acd.runtime.submit(AgentLoggedIn("1003"))
    await acd.reachable("1003")
    script = CallerScript(number="200", caller_name="Gone", hangup_after_ms=1500)
    callers = place_calls(script, acd.workdir / "callers", server=acd.pbx.server)
    await wait_until("the call ends", lambda: len(acd.endings()) == 1, within=20)
    assert acd.endings()[0].outcome is CallOutcome.ABANDONED_RINGING
    cancels = [c for c in acd.commands() if isinstance(c, CancelRing)]
    assert [c.reason for c in cancels] == ["caller_hung_up"]
    assert acd.agent_state("1003") is AgentState.READY
    # The agent's phone stops ringing: its leg is gone from Asterisk.
    await wait_until("no channel left", lambda: acd.pbx.active_channels() == 0)
    assert agent.uas is not None and len(agent.uas.invites()) == 1
    await acd.callers_done(callers, "callers exit")


async def test_unregistered_agent_is_not_offered(acd: Acd) -> None:
    acd.agent("1004", 41054, talk_ms=1000)
    acd.runtime.submit(AgentLoggedIn("1003"))  # ready, but no phone registered
    acd.runtime.submit(AgentLoggedIn("1004"))
    await acd.reachable("1004")
    view = acd.runtime.router.agent_view("1003", time.monotonic())
    assert view is not None and not view.reachable
    callers = place_calls(caller(acd, "Reg"), acd.workdir / "callers", server=acd.pbx.server)
    await wait_until("the call ends", lambda: len(acd.endings()) == 1, within=30)
    assert acd.endings()[0].agent_id == "1004"
    assert {c.agent_id for c in acd.commands() if isinstance(c, RingAgent)} == {"1004"}
    await acd.callers_done(callers, "callers exit")


async def test_no_agent_logged_in_sends_the_caller_to_voicemail(acd: Acd) -> None:
    # support: overflow when_no_agents = "voicemail" (config/queues.toml)
    callers = place_calls(
        CallerScript(number="200", caller_name="Late", hangup_after_ms=VOICEMAIL_CALLER_MS),
        acd.workdir / "callers",
        server=acd.pbx.server,
    )
    await overflowed_to_voicemail(acd, "no_agents")
    await acd.callers_done(callers, "callers exit")
    assert len(acd.endings()) == 1


async def test_caller_pressing_2_at_the_announcement_leaves_a_message(acd: Acd) -> None:
    acd.runtime.submit(AgentLoggedIn("1003", not_ready_reason="break"))  # staffed: it waits
    # The first announcement comes after 30 s of music; its offer ("... to leave a message,
    # press 2") takes the key. The caller keeps pressing 2 through that window (keys pressed
    # during the music and the position prompts are not listened to).
    script = CallerScript(
        number="200",
        caller_name="Message",
        steps=(Pause(29_000), Dtmf("2" * 16, gap_ms=1000)),
        hangup_after_ms=2000,
        max_wait_ms=70_000,
    )
    callers = place_calls(script, acd.workdir / "callers", server=acd.pbx.server, timeout_s=90)
    try:
        ending = await overflowed_to_voicemail(acd, "caller_request", within=60)
        await acd.callers_done(callers, "callers exit", 30)
        assert acd.endings() == [ending]  # its hang-up in the mailbox changed nothing
    finally:
        callers.stop()


async def test_agent_whose_phone_unregisters_is_no_longer_offered(acd: Acd) -> None:
    leaving = acd.agent("1003", 41063, talk_ms=1000)
    acd.agent("1004", 41064, talk_ms=1000)
    acd.runtime.submit(AgentLoggedIn("1003"))  # longest idle: would be first
    acd.runtime.submit(AgentLoggedIn("1004"))
    await acd.reachable("1003", "1004")
    assert leaving.register(expires=0) == 0
    await wait_until("1003 unreachable", lambda: not reachable(acd, "1003"))
    callers = place_calls(caller(acd, "Unreg"), acd.workdir / "callers", server=acd.pbx.server)
    await wait_until("the call ends", lambda: len(acd.endings()) == 1, within=30)
    assert acd.endings()[0].agent_id == "1004"
    assert {c.agent_id for c in acd.commands() if isinstance(c, RingAgent)} == {"1004"}
    await acd.callers_done(callers, "callers exit")


async def test_a_full_queue_sends_the_next_caller_to_voicemail_at_once(acd: Acd) -> None:
    specs = queue_specs(acd.pbx.config)
    support = specs["support"]
    capped = dataclasses.replace(
        support,
        overflow=dataclasses.replace(
            support.overflow, position_above=1, target=OverflowTarget("voicemail")
        ),
    )
    acd.runtime.submit(
        ConfigReplaced(
            tuple(capped if s.name == "support" else s for s in specs.values()),
            tuple(agent_specs(acd.pbx.config).values()),
        )
    )
    acd.runtime.submit(AgentLoggedIn("1003", not_ready_reason="break"))  # staffed: one waits
    first = place_calls(
        caller(acd, "First", hangup_after_ms=8000), acd.workdir / "first", server=acd.pbx.server
    )
    second = None
    try:
        await wait_until(
            "the first caller waits",
            lambda: acd.runtime.router.queue_stats("support", time.monotonic()).waiting == 1,  # type: ignore[union-attr]
        )
        second = place_calls(
            caller(acd, "Second", hangup_after_ms=VOICEMAIL_CALLER_MS),
            acd.workdir / "second",
            server=acd.pbx.server,
        )
        await overflowed_to_voicemail(acd, "queue_full")
        await wait_until("callers exit", lambda: not first.running() and not second.running())
        assert first.wait(5) == 0, first.errors()
        assert second.wait(5) == 0, second.errors()
        # The first caller waited its 8 s and hung up: abandoned, not shed.
        await wait_until("the first call ends", lambda: len(acd.endings()) == 2)
        assert acd.endings()[1].outcome is CallOutcome.ABANDONED_QUEUE
    finally:
        first.stop()
        if second is not None:
            second.stop()
