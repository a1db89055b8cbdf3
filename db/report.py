"""KPI reports: built from PostgreSQL (rendered by ``db.report_render``).

``run_report_cli`` is what ``madoguchi report [--from T] [--to T] [--json | --csv FILE]`` calls.
Definitions of every figure: docs/kpis.md.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from db.kpi_math import period_totals
from db.kpis import (
    DEFAULT_SERVICE_LEVEL_S,
    INTERVALS,
    SHORT_ABANDON_S,
    Interval,
    kpi_rows,
)
from db.report_render import Report, to_csv, to_json, to_table

ReportFormat = Literal["table", "json", "csv"]


async def build_report(
    pool: Any,
    start: datetime,
    end: datetime,
    interval: Interval = "hour",
    *,
    tz: str = "UTC",
    service_levels: Mapping[str, float] | None = None,
    default_service_level: float = DEFAULT_SERVICE_LEVEL_S,
    short_abandon: float = SHORT_ABANDON_S,
    queues: Sequence[str] = (),
    agents: Sequence[str] = (),
    as_of: datetime | None = None,
) -> Report:
    """KPIs per queue, per agent and in total, per ``interval``, over [start, end).

    ``pool`` is an asyncpg pool or connection. ``service_levels`` maps queue -> threshold seconds
    (config ``queues.toml`` ``service_level``); other queues use ``default_service_level``.
    ``queues`` / ``agents`` are listed even when they had no activity.
    """
    kwargs: dict[str, Any] = {
        "tz": tz, "service_levels": service_levels or {},
        "default_service_level": default_service_level, "short_abandon": short_abandon,
        "queues": queues, "agents": agents, "as_of": as_of,
    }  # fmt: skip
    if isinstance(pool, asyncpg.Pool):
        async with pool.acquire() as conn:
            rows = await kpi_rows(conn, start, end, interval, **kwargs)
    else:
        rows = await kpi_rows(pool, start, end, interval, **kwargs)
    return Report(
        start=start, end=end, interval=interval, tz=tz,
        service_levels=dict(service_levels or {}), default_service_level=default_service_level,
        short_abandon=short_abandon, rows=tuple(rows), totals=tuple(period_totals(rows)),
    )  # fmt: skip


def parse_time(value: str | datetime, tz: str) -> datetime:
    """ISO 8601 date or date-time; without an offset it is local time in ``tz``."""
    zone = ZoneInfo(tz)
    if isinstance(value, datetime):
        parsed = value
    else:
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 date or time: {value!r}") from exc
        if len(text) == 10:  # a bare date: midnight
            parsed = datetime.combine(parsed.date(), time())
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


def run_report_cli(
    dsn: str,
    start: str | datetime | None,
    end: str | datetime | None,
    fmt: ReportFormat,
    csv_path: Path | str | None = None,
    interval: Interval = "hour",
    *,
    tz: str = "UTC",
    service_levels: Mapping[str, float] | None = None,
    queues: Sequence[str] = (),
    agents: Sequence[str] = (),
    out: TextIO | None = None,
) -> int:
    """Print (or, for csv, write to ``csv_path``) the report; return the process exit code.

    Defaults: ``end`` now, ``start`` 24 hours before ``end``. Errors: one line on stderr, exit 1.
    """
    stream = out or sys.stdout
    try:
        ZoneInfo(tz)
        if interval not in INTERVALS:
            raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
        if fmt not in ("table", "json", "csv"):
            raise ValueError(f"format must be table, json or csv, not {fmt!r}")
        if fmt == "csv" and not csv_path:
            raise ValueError("--csv needs a file name")
        end_at = parse_time(end, tz) if end else datetime.now(ZoneInfo(tz))
        start_at = parse_time(start, tz) if start else end_at - timedelta(hours=24)
        report = asyncio.run(
            _fetch(dsn, start_at, end_at, interval, tz, service_levels, queues, agents)
        )
        if fmt == "json":
            stream.write(to_json(report) + "\n")
        elif fmt == "csv":
            assert csv_path is not None
            Path(csv_path).write_text(to_csv(report), encoding="utf-8")
            stream.write(f"wrote {len(report.rows) + len(report.totals)} rows to {csv_path}\n")
        else:
            stream.write(to_table(report))
        return 0
    except (ValueError, ZoneInfoNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"error: cannot build the report: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 1


async def _fetch(
    dsn: str,
    start: datetime,
    end: datetime,
    interval: Interval,
    tz: str,
    service_levels: Mapping[str, float] | None,
    queues: Sequence[str],
    agents: Sequence[str],
) -> Report:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return await build_report(
            conn, start, end, interval, tz=tz, service_levels=service_levels,
            queues=queues, agents=agents,
        )  # fmt: skip
    finally:
        await conn.close()
