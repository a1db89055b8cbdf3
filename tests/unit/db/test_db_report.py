"""Report rendering (pure): table alignment with Japanese, CSV/JSON shapes, time parsing."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from db.kpi_math import KpiRow, RawCounts, period_totals
from db.report import parse_time
from db.report_render import Report, _width, row_values, to_csv, to_json, to_table

T0 = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def _report() -> Report:
    rows = (
        KpiRow(
            "queue",
            "営業",
            T0,
            T0 + timedelta(hours=1),
            RawCounts(
                offered=4,
                answered=3,
                answered_within_sl=3,
                answer_wait_s=30,
                handled=3,
                talk_s=300,
                wrap_s=30,
                abandoned_queue=1,
            ),
        ),
        KpiRow("queue", "support", T0, T0 + timedelta(hours=1), RawCounts()),
        KpiRow(
            "agent",
            "1001",
            T0,
            T0 + timedelta(hours=1),
            RawCounts(answered=3, handled=3, talk_s=300, busy_s=330, ready_s=3270),
        ),
        KpiRow("total", "*", T0, T0 + timedelta(hours=1), RawCounts(offered=4, answered=3)),
    )
    return Report(
        T0,
        T0 + timedelta(hours=1),
        "hour",
        "Asia/Tokyo",
        {"営業": 20},
        20.0,
        5.0,
        rows,
        tuple(period_totals(rows)),
    )


def test_table_columns_line_up_with_wide_characters() -> None:
    lines = to_table(_report()).splitlines()
    queue_block = lines[lines.index("Queues") + 1 : lines.index("Queues") + 5]
    header, rule, japanese, english = queue_block
    widths = {_width(line) for line in (header, rule, japanese, english)}
    assert len(widths) == 1  # every line of the block is equally wide on a terminal
    assert japanese.startswith("2026-04-01 09:00  営業 ")  # shown in the report's time zone
    assert "75.0" in japanese  # SL 3/4 in percent
    assert rule.startswith("-")


def test_agent_rows_leave_queue_figures_empty() -> None:
    values = row_values(_report().rows[2])
    assert values["offered"] is None and values["service_level"] is None
    assert values["occupancy"] == round(330 / 3600, 4)
    assert row_values(_report().rows[0])["occupancy"] is None


def test_csv_and_json_shapes() -> None:
    report = _report()
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert len(rows) == 8 and rows[0]["key"] == "営業" and rows[-1]["start"] == ""
    assert rows[1]["service_level"] == ""  # nothing offered: empty, not 0
    body = json.loads(to_json(report))
    assert body["service_level_thresholds_s"] == {"default": 20.0, "営業": 20}
    assert body["rows"][0]["aht_s"] == 110.0


def test_parse_time() -> None:
    assert parse_time("2026-04-01", "Asia/Tokyo") == datetime(2026, 3, 31, 15, tzinfo=UTC)
    assert parse_time("2026-04-01T09:00:00+00:00", "Asia/Tokyo") == T0 + timedelta(hours=9)
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_time("last tuesday", "UTC")
