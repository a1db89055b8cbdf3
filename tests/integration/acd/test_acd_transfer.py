"""Blind transfers of a connected call on the real PBX: to another agent, back into a queue."""

from __future__ import annotations

import pytest
from acd_it_helpers import Acd

from acd.core.agent_state import AgentState
from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import RingAgent
from acd.core.events import AgentLoggedIn, AgentPaused, AgentReady
from bench.harness.caller import CallerScript, place_calls
from tests.polling import wait_until

pytestmark = pytest.mark.integration


async def test_blind_transfer_to_another_agents_extension(acd: Acd) -> None:
    acd.agent("1003", 41203, talk_ms=None)
    target = acd.agent("1004", 41204, talk_ms=1500)
    acd.runtime.submit(AgentLoggedIn("1003"))
    await acd.reachable("1003", "1004")
    callers = place_calls(
        CallerScript(number="200", caller_name="Transferred", max_wait_ms=30_000),
        acd.workdir / "callers",
        server=acd.pbx.server,
    )
    await wait_until("agent on the call", lambda: acd.agent_state("1003") is AgentState.ON_CALL)
    await acd.runtime.blind_transfer("1003", "1004")
    await wait_until("the call leaves the ACD", lambda: len(acd.endings()) == 1)
    ending = acd.endings()[0]
    assert ending.outcome is CallOutcome.TRANSFERRED and ending.detail == "1004"
    # The caller reaches 1004's phone (which hangs up after a while): the caller got its BYE.
    await wait_until(
        "1004 rings", lambda: target.uas is not None and len(target.uas.invites()) == 1
    )
    await acd.callers_done(callers, "caller exits", 20)
    assert acd.agent_state("1003") is not AgentState.ON_CALL
    assert len(acd.endings()) == 1  # the caller's later hangup adds nothing


async def test_blind_transfer_back_into_a_queue(acd: Acd) -> None:
    acd.agent("1003", 41213, talk_ms=None)
    acd.agent("1004", 41214, talk_ms=1500)
    acd.runtime.submit(AgentLoggedIn("1003"))
    acd.runtime.submit(AgentLoggedIn("1004"))
    acd.runtime.submit(AgentPaused("1004", "break"))  # not taking the first offer
    await acd.reachable("1003", "1004")
    callers = place_calls(
        CallerScript(number="200", caller_name="Requeued", max_wait_ms=30_000),
        acd.workdir / "callers",
        server=acd.pbx.server,
    )
    await wait_until("1003 on the call", lambda: acd.agent_state("1003") is AgentState.ON_CALL)
    acd.runtime.submit(AgentPaused("1003", "meeting"))  # pending until the call ends
    await acd.runtime.blind_transfer("1003", "queue:support")
    call_id = next(c.call_id for c in acd.commands() if isinstance(c, RingAgent))
    view = acd.runtime.call_for_channel(call_id)
    assert view is not None and view.state is CallState.QUEUED  # back in line, not ended
    assert acd.agent_state("1003") is AgentState.WRAP_UP  # then its pending pause
    acd.runtime.submit(AgentReady("1004"))
    await wait_until("the call ends", lambda: len(acd.endings()) == 1, within=20)
    ending = acd.endings()[0]
    assert ending.outcome is CallOutcome.ANSWERED and ending.agent_id == "1004"
    await acd.callers_done(callers, "caller exits", 20)


async def test_attended_transfer_to_another_agent(acd: Acd) -> None:
    acd.agent("1003", 41223, talk_ms=5000)  # consults, then hangs up: the transfer completes
    target = acd.agent("1004", 41224, talk_ms=None)
    acd.runtime.submit(AgentLoggedIn("1003"))
    await acd.reachable("1003", "1004")
    callers = place_calls(
        CallerScript(number="200", caller_name="Consulted", hangup_after_ms=12_000),
        acd.workdir / "callers",
        server=acd.pbx.server,
    )
    await wait_until("agent on the call", lambda: acd.agent_state("1003") is AgentState.ON_CALL)
    await acd.runtime.attended_transfer("1003", "1004")
    await wait_until(
        "1004 consulted", lambda: target.uas is not None and len(target.uas.invites()) == 1
    )
    await wait_until("the call leaves the ACD", lambda: len(acd.endings()) == 1, within=20)
    ending = acd.endings()[0]
    assert ending.outcome is CallOutcome.TRANSFERRED and ending.detail == "1004"
    await acd.callers_done(callers, "caller exits", 20)
