"""A real call through number 200 to a real SIP agent, seen on the agent's desktop and in the DB."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from bench.harness.agent import SippAgent
from bench.harness.caller import CallerScript, place_calls
from bench.harness.ports import free_udp_port
from madoguchi.stack.runner import Stack
from tests.integration.phones import invite_watch
from tests.polling import wait_for

CALLER_NAME = "山田 太郎 <b>&</b>"


async def test_call_reaches_agent_with_screen_pop_first_and_leaves_one_record(
    stack: Stack, desktop_for, db: asyncpg.Connection, tmp_path: Path
) -> None:
    agent = SippAgent(
        "1003", "pw1003", port=free_udp_port(), workdir=tmp_path, talk_ms=None, ring_ms=300
    )
    agent.start()
    try:
        assert agent.register(expires=120) == 0
        desktop = await desktop_for("1003", "pw1003")
        await desktop.become("1003", "ready")

        # Watch the agent's phone: when does its INVITE arrive, compared with the pop?
        invite_at = invite_watch(agent, 30)
        caller = place_calls(
            CallerScript(
                "200", caller_num="0312345678", caller_name=CALLER_NAME, hangup_after_ms=2000
            ),
            tmp_path / "caller",
        )
        pop = await desktop.wait_message("call.offered")
        pop_at = next(t for t, m in desktop.of_type("call.offered"))
        rang = await invite_at()
        assert pop["caller"] == {"number": "0312345678", "name": CALLER_NAME}
        assert pop["queue"] == "support"
        # The pop is published before the Originate: it must not trail the INVITE.
        print(f"screen pop {1000 * (rang - pop_at):.1f} ms before the agent's INVITE")
        assert pop_at <= rang + 0.01

        call_id = pop["call_id"]
        await desktop.wait_message("call.connected", call_id=call_id)
        assert await asyncio.to_thread(caller.wait, 60) == 0, caller.errors()
        ended = await desktop.wait_message("call.ended", call_id=call_id)
        assert ended["outcome"] == "answered"
        assert "0312345678" in agent.uas.invites()[0]  # type: ignore[union-attr]

        async def record() -> asyncpg.Record | None:
            return await db.fetchrow(
                "SELECT * FROM calls WHERE call_id = $1 AND outcome IS NOT NULL", call_id
            )

        row = await wait_for("the call record", record)
        assert row["outcome"] == "answered"
        assert row["agent_id"] == "1003"
        assert row["queue"] == "support"
        assert row["caller_name"] == CALLER_NAME
        assert row["answered_at"] is not None and row["ended_at"] >= row["answered_at"]
        assert await db.fetchval("SELECT count(*) FROM calls WHERE call_id = $1", call_id) == 1
        await desktop.set_state("1003", "logout")
    finally:
        if "caller" in locals():
            caller.stop()
        agent.stop()
