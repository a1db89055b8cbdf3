"""Reading request bodies and query parameters, and answering with a command's result."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from cti.errors import ApiError
from cti.ports import CommandResult


async def json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_request", "body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "body must be a JSON object")
    return body


def int_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"{name} must be an integer", name) from exc


def result_response(result: CommandResult) -> web.Response:
    if result.ok:
        return web.json_response({"ok": True, "data": dict(result.data)})
    return web.json_response(
        {"ok": False, "error": "refused", "reason": result.reason, "data": dict(result.data)},
        status=409,
    )


def json_utf8(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
