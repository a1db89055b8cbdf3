"""The websocket stream on the live CTI: replay after a reconnect, a fresh snapshot when the
gap is too old, and a client that stops reading cut off without holding up the others."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import statistics
import time
from typing import Any

from live_floor import Client, Floor

from tests.polling import wait_for

REPLAY_LIMIT = 256  # cti.hub.Hub's default replay buffer, used by the service


def seqs(client: Client, type_: str = "agent.state") -> list[int]:
    return [m["seq"] for m in client.of_type(type_)]


async def toggle(floor: Floor, token: str, agent: str, times: int) -> list[str]:
    """Alternate ready / pause(break) over REST; returns the states asked for."""
    states = []
    for i in range(times):
        body = {"state": "ready"} if i % 2 == 0 else {"state": "pause", "reason": "break"}
        status, answer = await floor.request("POST", f"/api/agents/{agent}/state", token, body)
        assert status == 200, answer
        states.append("ready" if i % 2 == 0 else "not_ready")
    return states


async def test_reconnect_with_since_replays_what_was_missed(floor: Floor) -> None:
    token = await floor.login({"agent": "1004", "password": "pw1004"})
    first = await floor.connect(token)
    snapshot = await first.wait("snapshot", lambda m: m["type"] == "snapshot")
    epoch = snapshot["epoch"]
    await toggle(floor, token, "1004", 1)  # ready
    seen = await first.wait("ready", lambda m: m.get("payload", {}).get("state") == "ready")
    assert seen["seq"] == snapshot["seq"] + 1
    await first.ws.close()

    # While disconnected: pause(break), ready, pause(break).
    for body in (
        {"state": "pause", "reason": "break"},
        {"state": "ready"},
        {"state": "pause", "reason": "lunch"},
    ):
        status, answer = await floor.request("POST", "/api/agents/1004/state", token, body)
        assert status == 200, answer

    again = await floor.connect(token, since=seen["seq"], epoch=epoch)
    await again.wait("three replayed messages", lambda _m: len(again.of_type("agent.state")) >= 3)
    first_message = again.messages[0][1]
    assert first_message["type"] == "resumed", first_message
    assert first_message["since"] == seen["seq"] and first_message["head"] == seen["seq"] + 3
    assert not again.of_type("snapshot")
    replayed = again.of_type("agent.state")
    assert [m["seq"] for m in replayed] == [seen["seq"] + 1, seen["seq"] + 2, seen["seq"] + 3]
    assert [(m["payload"]["state"], m["payload"]["reason"]) for m in replayed] == [
        ("not_ready", "break"),
        ("ready", None),
        ("not_ready", "lunch"),
    ]
    # Live messages continue the same numbering.
    await toggle(floor, token, "1004", 1)
    live = await again.wait("a live message", lambda m: m.get("seq") == seen["seq"] + 4)
    assert live["payload"]["state"] == "ready"

    # A resume from another epoch (a restart) or from the future gets a fresh snapshot.
    for params in (
        {"since": seen["seq"], "epoch": "0" * 16},
        {"since": seen["seq"] + 100, "epoch": epoch},
    ):
        fresh = await floor.connect(token, **params)
        snap = await fresh.wait("snapshot", lambda m: m["type"] == "snapshot")
        assert snap["seq"] == seen["seq"] + 4 and snap["payload"]["agent"]["state"] == "ready"
        assert fresh.messages[0][1]["type"] == "snapshot"
        await fresh.ws.close()
    assert (await floor.supervise("1004", "logout")) == 200


async def test_a_gap_older_than_the_replay_buffer_gets_a_fresh_snapshot(floor: Floor) -> None:
    token = await floor.login({"agent": "1004", "password": "pw1004"})
    first = await floor.connect(token)
    snapshot = await first.wait("snapshot", lambda m: m["type"] == "snapshot")
    await first.ws.close()

    states = await toggle(floor, token, "1004", REPLAY_LIMIT + 10)
    again = await floor.connect(token, since=snapshot["seq"], epoch=snapshot["epoch"])
    snap = await again.wait("snapshot", lambda m: m["type"] == "snapshot")
    assert again.messages[0][1]["type"] == "snapshot", "a too-old gap must not be resumed"
    assert snap["seq"] == snapshot["seq"] + REPLAY_LIMIT + 10
    assert snap["epoch"] == snapshot["epoch"]
    assert snap["payload"]["agent"]["state"] == states[-1]
    assert (await floor.supervise("1004", "logout")) == 200


def open_unread_websocket(host: str, port: int, token: str) -> socket.socket:
    """A websocket client that completes the handshake and then never reads again, with a
    small receive buffer so that the server's writes back up quickly."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:  # byte by byte: not one frame is read
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def read_until_closed(sock: socket.socket, limit: float = 15) -> bool:
    """Drain the socket; True when the server closed (EOF or reset) before `limit`."""
    deadline = time.monotonic() + limit
    sock.settimeout(1)
    while time.monotonic() < deadline:
        try:
            if not sock.recv(65536):
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            continue
    return False


async def health(floor: Floor) -> dict[str, Any]:
    status, body = await floor.request("GET", "/api/health", None)
    assert status == 200
    result: dict[str, Any] = body
    return result


async def test_a_client_that_stops_reading_is_cut_off_and_others_keep_receiving(
    floor: Floor,
) -> None:
    admin = await floor.admin_token()
    fast = await floor.connect(admin)
    snapshot = await fast.wait("snapshot", lambda m: m["type"] == "snapshot")
    cti = floor.stack.config.service.cti
    slow = await asyncio.to_thread(open_unread_websocket, cti.host, cti.port, admin)
    try:
        cut_before = (await health(floor))["slow_consumers_cut"]
        token = await floor.login({"agent": "1004", "password": "pw1004"})
        agent = await floor.connect(token)
        await agent.wait("snapshot", lambda m: m["type"] == "snapshot")

        async def burst(n: int) -> None:
            # Pipelined: n commands, then wait for the last answer.
            for i in range(n - 1):
                cmd = {"cmd": "ready"} if i % 2 == 0 else {"cmd": "pause", "reason": "break"}
                await agent.ws.send_json(cmd)
            answer = await agent.command(
                "ready" if n % 2 else "pause", **({} if n % 2 else {"reason": "break"})
            )
            assert answer["type"] == "result", answer

        # The kernel buffers up to tcp_wmem's maximum (4 MB here, ~17 000 of these messages)
        # for the unread socket before the server's own send queue (256) can fill.
        sent = 0
        while (await health(floor))["slow_consumers_cut"] == cut_before:
            assert sent < 60_000, "the unread websocket was never cut off"
            await burst(200)
            sent += 200
        # After the cut: the fast supervisor still gets everything published.
        await burst(20)
        sent += 20
        closed = await asyncio.to_thread(read_until_closed, slow)
        assert closed, "the server did not close the unread websocket"

        async def all_received() -> bool:
            return len(fast.of_type("agent.state")) >= sent

        await wait_for(f"{sent} agent.state messages on the reading wallboard", all_received)
        received = seqs(fast)
        assert received == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + sent)), (
            "the reading client lost or reordered messages"
        )
        assert not fast.ws.closed
        pong = await fast.command("ping")
        assert pong["type"] == "pong"
        lag = [1000 * (t - m["ts"]) for t, m in fast.messages if m.get("type") == "agent.state"]
        print(
            f"\nunread websocket cut after <= {sent - 20} messages; the reading wallboard got "
            f"all {sent}: delivery lag p50 {statistics.median(lag):.1f} ms, "
            f"p99 {statistics.quantiles(lag, n=100)[98]:.1f} ms, max {max(lag):.1f} ms"
        )
    finally:
        slow.close()
    assert (await floor.supervise("1004", "logout")) == 200
