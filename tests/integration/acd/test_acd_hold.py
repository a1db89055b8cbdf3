"""Hold and resume of a connected call on the real PBX (the shipped madoguchi-hold context)."""

from __future__ import annotations

import re

import pytest
from acd_it_helpers import Acd

from acd.core.agent_state import AgentState
from acd.core.call_state import CallOutcome
from acd.core.events import AgentLoggedIn
from bench.harness.caller import CallerScript, place_calls
from tests.polling import wait_until

pytestmark = pytest.mark.integration


def bridged_channels(acd: Acd) -> int:
    listing = acd.pbx.cli("bridge show all")
    return sum(int(n) for n in re.findall(r"\s(\d+)\s+basic\s", listing))


async def test_hold_and_resume_keep_the_call(acd: Acd) -> None:
    acd.agent("1003", 41303, talk_ms=None)
    acd.runtime.submit(AgentLoggedIn("1003"))
    await acd.reachable("1003")
    callers = place_calls(
        CallerScript(number="200", caller_name="Held", max_wait_ms=30_000),
        acd.workdir / "callers",
        server=acd.pbx.server,
    )
    await wait_until("agent on the call", lambda: acd.agent_state("1003") is AgentState.ON_CALL)
    await wait_until("caller and agent bridged", lambda: bridged_channels(acd) == 2)
    await acd.runtime.hold("1003", True)
    await wait_until("both legs out of the bridge", lambda: bridged_channels(acd) == 0)
    assert acd.pbx.active_channels() == 2  # nobody was hung up
    assert acd.agent_state("1003") is AgentState.ON_CALL
    assert not acd.endings()
    await acd.runtime.hold("1003", False)
    await wait_until("bridged again", lambda: bridged_channels(acd) == 2)
    await acd.runtime.hangup("1003")
    await wait_until("the call ends", lambda: len(acd.endings()) == 1)
    ending = acd.endings()[0]
    assert ending.outcome is CallOutcome.ANSWERED and ending.agent_id == "1003"
    await acd.callers_done(callers, "caller exits")
