"""An agent over REST: snapshot, state, dial and wrap-up under `/api/agents/{agent_id}/`."""

from __future__ import annotations

from aiohttp import web

from cti.access import require_self_agent, require_self_or_supervisor, session_of
from cti.bodies import json_body, result_response
from cti.command_manager import run_agent_command, run_supervisor_state
from cti.commands import Logout, Pause, Ready
from cti.context import context_of
from cti.errors import ApiError
from cti.ports import Role

AGENT_STATES = {
    "ready": Ready.name,
    "pause": Pause.name,
    "not_ready": Pause.name,
    "logout": Logout.name,
    "logged_out": Logout.name,
}
WRAPUP_ACTIONS = {"done": "wrapup_done", "extend": "wrapup_extend"}


async def agent_snapshot(request: web.Request) -> web.Response:
    ctx = context_of(request)
    agent_id = request.match_info["agent_id"]
    require_self_or_supervisor(session_of(request), agent_id)
    return web.json_response(dict(await ctx.state.agent_snapshot(agent_id)))


async def agent_state(request: web.Request) -> web.Response:
    ctx = context_of(request)
    session = session_of(request)
    agent_id = request.match_info["agent_id"]
    body = await json_body(request)
    if session.principal.role is Role.SUPERVISOR:
        return result_response(await run_supervisor_state(ctx, session.principal, agent_id, body))
    require_self_agent(session, agent_id)
    cmd = AGENT_STATES.get(str(body.get("state")))
    if cmd is None:
        raise ApiError(400, "bad_command", "state must be ready, pause or logout", "state")
    return result_response(await run_agent_command(ctx, agent_id, cmd, body))


async def agent_dial(request: web.Request) -> web.Response:
    session = session_of(request)
    agent_id = request.match_info["agent_id"]
    require_self_agent(session, agent_id)
    body = await json_body(request)
    return result_response(await run_agent_command(context_of(request), agent_id, "dial", body))


async def agent_wrapup(request: web.Request) -> web.Response:
    session = session_of(request)
    agent_id = request.match_info["agent_id"]
    require_self_agent(session, agent_id)
    body = await json_body(request)
    cmd = WRAPUP_ACTIONS.get(str(body.get("action")))
    if cmd is None:
        raise ApiError(400, "bad_command", "action must be done or extend", "action")
    return result_response(await run_agent_command(context_of(request), agent_id, cmd, body))
