"""Calls over REST: an agent's recent calls, and the controls on the agent's own call
(`/api/calls/{call_id}/hangup`, hold, transfer, disposition, ...)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from cti.access import require_self_or_supervisor, session_of
from cti.bodies import json_body, result_response
from cti.command_manager import run_agent_command
from cti.context import context_of
from cti.errors import ApiError
from cti.ports import Role

Handler = Callable[[web.Request], Awaitable[web.Response]]


async def agent_calls(request: web.Request) -> web.Response:
    """`GET /api/agents/{agent_id}/calls?limit=N`: the agent's history, newest first."""
    ctx = context_of(request)
    agent_id = request.match_info["agent_id"]
    require_self_or_supervisor(session_of(request), agent_id)
    try:
        limit = int(request.query.get("limit", ctx.recent_calls_limit))
    except ValueError as exc:
        raise ApiError(400, "bad_request", "limit must be an integer", "limit") from exc
    limit = max(1, min(limit, 200))
    calls = await ctx.crm.recent_calls(agent_id, limit)
    return web.json_response({"agent_id": agent_id, "calls": [dict(c) for c in calls]})


def call_action(cmd: str) -> Handler:
    """The handler of `POST /api/calls/{call_id}/<action>`: the desktop command `cmd`."""

    async def handle(request: web.Request) -> web.Response:
        session = session_of(request)
        if session.principal.role is not Role.AGENT:
            raise ApiError(403, "forbidden", "call controls are for the agent on the call")
        body = await json_body(request)
        args = {**body, "call_id": request.match_info["call_id"]}
        ctx = context_of(request)
        result = await run_agent_command(ctx, session.principal.user_id, cmd, args)
        return result_response(result)

    return handle


call_disposition = call_action("disposition")
