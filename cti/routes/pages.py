"""The desktop, wallboard and reports pages (static HTML; their scripts call the REST API)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

from aiohttp import hdrs, web

STATIC_DIR: Final = Path(__file__).parent.parent / "static"


def page(name: str) -> Callable[[web.Request], Awaitable[web.FileResponse]]:
    """A handler serving the HTML file `name` from the static directory."""
    path = STATIC_DIR / name

    async def serve(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(path, headers={hdrs.CONTENT_TYPE: "text/html; charset=utf-8"})

    return serve
