"""Ring ahead on the real Asterisk: the agent published for an empty queue is dialled from
the caller's own channel, and a claim the router does not confirm (or one past its time)
rings nobody in the end."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator

import pytest
from acd_it_helpers import AMI_PORT, Acd

from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import RingAgent
from acd.core.events import AgentLoggedIn
from bench.harness.caller import CallerScript, place_calls
from tests.polling import wait_until

pytestmark = pytest.mark.integration


def published(acd: Acd) -> str:
    out = acd.pbx.cli("dialplan show globals")
    found = re.search(r"ACD_NEXT_support=(\S*)", out)
    return found.group(1) if found else ""


async def test_an_empty_queue_rings_the_published_agent_from_the_callers_channel(
    acd: Acd,
) -> None:
    agent = acd.agent("1003", 41403, talk_ms=1000)
    acd.runtime.submit(AgentLoggedIn("1003"))
    await acd.reachable("1003")
    await wait_until("1003 published", lambda: published(acd).startswith("1003:"), within=10)
    script = CallerScript(number="200", caller_num="0355501234", caller_name="Ahead")
    callers = place_calls(script, acd.workdir / "callers", server=acd.pbx.server, timeout_s=30)
    await wait_until("the call ends", lambda: len(acd.endings()) == 1, within=30)
    ending = acd.endings()[0]
    assert ending.outcome is CallOutcome.ANSWERED and ending.agent_id == "1003"
    status = acd.runtime.status()
    assert (status["rings_ahead"], status["originates"]) == (1, 0)
    assert agent.uas is not None and len(agent.uas.invites()) == 1
    await acd.callers_done(callers, "callers exit")


def global_value(acd: Acd, name: str) -> str | None:
    found = re.search(rf"^\s*{re.escape(name)}=(\S*)", acd.pbx.cli("dialplan show globals"), re.M)
    return found.group(1) if found else None


async def test_the_ring_ahead_dials_the_contact_the_runtime_publishes(acd: Acd) -> None:
    """The caller's Dial() goes straight to the phone's registered contact, as the runtime
    wrote it in ACD_CONTACT_<agent>, not through the AOR's contact look-up: pointed at
    another phone's address, the ring reaches that phone."""
    chosen = acd.agent("1003", 41443, talk_ms=1000)
    elsewhere = acd.agent("1004", 41444, talk_ms=1000)  # registered, never logged in
    acd.runtime.submit(AgentLoggedIn("1003"))
    await acd.reachable("1003", "1004")
    await wait_until("1003 published", lambda: published(acd).startswith("1003:"), within=10)
    contact = f"/sip:1003@127.0.0.1:{chosen.port}"
    await wait_until(
        "1003's contact published",
        lambda: global_value(acd, "ACD_CONTACT_1003") == contact,
        within=10,
    )
    acd.pbx.cli(f"dialplan set global ACD_CONTACT_1003 /sip:1003@127.0.0.1:{elsewhere.port}")
    script = CallerScript(number="200", caller_name="Direct")
    callers = place_calls(script, acd.workdir / "callers", server=acd.pbx.server, timeout_s=30)
    await wait_until("the call ends", lambda: len(acd.endings()) == 1, within=30)
    assert acd.endings()[0].agent_id == "1003"
    assert acd.runtime.status()["rings_ahead"] == 1
    assert elsewhere.uas is not None and len(elsewhere.uas.invites()) == 1
    assert chosen.uas is not None and chosen.uas.invites() == []
    await acd.callers_done(callers, "callers exit")


@contextlib.asynccontextmanager
async def ami_session(acd: Acd, actions: str) -> AsyncIterator[asyncio.StreamReader]:
    """A plain AMI session of the service's user (no events) that sends ``actions``."""
    ami = acd.pbx.config.service.ami
    reader, writer = await asyncio.open_connection(ami.host, AMI_PORT)
    try:
        await reader.readline()  # banner
        writer.write(
            f"Action: Login\r\nUsername: {ami.user}\r\nSecret: {ami.secret}\r\n"
            f"Events: off\r\n\r\n{actions}".encode()
        )
        await writer.drain()
        yield reader
    finally:
        writer.close()


async def ami_function(acd: Acd, expression: str) -> str:
    """A dialplan function's value as Asterisk computes it (AMI Getvar, no channel)."""
    getvar = f"Action: Getvar\r\nActionID: fn\r\nVariable: {expression}\r\n\r\n"
    async with ami_session(acd, getvar) as reader, asyncio.timeout(10):
        while True:
            block = (await reader.readuntil(b"\r\n\r\n")).decode()
            if "ActionID: fn" in block:
                found = re.search(r"^Value: ?(.*?)\r?$", block, re.M)
                assert found is not None, block
                return found.group(1)


async def test_filter_keeps_a_hyphen_only_at_the_front_of_its_set(acd: Acd) -> None:
    """Why every FILTER in extensions.conf lists '-' first (tests/unit/config)."""
    assert await ami_function(acd, "FILTER(a-z_-,vip-line_2)") == "vipline_"
    assert await ami_function(acd, "FILTER(-a-z_,vip-line_2)") == "vip-line_"


async def hold_a_channel_in_the_claims_group(acd: Acd, token: str) -> str:
    """A channel that took claim ``token`` in the same instant: a Local channel waiting in
    madoguchi-hold, joined to the claim's GROUP as the waiting context joins a taker."""
    originate = (
        "Action: Originate\r\nChannel: Local/agent@madoguchi-hold\r\n"
        "Application: Wait\r\nData: 60\r\nAsync: true\r\n\r\n"
    )
    names: list[str] = []
    async with ami_session(acd, originate):

        def up() -> bool:
            out = acd.pbx.cli("core show channels concise")
            names[:] = re.findall(r"^(Local/agent@madoguchi-hold-[^!;]+;1)!", out, re.M)
            return bool(names)

        await wait_until("the Local channel is up", up, within=10)
    acd.pbx.cli(f"dialplan set chanvar {names[0]} GROUP(acd-claim) {token}")
    out = acd.pbx.cli("group show channels")
    assert re.search(rf"^{re.escape(names[0])}\s+{token}\s+acd-claim", out, re.M), out
    return names[0]


@pytest.mark.parametrize("case", ["not_confirmed", "expired", "taken"])
async def test_a_claim_the_router_does_not_confirm_rings_nobody_in_the_end(
    acd: Acd, case: str
) -> None:
    port = 41413 + 10 * ["not_confirmed", "expired", "taken"].index(case)
    chosen = acd.agent("1003", port, talk_ms=1000)
    other = acd.agent("1004", port + 1, mode="ignore")
    acd.runtime.submit(AgentLoggedIn("1003"))  # 1004's phone is registered, 1004 logged out
    await acd.reachable("1003", "1004")
    await wait_until("1003 published", lambda: published(acd).startswith("1003:"), within=10)
    holder = ""
    if case == "taken":
        # Another caller read the same claim in the same instant and is in its group.
        holder = await hold_a_channel_in_the_claims_group(acd, "beef")
    # What a race leaves behind (1004 published, then taken by another call or paused) or
    # a claim past its time: written straight into Asterisk, unknown to the runtime.
    until = int(time.time()) + (-5 if case == "expired" else 30)
    acd.pbx.cli(f"dialplan set global ACD_NEXT_support 1004:17:{until}:beef")
    script = CallerScript(number="200", caller_name="Raced")
    callers = place_calls(script, acd.workdir / "callers", server=acd.pbx.server, timeout_s=30)
    await wait_until("the call ends", lambda: len(acd.endings()) == 1, within=30)
    ending = acd.endings()[0]
    assert ending.outcome is CallOutcome.ANSWERED and ending.agent_id == "1003"
    assert [c.agent_id for c in acd.commands() if isinstance(c, RingAgent)] == ["1003"]
    status = acd.runtime.status()
    assert status["originates"] == 1  # the router's choice, rung as usual
    assert chosen.uas is not None and len(chosen.uas.invites()) == 1
    assert other.uas is not None
    if case == "not_confirmed":
        assert status["rings_ahead_refused"] == 1
        assert len(other.uas.invites()) == 1  # rang, and was hung up
    else:
        # A claim past its time, or one another caller holds, is never dialled; the caller
        # queued, and the runtime wrote the variable again.
        assert status["rings_ahead_refused"] == 0
        assert other.uas.invites() == []
        assert "beef" not in published(acd)
    await acd.callers_done(callers, "callers exit")
    if holder:
        acd.pbx.cli(f"channel request hangup {holder}")
    await wait_until("no channel left", lambda: acd.pbx.active_channels() == 0)


async def test_a_restarted_service_keeps_a_call_connected_by_ring_ahead(acd: Acd) -> None:
    """The new process knows nothing of the ring ahead: it finds the caller in its own
    Dial() bridged with the agent's leg and recovers the call as connected."""
    agent = acd.agent("1003", 41433, talk_ms=4000)
    acd.runtime.submit(AgentLoggedIn("1003"))
    await acd.reachable("1003")
    await wait_until("1003 published", lambda: published(acd).startswith("1003:"), within=10)
    script = CallerScript(number="200", caller_name="Restart", max_wait_ms=30_000)
    callers = place_calls(script, acd.workdir / "callers", server=acd.pbx.server, timeout_s=30)
    await wait_until(
        "the call connected",
        lambda: any(v.state is CallState.CONNECTED for v in acd.runtime.router.snapshot(0).calls),
    )
    assert acd.runtime.status()["rings_ahead"] == 1
    fresh = await acd.restart_recovering("the connected call recovered")
    await wait_until("the call ends", lambda: len(acd.endings()) == 1, within=20)
    ending = acd.endings()[0]
    assert ending.outcome is CallOutcome.ANSWERED and ending.agent_id == "1003"
    assert fresh.status()["originates"] == 0  # not rung again
    assert agent.uas is not None and len(agent.uas.invites()) == 1
    await acd.callers_done(callers, "callers exit")
