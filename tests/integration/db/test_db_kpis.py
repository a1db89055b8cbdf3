"""KPI queries against a hand-computed fixture (see the comments for every expected figure)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from db.kpi_math import KpiRow
from db.record_sql import apply_records
from db.records import build_agent_state, build_call_update
from db.report import build_report, run_report_cli
from db.report_render import to_csv, to_json, to_table

pytestmark = pytest.mark.integration

H9 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def at(hms: str) -> datetime:
    h, m, s = (int(x) for x in hms.split(":"))
    return H9.replace(hour=h, minute=m, second=s)


CALLS = {
    # sales (threshold 20 s)
    "s1": dict(
        queue="sales",
        entered_queue=at("09:00:00"),
        answered=at("09:00:10"),
        ended=at("09:03:10"),
        wrapup_ended=at("09:03:40"),
        agent_id="1001",
        outcome="answered",
    ),  # wait 10 (in SL), talk 180, wrap 30
    "s2": dict(
        queue="sales",
        entered_queue=at("09:10:00"),
        answered=at("09:10:30"),
        ended=at("09:15:30"),
        wrapup_ended=at("09:16:00"),
        agent_id="1002",
        outcome="answered",
        transferred=True,
    ),  # wait 30 (late), talk 300, wrap 30
    "s3": dict(
        queue="sales", entered_queue=at("09:20:00"), ended=at("09:20:03"), outcome="abandoned_queue"
    ),  # short abandon (3 s)
    "s4": dict(
        queue="sales", entered_queue=at("09:30:00"), ended=at("09:31:00"), outcome="abandoned_queue"
    ),
    "s5": dict(
        queue="sales",
        entered_queue=at("09:50:00"),
        offered=at("09:50:05"),
        ended=at("09:50:12"),
        outcome="abandoned_ringing",
    ),
    "s6": dict(
        queue="sales",
        entered_queue=at("09:59:50"),
        answered=at("10:00:05"),
        ended=at("10:10:05"),
        wrapup_ended=at("10:11:05"),
        agent_id="1001",
        outcome="answered",
    ),  # spans 10:00; wait 15 (in SL), talk 600, wrap 60
    "s7": dict(
        queue="sales",
        entered_queue=at("09:40:00"),
        ended=at("09:41:00"),
        outcome="callback",
        callback=True,
    ),
    # support (default threshold 30 s)
    "p1": dict(
        queue="support",
        entered_queue=at("10:05:00"),
        answered=at("10:05:20"),
        ended=at("10:07:20"),
        agent_id="1003",
        outcome="answered",
    ),  # no wrap-up
    # IVR only
    "i1": dict(entered_ivr=at("09:05:00"), ended=at("09:05:30"), outcome="abandoned_ivr"),
    "i2": dict(entered_ivr=at("10:30:00"), ended=at("10:31:00"), outcome="ivr_completed"),
    # IVR call recorded without its IVR start time: attributed to when it ended
    "i3": dict(ended=at("11:10:00"), outcome="abandoned_ivr"),
    # outside 09:00-12:00
    "o1": dict(
        queue="sales",
        entered_queue=at("08:59:59"),
        answered=at("09:00:30"),
        agent_id="1001",
        outcome="answered",
    ),
    "o2": dict(queue="sales", entered_queue=at("12:00:00"), outcome="abandoned_queue"),
}

STATES = [  # agent, state, reason, start, end
    ("1001", "ready", None, "09:00:00", "09:00:10"),
    ("1001", "on_call", None, "09:00:10", "09:03:10"),
    ("1001", "wrap_up", None, "09:03:10", "09:03:40"),
    ("1001", "ready", None, "09:03:40", "09:59:55"),
    ("1001", "reserved", None, "09:59:55", "10:00:05"),  # 5 s in each hour
    ("1001", "on_call", None, "10:00:05", "10:10:05"),
    ("1001", "wrap_up", None, "10:10:05", "10:11:05"),
    ("1001", "not_ready", "lunch", "10:11:05", None),  # open: clipped at as_of 12:00
    ("1003", "ready", None, "10:00:00", "10:05:20"),
    ("1003", "on_call", None, "10:05:20", "10:07:20"),
    ("1003", "ready", None, "10:07:20", "10:30:00"),
]


@pytest.fixture
async def kpi_pool(pool: asyncpg.Pool) -> asyncpg.Pool:
    records = [build_call_update(cid, fields)[0] for cid, fields in CALLS.items()]
    records += [
        build_agent_state(a, s, r, at(b), None if e is None else at(e)) for a, s, r, b, e in STATES
    ]
    async with pool.acquire() as conn:
        await apply_records(conn, records)  # type: ignore[arg-type]
    return pool


def pick(rows: tuple[KpiRow, ...], dimension: str, key: str, hour: int) -> KpiRow:
    found = [
        r
        for r in rows
        if r.dimension == dimension
        and r.key == key
        and r.start is not None
        and r.start.hour == hour
    ]
    assert len(found) == 1, (dimension, key, hour)
    return found[0]


async def _report(pool: asyncpg.Pool, interval: str = "hour", **kw: object):  # type: ignore[no-untyped-def]
    return await build_report(
        pool,
        H9,
        H9 + timedelta(hours=3),
        interval,  # type: ignore[arg-type]
        service_levels={"sales": 20},
        default_service_level=30,
        as_of=H9 + timedelta(hours=3),
        **kw,
    )


async def test_hourly_queue_kpis(kpi_pool: asyncpg.Pool) -> None:
    report = await _report(kpi_pool, queues=["billing"])
    sales9 = pick(report.rows, "queue", "sales", 9)
    raw = sales9.raw
    assert (raw.offered, raw.answered, raw.answered_within_sl) == (7, 3, 2)
    assert (raw.abandoned_queue, raw.abandoned_ringing, raw.short_abandons) == (2, 1, 1)
    assert raw.abandoned_ivr == 0 and raw.callbacks == 1 and raw.transferred == 1
    assert sales9.service_level == pytest.approx(2 / 6)
    assert sales9.asa_s == pytest.approx((10 + 30 + 15) / 3)
    assert sales9.aht_s == pytest.approx((180 + 300 + 600 + 30 + 30 + 60) / 3)
    assert sales9.transfer_rate == pytest.approx(1 / 3)
    assert sales9.abandon_rate == pytest.approx(3 / 7)
    for hour in (10, 11):  # empty intervals still appear
        empty = pick(report.rows, "queue", "sales", hour)
        assert empty.raw.offered == 0 and empty.service_level is None and empty.asa_s is None
    support10 = pick(report.rows, "queue", "support", 10)
    assert (support10.raw.offered, support10.raw.answered_within_sl) == (1, 1)  # 20 s <= 30 s
    assert support10.aht_s == pytest.approx(120) and support10.service_level == 1.0
    assert pick(report.rows, "queue", "support", 9).raw.offered == 0
    assert pick(report.rows, "queue", "billing", 11).raw.offered == 0  # listed, no calls
    assert len([r for r in report.rows if r.dimension == "queue"]) == 9  # 3 queues x 3 hours


async def test_hourly_totals_and_ivr_abandons(kpi_pool: asyncpg.Pool) -> None:
    report = await _report(kpi_pool)
    total9 = pick(report.rows, "total", "*", 9)
    assert (total9.raw.offered, total9.raw.answered, total9.raw.abandoned_ivr) == (7, 3, 1)
    assert total9.abandoned == 4
    total10 = pick(report.rows, "total", "*", 10)
    assert (total10.raw.offered, total10.raw.abandoned_ivr) == (1, 0)  # i2 completed in IVR
    total11 = pick(report.rows, "total", "*", 11)
    assert (total11.raw.offered, total11.raw.abandoned_ivr) == (0, 1)
    # occupancy of all agents: 10:00 hour busy 5+600+60 (1001) + 120 (1003); ready 320+1360
    assert total10.raw.busy_s == pytest.approx(785)
    assert total10.raw.ready_s == pytest.approx(1680)
    assert total10.occupancy == pytest.approx(785 / 2465)
    period = next(r for r in report.totals if r.dimension == "total")
    assert (period.raw.offered, period.raw.answered, period.raw.abandoned_ivr) == (8, 4, 2)
    assert period.service_level == pytest.approx(3 / 7)


async def test_hourly_agent_kpis_split_state_time_at_boundaries(kpi_pool: asyncpg.Pool) -> None:
    report = await _report(kpi_pool, agents=["1004"])
    a9 = pick(report.rows, "agent", "1001", 9)
    assert (a9.raw.answered, a9.raw.handled) == (2, 2)  # s1 and s6 (entered queue at 09:59:50)
    assert a9.aht_s == pytest.approx((180 + 600 + 30 + 60) / 2)
    assert (a9.raw.busy_s, a9.raw.ready_s) == (pytest.approx(215), pytest.approx(3385))
    assert a9.occupancy == pytest.approx(215 / 3600)
    a10 = pick(report.rows, "agent", "1001", 10)
    assert a10.raw.answered == 0
    assert (a10.raw.busy_s, a10.raw.ready_s, a10.raw.not_ready_s) == (
        pytest.approx(665),
        0,
        pytest.approx(2935),
    )
    assert a10.occupancy == 1.0
    a11 = pick(report.rows, "agent", "1001", 11)
    assert a11.raw.not_ready_s == pytest.approx(3600) and a11.occupancy is None
    b9 = pick(report.rows, "agent", "1002", 9)
    assert (b9.raw.answered, b9.raw.transferred, b9.transfer_rate) == (1, 1, 1.0)
    assert pick(report.rows, "agent", "1004", 10).raw.answered == 0
    assert {r.key for r in report.rows if r.dimension == "agent"} == {
        "1001",
        "1002",
        "1003",
        "1004",
    }


async def test_quarter_hour_buckets(kpi_pool: asyncpg.Pool) -> None:
    report = await _report(kpi_pool, interval="15min")
    sales = [r for r in report.rows if r.dimension == "queue" and r.key == "sales"]
    assert len(sales) == 12
    assert [r.raw.offered for r in sales[:4]] == [2, 1, 2, 2]  # s1 s2 | s3 | s4 s7 | s5 s6
    assert sales[3].start == at("09:45:00") and sales[3].raw.answered == 1
    assert all(r.raw.offered == 0 for r in sales[4:])


async def test_day_buckets_follow_the_report_timezone(kpi_pool: asyncpg.Pool) -> None:
    # 2026-04-01 15:30 UTC is 2026-04-02 00:30 in Tokyo: the second Tokyo day.
    extra, _ = build_call_update("late", {"queue": "sales", "entered_queue": at("15:30:00")})
    async with kpi_pool.acquire() as conn:
        await apply_records(conn, [extra])
    start = datetime(2026, 3, 31, 15, 0, tzinfo=UTC)  # 2026-04-01 00:00 JST
    report = await build_report(
        kpi_pool,
        start,
        start + timedelta(days=3),
        "day",
        tz="Asia/Tokyo",
        as_of=start + timedelta(days=3),
    )
    days = [r for r in report.rows if r.dimension == "queue" and r.key == "sales"]
    assert [r.start for r in days] == [start + timedelta(days=i) for i in range(3)]
    # day 1: s1-s7 and o1 (08:59:59 UTC is 17:59:59 JST) and o2 (12:00 UTC = 21:00 JST)
    assert [r.raw.offered for r in days] == [9, 1, 0]


async def test_renderers_and_cli(kpi_pool: asyncpg.Pool, dsn: str, tmp_path: Path) -> None:
    report = await _report(kpi_pool)
    body = json.loads(to_json(report))
    assert len(body["rows"]) == len(report.rows) and body["interval"] == "hour"
    sales9 = next(
        r for r in body["rows"] if r["key"] == "sales" and r["start"] == "2026-04-01T09:00:00+00:00"
    )
    assert sales9["service_level"] == round(2 / 6, 4) and sales9["asa_s"] == 18.3
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert len(rows) == len(report.rows) + len(report.totals)
    table = to_table(report)
    assert "Queues" in table and "Agents" in table and "period total" in table

    out = io.StringIO()
    code = await asyncio.to_thread(
        run_report_cli,
        dsn,
        "2026-04-01T09:00:00+00:00",
        "2026-04-01T12:00:00+00:00",
        "json",
        None,
        "15min",  # interval may be passed positionally (madoguchi report does)
        out=out,
    )
    assert code == 0
    body = json.loads(out.getvalue())
    assert body["interval"] == "15min"
    assert len(body["rows"]) == 12 * 6  # sales, support, agents 1001-1003, total
    target = tmp_path / "kpis.csv"
    code = await asyncio.to_thread(
        run_report_cli,
        dsn,
        "2026-04-01",
        "2026-04-02",
        "csv",
        target,
        interval="day",
        tz="Asia/Tokyo",
        out=io.StringIO(),
    )
    assert code == 0 and target.read_text().startswith("dimension,key,")
    code = await asyncio.to_thread(
        run_report_cli, dsn, "yesterday", None, "table", None, out=io.StringIO()
    )
    assert code == 1


async def test_japanese_queue_names_in_reports(pool: asyncpg.Pool) -> None:
    update, _ = build_call_update("j1", {"queue": "営業", "entered_queue": H9})
    async with pool.acquire() as conn:
        await apply_records(conn, [update])
    report = await _report(pool)
    assert pick(report.rows, "queue", "営業", 9).raw.offered == 1
    assert "営業" in to_table(report) and "営業" in to_json(report)
