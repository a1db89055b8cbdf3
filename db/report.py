"""KPI reports: build from PostgreSQL, render as a text table, JSON or CSV.

``run_report_cli`` is what ``madoguchi report [--from T] [--to T] [--json | --csv FILE]`` calls.
Definitions of every figure: docs/kpis.md.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Final, Literal, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from db.kpis import (
    DEFAULT_SERVICE_LEVEL_S,
    INTERVALS,
    SHORT_ABANDON_S,
    Interval,
    KpiRow,
    kpi_rows,
    period_totals,
)

ReportFormat = Literal["table", "json", "csv"]

# Column name -> how to get it from a row; the order of the JSON/CSV fields and table columns.
COLUMNS: Final[tuple[str, ...]] = (
    "dimension", "key", "start", "end", "offered", "answered", "abandoned",
    "abandoned_ivr", "abandoned_queue", "abandoned_ringing", "short_abandons",
    "answered_within_sl", "service_level", "abandon_rate", "asa_s", "aht_s", "talk_s", "wrap_s",
    "handled", "transferred", "transfer_rate", "callbacks", "busy_s", "ready_s", "not_ready_s",
    "occupancy",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Report:
    start: datetime
    end: datetime
    interval: Interval
    tz: str
    service_levels: Mapping[str, float]
    default_service_level: float
    short_abandon: float
    rows: tuple[KpiRow, ...]  # per interval
    totals: tuple[KpiRow, ...]  # per dimension key over the whole period


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


def row_values(row: KpiRow) -> dict[str, Any]:
    """A row as plain values (times ISO 8601, ratios 0..1 rounded to 4 places, seconds to 0.1)."""
    raw = row.raw

    def r4(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    def r1(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    agent = row.dimension == "agent"
    return {
        "dimension": row.dimension,
        "key": row.key,
        "start": None if row.start is None else row.start.isoformat(),
        "end": None if row.end is None else row.end.isoformat(),
        # Queue figures do not apply to an agent row.
        "offered": None if agent else raw.offered,
        "answered": raw.answered,
        "abandoned": None if agent else row.abandoned,
        "abandoned_ivr": None if agent else raw.abandoned_ivr,
        "abandoned_queue": None if agent else raw.abandoned_queue,
        "abandoned_ringing": None if agent else raw.abandoned_ringing,
        "short_abandons": None if agent else raw.short_abandons,
        "answered_within_sl": None if agent else raw.answered_within_sl,
        "service_level": None if agent else r4(row.service_level),
        "abandon_rate": None if agent else r4(row.abandon_rate),
        "asa_s": None if agent else r1(row.asa_s),
        "aht_s": r1(row.aht_s),
        "talk_s": r1(raw.talk_s),
        "wrap_s": r1(raw.wrap_s),
        "handled": raw.handled,
        "transferred": raw.transferred,
        "transfer_rate": r4(row.transfer_rate),
        "callbacks": None if agent else raw.callbacks,
        "busy_s": None if row.dimension == "queue" else r1(raw.busy_s),
        "ready_s": None if row.dimension == "queue" else r1(raw.ready_s),
        "not_ready_s": None if row.dimension == "queue" else r1(raw.not_ready_s),
        "occupancy": None if row.dimension == "queue" else r4(row.occupancy),
    }


def to_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data (what ``to_json`` serialises; the CTI can serve it)."""
    return {
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "interval": report.interval,
        "timezone": report.tz,
        "service_level_thresholds_s": {
            "default": report.default_service_level,
            **report.service_levels,
        },
        "short_abandon_s": report.short_abandon,
        "rows": [row_values(r) for r in report.rows],
        "totals": [row_values(r) for r in report.totals],
    }


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=2)


def to_csv(report: Report) -> str:
    """Interval rows then period totals (start/end empty), one header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in (*report.rows, *report.totals):
        writer.writerow({k: "" if v is None else v for k, v in row_values(row).items()})
    return out.getvalue()


_TABLE: Final[tuple[tuple[str, str], ...]] = (
    ("interval", "interval"), ("key", "key"), ("offered", "offered"), ("answered", "ans"),
    ("abandoned_ivr", "ab.ivr"), ("abandoned_queue", "ab.q"), ("abandoned_ringing", "ab.ring"),
    ("service_level", "SL%"), ("asa_s", "ASA s"), ("aht_s", "AHT s"), ("transfer_rate", "xfer%"),
    ("callbacks", "cb"), ("occupancy", "occ%"),
)  # fmt: skip


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(name: str, values: Mapping[str, Any], tz: ZoneInfo | None) -> str:
    if name == "interval":
        if values["start"] is None:
            return "period total"
        start = datetime.fromisoformat(values["start"])
        return (start.astimezone(tz) if tz else start).strftime("%Y-%m-%d %H:%M")
    value = values[name]
    if value is None:
        return "-"
    if name in {"service_level", "transfer_rate", "occupancy"}:
        return f"{value * 100:.1f}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def to_table(report: Report) -> str:
    """A plain-text table per dimension (queues, agents, all calls), totals last."""
    try:
        tz: ZoneInfo | None = ZoneInfo(report.tz)
    except (ZoneInfoNotFoundError, ValueError):
        tz = None
    lines = [
        f"madoguchi KPIs {report.start.isoformat()} .. {report.end.isoformat()} "
        f"per {report.interval} ({report.tz}); SL threshold {report.default_service_level:g} s "
        f"unless configured; abandons under {report.short_abandon:g} s excluded from SL",
    ]
    titles = {"queue": "Queues", "agent": "Agents", "total": "All calls"}
    for dimension, title in titles.items():
        rows = [r for r in (*report.rows, *report.totals) if r.dimension == dimension]
        if not rows:
            continue
        table = [[_cell(name, row_values(r), tz) for name, _ in _TABLE] for r in rows]
        header = [label for _, label in _TABLE]
        widths = [max(_width(x) for x in col) for col in zip(header, *table, strict=False)]
        lines.append("")
        lines.append(title)

        def fmt(cells: list[str], widths: list[int] = widths) -> str:
            return "  ".join(
                c + " " * (w - _width(c)) if i < 2 else " " * (w - _width(c)) + c
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()

        lines.append(fmt(header))
        lines.append("  ".join("-" * w for w in widths))
        lines.extend(fmt(cells) for cells in table)
    return "\n".join(lines) + "\n"


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
