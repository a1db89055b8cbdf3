"""The customers' FAQ bot over REST: POST /api/faq/ask and POST /api/faq/feedback.

Public (no token: customers are not agents), rate-limited per client address, small bodies
only. A question always gets a 200 with an answer from the base or a hand-off; only a
request that is not a question at all (not JSON, wrong types) gets a 400.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from aiohttp import web

from cti.rate_limit import RateLimit
from selfservice.faq.model import LANGS, FaqReply, Lang
from selfservice.faq.turns import FaqTurn, TurnLog

log = logging.getLogger("cti.faq")

MAX_FAQ_BODY: Final = 8 * 1024
"""Bytes; the bot itself hands off questions longer than its own limit."""


class FaqAnswerer(Protocol):
    def ask(self, text: str, lang: Lang) -> FaqReply: ...


@dataclass
class _Faq:
    bot: FaqAnswerer
    turns: TurnLog | None
    limit: RateLimit
    now: Callable[[], datetime]


FAQ: Final = web.AppKey("cti_faq", _Faq)


def register_faq_routes(
    app: web.Application,
    bot: FaqAnswerer,
    *,
    turns: TurnLog | None = None,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    burst: int = 10,
    per_second: float = 0.5,
) -> None:
    """Add the FAQ endpoints to ``app`` (before it starts). ``turns`` stores every turn and
    the customers' feedback; without it the bot still answers and feedback answers 404."""
    app[FAQ] = _Faq(bot, turns, RateLimit(clock, burst=burst, per_second=per_second), now)
    app.router.add_post("/api/faq/ask", ask)
    app.router.add_post("/api/faq/feedback", feedback)


def _error(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status, headers=headers)


async def _checked_body(request: web.Request) -> dict[str, Any] | web.Response:
    """The JSON object of a request that passed the rate limit and size checks, or the refusal."""
    faq = request.app[FAQ]
    wait = faq.limit.retry_after(request.remote or "?")
    if wait > 0:
        retry = {"Retry-After": str(math.ceil(wait))}
        return _error(429, "rate_limited", "too many questions; try again shortly", retry)
    if (request.content_length or 0) > MAX_FAQ_BODY:
        return _error(413, "too_large", f"body over {MAX_FAQ_BODY} bytes")
    raw = await request.content.read(MAX_FAQ_BODY + 1)
    if len(raw) > MAX_FAQ_BODY:
        return _error(413, "too_large", f"body over {MAX_FAQ_BODY} bytes")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "bad_request", "body must be a JSON object")
    if not isinstance(body, dict):
        return _error(400, "bad_request", "body must be a JSON object")
    return body


async def ask(request: web.Request) -> web.Response:
    body = await _checked_body(request)
    if isinstance(body, web.Response):
        return body
    text, lang = body.get("text", ""), body.get("lang", "ja")
    if not isinstance(text, str):
        return _error(400, "bad_request", "text must be a string")
    if lang not in LANGS:
        return _error(400, "bad_request", f"lang must be one of {', '.join(LANGS)}")
    faq = request.app[FAQ]
    reply = faq.bot.ask(text, lang)
    turn_id = uuid.uuid4().hex if faq.turns is not None else None
    if faq.turns is not None and turn_id is not None:
        await _record(faq.turns, FaqTurn.of(turn_id, faq.now(), text, reply))
    return web.json_response(
        {
            "answer": reply.answer,
            "entry": reply.entry,
            "score": reply.score,
            "handoff": reply.handoff,
            "message": reply.message,
            "reason": reply.reason,
            "lang": reply.lang,
            "guesses": [{"entry": g.entry, "question": g.question} for g in reply.guesses],
            "turn": turn_id,
        }
    )


async def _record(turns: TurnLog, turn: FaqTurn) -> None:
    # A lost statistic must not cost the customer the answer: log it and answer anyway.
    try:
        await turns.record_turn(turn)
    except Exception:
        log.warning("FAQ turn %s not stored", turn.id, exc_info=True)


async def feedback(request: web.Request) -> web.Response:
    body = await _checked_body(request)
    if isinstance(body, web.Response):
        return body
    turn_id, helped = body.get("turn"), body.get("helped")
    if not isinstance(turn_id, str) or not 0 < len(turn_id) <= 64:
        return _error(400, "bad_request", "turn must be the id the answer carried")
    if not isinstance(helped, bool):
        return _error(400, "bad_request", "helped must be true or false")
    turns = request.app[FAQ].turns
    if turns is None or not await turns.record_feedback(turn_id, helped):
        return _error(404, "not_found", "no such turn")
    return web.json_response({"ok": True})
