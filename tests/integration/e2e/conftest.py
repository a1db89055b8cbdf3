"""Helpers for end-to-end tests: a desktop client on the real CTI, the DB of the stack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from madoguchi.stack.runner import Stack
from tests.integration.cti_login import agent_socket, cti_base
from tests.polling import wait_for


@dataclass
class Desktop:
    """One agent's desktop: REST with its token, and its websocket's messages as received."""

    base: str
    session: aiohttp.ClientSession
    token: str
    ws: aiohttp.ClientWebSocketResponse
    messages: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @property
    def origin(self) -> dict[str, str]:
        return {"Origin": self.base, "Authorization": f"Bearer {self.token}"}

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        async with self.session.post(self.base + path, json=body, headers=self.origin) as r:
            return r.status, await r.json()

    async def set_state(self, agent: str, state: str, **extra: str) -> None:
        status, body = await self.post(f"/api/agents/{agent}/state", {"state": state, **extra})
        assert status == 200, body

    async def become(self, agent: str, state: str) -> None:
        """Set `agent`'s state over REST and wait until this desktop is told so."""
        await self.set_state(agent, state)
        await self.wait_message("agent.state", agent_id=agent, state=state)

    def of_type(self, type_: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, m) for t, m in self.messages if m.get("type") == type_]

    async def wait_message(self, type_: str, limit: float = 30, **match: Any) -> dict[str, Any]:
        async def found() -> dict[str, Any] | None:
            for _t, m in self.of_type(type_):
                payload = m.get("payload", m)
                if all(payload.get(k) == v for k, v in match.items()):
                    return payload
            return None

        result: dict[str, Any] = await wait_for(f"{type_} {match}", found, limit)
        return result


async def _read(desktop: Desktop) -> None:
    async for msg in desktop.ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            desktop.messages.append((time.monotonic(), json.loads(msg.data)))


@pytest.fixture
async def desktop_for(stack: Stack) -> AsyncIterator[Callable[[str, str], Awaitable[Desktop]]]:
    base = cti_base(stack)
    session = aiohttp.ClientSession()
    opened: list[Desktop] = []

    async def open_desktop(agent: str, password: str) -> Desktop:
        token, ws = await agent_socket(session, base, agent, password)
        desktop = Desktop(base, session, token, ws)
        desktop.reader = asyncio.create_task(_read(desktop))
        opened.append(desktop)
        await desktop.wait_message("snapshot")
        return desktop

    yield open_desktop
    for d in opened:
        await d.ws.close()
        if d.reader is not None:
            await asyncio.wait_for(d.reader, timeout=5)
    await session.close()
