"""Websocket: snapshot then numbered deltas, replay on reconnect, slow consumers, isolation."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket

import aiohttp
import pytest
from cti_harness import Cti, MakeCti, receive, receive_type
from cti_memory_ports import FakeClock, MemoryFloor, memory_app

from cti.hub import CLOSE_SLOW_CONSUMER, Hub
from cti.server import start_cti
from tests.polling import wait_until


async def test_snapshot_first_then_deltas_numbered_by_one(cti: Cti) -> None:
    cti.floor.set_state("1001", "not_ready", "break")  # seq 1 on 1001's stream
    token = await cti.login("1001")
    ws = await cti.ws(token)
    snap = await receive(ws)
    assert snap["type"] == "snapshot"
    assert snap["seq"] == 1
    assert snap["epoch"] == cti.hub.epoch
    assert snap["payload"]["agent"]["state"] == "not_ready"
    assert snap["payload"]["agent"]["reason"] == "break"
    cti.floor.offer_call("1001", "c1")
    offered = await receive(ws)
    assert offered["type"] == "call.offered" and offered["seq"] == 2
    p = offered["payload"]
    assert p["call_id"] == "c1" and p["queue"] == "sales"
    assert p["caller"] == {"number": "0312345678", "name": "田中 一郎"}
    assert p["ivr"]["entered"]["card"] == "************1234"
    assert p["customer"]["tier"] == "gold" and len(p["last_contacts"]) == 1
    state = await receive(ws)
    assert (state["type"], state["seq"], state["payload"]["state"]) == (
        "agent.state",
        3,
        "reserved",
    )
    cti.floor.connect_call("c1")
    assert (await receive(ws))["type"] == "call.connected"
    assert (await receive(ws))["payload"]["state"] == "on_call"
    cti.floor.end_call("c1")
    ended = await receive(ws)
    assert (ended["type"], ended["seq"], ended["payload"]["outcome"]) == (
        "call.ended",
        6,
        "answered",
    )
    await ws.close()


async def test_snapshot_includes_current_call_after_reconnect_without_since(cti: Cti) -> None:
    cti.floor.offer_call("1001", "c9")
    ws = await cti.ws(await cti.login("1001"))
    snap = await receive(ws)
    assert snap["payload"]["call"]["call_id"] == "c9"
    assert snap["payload"]["call"]["state"] == "offered"
    await ws.close()


async def test_every_desktop_of_an_agent_receives_and_heartbeats_carry_position(cti: Cti) -> None:
    token = await cti.login("1001")
    a, b = await cti.ws(token), await cti.ws(token)
    await receive(a)
    await receive(b)
    cti.hub.publish_to_agent("1001", "notice", {"text": "hello"})
    assert (await receive(a))["payload"] == {"text": "hello"}
    assert (await receive(b))["payload"] == {"text": "hello"}
    cti.hub.beat()
    hb = await receive(a, skip=())
    assert hb["type"] == "heartbeat" and hb["last_seq"] == 1 and "seq" not in hb
    await a.close()
    await b.close()


async def test_reconnect_with_since_replays_what_was_missed(cti: Cti) -> None:
    token = await cti.login("1001")
    ws = await cti.ws(token)
    snap = await receive(ws)
    cti.hub.publish_to_agent("1001", "notice", {"n": 0})
    last = (await receive(ws))["seq"]
    await ws.close()
    for n in range(1, 4):
        cti.hub.publish_to_agent("1001", "notice", {"n": n})
    ws = await cti.ws(token, f"&since={last}&epoch={snap['epoch']}")
    resumed = await receive(ws)
    assert resumed["type"] == "resumed" and resumed["since"] == last
    got = [await receive(ws) for _ in range(3)]
    assert [m["seq"] for m in got] == [last + 1, last + 2, last + 3]
    assert [m["payload"]["n"] for m in got] == [1, 2, 3]
    cti.hub.publish_to_agent("1001", "notice", {"n": 4})
    assert (await receive(ws))["seq"] == last + 4
    await ws.close()


async def test_reconnect_when_nothing_missed_resumes_empty(cti: Cti) -> None:
    token = await cti.login("1001")
    ws = await cti.ws(token)
    snap = await receive(ws)
    await ws.close()
    ws = await cti.ws(token, f"&since={snap['seq']}&epoch={snap['epoch']}")
    assert (await receive(ws))["type"] == "resumed"
    cti.hub.publish_to_agent("1001", "notice", {})
    assert (await receive(ws))["seq"] == snap["seq"] + 1
    await ws.close()


async def test_gap_older_than_buffer_gets_fresh_snapshot(make_cti: MakeCti) -> None:
    cti = await make_cti(replay_limit=4)
    token = await cti.login("1001")
    ws = await cti.ws(token)
    snap = await receive(ws)
    await ws.close()
    for n in range(10):
        cti.hub.publish_to_agent("1001", "notice", {"n": n})
    ws = await cti.ws(token, f"&since={snap['seq']}&epoch={snap['epoch']}")
    fresh = await receive(ws)
    assert fresh["type"] == "snapshot" and fresh["seq"] == snap["seq"] + 10
    await ws.close()


async def test_gap_older_than_max_age_gets_fresh_snapshot(make_cti: MakeCti) -> None:
    cti = await make_cti(replay_max_age=60)
    token = await cti.login("1001")
    ws = await cti.ws(token)
    snap = await receive(ws)
    await ws.close()
    cti.hub.publish_to_agent("1001", "notice", {})
    cti.clock.advance(61)
    ws = await cti.ws(token, f"&since={snap['seq']}&epoch={snap['epoch']}")
    assert (await receive(ws))["type"] == "snapshot"
    await ws.close()


@pytest.mark.parametrize(
    "query", ["&since=0&epoch=otherrun", "&since=99&epoch={epoch}", "&since=-5&epoch={epoch}"]
)
async def test_foreign_epoch_or_impossible_seq_gets_snapshot(cti: Cti, query: str) -> None:
    token = await cti.login("1001")
    cti.hub.publish_to_agent("1001", "notice", {})
    ws = await cti.ws(token, query.format(epoch=cti.hub.epoch))
    assert (await receive(ws))["type"] == "snapshot"
    await ws.close()


async def test_non_integer_since_is_a_400(cti: Cti) -> None:
    token = await cti.login("1001")
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await cti.ws(token, "&since=abc")
    assert exc.value.status == 400


async def _raw_ws_that_never_reads(port: int, token: str) -> socket.socket:
    """A websocket client that completes the handshake and then stops reading, with a tiny
    receive buffer so the server's socket fills up quickly."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    head = b""
    async with asyncio.timeout(5):
        while b"\r\n\r\n" not in head:
            head += await loop.sock_recv(sock, 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def test_slow_consumer_is_cut_off_while_others_keep_receiving(make_cti: MakeCti) -> None:
    cti = await make_cti(send_queue_limit=8)
    slow_token = await cti.login("1002")
    slow = await _raw_ws_that_never_reads(cti.client.server.port or 0, slow_token)
    fast = await cti.ws(await cti.login("1001"))
    await receive(fast)
    await wait_until(
        "two connections", lambda: cti.hub.connection_count, 10, until=lambda n: n == 2
    )
    big = "x" * 65536
    received_seqs: list[int] = []
    try:
        for n in range(2000):
            cti.hub.publish_to_agent("1002", "notice", {"n": n, "pad": big})
            cti.hub.publish_to_agent("1001", "notice", {"n": n})
            received_seqs.append((await receive(fast))["seq"])
            if cti.hub.slow_consumers_cut:
                break
        assert cti.hub.slow_consumers_cut == 1, "the slow client was never cut"
        # The fast desktop got every message, in order, and keeps receiving after the cut.
        assert received_seqs == list(range(1, len(received_seqs) + 1))
        cti.hub.publish_to_agent("1001", "notice", {"after": True})
        assert (await receive(fast))["payload"] == {"after": True}
        await wait_until(
            "one connection", lambda: cti.hub.connection_count, 10, until=lambda n: n == 1
        )
    finally:
        slow.close()
        await fast.close()


async def test_slow_consumer_close_code_seen_by_a_client_that_reads_late(make_cti: MakeCti) -> None:
    cti = await make_cti(send_queue_limit=4)
    ws = await cti.ws(await cti.login("1001"))
    await receive(ws)
    # Publish faster than the writer can drain, without yielding to the loop: the queue
    # overflows synchronously.
    for n in range(50):
        cti.hub.publish_to_agent("1001", "notice", {"n": n})
    assert cti.hub.slow_consumers_cut == 1
    async with asyncio.timeout(10):
        msg = await ws.receive()
        while msg.type is aiohttp.WSMsgType.TEXT:  # whatever was already on the wire
            msg = await ws.receive()
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert msg.data == CLOSE_SLOW_CONSUMER
    await ws.close()


async def test_agent_never_receives_another_agents_call(cti: Cti) -> None:
    ws2 = await cti.ws(await cti.login("1002"))
    await receive(ws2)
    cti.floor.offer_call("1001", "c-other", name="秘密 顧客")
    cti.hub.publish_to_agent("1002", "notice", {"marker": True})
    # The first thing 1002 sees after its snapshot is its own marker, nothing of 1001's call.
    msg = await receive(ws2)
    assert msg == {**msg, "type": "notice", "payload": {"marker": True}}
    await ws2.close()


def test_call_events_cannot_be_broadcast(cti: Cti) -> None:
    for type_ in ("call.offered", "call.connected", "call.ended", "call.held"):
        with pytest.raises(ValueError):
            cti.hub.publish_all(type_, {"call_id": "x"})


async def test_publish_all_reaches_agents_and_supervisors(cti: Cti) -> None:
    agent = await cti.ws(await cti.login("1001"))
    sup = await cti.ws(await cti.login("admin", role="supervisor"))
    await receive(agent)
    await receive(sup)
    cti.hub.publish_all("queue.stats", {"queue": "sales", "waiting": 3})
    assert (await receive(agent))["payload"]["waiting"] == 3
    assert (await receive(sup))["payload"]["waiting"] == 3
    await agent.close()
    await sup.close()


async def test_publish_rejects_non_json_payload(cti: Cti) -> None:
    with pytest.raises(TypeError):
        cti.hub.publish_to_agent("1001", "notice", {"bad": object()})


async def test_ws_commands_reply_with_result_and_act(cti: Cti) -> None:
    ws = await cti.ws(await cti.login("1001"))
    await receive(ws)
    await ws.send_str(json.dumps({"cmd": "pause", "reason": "lunch", "id": 7}))
    state = await receive_type(ws, "agent.state")
    assert state["payload"]["state"] == "not_ready" and state["payload"]["reason"] == "lunch"
    result = await receive_type(ws, "result")
    assert result == {"type": "result", "id": 7, "cmd": "pause", "ok": True, "data": {}}
    await ws.send_str(json.dumps({"cmd": "ping", "id": "p"}))
    pong = await receive_type(ws, "pong")
    assert pong["id"] == "p"
    await ws.send_str(json.dumps({"cmd": "hold", "call_id": "nope", "id": 8}))
    err = await receive_type(ws, "error")
    assert err["error"] == "unknown_call" and err["id"] == 8
    await ws.send_str("{not json")
    assert (await receive_type(ws, "error"))["error"] == "bad_request"
    await ws.send_str(json.dumps({"cmd": "dial", "number": "123;Hangup()"}))
    bad = await receive_type(ws, "error")
    assert bad["error"] == "bad_command" and bad["field"] == "number"
    await ws.send_str(json.dumps({"cmd": "ready", "id": 9}))
    await receive_type(ws, "agent.state")
    assert (await receive_type(ws, "result"))["ok"] is True
    await ws.send_str(json.dumps({"cmd": "wrapup_done", "id": 10}))
    refused = await receive_type(ws, "result")
    assert refused["ok"] is False and "illegal" in refused["reason"]
    await ws.close()


async def test_agent_cannot_act_on_another_agents_call_over_ws(cti: Cti) -> None:
    cti.floor.offer_call("1001", "c1")
    cti.floor.connect_call("c1")
    ws = await cti.ws(await cti.login("1002"))
    await receive(ws)
    for cmd in ("hangup", "hold", "unhold"):
        await ws.send_str(json.dumps({"cmd": cmd, "call_id": "c1"}))
        assert (await receive_type(ws, "error"))["error"] == "unknown_call"
    await ws.send_str(json.dumps({"cmd": "set_agent_state", "agent_id": "1001", "state": "logout"}))
    assert (await receive_type(ws, "error"))["error"] == "forbidden"
    assert cti.floor.received == []
    assert cti.floor.calls["c1"].state == "connected"
    await ws.close()


async def test_supervisor_wallboard_snapshot_and_set_state_over_ws(cti: Cti) -> None:
    ws = await cti.ws(await cti.login("admin", role="supervisor"))
    snap = await receive(ws)
    assert {q["queue"] for q in snap["payload"]["queues"]} == {"sales", "support"}
    assert {a["agent_id"] for a in snap["payload"]["agents"]} == {"1001", "1002", "1003"}
    cti.floor.queue_update("sales", waiting=4, longest_wait_since=cti.clock() - 30)
    stats = await receive(ws)
    assert stats["type"] == "queue.stats" and stats["payload"]["waiting"] == 4
    await ws.send_str(
        json.dumps(
            {
                "cmd": "set_agent_state",
                "agent_id": "1002",
                "state": "pause",
                "reason": "meeting",
                "id": 1,
            }
        )
    )
    state = await receive_type(ws, "agent.state")
    assert state["payload"] == {
        **state["payload"],
        "agent_id": "1002",
        "state": "not_ready",
        "reason": "meeting",
    }
    assert (await receive_type(ws, "result"))["ok"] is True
    await ws.send_str(json.dumps({"cmd": "hangup", "call_id": "c1"}))
    assert (await receive_type(ws, "error"))["error"] == "forbidden"
    await ws.close()


async def test_snapshot_failure_closes_with_internal_error(cti: Cti) -> None:
    async def broken(agent_id: str) -> dict[str, object]:
        raise RuntimeError("state source down")

    cti.floor.agent_snapshot = broken  # type: ignore[method-assign]
    ws = await cti.ws(await cti.login("1001"))
    msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1011
    await wait_until("no connection", lambda: cti.hub.connection_count, 10, until=lambda n: n == 0)


async def test_shutdown_closes_desktops_with_1001() -> None:
    clock = FakeClock()
    hub = Hub(clock=clock)
    floor = MemoryFloor(hub, clock)
    app = memory_app(floor, clock=clock)
    runner = await start_cti(app, "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"http://{host}:{port}/api/login", json={"agent": "1001", "password": "pw1001"}
        ) as resp:
            token = (await resp.json())["token"]
        ws = await session.ws_connect(f"http://{host}:{port}/ws?token={token}")
        assert (await receive(ws))["type"] == "snapshot"
        async with asyncio.timeout(20):  # a hang here means shutdown waits for the socket
            await runner.cleanup()
        msg = await ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1001
        await ws.close()
