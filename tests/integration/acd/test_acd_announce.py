"""A waiting caller on the real stack hears the position and wait the routing core reports."""

from __future__ import annotations

import time
from typing import Any

import pytest
from acd_it_helpers import Acd, wait_until
from panoramisk import fast_agi

from acd.core.agent_state import AgentState
from acd.core.events import AgentLoggedIn
from acd.core.wait_estimates import WaitEstimate, spoken_wait
from bench.harness.caller import CallerScript, place_calls

pytestmark = pytest.mark.integration

SOUNDS = "/usr/share/asterisk/sounds/madoguchi"


def _agent_state(acd: Acd, agent_id: str) -> AgentState | None:
    view = acd.runtime.router.agent_view(agent_id, time.monotonic())
    return None if view is None else view.state


async def test_the_announcement_says_the_position_and_wait_the_core_reports(
    acd: Acd, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the announce route sent down each caller's AGI session, and Asterisk's replies.
    sent: dict[str, list[tuple[str, Any]]] = {}
    original = fast_agi.Request.send_command

    async def recording(self: fast_agi.Request, command: str) -> Any:
        reply = await original(self, command)
        sent.setdefault(self.headers.get("agi_uniqueid", ""), []).append((command, reply))
        return reply

    monkeypatch.setattr(fast_agi.Request, "send_command", recording)
    # What the core reported to the route at that moment (position and forecast).
    told: dict[str, tuple[int, WaitEstimate | None, float | None]] = {}
    asked = acd.runtime.position_and_wait

    def remembering(uniqueid: str) -> tuple[int, WaitEstimate | None] | None:
        found = asked(uniqueid)
        view = acd.runtime.router.call_view(uniqueid, time.monotonic())
        if found is not None:
            told[uniqueid] = (*found, None if view is None else view.estimated_wait)
        return found

    monkeypatch.setattr(acd.runtime, "position_and_wait", remembering)

    acd.agent("1003", 41163, talk_ms=120_000)
    acd.runtime.submit(AgentLoggedIn("1003"))
    await acd.reachable("1003")
    talking = CallerScript(number="200", caller_name="First", hangup_after_ms=100_000)
    first = place_calls(talking, acd.workdir / "first", server=acd.pbx.server, timeout_s=150)
    # The first announcement comes after 30 s of music and lasts ~25 s with the offer.
    waiting = CallerScript(number="200", caller_name="Second", hangup_after_ms=80_000)
    second = None
    try:
        await wait_until("1003 talks", lambda: _agent_state(acd, "1003") is AgentState.ON_CALL)
        second = place_calls(waiting, acd.workdir / "second", server=acd.pbx.server, timeout_s=150)
        try:
            await wait_until(
                "the second caller's first announcement",
                lambda: any(
                    command.startswith("GET DATA")
                    for lines in sent.values()
                    for command, _ in lines
                ),
                within=75,
            )
        except AssertionError:
            calls = acd.runtime.router.snapshot(time.monotonic()).calls
            channels = acd.pbx.cli("core show channels verbose")
            raise AssertionError(f"AGI: {sent}\ncalls: {calls}\nchannels: {channels}") from None
        (uniqueid,) = [u for u, lines in sent.items() if any("GET DATA" in c for c, _ in lines)]
        position, estimate, shown = told[uniqueid]
        assert position == 1
        assert estimate is not None and shown == estimate.seconds  # the CTI's view says it too
        words = spoken_wait(estimate)
        spec = acd.runtime.queue_spec("support")
        said = [c for c, _ in sent[uniqueid] if c.startswith(("STREAM FILE", "SAY NUMBER"))]
        expected = [
            'STREAM FILE "queue-thereare" ""',
            f'SAY NUMBER "{position}" ""',
            'STREAM FILE "queue-callswaiting" ""',
            'STREAM FILE "queue-holdtime" ""',
            *(['STREAM FILE "queue-less-than" ""'] if words.less_than_a_minute else []),
            f'SAY NUMBER "{words.low_minutes}" ""',
            *(
                [f'STREAM FILE "{SOUNDS}/acd-to" ""', f'SAY NUMBER "{words.high_minutes}" ""']
                if words.is_range
                else []
            ),
            'STREAM FILE "queue-minutes" ""',
            *(
                [
                    f'STREAM FILE "{SOUNDS}/acd-callback-within" ""',
                    f'SAY NUMBER "{words.callback_minutes}" ""',
                    'STREAM FILE "queue-minutes" ""',
                ]
                if spec is not None and spec.allow_callback
                else []
            ),
        ]
        assert said == expected
        # Asterisk played every prompt and number to the caller (result 0: done, no key).
        replies = [r for c, r in sent[uniqueid] if c.startswith(("STREAM FILE", "SAY NUMBER"))]
        assert all(str(r.get("result", ("",))[0]) == "0" for r in replies), replies
    finally:
        first.stop()
        if second is not None:
            second.stop()
