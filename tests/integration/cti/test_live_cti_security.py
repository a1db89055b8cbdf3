"""Refusals on the live CTI: wrong token, a token revoked by logout, a foreign Origin, an
agent acting on another agent's call or as a supervisor, and an agent's websocket never
carrying another agent's call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from live_floor import Floor

from bench.harness.agent import SippAgent
from bench.harness.caller import CallerScript, place_calls

EVIL = "http://evil.example"


async def refused_upgrade(floor: Floor, token: str, origin: str | None = "same") -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await floor.connect(token, origin=origin)
    return info.value.status


async def test_wrong_token_and_bad_credentials_are_refused(floor: Floor) -> None:
    assert await refused_upgrade(floor, "not-a-token") == 401
    assert await refused_upgrade(floor, "") == 401
    for path in ("/api/me", "/api/wallboard", "/api/agents/1003/snapshot"):
        assert (await floor.request("GET", path, "not-a-token"))[0] == 401
        assert (await floor.request("GET", path, None))[0] == 401
    status, body = await floor.request(
        "POST", "/api/agents/1003/state", "not-a-token", {"state": "ready"}
    )
    assert (status, body["error"]) == (401, "unauthorized")
    status, body = await floor.request(
        "POST", "/api/login", None, {"agent": "1003", "password": "pw1004"}
    )
    assert (status, body["error"]) == (401, "bad_credentials")
    assert "token" not in body


async def test_logout_revokes_the_token_and_closes_its_websockets(floor: Floor) -> None:
    token = await floor.login({"agent": "1004", "password": "pw1004"})
    client = await floor.connect(token)
    await client.wait("snapshot", lambda m: m["type"] == "snapshot")
    assert (await floor.request("GET", "/api/me", token))[0] == 200

    assert (await floor.request("POST", "/api/logout", token, {}))[0] == 200
    await asyncio.wait_for(client.reader, timeout=10)  # type: ignore[arg-type]
    assert client.ws.close_code == 4003
    assert await refused_upgrade(floor, token) == 401
    assert (await floor.request("GET", "/api/me", token))[0] == 401
    status, _ = await floor.request("POST", "/api/agents/1004/state", token, {"state": "ready"})
    assert status == 401


async def test_a_foreign_origin_is_refused(floor: Floor) -> None:
    status, body = await floor.request(
        "POST", "/api/login", None, {"agent": "1004", "password": "pw1004"}, origin=EVIL
    )
    assert (status, body["error"]) == (403, "bad_origin")
    token = await floor.login({"agent": "1004", "password": "pw1004"})
    assert await refused_upgrade(floor, token, origin=EVIL) == 403
    status, body = await floor.request(
        "POST", "/api/agents/1004/state", token, {"state": "ready"}, origin=EVIL
    )
    assert (status, body["error"]) == (403, "bad_origin")
    # Nothing happened: 1004 is still logged out.
    status, snapshot = await floor.request("GET", "/api/agents/1004/snapshot", token)
    assert status == 200 and snapshot["agent"]["state"] == "logged_out"


async def test_agents_cannot_use_supervisor_functions_or_act_for_each_other(
    floor: Floor,
) -> None:
    token = await floor.login({"agent": "1004", "password": "pw1004"})
    assert (await floor.request("GET", "/api/wallboard", token))[0] == 403
    for agent_path in ("/api/agents/1003/snapshot", "/api/agents/1003/calls"):
        assert (await floor.request("GET", agent_path, token))[0] == 403
    status, body = await floor.request("POST", "/api/agents/1003/state", token, {"state": "ready"})
    assert (status, body["error"]) == (403, "forbidden")
    status, _ = await floor.request("POST", "/api/agents/1003/dial", token, {"number": "1004"})
    assert status == 403
    client = await floor.connect(token)
    await client.wait("snapshot", lambda m: m["type"] == "snapshot")
    answer = await client.command("set_agent_state", agent_id="1003", state="ready")
    assert (answer["type"], answer["error"]) == ("error", "forbidden")
    status, wall = await floor.request("GET", "/api/wallboard", await floor.admin_token())
    assert {a["agent_id"]: a["state"] for a in wall["agents"]}["1003"] == "logged_out"


async def test_another_agents_call_is_neither_shown_nor_controllable(
    floor: Floor,
    desktop_for: Callable[..., Any],
    phones: Callable[..., SippAgent],
    tmp_path: Path,
) -> None:
    phones("1003")
    owner = await desktop_for("1003", "pw1003")
    other = await desktop_for("1004", "pw1004")  # logged in to the desktop, not to the queues
    await owner.become("1003", "ready")
    caller = place_calls(
        CallerScript(
            "200", caller_num="0355556666", caller_name="秘密 の 顧客", max_wait_ms=30_000
        ),
        tmp_path / "caller",
    )
    try:
        pop = await owner.wait_message("call.offered")
        call_id = pop["call_id"]
        await owner.wait_message("call.connected", call_id=call_id)

        # 1004 over REST: every control on 1003's call is "no such call for this agent".
        for action, body in (
            ("hangup", {}),
            ("hold", {}),
            ("transfer", {"mode": "blind", "target": "1004"}),
            ("disposition", {"code": "resolved", "notes": "x"}),
        ):
            status, answer = await other.post(f"/api/calls/{call_id}/{action}", body)
            assert (status, answer["error"]) == (404, "unknown_call"), (action, answer)
        # ... and over its websocket.
        token = other.token
        ws = await floor.connect(token)
        await ws.wait("snapshot", lambda m: m["type"] == "snapshot")
        answer = await ws.command("hangup", call_id=call_id)
        assert (answer["type"], answer["error"]) == ("error", "unknown_call")
        # A supervisor has no call controls either.
        status, _ = await floor.request(
            "POST", f"/api/calls/{call_id}/hangup", await floor.admin_token(), {}
        )
        assert status == 403

        # The call went on, untouched; its owner ends it.
        assert caller.running() and not owner.of_type("call.ended")
        status, _ = await owner.post(f"/api/calls/{call_id}/hangup", {})
        assert status == 200
        await owner.wait_message("call.ended", call_id=call_id)
        assert await asyncio.to_thread(caller.wait, 15) == 0, caller.errors()
    finally:
        caller.stop()
    # Nothing of 1003's call ever reached 1004's websockets.
    for _t, message in other.messages + ws.messages:
        text = json.dumps(message, ensure_ascii=False)
        assert call_id not in text and "0355556666" not in text and "秘密" not in text, text
        assert not message.get("type", "").startswith("call."), message
