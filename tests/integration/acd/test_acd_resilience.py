"""Resilience on the real PBX: Asterisk restarted mid-call, the AMI socket cut mid-call."""

from __future__ import annotations

import asyncio
import re

import pytest
from acd_it_helpers import Acd

from acd.ami.resync_apply import Resynced
from acd.core.agent_state import AgentState
from acd.core.call_state import CallOutcome
from acd.core.commands import RingAgent
from acd.core.events import AgentLoggedIn
from bench.harness.caller import CallerScript, place_calls
from tests.polling import wait_until

pytestmark = pytest.mark.integration


def resyncs(acd: Acd) -> list[Resynced]:
    return [event for event, _ in acd.seen if isinstance(event, Resynced)]


async def test_asterisk_restart_ends_calls_as_system_failure_and_routing_resumes(
    acd: Acd,
) -> None:
    agent = acd.agent("1003", 41103, talk_ms=None)  # talks until the far end hangs up
    acd.runtime.submit(AgentLoggedIn("1003"))
    await acd.reachable("1003")
    first = place_calls(
        CallerScript(number="200", caller_name="Before", max_wait_ms=60_000),
        acd.workdir / "before",
        server=acd.pbx.server,
    )
    try:
        await wait_until("agent on the call", lambda: acd.agent_state("1003") is AgentState.ON_CALL)
        await asyncio.to_thread(acd.pbx.restart)
        await wait_until(
            "the lost call closed as system_failure",
            lambda: [e.outcome for e in acd.endings()] == [CallOutcome.SYSTEM_FAILURE],
            within=30,
        )
        assert acd.endings()[0].agent_id == "1003"
    finally:
        first.stop()
    # The agent is not left on_call; its phone registers again with the new Asterisk.
    await wait_until("agent ready again", lambda: acd.agent_state("1003") is AgentState.READY)
    assert agent.register() == 0
    await acd.reachable("1003")
    second = place_calls(
        CallerScript(number="200", caller_name="After", hangup_after_ms=1500),
        acd.workdir / "after",
        server=acd.pbx.server,
    )
    await wait_until("the new call ends", lambda: len(acd.endings()) == 2, within=30)
    assert acd.endings()[1].outcome is CallOutcome.ANSWERED
    assert acd.runtime.status()["reconnects"] >= 1
    await acd.callers_done(second, "caller exits")


def kick_ami(acd: Acd) -> None:
    listing = acd.pbx.cli("manager show connected")
    sessions = re.findall(r"^\s*madoguchi\s+\S+\s+\d+\s+\d+\s+(\d+)", listing, re.MULTILINE)
    assert len(sessions) == 1, listing
    acd.pbx.cli(f"manager kick session {sessions[0]}")


async def test_ami_socket_cut_mid_call_resumes_without_duplicate_originate(acd: Acd) -> None:
    agent = acd.agent("1003", 41113, talk_ms=4000)
    acd.runtime.submit(AgentLoggedIn("1003"))
    await acd.reachable("1003")
    first = place_calls(
        CallerScript(number="200", caller_name="Cut", max_wait_ms=30_000),
        acd.workdir / "cut",
        server=acd.pbx.server,
    )
    await wait_until("agent on the call", lambda: acd.agent_state("1003") is AgentState.ON_CALL)
    kick_ami(acd)
    await wait_until("reconnected and resynced", lambda: len(resyncs(acd)) == 2)
    assert acd.runtime.status()["reconnects"] == 1
    # The call survived the cut: recovered as connected, it completes normally.
    await wait_until("the first call ends", lambda: len(acd.endings()) == 1, within=20)
    assert acd.endings()[0].outcome is CallOutcome.ANSWERED
    await acd.callers_done(first, "first caller exits")
    await wait_until("agent ready", lambda: acd.agent_state("1003") is AgentState.READY)
    second = place_calls(
        CallerScript(number="200", caller_name="After cut", max_wait_ms=30_000),
        acd.workdir / "after",
        server=acd.pbx.server,
    )
    await wait_until("the second call ends", lambda: len(acd.endings()) == 2, within=20)
    assert acd.endings()[1].outcome is CallOutcome.ANSWERED
    await acd.callers_done(second, "second caller exits")
    # One ring and one INVITE per call: nothing was originated twice.
    assert len([c for c in acd.commands() if isinstance(c, RingAgent)]) == 2
    status = acd.runtime.status()
    assert status["originates"] + status["rings_ahead"] == 2  # type: ignore[operator]
    assert agent.uas is not None and len(agent.uas.invites()) == 2


async def test_service_restart_keeps_waiting_callers(acd: Acd) -> None:
    """A new runtime (madoguchi serve restarted) finds a caller already waiting in Asterisk,
    reads its ACD variables and serves it with its waiting time kept."""
    acd.agent("1003", 41123, talk_ms=1000)
    acd.runtime.submit(AgentLoggedIn("1003", not_ready_reason="break"))
    await acd.reachable("1003")
    callers = place_calls(
        CallerScript(number="200", caller_name="Patient", max_wait_ms=30_000),
        acd.workdir / "callers",
        server=acd.pbx.server,
    )
    await wait_until("caller waiting", lambda: len(acd.runtime.router.snapshot(0).calls) == 1)
    fresh = await acd.restart_recovering("the waiting caller recovered")
    fresh.submit(AgentLoggedIn("1003"))
    await wait_until("the call ends", lambda: len(acd.endings()) == 1, within=20)
    ending = acd.endings()[0]
    assert ending.outcome is CallOutcome.ANSWERED and ending.agent_id == "1003"
    assert ending.wait_time > 0
    await acd.callers_done(callers, "caller exits")
