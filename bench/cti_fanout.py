"""CTI fan-out benchmark: publish-to-receive latency of `call.offered` with N desktops.

The CTI app runs in a child process (as in production, alone on its event loop) with
in-bench ports; this process opens N websocket desktops on 127.0.0.1, one agent each, and
asks the server (through a bench-only route) to publish screen pops. Each pop carries the
wall-clock time it was published; the desktop subtracts it from its receive time (both
processes read the same system clock).

Scenarios:
  single  one call offered at a time to a random agent (the normal ring-to-pop path)
  burst   one call offered to every desktop at once (a worst case: N publishes in one tick)

Usage: .venv/bin/python bench/cti_fanout.py [--desktops 500] [--singles 300] [--bursts 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cti.app import build_app  # noqa: E402
from cti.auth import Credential, StaticAuthenticator  # noqa: E402
from cti.commands import AgentCommand  # noqa: E402
from cti.hub import Hub  # noqa: E402
from cti.ports import CommandResult, JsonObject, Role  # noqa: E402
from cti.server import start_cti  # noqa: E402


def agent_ids(n: int) -> list[str]:
    return [str(10000 + i) for i in range(n)]


class BenchFloor:
    """Minimal ports: every agent ready, no calls yet, commands accepted."""

    async def agent_command(self, agent_id: str, command: AgentCommand) -> CommandResult:
        return CommandResult(True)

    async def set_agent_state(
        self, supervisor_id: str, agent_id: str, state: str, reason: str | None
    ) -> CommandResult:
        return CommandResult(True)

    async def agent_snapshot(self, agent_id: str) -> JsonObject:
        return {
            "agent": {"agent_id": agent_id, "state": "ready", "since": time.time()},
            "call": None,
            "recent_calls": [],
        }

    async def wallboard_snapshot(self) -> JsonObject:
        return {"queues": [], "agents": []}

    async def call_owner(self, call_id: str) -> str | None:
        return None

    async def save_disposition(self, agent_id: str, call_id: str, code: str, notes: str) -> None:
        return None

    async def recent_calls(self, agent_id: str, limit: int) -> Sequence[Mapping[str, Any]]:
        return []


def screen_pop(agent_id: str, n: int) -> dict[str, Any]:
    """A realistic call.offered payload (about 1 KB)."""
    return {
        "call_id": f"bench-{agent_id}-{n}",
        "queue": "support",
        "caller": {"number": "0312345678", "name": "田中 一郎"},
        "wait_seconds": 12.5,
        "offered_at": time.time(),
        "priority": 5,
        "language": "ja",
        "ivr": {
            "flow": "main",
            "path": ["welcome", "menu:2", "account"],
            "entered": {"account": "12345678", "card": "************1234"},
        },
        "customer": {"id": "C-1", "name": "田中 一郎", "tier": "gold", "account": "12345678"},
        "last_contacts": [
            {
                "at": time.time() - 86400 * d,
                "queue": "support",
                "agent_id": "1003",
                "outcome": "answered",
                "disposition": "resolved",
                "notes": "住所変更の問い合わせ",
            }
            for d in range(1, 4)
        ],
        "ring_timeout": 15,
        "sent_ns": time.time_ns(),
    }


async def serve(port: int, desktops: int) -> None:
    hub = Hub(clock=time.time, send_queue_limit=512)
    floor = BenchFloor()
    creds = [Credential(Role.AGENT, a, f"pw{a}") for a in agent_ids(desktops)]
    app = build_app(
        authenticator=StaticAuthenticator(creds),
        commands=floor,
        state=floor,
        crm=floor,
        hub=hub,
        clock=time.time,
    )
    counter = iter(range(10**9))

    async def offer(request: web.Request) -> web.Response:
        body = await request.json()
        targets = body["agents"]
        for agent_id in targets:  # each publish is stamped when it is made
            hub.publish_to_agent(agent_id, "call.offered", screen_pop(agent_id, next(counter)))
        return web.json_response(
            {
                "published": len(targets),
                "slow_consumers_cut": hub.slow_consumers_cut,
                "connections": hub.connection_count,
            }
        )

    app.router.add_post("/bench/offer", offer)
    runner = await start_cti(app, "127.0.0.1", port)
    print(f"listening {runner.addresses[0][1]}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


class Desktop:
    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        self.latencies_ms: list[float] = []
        self.received = asyncio.Event()
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def run(self, session: aiohttp.ClientSession, base: str) -> None:
        async with session.post(
            f"{base}/api/login", json={"agent": self.agent_id, "password": f"pw{self.agent_id}"}
        ) as resp:
            token = (await resp.json())["token"]
        self.ws = await session.ws_connect(f"{base}/ws?token={token}", max_msg_size=0)

    async def listen(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            now = time.time_ns()
            data = json.loads(msg.data)
            if data["type"] == "call.offered":
                self.latencies_ms.append((now - data["payload"]["sent_ns"]) / 1e6)
                self.received.set()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def wait_port(base: str, session: aiohttp.ClientSession) -> None:
    async with asyncio.timeout(30):
        while True:
            try:
                async with session.get(f"{base}/api/health") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


async def drive(args: argparse.Namespace) -> int:
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        "--port",
        str(args.port),
        "--desktops",
        str(args.desktops),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert server.stdout is not None
    async with asyncio.timeout(30):
        line = (await server.stdout.readline()).decode()  # "listening <port>"
    if not line.startswith("listening "):
        server.terminate()
        raise SystemExit("CTI server did not start")
    base = f"http://127.0.0.1:{int(line.split()[1])}"
    connector = aiohttp.TCPConnector(limit=0)
    try:
        async with aiohttp.ClientSession(connector=connector) as session:
            await wait_port(base, session)
            ids = agent_ids(args.desktops)
            desktops = {a: Desktop(a) for a in ids}
            t0 = time.perf_counter()
            for chunk in range(0, len(ids), 50):
                await asyncio.gather(
                    *(desktops[a].run(session, base) for a in ids[chunk : chunk + 50])
                )
            connect_s = time.perf_counter() - t0
            listeners = [asyncio.create_task(d.listen()) for d in desktops.values()]
            await asyncio.sleep(0.5)  # let snapshots arrive before measuring

            rng = random.Random(7)
            for _ in range(args.singles):
                d = desktops[rng.choice(ids)]
                d.received.clear()
                async with session.post(f"{base}/bench/offer", json={"agents": [d.agent_id]}):
                    pass
                async with asyncio.timeout(10):
                    await d.received.wait()
            single = [x for d in desktops.values() for x in d.latencies_ms]
            for d in desktops.values():
                d.latencies_ms.clear()

            stats: dict[str, Any] = {}
            for _ in range(args.bursts):
                for d in desktops.values():
                    d.received.clear()
                async with session.post(f"{base}/bench/offer", json={"agents": ids}) as resp:
                    stats = await resp.json()
                async with asyncio.timeout(30):
                    for d in desktops.values():
                        await d.received.wait()
            burst = [x for d in desktops.values() for x in d.latencies_ms]
            for task in listeners:
                task.cancel()
            for d in desktops.values():
                if d.ws is not None:
                    await d.ws.close()
    finally:
        server.terminate()
        async with asyncio.timeout(10):
            await server.wait()

    print(
        f"\nCTI fan-out, {args.desktops} websocket desktops on 127.0.0.1 "
        f"(connect+login+snapshot all: {connect_s:.2f} s; "
        f"slow consumers cut: {stats.get('slow_consumers_cut', 0)})"
    )
    print(f"{'scenario':<26}{'pops':>8}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, values in (
        ("single (1 call at a time)", single),
        (f"burst ({args.desktops} pops at once)", burst),
    ):
        if values:
            print(
                f"{name:<26}{len(values):>8}{statistics.median(values):>10.2f}"
                f"{pct(values, 99):>10.2f}{max(values):>10.2f}"
            )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--desktops", type=int, default=500)
    parser.add_argument("--singles", type=int, default=300)
    parser.add_argument("--bursts", type=int, default=10)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.port, args.desktops))
        return 0
    return asyncio.run(drive(args))


if __name__ == "__main__":
    raise SystemExit(main())
