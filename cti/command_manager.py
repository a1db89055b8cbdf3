"""The desktop's commands, REST or websocket alike: validated, checked against the call's
owner, then handed to the ACD through the `CommandHandler` port."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from cti.commands import CommandError, Disposition, call_id_of, parse_command
from cti.context import AppContext
from cti.errors import ApiError
from cti.ports import CommandResult, Principal

log = logging.getLogger(__name__)

SUPERVISOR_STATES: Final = {
    "ready": "ready",
    "pause": "not_ready",
    "not_ready": "not_ready",
    "logout": "logged_out",
    "logged_out": "logged_out",
}


async def run_agent_command(
    ctx: AppContext, agent_id: str, cmd: str, args: Mapping[str, Any]
) -> CommandResult:
    """Validate and run one command of `agent_id` (the authenticated agent), REST or websocket.
    Raises ApiError for malformed commands and calls that are not the agent's."""
    try:
        command = parse_command(
            cmd, args, pause_reasons=ctx.pause_reasons, disposition_codes=ctx.disposition_codes
        )
    except CommandError as exc:
        raise ApiError(400, "bad_command", exc.reason, exc.field) from exc
    call_id = call_id_of(command)
    if call_id is not None and await ctx.state.call_owner(call_id) != agent_id:
        # Same answer for other agents' calls and unknown ones: nothing to learn here.
        raise ApiError(404, "unknown_call", "no such call for this agent")
    if isinstance(command, Disposition):
        await ctx.crm.save_disposition(agent_id, command.call_id, command.code, command.notes)
        log.info("disposition %s saved by agent %s", command.code, agent_id)
    result = await ctx.commands.agent_command(agent_id, command)
    if isinstance(command, Disposition):
        # The disposition is stored whatever the ACD thinks of it.
        return CommandResult(True, result.reason, {"saved": True, **dict(result.data)})
    return result


async def run_supervisor_state(
    ctx: AppContext, supervisor: Principal, agent_id: str, args: Mapping[str, Any]
) -> CommandResult:
    """A supervisor sets an agent's state: ready, pause (with a known reason) or logout."""
    state = args.get("state")
    if not isinstance(state, str) or state not in SUPERVISOR_STATES:
        raise ApiError(400, "bad_command", "state must be ready, pause or logout", "state")
    reason = args.get("reason")
    target = SUPERVISOR_STATES[state]
    if target == "not_ready":
        if not isinstance(reason, str) or not reason:
            raise ApiError(400, "bad_command", "a reason is required", "reason")
        if ctx.pause_reasons and reason not in ctx.pause_reasons:
            raise ApiError(400, "bad_command", "unknown not-ready reason", "reason")
    else:
        reason = None
    if not isinstance(agent_id, str) or not agent_id or len(agent_id) > 64:
        raise ApiError(400, "bad_command", "agent id required", "agent_id")
    log.info("supervisor %s sets agent %s to %s", supervisor.user_id, agent_id, target)
    return await ctx.commands.set_agent_state(supervisor.user_id, agent_id, target, reason)
