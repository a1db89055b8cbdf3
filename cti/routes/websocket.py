"""`GET /ws?token=T[&since=N&epoch=E]`: a desktop's or wallboard's live stream and its
commands (see docs/cti-protocol.md). The hub sends; this handler reads."""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from aiohttp import WSCloseCode, WSMsgType, web

from cti.bodies import int_param
from cti.command_manager import run_agent_command, run_supervisor_state
from cti.context import AppContext, context_of
from cti.errors import ApiError
from cti.hub import Connection, stream_key_for
from cti.messages import ERROR, PONG, RESULT
from cti.ports import CommandResult, JsonObject, Principal, Role

log = logging.getLogger(__name__)

MAX_WS_MESSAGE: Final = 64 * 1024


async def websocket(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    session = ctx.tokens.resolve(request.query.get("token", ""))
    if session is None:
        raise ApiError(401, "unauthorized", "token unknown or expired")
    since = int_param(request, "since")
    epoch = request.query.get("epoch")
    principal = session.principal
    ws = web.WebSocketResponse(
        heartbeat=ctx.hub.heartbeat_interval * 2, max_msg_size=MAX_WS_MESSAGE
    )
    await ws.prepare(request)
    conn, snapshot_seq = ctx.hub.connect(
        stream_key_for(principal.role, principal.user_id),
        ws,
        request,
        token=session.token,
        expires_at=session.expires_at,
        since=since,
        epoch=epoch,
    )
    try:
        started = snapshot_seq is None or await _send_snapshot(ctx, conn, principal, snapshot_seq)
        if not started:
            await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"snapshot unavailable")
            return ws
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                await _command(ctx, conn, principal, msg.data)
                await conn.wait_for_room()
            elif msg.type is WSMsgType.BINARY:
                ctx.hub.send_control(
                    conn,
                    {"type": ERROR, "error": "bad_request", "message": "send JSON text frames"},
                )
    finally:
        ctx.hub.disconnect(conn)
    return ws


async def _send_snapshot(
    ctx: AppContext, conn: Connection, principal: Principal, snapshot_seq: int
) -> bool:
    """Start the stream with the current state; False when it cannot be read."""
    snapshot: JsonObject
    try:
        if principal.role is Role.SUPERVISOR:
            snapshot = await ctx.state.wallboard_snapshot()
        else:
            snapshot = await ctx.state.agent_snapshot(principal.user_id)
        ctx.hub.start_with_snapshot(conn, snapshot_seq, snapshot)
    except Exception:
        # The desktop cannot start without its state; it will retry the connect.
        log.exception("snapshot for %s %s failed", principal.role, principal.user_id)
        return False
    return True


async def _command(ctx: AppContext, conn: Connection, principal: Principal, text: str) -> None:
    """One client frame: a ping or a command; the answer (result or error) goes back on it."""
    request_id: object = None
    try:
        try:
            message = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ApiError(400, "bad_request", "not JSON") from exc
        if not isinstance(message, dict) or not isinstance(message.get("cmd"), str):
            raise ApiError(400, "bad_request", "expected an object with a cmd")
        request_id = message.get("id")
        if request_id is not None and not isinstance(request_id, str | int):
            request_id = None
        # A session can expire while its websocket is open.
        if ctx.tokens.resolve(conn.token) is None:
            raise ApiError(401, "unauthorized", "token expired")
        cmd: str = message["cmd"]
        if cmd == "ping":
            ctx.hub.send_control(
                conn,
                {"type": PONG, "id": request_id, "ts": ctx.clock(), "last_seq": conn.stream.head},
            )
            return
        result = await _run(ctx, principal, cmd, message)
        reply: dict[str, Any] = {"type": RESULT, "id": request_id, "cmd": cmd, "ok": result.ok}
        if not result.ok:
            reply["reason"] = result.reason
        reply["data"] = dict(result.data)
        ctx.hub.send_control(conn, reply)
    except ApiError as exc:
        error: dict[str, Any] = {
            "type": ERROR,
            "id": request_id,
            "error": exc.error,
            "message": exc.message,
        }
        if exc.field:
            error["field"] = exc.field
        ctx.hub.send_control(conn, error)


async def _run(
    ctx: AppContext, principal: Principal, cmd: str, message: dict[str, Any]
) -> CommandResult:
    if principal.role is Role.SUPERVISOR:
        if cmd != "set_agent_state":
            raise ApiError(403, "forbidden", "supervisors may only set_agent_state")
        agent_id = message.get("agent_id")
        if not isinstance(agent_id, str):
            raise ApiError(400, "bad_command", "agent_id required", "agent_id")
        return await run_supervisor_state(ctx, principal, agent_id, message)
    if cmd == "set_agent_state":
        raise ApiError(403, "forbidden", "supervisor role required")
    return await run_agent_command(ctx, principal.user_id, cmd, message)
