"""The KPI report page in headless Chromium: sign in, tables, SVG charts, hostile text as text."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from cti_browser_support import ARTIFACTS, watch_errors
from cti_memory_ports import MemoryFloor, memory_app
from playwright.async_api import Browser, Page, expect

from cti.hub import Hub
from cti.ports import JsonObject
from cti.server import start_cti

TZ = "Asia/Tokyo"
HOSTILE = "<img src=x onerror=alert(1)>"
# queue key -> (display name, offered per hour from 09:00); the figures look like a small floor.
QUEUES = {
    "support": ("サポート窓口", [4, 9, 12, 10, 6, 8, 11, 7, 3]),
    "販売": ("販売", [2, 3, 5, 4, 2, 3, 6, 2, 1]),
    HOSTILE: (HOSTILE, [1, 0, 2, 0, 0, 1, 0, 0, 0]),
}
AGENTS = {"1001": "山田 花子", "1003": "佐藤 次郎", "1004": HOSTILE}


def _queue_row(
    key: str, start: datetime | None, end: datetime | None, offered: int
) -> dict[str, Any]:
    abandoned = offered // 4
    answered = offered - abandoned
    within = max(0, answered - offered // 5)
    return {
        "dimension": "queue", "key": key,
        "start": None if start is None else start.isoformat(),
        "end": None if end is None else end.isoformat(),
        "offered": offered, "answered": answered, "abandoned": abandoned,
        "abandoned_ivr": 0, "abandoned_queue": abandoned, "abandoned_ringing": 0,
        "short_abandons": 0, "answered_within_sl": within,
        "service_level": None if offered == 0 else round(within / max(1, offered), 4),
        "abandon_rate": None if offered == 0 else round(abandoned / offered, 4),
        "asa_s": None if answered == 0 else 12.5 + offered,
        "aht_s": None if answered == 0 else 184.2,
        "occupancy": None,
    }  # fmt: skip


def _sum(key: str, dimension: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    total = _queue_row(key, None, None, sum(r["offered"] for r in rows))
    total["dimension"] = dimension
    if dimension == "total":
        total["occupancy"] = 0.6125
    return total


def realistic_report(start: datetime, end: datetime, interval: str) -> dict[str, Any]:
    """Hourly figures from 09:00 JST on the day of `end`, shaped like db.report.to_dict."""
    zone = ZoneInfo(TZ)
    day = end.astimezone(zone).replace(hour=9, minute=0, second=0, microsecond=0)
    rows: list[dict[str, Any]] = []
    totals: list[dict[str, Any]] = []
    per_hour: list[list[dict[str, Any]]] = [[] for _ in range(9)]
    for key, (_, offered) in QUEUES.items():
        qrows = [
            _queue_row(key, day + timedelta(hours=h), day + timedelta(hours=h + 1), n)
            for h, n in enumerate(offered)
        ]
        rows += qrows
        for h, row in enumerate(qrows):
            per_hour[h].append(row)
        totals.append(_sum(key, "queue", qrows))
    for h, group in enumerate(per_hour):
        row = _sum("*", "total", group)
        row["start"] = (day + timedelta(hours=h)).isoformat()
        row["end"] = (day + timedelta(hours=h + 1)).isoformat()
        rows.append(row)
    totals.append(_sum("*", "total", [r for r in rows if r["dimension"] == "queue"]))
    for i, agent in enumerate(AGENTS):
        totals.append({
            "dimension": "agent", "key": agent, "start": None, "end": None, "offered": None,
            "answered": 14 - 4 * i, "handled": 15 - 4 * i, "aht_s": 170.0 + 20 * i,
            "talk_s": 1900.0 - 300 * i, "wrap_s": 310.0, "transfer_rate": 0.0667 * i,
            "occupancy": 0.71 - 0.1 * i, "service_level": None, "asa_s": None, "abandoned": None,
        })  # fmt: skip
    return {
        "start": start.isoformat(), "end": end.isoformat(), "interval": interval, "timezone": TZ,
        "service_level_thresholds_s": {"default": 20.0, "support": 20.0, "販売": 30.0},
        "short_abandon_s": 5.0, "rows": rows, "totals": totals,
        "labels": {"queue": {k: v[0] for k, v in QUEUES.items()}, "agent": AGENTS},
    }  # fmt: skip


class MemoryReports:
    timezone = TZ

    def __init__(self) -> None:
        self.asked: list[tuple[datetime, datetime, str]] = []

    async def report(self, start: datetime, end: datetime, interval: str) -> JsonObject:
        self.asked.append((start, end, interval))
        return realistic_report(start, end, interval)


@dataclass
class ReportsCti:
    url: str
    reports: MemoryReports


@pytest.fixture
async def reports_cti() -> AsyncIterator[ReportsCti]:
    hub = Hub(clock=time.time)
    floor = MemoryFloor(hub, time.time)
    reports = MemoryReports()
    app = memory_app(floor, reports=reports)
    runner: web.AppRunner = await start_cti(app, "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    try:
        yield ReportsCti(f"http://{host}:{port}", reports)
    finally:
        await runner.cleanup()


async def sign_in(page: Page, url: str, user: str, password: str) -> None:
    await page.goto(url + "/reports")
    await page.fill("#login-user", user)
    await page.fill("#login-password", password)
    await page.click("#login button[type=submit]")


async def test_supervisor_sees_tables_and_charts_with_hostile_text_as_text(
    reports_cti: ReportsCti, browser: Browser
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch_errors(page)
    await sign_in(page, reports_cti.url, "admin", "superpw")

    queues = page.locator("#queue-rows tr")
    await expect(queues).to_have_count(4)  # three queues and all calls
    support = page.locator("#queue-rows tr[data-queue='support']")
    await expect(support).to_contain_text("サポート窓口 (support)")
    # support: 70 offered, 17 abandoned (sum of n // 4 per hour... summed then // 4 here)
    cells = support.locator("td")
    await expect(cells.nth(1)).to_have_text("70")
    await expect(cells.nth(2)).to_have_text("53")
    await expect(cells.nth(3)).to_have_text("17")
    await expect(cells.nth(4)).to_have_text("55.7 %")  # (53 - 14) / 70
    await expect(cells.nth(5)).to_have_text("1:22")  # ASA 82.5 s
    await expect(cells.nth(6)).to_have_text("3:04")
    await expect(page.locator("#queue-rows tr[data-queue='販売']")).to_contain_text("販売")
    hostile_queue = page.locator("#queue-rows tr").nth(2).locator("td").first
    await expect(hostile_queue).to_have_text(HOSTILE)
    await expect(page.locator("#queue-rows tr[data-queue='*']")).to_contain_text("61.3 %")

    agents = page.locator("#agent-rows tr")
    await expect(agents).to_have_count(3)
    await expect(page.locator("tr[data-agent='1001']")).to_contain_text("山田 花子")
    await expect(page.locator("tr[data-agent='1001'] td").nth(8)).to_have_text("71.0 %")
    await expect(page.locator("tr[data-agent='1004'] td").nth(1)).to_have_text(HOSTILE)

    # Charts: 9 hours x 3 series of bars, and the SL line with one point per hour with calls.
    await expect(page.locator("#volume-svg rect.bar")).to_have_count(27)
    await expect(page.locator("#volume-svg text", has_text="09:00")).to_have_count(1)
    await expect(page.locator("#sl-svg polyline.sl-line")).to_have_count(1)
    await expect(page.locator("#sl-svg circle.sl-point")).to_have_count(9)
    # The hostile key became no element anywhere, and no script ran.
    assert await page.locator("img").count() == 0
    await page.screenshot(path=ARTIFACTS / "reports.png", full_page=True)

    # A queue's own chart: the hostile queue had calls in 3 hours only.
    await page.select_option("#chart-key", HOSTILE)
    await expect(page.locator("#sl-svg circle.sl-point")).to_have_count(3)
    await expect(page.locator("#chart-key option", has_text=HOSTILE)).to_have_count(1)
    assert errors == []


async def test_the_form_asks_for_the_chosen_period_and_shows_server_errors(
    reports_cti: ReportsCti, browser: Browser
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch_errors(page)
    await sign_in(page, reports_cti.url, "admin", "superpw")
    await expect(page.locator("#queue-rows tr")).to_have_count(4)
    assert len(reports_cti.reports.asked) == 1
    start, end, interval = reports_cti.reports.asked[0]
    assert (end - start, interval) == (timedelta(hours=24), "hour")
    await expect(page.locator("#from")).to_have_value(start.isoformat()[:16])

    await page.fill("#from", "2026-11-20T09:00")
    await page.fill("#to", "2026-11-20T18:00")
    await page.select_option("#interval", "15min")
    await page.click("#show")
    await expect(page.locator("#interval")).to_have_value("15min")
    zone = ZoneInfo(TZ)
    assert reports_cti.reports.asked[-1] == (
        datetime(2026, 11, 20, 9, tzinfo=zone),
        datetime(2026, 11, 20, 18, tzinfo=zone),
        "15min",
    )

    await page.fill("#from", "2026-11-20T19:00")
    await page.click("#show")
    await expect(page.locator("#report-error")).to_contain_text("from must be before to")
    assert len(reports_cti.reports.asked) == 2
    await page.screenshot(path=ARTIFACTS / "reports-bad-period.png")
    assert errors == [m for m in errors if "400" in m]  # only the refused request's console line


async def test_only_supervisors_get_in(reports_cti: ReportsCti, browser: Browser) -> None:
    page = await browser.new_page()
    # The form signs in supervisors: an agent's id and password are not a supervisor's.
    await sign_in(page, reports_cti.url, "1001", "pw1001")
    await expect(page.locator("#login-error")).to_contain_text("Wrong ID or password")
    await expect(page.locator("#report")).to_be_hidden()
    assert reports_cti.reports.asked == []
