"""Fixtures for the CTI on the real stack: desktops (from the e2e fixtures), a supervisor,
SIPp phones for agents 1003/1004, raw websocket clients, and a clean floor after each test.

No __init__.py here on purpose: a package named `cti` would shadow the real `cti`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from e2e.conftest import Desktop, db, desktop_for

from bench.harness.agent import SippAgent
from bench.harness.ports import free_udp_port
from madoguchi.stack.asterisk import cli
from madoguchi.stack.runner import Stack
from tests.integration.cti_login import cti_base, login
from tests.polling import wait_for

__all__ = ["Desktop", "db", "desktop_for"]

AGENTS = ("1003", "1004")


def active_channels(stack: Stack) -> int:
    out = cli(stack.paths, stack.asterisk_pid(), "core show channels count")
    for line in out.splitlines():
        if "active channel" in line:
            return int(line.split()[0])
    raise AssertionError(f"unexpected 'core show channels count' output: {out!r}")


@dataclass
class Client:
    """A websocket on the live CTI that records every frame with its arrival time."""

    ws: aiohttp.ClientWebSocketResponse
    messages: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [m for _t, m in self.messages if m.get("type") == type_]

    async def wait(
        self, what: str, check: Callable[[dict[str, Any]], bool], limit: float = 20
    ) -> dict[str, Any]:
        async def found() -> dict[str, Any] | None:
            return next((m for _t, m in self.messages if check(m)), None)

        result: dict[str, Any] = await wait_for(what, found, limit)
        return result

    async def command(self, cmd: str, limit: float = 20, **args: Any) -> dict[str, Any]:
        """Send one command and return its `result` or `error` (matched by id)."""
        request_id = f"{cmd}-{time.monotonic_ns()}"
        await self.ws.send_str(json.dumps({"cmd": cmd, "id": request_id, **args}))
        return await self.wait(
            f"answer to {cmd}",
            lambda m: m.get("type") in ("result", "error", "pong") and m.get("id") == request_id,
            limit,
        )


class Floor:
    """The live CTI for one test: logins, websockets and a supervisor session."""

    def __init__(self, stack: Stack, session: aiohttp.ClientSession) -> None:
        self.stack = stack
        self.base = cti_base(stack)
        self.session = session
        self.clients: list[Client] = []
        self._admin_token: str | None = None

    async def login(self, body: dict[str, str]) -> str:
        return await login(self.session, self.base, body)

    async def admin_token(self) -> str:
        if self._admin_token is None:
            password = self.stack.config.supervisors["admin"].password
            self._admin_token = await self.login({"supervisor": "admin", "password": password})
        return self._admin_token

    async def request(
        self,
        method: str,
        path: str,
        token: str | None,
        body: dict[str, Any] | None = None,
        origin: str | None = "same",
    ) -> tuple[int, Any]:
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if origin is not None:
            headers["Origin"] = self.base if origin == "same" else origin
        async with self.session.request(method, self.base + path, json=body, headers=headers) as r:
            try:
                payload = await r.json()
            except (aiohttp.ContentTypeError, json.JSONDecodeError):
                payload = await r.text()
            return r.status, payload

    async def connect(self, token: str, origin: str | None = "same", **params: str | int) -> Client:
        query = "&".join(f"{k}={v}" for k, v in {"token": token, **params}.items())
        headers = {} if origin is None else {"Origin": self.base if origin == "same" else origin}
        ws = await self.session.ws_connect(f"{self.base}/ws?{query}", headers=headers)
        client = Client(ws)

        async def read() -> None:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    # wall clock: comparable with the server's `ts` (same machine)
                    client.messages.append((time.time(), json.loads(msg.data)))

        client.reader = asyncio.create_task(read())
        self.clients.append(client)
        return client

    async def supervise(self, agent: str, state: str, reason: str | None = None) -> int:
        body = {"state": state} | ({"reason": reason} if reason else {})
        status, _ = await self.request(
            "POST", f"/api/agents/{agent}/state", await self.admin_token(), body
        )
        return status

    async def wait_idle(self, limit: float = 15) -> None:
        """Until Asterisk has no channel left (every leg of the test's calls hung up)."""

        async def idle() -> bool:
            return await asyncio.to_thread(active_channels, self.stack) == 0

        await wait_for("Asterisk to have no channel left", idle, limit)

    async def close(self) -> None:
        for client in self.clients:
            await client.ws.close()
            if client.reader is not None:
                await asyncio.wait_for(client.reader, timeout=5)


@pytest.fixture
async def floor(stack: Stack) -> AsyncIterator[Floor]:
    """The live CTI; afterwards no call is left on Asterisk and agents 1003/1004 are logged
    out (other tests share the stack)."""
    session = aiohttp.ClientSession()
    f = Floor(stack, session)
    try:
        yield f

        async def idle() -> bool:
            return await asyncio.to_thread(active_channels, stack) == 0

        try:
            await f.wait_idle(10)
        except AssertionError as exc:
            left = await asyncio.to_thread(
                cli, stack.paths, stack.asterisk_pid(), "core show channels concise"
            )
            # Leave the shared stack clean for the next test, then report the leak.
            await asyncio.to_thread(
                cli, stack.paths, stack.asterisk_pid(), "channel request hangup all"
            )
            await wait_for("Asterisk to hang up what was left", idle, 10)
            raise AssertionError(f"channels left behind by the test:\n{left}") from exc
        for agent in AGENTS:
            # 409 = already logged out; anything else is a finding.
            assert await f.supervise(agent, "logout") in (200, 409)
    finally:
        await f.close()
        await session.close()


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[Callable[..., SippAgent]]:
    """`phones("1003", talk_ms=None)`: a registered SIPp phone, stopped after the test."""
    started: list[SippAgent] = []

    def start(ext: str, **kw: Any) -> SippAgent:
        kw.setdefault("talk_ms", None)
        kw.setdefault("ring_ms", 200)
        agent = SippAgent(ext, f"pw{ext}", port=free_udp_port(), workdir=tmp_path, **kw)
        agent.start()
        started.append(agent)
        assert agent.register(expires=120) == 0, f"{ext} could not register"
        return agent

    yield start
    for agent in started:
        agent.stop()
