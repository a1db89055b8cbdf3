"""A CTI app on 127.0.0.1 with in-memory ports, driven through aiohttp's test client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from cti_memory_ports import FakeClock, MemoryFloor, memory_app

from cti.hub import Hub
from cti.server import runner_options

TTL = 3600.0


@dataclass
class Cti:
    client: TestClient[Any, Any]
    hub: Hub
    floor: MemoryFloor
    clock: FakeClock

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.client.server.port}"

    async def login(self, user: str, password: str | None = None, *, role: str = "agent") -> str:
        pw = (
            password
            if password is not None
            else ("superpw" if role == "supervisor" else f"pw{user}")
        )
        resp = await self.client.post("/api/login", json={role: user, "password": pw})
        assert resp.status == 200, await resp.text()
        token: str = (await resp.json())["token"]
        return token

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Origin": self.origin}

    async def ws(self, token: str, query: str = "") -> aiohttp.ClientWebSocketResponse:
        return await self.client.ws_connect(
            f"/ws?token={token}{query}", headers={"Origin": self.origin}
        )


MakeCti = Callable[..., Coroutine[Any, Any, Cti]]


@pytest.fixture
async def make_cti() -> AsyncIterator[MakeCti]:
    clients: list[TestClient[Any, Any]] = []

    async def make(**hub_args: Any) -> Cti:
        clock = FakeClock()
        hub = Hub(clock=clock, **hub_args)
        floor = MemoryFloor(hub, clock)
        app = memory_app(floor, clock=clock, token_ttl=TTL)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server(**runner_options())  # the production access log
        client = TestClient(server)
        await client.start_server()
        clients.append(client)
        return Cti(client, hub, floor, clock)

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def cti(make_cti: MakeCti) -> Cti:
    return await make_cti()


async def receive(
    ws: aiohttp.ClientWebSocketResponse,
    *,
    skip: tuple[str, ...] = ("heartbeat",),
    deadline: float = 5.0,
) -> dict[str, Any]:
    """The next JSON message, skipping heartbeats; fails after `deadline` seconds."""
    while True:
        msg = await ws.receive(timeout=deadline)
        assert msg.type is aiohttp.WSMsgType.TEXT, f"unexpected {msg.type}: {msg.data!r}"
        data: dict[str, Any] = json.loads(msg.data)
        if data["type"] not in skip:
            return data


async def receive_type(
    ws: aiohttp.ClientWebSocketResponse, type_: str, deadline: float = 5.0
) -> dict[str, Any]:
    while True:
        data = await receive(ws, deadline=deadline)
        if data["type"] == type_:
            return data
