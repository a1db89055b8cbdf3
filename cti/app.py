"""The CTI aiohttp application: login, REST, websocket and the desktop / wallboard pages.

`build_app` takes every collaborator by injection (see `cti.ports`); the composition root
owns the `Hub` and publishes ACD events through it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiohttp import WSCloseCode, WSMsgType, hdrs, web

from cti.auth import LoginThrottle, Session, TokenStore
from cti.commands import (
    CommandError,
    Disposition,
    Logout,
    Pause,
    Ready,
    call_id_of,
    parse_command,
)
from cti.hub import Connection, Hub, stream_key_for
from cti.messages import ERROR, PONG, RESULT
from cti.ports import (
    Authenticator,
    Clock,
    CommandHandler,
    CommandResult,
    CrmStore,
    JsonObject,
    Principal,
    ReportSource,
    ReportUnavailable,
    Role,
    StateSource,
)
from cti.security import origin_middleware, security_headers

log = logging.getLogger("cti.app")

STATIC_DIR: Final = Path(__file__).parent / "static"
DEFAULT_PAUSE_REASONS: Final = ("break", "lunch", "meeting", "training", "no_answer")
DEFAULT_DISPOSITION_CODES: Final = (
    "resolved",
    "follow_up",
    "escalated",
    "sale",
    "no_sale",
    "wrong_number",
    "other",
)
MAX_BODY: Final = 64 * 1024
MAX_WS_MESSAGE: Final = 64 * 1024
SUPERVISOR_STATES: Final = {
    "ready": "ready",
    "pause": "not_ready",
    "not_ready": "not_ready",
    "logout": "logged_out",
    "logged_out": "logged_out",
}
# Report intervals and the longest period each may cover (bounds the rows of one answer).
REPORT_INTERVALS: Final[Mapping[str, timedelta]] = {
    "15min": timedelta(days=14),
    "hour": timedelta(days=62),
    "day": timedelta(days=400),
}
DEFAULT_REPORT_PERIOD: Final = timedelta(hours=24)


ComponentHealth = Callable[[], Mapping[str, Mapping[str, Any]]]
"""Per component of the service (e.g. "ami", "database"): {"ok": bool, ...small figures}."""


class _Ctx:
    """Everything the handlers share; one per application."""

    def __init__(
        self,
        *,
        authenticator: Authenticator,
        commands: CommandHandler,
        state: StateSource,
        crm: CrmStore,
        hub: Hub,
        tokens: TokenStore,
        clock: Clock,
        allowed_origins: Collection[str] | None,
        pause_reasons: Sequence[str],
        disposition_codes: Sequence[str],
        recent_calls_limit: int,
        component_health: ComponentHealth | None = None,
        reports: ReportSource | None = None,
    ) -> None:
        self.component_health = component_health
        self.reports = reports
        self.authenticator = authenticator
        self.commands = commands
        self.state = state
        self.crm = crm
        self.hub = hub
        self.tokens = tokens
        self.throttle = LoginThrottle(clock)
        self.clock = clock
        self.allowed_origins = allowed_origins
        self.pause_reasons = pause_reasons
        self.disposition_codes = disposition_codes
        self.recent_calls_limit = recent_calls_limit


CTX: Final = web.AppKey("cti_ctx", _Ctx)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.field = status, error, message, field
        self.headers = headers or {}

    def response(self) -> web.Response:
        body: dict[str, str] = {"error": self.error, "message": self.message}
        if self.field:
            body["field"] = self.field
        headers = dict(self.headers)
        if self.status == 401:
            headers[hdrs.WWW_AUTHENTICATE] = "Bearer"
        return web.json_response(body, status=self.status, headers=headers)


@web.middleware
async def _api_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except ApiError as exc:
        return exc.response()


def build_app(
    *,
    authenticator: Authenticator,
    commands: CommandHandler,
    state: StateSource,
    crm: CrmStore,
    hub: Hub,
    clock: Clock = time.time,
    token_ttl: float = 28800.0,
    allowed_origins: Collection[str] | None = None,
    pause_reasons: Sequence[str] = DEFAULT_PAUSE_REASONS,
    disposition_codes: Sequence[str] = DEFAULT_DISPOSITION_CODES,
    recent_calls_limit: int = 20,
    component_health: ComponentHealth | None = None,
    reports: ReportSource | None = None,
    sessions_file: Path | None = None,
) -> web.Application:
    """The CTI web application.

    `allowed_origins` None means same-origin only (the address and port the browser reached
    the CTI on); pass e.g. ["https://cti.example.com"] behind a proxy. The hub's heartbeat
    runs while the app runs; closing the app closes every websocket. `reports` serves the
    KPI report (`GET /api/reports`, page `/reports`); without it that endpoint answers 404.
    `sessions_file` keeps the desktops' sessions across a restart (see `TokenStore`).
    """
    ctx = _Ctx(
        authenticator=authenticator,
        commands=commands,
        state=state,
        crm=crm,
        hub=hub,
        tokens=TokenStore(clock, token_ttl, persist_to=sessions_file, keep=authenticator.knows),
        clock=clock,
        allowed_origins=allowed_origins,
        pause_reasons=tuple(pause_reasons),
        disposition_codes=tuple(disposition_codes),
        recent_calls_limit=recent_calls_limit,
        component_health=component_health,
        reports=reports,
    )
    app = web.Application(
        client_max_size=MAX_BODY,
        middlewares=[security_headers, origin_middleware(allowed_origins), _api_errors],
    )
    app[CTX] = ctx

    async def hub_lifecycle(_app: web.Application) -> Any:
        await hub.start()
        yield
        await hub.stop()

    async def close_websockets(_app: web.Application) -> None:
        # On shutdown, before aiohttp waits for open handlers: a desktop's websocket
        # handler would otherwise keep the service from stopping.
        await hub.close_all()

    app.cleanup_ctx.append(hub_lifecycle)
    app.on_shutdown.append(close_websockets)
    r = app.router
    r.add_get("/", _page("agent.html"))
    r.add_get("/agent", _page("agent.html"))
    r.add_get("/wallboard", _page("wallboard.html"))
    r.add_get("/reports", _page("reports.html"))
    r.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    r.add_get("/api/health", health)
    r.add_post("/api/login", login)
    r.add_post("/api/logout", logout)
    r.add_get("/api/me", me)
    r.add_get("/api/agents/{agent_id}/snapshot", agent_snapshot)
    r.add_post("/api/agents/{agent_id}/state", agent_state)
    r.add_post("/api/agents/{agent_id}/dial", agent_dial)
    r.add_post("/api/agents/{agent_id}/wrapup", agent_wrapup)
    r.add_get("/api/agents/{agent_id}/calls", agent_calls)
    r.add_post("/api/calls/{call_id}/disposition", call_disposition)
    r.add_post("/api/calls/{call_id}/transfer/complete", _call_action("transfer_complete"))
    r.add_post("/api/calls/{call_id}/transfer/cancel", _call_action("transfer_cancel"))
    r.add_post("/api/calls/{call_id}/transfer", _call_action("transfer"))
    for action in ("hangup", "hold", "unhold"):
        r.add_post(f"/api/calls/{{call_id}}/{action}", _call_action(action))
    r.add_get("/api/wallboard", wallboard)
    r.add_get("/api/reports", reports_api)
    r.add_get("/ws", websocket)
    return app


def hub_of(app: web.Application) -> Hub:
    return app[CTX].hub


# ---------------------------------------------------------------- helpers


def _page(name: str) -> Any:
    path = STATIC_DIR / name

    async def serve(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(path, headers={hdrs.CONTENT_TYPE: "text/html; charset=utf-8"})

    return serve


def _session(request: web.Request) -> Session:
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Bearer token required")
    session = request.app[CTX].tokens.resolve(token.strip())
    if session is None:
        raise ApiError(401, "unauthorized", "token unknown or expired")
    return session


def _require_supervisor(session: Session) -> None:
    if session.principal.role is not Role.SUPERVISOR:
        raise ApiError(403, "forbidden", "supervisor role required")


def _require_self_or_supervisor(session: Session, agent_id: str) -> None:
    p = session.principal
    if p.role is Role.AGENT and p.user_id != agent_id:
        raise ApiError(403, "forbidden", "agents may only act on themselves")


def _require_self_agent(session: Session, agent_id: str) -> None:
    p = session.principal
    if p.role is not Role.AGENT or p.user_id != agent_id:
        raise ApiError(403, "forbidden", "only the agent itself may do this")


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_request", "body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "body must be a JSON object")
    return body


def _result_response(result: CommandResult) -> web.Response:
    if result.ok:
        return web.json_response({"ok": True, "data": dict(result.data)})
    return web.json_response(
        {"ok": False, "error": "refused", "reason": result.reason, "data": dict(result.data)},
        status=409,
    )


async def run_agent_command(
    ctx: _Ctx, agent_id: str, cmd: str, args: Mapping[str, Any]
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
    ctx: _Ctx, supervisor: Principal, agent_id: str, args: Mapping[str, Any]
) -> CommandResult:
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


# ---------------------------------------------------------------- REST handlers


async def health(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    hub = ctx.hub
    body: dict[str, Any] = {
        "status": "ok",
        "websockets": hub.connection_count,
        "snapshots_sent": hub.snapshots_sent,
        "resumes": hub.resumes,
        "slow_consumers_cut": hub.slow_consumers_cut,
    }
    if ctx.component_health is not None:
        # The other parts of the service (AMI link, database writer): `madoguchi status`
        # reports them. Only ok flags and counts: no error texts on an unauthenticated URL.
        body["components"] = {
            name: {"ok": bool(info.get("ok"))} | {k: v for k, v in info.items() if k != "ok"}
            for name, info in ctx.component_health().items()
        }
    return web.json_response(body)


async def login(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    body = await _json_body(request)
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
    ctx = request.app[CTX]
    session = _session(request)
    ctx.tokens.revoke(session.token)
    ctx.hub.close_token(session.token)
    return web.json_response({"ok": True})


async def me(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    session = _session(request)
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


async def agent_snapshot(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    agent_id = request.match_info["agent_id"]
    _require_self_or_supervisor(_session(request), agent_id)
    return web.json_response(dict(await ctx.state.agent_snapshot(agent_id)))


async def agent_state(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    session = _session(request)
    agent_id = request.match_info["agent_id"]
    body = await _json_body(request)
    if session.principal.role is Role.SUPERVISOR:
        return _result_response(await run_supervisor_state(ctx, session.principal, agent_id, body))
    _require_self_agent(session, agent_id)
    state = body.get("state")
    cmd = {
        "ready": Ready.name,
        "pause": Pause.name,
        "not_ready": Pause.name,
        "logout": Logout.name,
        "logged_out": Logout.name,
    }.get(str(state))
    if cmd is None:
        raise ApiError(400, "bad_command", "state must be ready, pause or logout", "state")
    return _result_response(await run_agent_command(ctx, agent_id, cmd, body))


async def agent_dial(request: web.Request) -> web.Response:
    session = _session(request)
    agent_id = request.match_info["agent_id"]
    _require_self_agent(session, agent_id)
    body = await _json_body(request)
    return _result_response(await run_agent_command(request.app[CTX], agent_id, "dial", body))


async def agent_wrapup(request: web.Request) -> web.Response:
    session = _session(request)
    agent_id = request.match_info["agent_id"]
    _require_self_agent(session, agent_id)
    body = await _json_body(request)
    cmd = {"done": "wrapup_done", "extend": "wrapup_extend"}.get(str(body.get("action")))
    if cmd is None:
        raise ApiError(400, "bad_command", "action must be done or extend", "action")
    return _result_response(await run_agent_command(request.app[CTX], agent_id, cmd, body))


async def agent_calls(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    agent_id = request.match_info["agent_id"]
    _require_self_or_supervisor(_session(request), agent_id)
    try:
        limit = int(request.query.get("limit", ctx.recent_calls_limit))
    except ValueError as exc:
        raise ApiError(400, "bad_request", "limit must be an integer", "limit") from exc
    limit = max(1, min(limit, 200))
    calls = await ctx.crm.recent_calls(agent_id, limit)
    return web.json_response({"agent_id": agent_id, "calls": [dict(c) for c in calls]})


def _call_action(cmd: str) -> Any:
    async def handle(request: web.Request) -> web.Response:
        session = _session(request)
        if session.principal.role is not Role.AGENT:
            raise ApiError(403, "forbidden", "call controls are for the agent on the call")
        body = await _json_body(request)
        args = {**body, "call_id": request.match_info["call_id"]}
        result = await run_agent_command(request.app[CTX], session.principal.user_id, cmd, args)
        return _result_response(result)

    return handle


call_disposition = _call_action("disposition")


async def wallboard(request: web.Request) -> web.Response:
    _require_supervisor(_session(request))
    return web.json_response(dict(await request.app[CTX].state.wallboard_snapshot()))


def _report_time(request: web.Request, name: str, zone: ZoneInfo) -> datetime | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(
            400, "bad_request", f"{name} must be an ISO 8601 date or date-time", name
        ) from exc
    # Without an offset: wall-clock time where the contact center is, like `madoguchi report`.
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def report_period(
    request: web.Request, source: ReportSource, now: float
) -> tuple[datetime, datetime, str]:
    """`from`, `to` and `interval` of a report request, checked; defaults: the last 24 hours
    per hour."""
    interval = request.query.get("interval", "hour")
    if interval not in REPORT_INTERVALS:
        raise ApiError(
            400, "bad_request", f"interval must be one of {', '.join(REPORT_INTERVALS)}", "interval"
        )
    zone = ZoneInfo(source.timezone)
    end = _report_time(request, "to", zone) or datetime.fromtimestamp(now, zone)
    start = _report_time(request, "from", zone) or end - DEFAULT_REPORT_PERIOD
    if start >= end:
        raise ApiError(400, "bad_request", "from must be before to", "from")
    if end - start > REPORT_INTERVALS[interval]:
        days = REPORT_INTERVALS[interval].days
        raise ApiError(
            400,
            "bad_request",
            f"a report per {interval} covers at most {days} days; "
            "shorten the period or choose a longer interval",
            "to",
        )
    return start.astimezone(zone), end.astimezone(zone), interval


async def reports_api(request: web.Request) -> web.Response:
    """`GET /api/reports?from=ISO&to=ISO&interval=15min|hour|day`; see docs/api.md."""
    ctx = request.app[CTX]
    _require_supervisor(_session(request))
    if ctx.reports is None:
        raise ApiError(404, "not_found", "reports are not available in this service")
    start, end, interval = report_period(request, ctx.reports, ctx.clock())
    try:
        report = await ctx.reports.report(start, end, interval)
    except ReportUnavailable as exc:
        log.warning("report %s..%s unavailable: %s", start, end, exc)
        raise ApiError(503, "unavailable", f"report unavailable: {exc}") from exc
    return web.json_response(dict(report), dumps=_json_utf8)


def _json_utf8(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------- websocket


def _int_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"{name} must be an integer", name) from exc


async def websocket(request: web.Request) -> web.StreamResponse:
    """`GET /ws?token=T[&since=N&epoch=E]`; see docs/cti-protocol.md."""
    ctx = request.app[CTX]
    session = ctx.tokens.resolve(request.query.get("token", ""))
    if session is None:
        raise ApiError(401, "unauthorized", "token unknown or expired")
    since = _int_param(request, "since")
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
        if snapshot_seq is not None:
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
                await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"snapshot unavailable")
                return ws
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                await _ws_command(ctx, conn, principal, msg.data)
                await conn.wait_for_room()
            elif msg.type is WSMsgType.BINARY:
                ctx.hub.send_control(
                    conn,
                    {"type": ERROR, "error": "bad_request", "message": "send JSON text frames"},
                )
    finally:
        ctx.hub.disconnect(conn)
    return ws


async def _ws_command(ctx: _Ctx, conn: Connection, principal: Principal, text: str) -> None:
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
        cmd = message["cmd"]
        if cmd == "ping":
            ctx.hub.send_control(
                conn,
                {"type": PONG, "id": request_id, "ts": ctx.clock(), "last_seq": conn.stream.head},
            )
            return
        if principal.role is Role.SUPERVISOR:
            if cmd != "set_agent_state":
                raise ApiError(403, "forbidden", "supervisors may only set_agent_state")
            agent_id = message.get("agent_id")
            if not isinstance(agent_id, str):
                raise ApiError(400, "bad_command", "agent_id required", "agent_id")
            result = await run_supervisor_state(ctx, principal, agent_id, message)
        else:
            if cmd == "set_agent_state":
                raise ApiError(403, "forbidden", "supervisor role required")
            result = await run_agent_command(ctx, principal.user_id, cmd, message)
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
