"""An English caller (IVR key 9 asks `lang_en>=1`) with only agent 1003 (no English) ready:
offered to 1003 once the support queue's relaxation is due, not left waiting (issue #22).

The shipped relaxation comes after 60 s; the stack's config copy gets a shorter one for the
test (put back afterwards), so the test still fails when the support queue has none."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from ivr_it_helpers import AmiWatch, place_ivr_call, wait_no_channels
from reload.conftest import demo_config_restored, sighup_and_wait  # noqa: F401  (fixture)

from bench.harness.agent import SippAgent
from bench.harness.caller import CallerScript, Dtmf, Pause
from bench.harness.ports import free_udp_port
from madoguchi.stack.runner import Stack

RELAX_AFTER = 4  # seconds, in the test's config copy
ENGLISH_SUPPORT = (Pause(1500), Dtmf("9"), Pause(2000), Dtmf("2"), Pause(2000), Dtmf("#"))


def _shorten_support_relax(config: Path, after: int) -> None:
    queues = config / "queues.toml"
    text = queues.read_text(encoding="utf-8")
    head, marker, support = text.partition("[queue.support]")
    assert marker, "no support queue in queues.toml"
    support_only = support.split("\n[", 1)
    relaxed, count = re.subn(
        r"^relax = \[\{ after = \d+,", f"relax = [{{ after = {after},", support_only[0], flags=re.M
    )
    assert count == 1, "the support queue never relaxes: English callers wait for lang_en forever"
    queues.write_text(head + marker + "\n[".join([relaxed, *support_only[1:]]), encoding="utf-8")


async def test_an_english_caller_reaches_a_support_agent_without_english_after_the_relaxation(
    stack: Stack,
    ami: AmiWatch,
    desktop_for: Any,
    demo_config_restored: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    _shorten_support_relax(demo_config_restored, RELAX_AFTER)
    status = await sighup_and_wait(stack)
    assert status.ok, status.lines

    phone = SippAgent("1003", "pw1003", port=free_udp_port(), workdir=tmp_path, talk_ms=None)
    phone.start()
    caller = desktop = None
    try:
        assert await asyncio.to_thread(phone.register, 120) == 0
        desktop = await desktop_for("1003", "pw1003")
        await desktop.set_state("1003", "ready")
        await desktop.wait_message("agent.state", agent_id="1003", state="ready")

        script = CallerScript("100", "0399009901", steps=ENGLISH_SUPPORT, hangup_after_ms=15_000)
        caller = place_ivr_call(script, tmp_path / "caller")
        handed = await ami.wait_for_caller(script.caller_num)
        assert (handed.queue, handed.skills) == ("support", "lang_en>=1")

        pop = await desktop.wait_message("call.offered", limit=RELAX_AFTER + 20)
        assert pop["caller"]["number"] == script.caller_num
        assert pop.get("language") == "en"
        # Offered because the requirement relaxed, not at once (1003 has no lang_en).
        assert RELAX_AFTER - 0.5 <= pop["wait_seconds"] < RELAX_AFTER + 10, pop["wait_seconds"]
        await desktop.wait_message("call.connected", call_id=pop["call_id"])
        assert await asyncio.to_thread(caller.wait, 60) == 0, caller.errors()
    finally:
        if caller is not None:
            caller.stop()
        phone.stop()
        await asyncio.to_thread(wait_no_channels, stack)
        if desktop is not None:  # other tests share the stack: 1003 leaves logged out
            status, body = await desktop.post("/api/agents/1003/state", {"state": "logout"})
            assert status in (200, 409), body
