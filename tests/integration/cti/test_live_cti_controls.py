"""Desktop call controls on real SIP calls: hang up, wrap-up then ready, disposition,
pause with a reason, blind transfer to another agent, click-to-dial, and a supervisor
setting an agent's state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
from live_floor import Floor

from bench.harness.agent import SippAgent
from bench.harness.caller import CallerScript, place_calls
from bench.harness.sipp_process import SippProcess
from madoguchi.stack.asterisk import cli
from tests.integration.phones import invite_watch
from tests.polling import wait_for


async def connected_call(desktop: Any, workdir: Path, caller_num: str) -> tuple[str, SippProcess]:
    """A caller on 200 (waiting for the far end to hang up) connected to the desktop's agent."""
    caller = place_calls(
        CallerScript("200", caller_num=caller_num, caller_name="操作 テスト", max_wait_ms=30_000),
        workdir,
    )
    try:
        pop = await desktop.wait_message("call.offered")
        await desktop.wait_message("call.connected", call_id=pop["call_id"])
    except BaseException:
        caller.stop()
        raise
    return pop["call_id"], caller


async def test_hangup_wrapup_disposition_and_pause_from_the_desktop(
    floor: Floor,
    desktop_for: Callable[..., Any],
    phones: Callable[..., SippAgent],
    db: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    phone = phones("1003")  # answers and waits for the far end's BYE
    desktop = await desktop_for("1003", "pw1003")
    await desktop.become("1003", "ready")
    call_id, caller = await connected_call(desktop, tmp_path / "caller", "0311112222")
    try:
        status, body = await desktop.post(f"/api/calls/{call_id}/hangup", {})
        assert (status, body) == (200, {"ok": True, "data": {}})
        ended = await desktop.wait_message("call.ended", call_id=call_id)
        assert ended["outcome"] == "answered"
        # The SIP call really ended: the caller got its BYE and finished its script.
        assert await asyncio.to_thread(caller.wait, 15) == 0, caller.errors()
    finally:
        caller.stop()
    assert phone.uas is not None and phone.uas.running()

    await desktop.wait_message("agent.state", agent_id="1003", state="wrap_up")
    status, body = await desktop.post(
        f"/api/calls/{call_id}/disposition",
        {"code": "follow_up", "notes": "折り返し <b>要</b> & 明日"},
    )
    assert (status, body["data"].get("saved")) == (200, True), body
    status, body = await desktop.post("/api/agents/1003/wrapup", {"action": "done"})
    assert status == 200, body
    await wait_for("ready after wrap-up", lambda: _ready_after_wrapup(desktop))

    await desktop.set_state("1003", "pause", reason="lunch")
    paused = await desktop.wait_message("agent.state", agent_id="1003", state="not_ready")
    assert paused["reason"] == "lunch"

    async def saved() -> asyncpg.Record | None:
        return await db.fetchrow(
            "SELECT disposition, notes FROM calls WHERE call_id = $1 AND disposition IS NOT NULL",
            call_id,
        )

    row = await wait_for("the disposition in the CRM", saved)
    assert (row["disposition"], row["notes"]) == ("follow_up", "折り返し <b>要</b> & 明日")


async def _ready_after_wrapup(desktop: Any) -> bool:
    states = [m["payload"]["state"] for _t, m in desktop.of_type("agent.state")]
    return "wrap_up" in states and "ready" in states[states.index("wrap_up") :]


async def test_blind_transfer_to_another_agent_rings_that_agent(
    floor: Floor,
    desktop_for: Callable[..., Any],
    phones: Callable[..., SippAgent],
    tmp_path: Path,
) -> None:
    phones("1003")
    target = phones("1004", talk_ms=800)  # answers, then hangs up after 0.8 s
    desktop = await desktop_for("1003", "pw1003")
    await desktop.become("1003", "ready")
    call_id, caller = await connected_call(desktop, tmp_path / "caller", "0322223333")
    try:
        rang = invite_watch(target, limit=20)
        status, body = await desktop.post(
            f"/api/calls/{call_id}/transfer", {"mode": "blind", "target": "1004"}
        )
        assert (status, body.get("ok")) == (200, True), body
        await rang()
        assert "0322223333" in target.uas.invites()[-1]  # type: ignore[union-attr]
        ended = await desktop.wait_message("call.ended", call_id=call_id)
        assert ended["outcome"] == "transferred"
        # 1004 talked to the caller and hung up: the caller's script ends with that BYE.
        assert await asyncio.to_thread(caller.wait, 15) == 0, caller.errors()
    finally:
        caller.stop()
    await desktop.wait_message("agent.state", agent_id="1003", state="wrap_up")


async def test_click_to_dial_rings_the_agent_then_the_number(
    floor: Floor,
    desktop_for: Callable[..., Any],
    phones: Callable[..., SippAgent],
) -> None:
    own = phones("1003")
    other = phones("1004", talk_ms=800)
    desktop = await desktop_for("1003", "pw1003")
    await desktop.set_state("1003", "pause", reason="break")
    own_rang, other_rang = invite_watch(own, limit=20), invite_watch(other, limit=20)
    status, body = await desktop.post("/api/agents/1003/dial", {"number": "1004"})
    assert (status, body.get("ok")) == (200, True), body
    first, second = await own_rang(), await other_rang()
    assert first <= second
    print(f"\nclick-to-dial: 1004 rang {1000 * (second - first):.0f} ms after 1003")
    # 1004 hangs up after 0.8 s; both legs end.
    await floor.wait_idle()


async def test_an_agent_on_a_click_to_dial_call_is_not_offered_a_queue_call(
    floor: Floor,
    desktop_for: Callable[..., Any],
    phones: Callable[..., SippAgent],
    tmp_path: Path,
) -> None:
    phones("1003")  # answers and waits for the far end's BYE
    other = phones("1004", talk_ms=4000)  # takes the direct call, hangs up after 4 s
    desktop = await desktop_for("1003", "pw1003")
    await desktop.become("1003", "ready")
    other_rang = invite_watch(other, limit=20)
    status, body = await desktop.post("/api/agents/1003/dial", {"number": "1004"})
    assert (status, body.get("ok")) == (200, True), body
    await other_rang()
    # 1003 is ready in the ACD but its phone is on the call it placed: a caller who comes
    # now waits for the phone to be free (app_queue's ringinuse = no).
    caller = place_calls(
        CallerScript("200", caller_num="0399990001", caller_name="待ち", max_wait_ms=30_000),
        tmp_path / "caller",
    )
    try:
        pop = await desktop.wait_message("call.offered")
        channels = await asyncio.to_thread(
            cli, floor.stack.paths, floor.stack.asterisk_pid(), "core show channels concise"
        )
        assert "PJSIP/1004-" not in channels, f"offered while on the phone:\n{channels}"
        await desktop.wait_message("call.connected", call_id=pop["call_id"])
        status, _ = await desktop.post(f"/api/calls/{pop['call_id']}/hangup", {})
        assert status == 200
        assert await asyncio.to_thread(caller.wait, 15) == 0, caller.errors()
    finally:
        caller.stop()
    await floor.wait_idle()


async def test_click_to_dial_presents_the_agent_as_the_caller(
    floor: Floor,
    desktop_for: Callable[..., Any],
    phones: Callable[..., SippAgent],
) -> None:
    own = phones("1003")
    other = phones("1004", talk_ms=300)
    desktop = await desktop_for("1003", "pw1003")
    rang = invite_watch(other, limit=20)
    status, body = await desktop.post("/api/agents/1003/dial", {"number": "1004"})
    assert (status, body.get("ok")) == (200, True), body
    await rang()
    await floor.wait_idle()
    invite = other.uas.invites()[-1]  # type: ignore[union-attr]
    assert "<sip:1003@" in invite, invite  # the called party sees the agent ...
    assert floor.stack.config.agents["1003"].name in invite, invite  # ... by its name
    # The agent's own phone shows whom it is calling.
    assert "<sip:1004@" in own.uas.invites()[-1]  # type: ignore[union-attr]


async def test_hold_and_resume_keep_the_call(
    floor: Floor,
    desktop_for: Callable[..., Any],
    phones: Callable[..., SippAgent],
    tmp_path: Path,
) -> None:
    phones("1003")
    desktop = await desktop_for("1003", "pw1003")
    await desktop.become("1003", "ready")
    call_id, caller = await connected_call(desktop, tmp_path / "caller", "0344445555")
    try:
        for action, on_hold in (("hold", True), ("unhold", False)):
            status, body = await desktop.post(f"/api/calls/{call_id}/{action}", {})
            assert (status, body.get("ok")) == (200, True), f"{action}: {body}"
            # The desktop learns it (its Hold / Resume buttons follow call.held).
            await desktop.wait_message("call.held", call_id=call_id, on_hold=on_hold)
            assert caller.running() and not desktop.of_type("call.ended"), f"{action} ended it"
        status, body = await desktop.post(f"/api/calls/{call_id}/hangup", {})
        assert status == 200, body
        await desktop.wait_message("call.ended", call_id=call_id)
        assert await asyncio.to_thread(caller.wait, 15) == 0, caller.errors()
    finally:
        caller.stop()


async def test_supervisor_sets_an_agent_state(
    floor: Floor,
    desktop_for: Callable[..., Any],
) -> None:
    agent = await desktop_for("1004", "pw1004")
    board = await floor.connect(await floor.admin_token())
    await board.wait("snapshot", lambda m: m["type"] == "snapshot")

    assert await floor.supervise("1004", "pause", "meeting") == 200
    paused = await agent.wait_message("agent.state", agent_id="1004", state="not_ready")
    assert paused["reason"] == "meeting"
    await board.wait(
        "1004 paused on the wallboard",
        lambda m: (
            m.get("type") == "agent.state"
            and m["payload"]["agent_id"] == "1004"
            and m["payload"]["state"] == "not_ready"
        ),
    )

    answer = await board.command("set_agent_state", agent_id="1004", state="ready")
    assert (answer["type"], answer["ok"]) == ("result", True), answer
    await agent.wait_message("agent.state", agent_id="1004", state="ready")
    status, wall = await floor.request("GET", "/api/wallboard", await floor.admin_token())
    assert status == 200
    assert {a["agent_id"]: a["state"] for a in wall["agents"]}["1004"] == "ready"

    answer = await board.command("set_agent_state", agent_id="1004", state="logout")
    assert answer["ok"] is True, answer
    await agent.wait_message("agent.state", agent_id="1004", state="logged_out")


async def test_attended_transfer_consults_then_hands_the_caller_over(
    floor: Floor,
    desktop_for: Callable[..., Any],
    phones: Callable[..., SippAgent],
    tmp_path: Path,
) -> None:
    phones("1003")
    target = phones("1004", talk_ms=1500)  # answers the consultation, hangs up after 1.5 s
    desktop = await desktop_for("1003", "pw1003")
    await desktop.become("1003", "ready")
    call_id, caller = await connected_call(desktop, tmp_path / "caller", "0366667777")
    try:
        rang = invite_watch(target, limit=20)
        status, body = await desktop.post(
            f"/api/calls/{call_id}/transfer", {"mode": "attended", "target": "1004"}
        )
        print(f"\nattended transfer: {status} {body}")
        assert (status, body.get("ok")) == (200, True), body
        await rang()
        # The agent hangs up once 1004 answered: Asterisk hands the caller over.
        status, body = await desktop.post(f"/api/calls/{call_id}/hangup", {})
        print(f"hangup after the consultation: {status} {body}")
        assert status == 200, body
        ended = await desktop.wait_message("call.ended", call_id=call_id)
        assert ended["outcome"] == "transferred"
        # 1004 hangs up after talking: the caller's script ends with that BYE.
        assert await asyncio.to_thread(caller.wait, 15) == 0, caller.errors()
    finally:
        caller.stop()
