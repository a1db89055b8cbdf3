"""A KPI report as data and as text: the `Report` value, its JSON / CSV forms and the
terminal table (definitions of every figure: docs/kpis.md)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from db.kpi_math import KpiRow
from db.kpis import Interval

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
