"""The CTI aiohttp application: its collaborators, its middleware and its URL map.

`build_app` takes every collaborator by injection (see `cti.ports`); the composition root
owns the `Hub` and publishes ACD events through it. The handlers live in `cti.routes`,
one module per concept; the commands they carry out go through `cti.command_manager`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Collection, Sequence
from pathlib import Path
from typing import Final

from aiohttp import web

from cti.auth import TokenStore
from cti.context import CTX, AppContext, ComponentHealth
from cti.errors import api_errors
from cti.hub import Hub
from cti.ports import Authenticator, Clock, CommandHandler, CrmStore, ReportSource, StateSource
from cti.routes import agents, auth, calls, health, pages, reports, websocket
from cti.security import origin_middleware, security_headers

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
CALL_CONTROLS: Final = ("hangup", "hold", "unhold")


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
    ctx = AppContext(
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
        middlewares=[security_headers, origin_middleware(allowed_origins), api_errors],
    )
    app[CTX] = ctx

    async def hub_lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await hub.start()
        yield
        await hub.stop()

    async def close_websockets(_app: web.Application) -> None:
        # On shutdown, before aiohttp waits for open handlers: a desktop's websocket
        # handler would otherwise keep the service from stopping.
        await hub.close_all()

    app.cleanup_ctx.append(hub_lifecycle)
    app.on_shutdown.append(close_websockets)
    _add_routes(app.router)
    return app


def _add_routes(r: web.UrlDispatcher) -> None:
    r.add_get("/", pages.page("agent.html"))
    r.add_get("/agent", pages.page("agent.html"))
    r.add_get("/wallboard", pages.page("wallboard.html"))
    r.add_get("/reports", pages.page("reports.html"))
    r.add_static("/static/", pages.STATIC_DIR, follow_symlinks=False)
    r.add_get("/api/health", health.health)
    r.add_post("/api/login", auth.login)
    r.add_post("/api/logout", auth.logout)
    r.add_get("/api/me", auth.me)
    r.add_get("/api/agents/{agent_id}/snapshot", agents.agent_snapshot)
    r.add_post("/api/agents/{agent_id}/state", agents.agent_state)
    r.add_post("/api/agents/{agent_id}/dial", agents.agent_dial)
    r.add_post("/api/agents/{agent_id}/wrapup", agents.agent_wrapup)
    r.add_get("/api/agents/{agent_id}/calls", calls.agent_calls)
    r.add_post("/api/calls/{call_id}/disposition", calls.call_disposition)
    r.add_post("/api/calls/{call_id}/transfer/complete", calls.call_action("transfer_complete"))
    r.add_post("/api/calls/{call_id}/transfer/cancel", calls.call_action("transfer_cancel"))
    r.add_post("/api/calls/{call_id}/transfer", calls.call_action("transfer"))
    for action in CALL_CONTROLS:
        r.add_post(f"/api/calls/{{call_id}}/{action}", calls.call_action(action))
    r.add_get("/api/wallboard", reports.wallboard)
    r.add_get("/api/reports", reports.reports_api)
    r.add_get("/ws", websocket.websocket)
