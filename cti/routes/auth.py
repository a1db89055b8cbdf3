"""Desktop sessions over REST: `POST /api/login`, `POST /api/logout`, `GET /api/me`."""

from __future__ import annotations

import logging

from aiohttp import hdrs, web

from cti.access import session_of
from cti.bodies import json_body
from cti.context import context_of
from cti.errors import ApiError
from cti.ports import Role

log = logging.getLogger(__name__)


async def login(request: web.Request) -> web.Response:
    ctx = context_of(request)
    body = await json_body(request)
    password = body.get("password")
    if "supervisor" in body:
        role, user_id = Role.SUPERVISOR, body.get("supervisor")
    else:
        role, user_id = Role.AGENT, body.get("agent")
    if not isinstance(user_id, str) or not user_id or len(user_id) > 64:
        raise ApiError(400, "bad_request", "agent (or supervisor) id required", str(role))
    if not isinstance(password, str) or len(password) > 1024:
        raise ApiError(400, "bad_request", "password required", "password")
    address = request.remote or "?"
    wait = ctx.throttle.retry_after(address, f"{role}:{user_id}")
    if wait is not None:
        raise ApiError(
            429,
            "too_many_attempts",
            "too many wrong passwords; try later",
            headers={hdrs.RETRY_AFTER: str(int(wait) + 1)},
        )
    principal = ctx.authenticator.authenticate(role, user_id, password)
    if principal is None:
        ctx.throttle.failed(address, f"{role}:{user_id}")
        log.info("failed %s login for %r", role, user_id)
        raise ApiError(401, "bad_credentials", "wrong id or password")
    ctx.throttle.succeeded(address, f"{role}:{user_id}")
    session = ctx.tokens.issue(principal)
    log.info("%s %s logged in to the desktop", role, principal.user_id)
    return web.json_response(
        {
            "token": session.token,
            "expires_at": session.expires_at,
            "role": str(principal.role),
            "user_id": principal.user_id,
            "name": principal.name,
        }
    )


async def logout(request: web.Request) -> web.Response:
    """Ends the desktop session (token); the agent's ACD state is changed by /state."""
    ctx = context_of(request)
    session = session_of(request)
    ctx.tokens.revoke(session.token)
    ctx.hub.close_token(session.token)
    return web.json_response({"ok": True})


async def me(request: web.Request) -> web.Response:
    ctx = context_of(request)
    session = session_of(request)
    p = session.principal
    return web.json_response(
        {
            "user_id": p.user_id,
            "role": str(p.role),
            "name": p.name,
            "expires_at": session.expires_at,
            "pause_reasons": list(ctx.pause_reasons),
            "disposition_codes": list(ctx.disposition_codes),
        }
    )
