"""Fixtures of the call-record tests (issue 7) on the shared real stack.

`staff` puts agents on duty the way a real agent does it: a SIPp phone registered to Asterisk,
a desktop logged in to the CTI, a state set over REST, and wrap-up ended from the desktop as
soon as it starts (so one agent can take several calls in a row). Everything it started is
logged out and stopped afterwards, whatever the test did.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.harness.agent import AgentMode, SippAgent
from bench.harness.ports import free_udp_port
from madoguchi.stack.runner import Stack
from tests.integration.cti_login import agent_socket, cti_base
from tests.polling import wait_for


@dataclass
class Desktop:
    """One agent's desktop: REST with its token, and its websocket's messages as received."""

    agent: str
    base: str
    session: aiohttp.ClientSession
    token: str
    ws: aiohttp.ClientWebSocketResponse
    messages: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    wrapups: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    logged_out: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {"Origin": self.base, "Authorization": f"Bearer {self.token}"}

    async def post(
        self, path: str, body: Any = None, *, raw: bytes | None = None
    ) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body}
        async with self.session.post(self.base + path, headers=self.headers, **kwargs) as r:
            text = await r.text()
            try:
                return r.status, json.loads(text)
            except ValueError:
                return r.status, text

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(self.base + path, headers=self.headers) as r:
            return r.status, await r.json()

    async def wait_reachable(self, limit: float = 15) -> None:
        """The ACD knows the phone is registered (or it would never offer a call to it)."""

        async def reachable() -> bool:
            status, body = await self.get(f"/api/agents/{self.agent}/snapshot")
            return status == 200 and bool(body.get("agent", {}).get("reachable"))

        await wait_for(f"agent {self.agent}'s phone reachable", reachable, limit)

    async def set_state(self, state: str, **extra: str) -> None:
        status, body = await self.post(f"/api/agents/{self.agent}/state", {"state": state, **extra})
        assert status == 200, (state, body)

    def payloads(self, type_: str) -> list[dict[str, Any]]:
        return [m.get("payload", m) for m in self.messages if m.get("type") == type_]

    async def wait_message(self, type_: str, limit: float = 30, **match: Any) -> dict[str, Any]:
        async def found() -> dict[str, Any] | None:
            for payload in self.payloads(type_):
                if all(payload.get(k) == v for k, v in match.items()):
                    return payload
            return None

        result: dict[str, Any] = await wait_for(f"{self.agent}: {type_} {match}", found, limit)
        return result

    async def wait_state(self, state: str, limit: float = 30) -> None:
        """Wait until the latest agent.state says `state`."""

        async def latest() -> bool:
            states = self.payloads("agent.state")
            return bool(states) and states[-1].get("state") == state

        await wait_for(f"agent {self.agent} {state}", latest, limit)


@dataclass
class OnDuty:
    agent: str
    phone: SippAgent
    desktop: Desktop


async def _read(desktop: Desktop) -> None:
    async for msg in desktop.ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            message = json.loads(msg.data)
            desktop.messages.append(message)
            payload = message.get("payload", message)
            if message.get("type") == "agent.state" and payload.get("state") == "wrap_up":
                if payload.get("agent_id") == desktop.agent:
                    desktop.wrapups.put_nowait(payload)


async def _end_wrapups(desktop: Desktop) -> None:
    """Press "wrap-up done" whenever the agent enters wrap-up (as a busy agent would)."""
    while True:
        await desktop.wrapups.get()
        with contextlib.suppress(aiohttp.ClientError):
            await desktop.post(f"/api/agents/{desktop.agent}/wrapup", {"action": "done"})


Staff = Callable[..., Awaitable[OnDuty]]


@pytest.fixture
async def staff(stack: Stack, tmp_path: Path) -> AsyncIterator[Staff]:
    """`await staff("1003", state="ready"|"pause", mode=..., talk_ms=..., ring_ms=...)`."""
    base = cti_base(stack)
    session = aiohttp.ClientSession()
    on_duty: list[OnDuty] = []

    async def put_on_duty(
        agent: str,
        *,
        state: str = "ready",
        mode: AgentMode = "answer",
        talk_ms: int | None = 1000,
        ring_ms: int = 200,
    ) -> OnDuty:
        phone = SippAgent(
            agent,
            stack.config.agents[agent].password,
            port=free_udp_port(),
            workdir=tmp_path / f"phone-{agent}-{len(on_duty)}",
            mode=mode,
            talk_ms=talk_ms,
            ring_ms=ring_ms,
        )
        await asyncio.to_thread(phone.start)
        try:
            assert await asyncio.to_thread(phone.register, 120) == 0, f"{agent} did not register"
            password = stack.config.agents[agent].password
            token, ws = await agent_socket(session, base, agent, password)
        except BaseException:
            await asyncio.to_thread(phone.stop)
            raise
        desktop = Desktop(agent, base, session, token, ws)
        desktop.tasks.append(asyncio.create_task(_read(desktop)))
        desktop.tasks.append(asyncio.create_task(_end_wrapups(desktop)))
        duty = OnDuty(agent, phone, desktop)
        on_duty.append(duty)
        await desktop.wait_message("snapshot")
        if state != "logout":
            await desktop.wait_reachable()
        if state == "pause":
            await desktop.set_state("pause", reason="break")
            await desktop.wait_state("not_ready")
        else:
            await desktop.set_state(state)
            await desktop.wait_state(state)
        return duty

    try:
        yield put_on_duty
    finally:
        for duty in on_duty:
            d = duty.desktop
            if not d.logged_out and not d.ws.closed:
                with contextlib.suppress(aiohttp.ClientError, AssertionError):
                    await d.post(f"/api/agents/{d.agent}/state", {"state": "logout"})
            await d.ws.close()
            for task in d.tasks:
                task.cancel()
            for task in d.tasks:
                with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                    await task
            await asyncio.to_thread(duty.phone.stop)
        await session.close()
