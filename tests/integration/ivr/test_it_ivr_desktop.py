"""The IVR's hand-off as a ready agent sees it: a caller on 100 reaches the desktop of an
agent of the chosen queue with the path, the language and the customer the IVR found."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr_it_helpers import start_callers, stop_callers, wait_crm_seeded, wait_no_channels

from bench.harness.agent import SippAgent
from bench.harness.caller import CallerScript, Dtmf, Pause
from bench.harness.ports import free_udp_port
from madoguchi.stack.runner import Stack

GOLD_CALLER = "09099990000"  # John Smith, gold (config/crm_seed.csv)


def _keys(menu: str) -> tuple[Pause | Dtmf, ...]:
    """The menu key during the greeting, then "#" (no account number) during its prompt."""
    return (Pause(1500), Dtmf(menu), Pause(2500), Dtmf("#"))


async def test_screen_pops_carry_the_ivr_path_and_the_customer(
    stack: Stack, desktop_for, tmp_path: Path
) -> None:
    wait_crm_seeded(stack)
    agents = {
        ext: SippAgent(ext, f"pw{ext}", port=free_udp_port(), workdir=tmp_path, talk_ms=1500)
        for ext in ("1001", "1003")
    }
    callers = {}
    desktops = {}
    try:
        for ext, agent in agents.items():
            agent.start()
            assert agent.register(expires=120) == 0
            desktops[ext] = await desktop_for(ext, f"pw{ext}")
            await desktops[ext].become(ext, "ready")
        callers = start_callers(
            [
                (
                    "support_gold",
                    CallerScript(
                        "100",
                        GOLD_CALLER,
                        caller_name="John Smith",
                        steps=_keys("2"),
                        max_wait_ms=60_000,
                    ),
                ),
                (
                    "sales",
                    CallerScript(
                        "100",
                        "0399005002",
                        caller_name="山田 一郎",
                        steps=_keys("1"),
                        max_wait_ms=60_000,
                    ),
                ),
            ],
            tmp_path / "callers",
        )

        pop = await desktops["1003"].wait_message("call.offered", limit=40)
        assert pop["queue"] == "support"
        assert pop["priority"] == 10
        assert pop["caller"] == {"number": GOLD_CALLER, "name": "John Smith"}
        assert pop["language"] == "ja"
        assert pop["ivr"]["flow"] == "main"
        assert pop["ivr"]["path"] == [
            "hours hours: open",
            "main_menu menu: 2",
            "account skip",
            "by_caller lookup: found",
            "tier branch: gold",
        ]
        assert pop["customer"]["name"] == "John Smith"
        assert pop["customer"]["tier"] == "gold"
        assert pop["customer"]["account"] == "A-1008"

        pop = await desktops["1001"].wait_message("call.offered", limit=40)
        assert pop["queue"] == "sales"
        assert pop["priority"] == 0
        assert pop["caller"] == {"number": "0399005002", "name": "山田 一郎"}
        assert pop["ivr"]["path"] == [
            "hours hours: open",
            "main_menu menu: 1",
            "account skip",
            "by_caller lookup: not_found",
        ]
        assert pop["customer"] is None

        for ext, desktop in desktops.items():
            offered = desktop.of_type("call.offered")[0][1]
            call_id = offered.get("payload", offered)["call_id"]
            ended = await desktop.wait_message("call.ended", limit=40, call_id=call_id)
            assert ended["outcome"] == "answered", ext
        for name, caller in callers.items():
            assert await caller.finished(60) == 0, f"{name}: {caller.process.errors()[-1500:]}"
    finally:
        stop_callers(callers.values())
        for ext, desktop in desktops.items():
            await desktop.set_state(ext, "logout")
        for agent in agents.values():
            await asyncio.to_thread(agent.stop)
        await asyncio.to_thread(wait_no_channels, stack)
