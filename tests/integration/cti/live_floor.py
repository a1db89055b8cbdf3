"""The live CTI for one test (Floor): logins, REST as a supervisor, websocket clients that
record every frame (Client), and Asterisk's channel count to check that calls are gone.

Imported by name (`from live_floor import Floor`) rather than from the conftest: several
conftest modules share that name, and which one `import conftest` finds depends on the run."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from madoguchi.stack.asterisk import cli
from madoguchi.stack.runner import Stack
from tests.integration.cti_login import cti_base, login
from tests.polling import wait_for


def active_channels(stack: Stack) -> int:
    pid = stack.asterisk_pid()
    assert pid is not None, "Asterisk is not running"
    out = cli(stack.paths, pid, "core show channels count")
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
