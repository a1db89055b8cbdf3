"""Two real softphones through the whole demo (issue #22): a baresip caller dials the IVR
(number 100), picks support with an RFC 2833 key press, skips the account number, and
reaches agent 1003 on a baresip of its own; each side sends a tone and the other side's
recording holds it. The caller (09011112222, 鈴木 花子 in the demo CRM) sends no display
name, as softphones often do: the agent's call history still names her."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from baresip_phone import Baresip
from softphone_helpers import AGENT, get_json, make_ready, wait_crm_seeded
from tones import RATE, tone_seconds

from madoguchi.stack.runner import Stack
from tests.polling import wait_for

CALLER = "09011112222"
CUSTOMER = "鈴木 花子"
CALLER_HZ = 600
AGENT_HZ = 1400
TALK_SECONDS = 3.0  # of audio each side must have heard from the other once bridged


async def caller_pause(seconds: float) -> None:
    """The caller listening before the next key (as SIPp callers' Pause steps do)."""
    await asyncio.sleep(seconds)


def heard_seconds(phone: Baresip) -> float:
    """Seconds of audio in the phone's current recording of what it hears (sndfile writes as
    the call goes; 16-bit mono)."""
    files = phone.recordings("dec")
    return max(0.0, (files[-1].stat().st_size - 44) / (2 * RATE)) if files else 0.0


async def talk(phones: list[Baresip], seconds: float, limit: float = 30) -> None:
    """Until every phone has heard `seconds` more audio than it had when this began."""
    start = {p.name: heard_seconds(p) for p in phones}
    deadline = time.monotonic() + limit
    while any(heard_seconds(p) - start[p.name] < seconds for p in phones):
        assert time.monotonic() < deadline, f"no {seconds} s of audio within {limit} s"
        await asyncio.sleep(0.1)


async def test_a_softphone_caller_through_the_ivr_talks_with_a_softphone_agent(
    stack: Stack,
    floor: Stack,
    desktop_for: Any,
    db: Any,
    softphone: Any,
    tones: dict[int, Path],
) -> None:
    await wait_crm_seeded(db)
    agent: Baresip = softphone("agent", AGENT, tones[AGENT_HZ], password=f"pw{AGENT}", regint=120)
    await asyncio.to_thread(agent.wait_registered)
    desktop = await desktop_for(AGENT, f"pw{AGENT}")
    await make_ready(desktop)

    caller: Baresip = softphone("caller", CALLER, tones[CALLER_HZ])  # no REGISTER, no name
    mark = caller.mark()
    caller.dial("100")
    await asyncio.to_thread(caller.wait_event, "CALL_ESTABLISHED", mark)  # the IVR answers
    await caller_pause(1.5)
    caller.send_digits("2")  # main menu: support
    await caller_pause(2.5)
    caller.send_digits("#")  # no account number: looked up by caller ID

    await asyncio.to_thread(agent.wait_event, "CALL_INCOMING", 0, 30)
    pop = await desktop.wait_message("call.offered")
    assert pop["queue"] == "support"
    assert "main_menu menu: 2" in pop["ivr"]["path"], pop["ivr"]  # the RFC 2833 key arrived
    assert pop["caller"] == {"number": CALLER, "name": ""}
    assert pop["customer"]["name"] == CUSTOMER
    assert agent.command("accept").get("ok")
    await asyncio.to_thread(agent.wait_event, "CALL_ESTABLISHED")
    await desktop.wait_message("call.connected", call_id=pop["call_id"])

    await talk([agent, caller], TALK_SECONDS)
    assert caller.command("hangup").get("ok")
    await asyncio.to_thread(agent.wait_event, "CALL_CLOSED")
    await asyncio.to_thread(caller.wait_event, "CALL_CLOSED", mark)

    agent_heard = agent.recordings("dec")[-1]
    caller_heard = caller.recordings("dec")[-1]
    agent_got, caller_got = (
        tone_seconds(agent_heard, CALLER_HZ),
        tone_seconds(caller_heard, AGENT_HZ),
    )
    print(
        f"agent heard {agent_got:.1f} s of the caller's tone,"
        f" caller {caller_got:.1f} s of the agent's"
    )
    assert agent_got >= TALK_SECONDS - 1, "the agent never heard the caller"
    assert caller_got >= TALK_SECONDS - 1, "the caller never heard the agent"
    # The detector tells the two tones apart: neither phone hears its own tone back.
    assert tone_seconds(agent_heard, AGENT_HZ) < 0.5
    assert tone_seconds(caller_heard, CALLER_HZ) < 0.5

    async def history_names_her() -> dict[str, Any] | None:
        calls = (await get_json(desktop, f"/api/agents/{AGENT}/calls"))["calls"]
        mine = [c for c in calls if c["call_id"] == pop["call_id"] and c.get("outcome")]
        return mine[0] if mine else None

    entry = await wait_for("the call in 1003's history", history_names_her, 20)
    assert entry["number"] == CALLER
    assert entry["name"] == CUSTOMER
