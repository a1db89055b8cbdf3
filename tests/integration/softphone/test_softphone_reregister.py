"""An agent whose phone re-registers from a new port is offered the next call (issue #22).

Each round leaves a stale contact for 1003 (a SIPp REGISTER from a port where nobody
answers), then a real softphone (baresip) registers 1003 from another port, replacing it
(max_contacts=1, remove_existing). Asterisk announces the new contact and the removal of the
old one in either order, so the ACD's view of the agent's reachability was order-dependent:
the test repeats the round and reports how many were missed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from baresip_phone import Baresip
from softphone_helpers import AGENT, asterisk_pid, hang_up_everything, make_ready, wait_idle

from bench.harness.agent import SippAgent
from bench.harness.caller import CallerScript, place_calls
from bench.harness.ports import free_udp_port
from madoguchi.stack.asterisk import cli
from madoguchi.stack.runner import Stack

ROUNDS = 9
OFFER_LIMIT = 10.0  # seconds from the call to the phone's INVITE (ring ahead: milliseconds)


async def _round(
    number: int, stack: Stack, desktop: Any, softphone: Any, tone: Path, workdir: Path
) -> str | None:
    """One round; None when the softphone was offered the call, else what went wrong."""
    stale = SippAgent(AGENT, f"pw{AGENT}", port=free_udp_port(), workdir=workdir / "stale")
    assert await asyncio.to_thread(stale.register, 120) == 0, "the stale REGISTER failed"
    phone: Baresip = softphone(f"agent-{number}", AGENT, tone, password=f"pw{AGENT}", regint=120)
    await asyncio.to_thread(phone.wait_registered)
    await make_ready(desktop)

    mark = phone.mark()
    caller = place_calls(
        CallerScript("200", caller_num=f"0398{number:06d}", hangup_after_ms=3000),
        workdir / "caller",
        timeout_s=40,
    )
    try:
        try:
            await asyncio.to_thread(phone.wait_event, "CALL_INCOMING", mark, OFFER_LIMIT)
        except AssertionError:
            contacts = await asyncio.to_thread(
                cli, stack.paths, asterisk_pid(stack), f"pjsip show aor {AGENT}"
            )
            return f"not offered within {OFFER_LIMIT:.0f} s; Asterisk's AOR:\n{contacts}"
        phone.command("accept")
        await asyncio.to_thread(phone.wait_event, "CALL_ESTABLISHED", mark)
        await asyncio.to_thread(phone.wait_event, "CALL_CLOSED", mark, 30)
        return None
    finally:
        try:
            await asyncio.to_thread(caller.wait, 45)
        finally:
            caller.stop()
            phone.stop()
            try:
                await wait_idle(stack, 20)
            except AssertionError:
                await hang_up_everything(stack)


async def test_an_agent_re_registering_from_a_new_port_is_offered_the_next_call(
    stack: Stack,
    floor: Stack,
    desktop_for: Any,
    softphone: Any,
    tones: dict[int, Path],
    tmp_path: Path,
) -> None:
    tone = tones[1400]
    desktop = await desktop_for(AGENT, f"pw{AGENT}")
    missed: dict[int, str] = {}
    for number in range(1, ROUNDS + 1):
        problem = await _round(number, stack, desktop, softphone, tone, tmp_path / f"r{number}")
        if problem is not None:
            missed[number] = problem
    report = "\n".join(f"round {n}: {why}" for n, why in missed.items())
    print(f"re-registration: offered in {ROUNDS - len(missed)} of {ROUNDS} rounds")
    assert not missed, f"missed {len(missed)} of {ROUNDS} rounds:\n{report}"
