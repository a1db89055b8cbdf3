"""`GET /api/health`: the hub's figures and, when wired, the other components' ok flags."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cti.context import context_of


async def health(request: web.Request) -> web.Response:
    ctx = context_of(request)
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
