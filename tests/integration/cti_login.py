"""Logging in to the live CTI as a desktop does: its address, a token, the token's websocket."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from madoguchi.stack.runner import Stack


def cti_base(stack: Stack) -> str:
    cti = stack.config.service.cti
    return f"http://{cti.host}:{cti.port}"


async def login(session: aiohttp.ClientSession, base: str, body: Mapping[str, str]) -> str:
    """POST /api/login from the CTI's own origin; the token (any status but 200 fails)."""
    async with session.post(base + "/api/login", json=dict(body), headers={"Origin": base}) as r:
        assert r.status == 200, await r.text()
        token: str = (await r.json())["token"]
        return token


async def agent_socket(
    session: aiohttp.ClientSession, base: str, agent: str, password: str
) -> tuple[str, aiohttp.ClientWebSocketResponse]:
    """An agent's token and the websocket opened with it."""
    token = await login(session, base, {"agent": agent, "password": password})
    ws = await session.ws_connect(f"{base}/ws?token={token}", headers={"Origin": base})
    return token, ws
