"""Supervisors' figures over REST: `GET /api/wallboard` and `GET /api/reports`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from aiohttp import web

from cti.access import require_supervisor, session_of
from cti.bodies import json_utf8
from cti.context import context_of
from cti.errors import ApiError
from cti.ports import ReportSource, ReportUnavailable

log = logging.getLogger(__name__)

# Report intervals and the longest period each may cover (bounds the rows of one answer).
REPORT_INTERVALS: Final[Mapping[str, timedelta]] = {
    "15min": timedelta(days=14),
    "hour": timedelta(days=62),
    "day": timedelta(days=400),
}
DEFAULT_REPORT_PERIOD: Final = timedelta(hours=24)


async def wallboard(request: web.Request) -> web.Response:
    require_supervisor(session_of(request))
    return web.json_response(dict(await context_of(request).state.wallboard_snapshot()))


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
    ctx = context_of(request)
    require_supervisor(session_of(request))
    if ctx.reports is None:
        raise ApiError(404, "not_found", "reports are not available in this service")
    start, end, interval = report_period(request, ctx.reports, ctx.clock())
    try:
        report = await ctx.reports.report(start, end, interval)
    except ReportUnavailable as exc:
        log.warning("report %s..%s unavailable: %s", start, end, exc)
        raise ApiError(503, "unavailable", f"report unavailable: {exc}") from exc
    return web.json_response(dict(report), dumps=json_utf8)
