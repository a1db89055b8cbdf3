"""Running the CTI app: an access log that never records query strings (the websocket
token travels in one), and a small start helper for the composition root."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

access_log = logging.getLogger("cti.access")


class SafeAccessLogger(AbstractAccessLogger):
    """Method, path without query, status, size and duration: no tokens, no caller data."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %s %.1fms",
            request.method,
            request.rel_url.path,
            response.status,
            response.body_length,
            time * 1000,
        )


def runner_options() -> dict[str, Any]:
    """AppRunner keyword arguments every CTI runner must use (tests included)."""
    return {"access_log_class": SafeAccessLogger, "access_log": access_log}


async def start_cti(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve `app` on host:port (the caller keeps the runner and calls `runner.cleanup()`)."""
    runner = web.AppRunner(app, **runner_options())
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner
