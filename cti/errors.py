"""The CTI's error answers: `ApiError` raised by any handler, turned into JSON by middleware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import hdrs, web


class ApiError(Exception):
    """A refusal with an HTTP status, a machine-readable `error` word and a message."""

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
async def api_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
