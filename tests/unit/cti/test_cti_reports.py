"""GET /api/reports and /reports: roles, parameter checks, the source's JSON passed through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cti_memory_ports import FakeClock, MemoryFloor, memory_app

from cti.hub import Hub
from cti.ports import JsonObject, ReportUnavailable

TOKYO = ZoneInfo("Asia/Tokyo")


class MemoryReports:
    """Answers with a fixed body and records what it was asked."""

    timezone = "Asia/Tokyo"

    def __init__(self) -> None:
        self.asked: list[tuple[datetime, datetime, str]] = []
        self.fail = False

    async def report(self, start: datetime, end: datetime, interval: str) -> JsonObject:
        self.asked.append((start, end, interval))
        if self.fail:
            raise ReportUnavailable("the database is unreachable (OSError)")
        return {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "interval": interval,
            "timezone": self.timezone,
            "rows": [{"dimension": "queue", "key": "サポート", "offered": 3, "answered": 2}],
            "totals": [{"dimension": "queue", "key": "<img src=x onerror=alert(1)>"}],
        }


async def _client(reports: MemoryReports | None, clock: FakeClock) -> TestClient[Any, Any]:
    hub = Hub(clock=clock)
    floor = MemoryFloor(hub, clock)
    app = memory_app(floor, clock=clock, reports=reports)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
def reports() -> MemoryReports:
    return MemoryReports()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(reports: MemoryReports, clock: FakeClock) -> AsyncIterator[TestClient[Any, Any]]:
    client = await _client(reports, clock)
    yield client
    await client.close()


async def _token(client: TestClient[Any, Any], role: str, user: str, password: str) -> str:
    resp = await client.post("/api/login", json={role: user, "password": password})
    assert resp.status == 200, await resp.text()
    token: str = (await resp.json())["token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_without_token_is_401(client: TestClient[Any, Any], reports: MemoryReports) -> None:
    resp = await client.get("/api/reports")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert reports.asked == []


async def test_agent_is_403(client: TestClient[Any, Any], reports: MemoryReports) -> None:
    token = await _token(client, "agent", "1001", "pw1001")
    resp = await client.get("/api/reports", headers=_bearer(token))
    assert resp.status == 403
    assert (await resp.json())["error"] == "forbidden"
    assert reports.asked == []


async def test_supervisor_gets_the_source_json_unchanged(
    client: TestClient[Any, Any], reports: MemoryReports
) -> None:
    token = await _token(client, "supervisor", "admin", "superpw")
    resp = await client.get(
        "/api/reports?from=2026-11-20T09:00&to=2026-11-20T18:00:00%2B09:00&interval=15min",
        headers=_bearer(token),
    )
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "application/json"
    body = await resp.json()
    start = datetime(2026, 11, 20, 9, tzinfo=TOKYO)
    end = datetime(2026, 11, 20, 18, tzinfo=TOKYO)
    assert reports.asked == [(start, end, "15min")]
    assert body == {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "interval": "15min",
        "timezone": "Asia/Tokyo",
        "rows": [{"dimension": "queue", "key": "サポート", "offered": 3, "answered": 2}],
        "totals": [{"dimension": "queue", "key": "<img src=x onerror=alert(1)>"}],
    }
    # Japanese goes out as UTF-8, not as \\u escapes.
    assert "サポート".encode() in await resp.read()


async def test_times_with_another_offset_are_converted_to_the_report_zone(
    client: TestClient[Any, Any], reports: MemoryReports
) -> None:
    token = await _token(client, "supervisor", "admin", "superpw")
    resp = await client.get(
        "/api/reports",
        params={"from": "2026-11-20T00:00:00Z", "to": "2026-11-21", "interval": "day"},
        headers=_bearer(token),
    )
    assert resp.status == 200, await resp.text()
    start, end, interval = reports.asked[0]
    assert (start, end, interval) == (
        datetime(2026, 11, 20, 9, tzinfo=TOKYO),
        datetime(2026, 11, 21, 0, tzinfo=TOKYO),
        "day",
    )
    assert start.utcoffset() == timedelta(hours=9)


async def test_default_is_the_last_24_hours_per_hour(
    client: TestClient[Any, Any], reports: MemoryReports, clock: FakeClock
) -> None:
    token = await _token(client, "supervisor", "admin", "superpw")
    resp = await client.get("/api/reports", headers=_bearer(token))
    assert resp.status == 200
    start, end, interval = reports.asked[0]
    assert end == datetime.fromtimestamp(clock.now, TOKYO)
    assert end - start == timedelta(hours=24)
    assert interval == "hour"
    assert end.tzinfo is not None and end.utcoffset() == timedelta(hours=9)


@pytest.mark.parametrize(
    "query,field,words",
    [
        ({"interval": "week"}, "interval", "interval must be one of 15min, hour, day"),
        ({"interval": "<b>"}, "interval", "interval must be one of"),
        ({"from": "yesterday"}, "from", "from must be an ISO 8601"),
        ({"to": "2026-13-01"}, "to", "to must be an ISO 8601"),
        ({"from": "2026-11-20T10:00", "to": "2026-11-20T09:00"}, "from", "before"),
        ({"from": "2026-11-20T10:00", "to": "2026-11-20T10:00"}, "from", "before"),
        (
            {"from": "2026-01-01", "to": "2026-03-01", "interval": "15min"},
            "to",
            "at most 14 days",
        ),
        ({"from": "2020-01-01", "to": "2026-01-01", "interval": "day"}, "to", "at most 400"),
    ],
)
async def test_bad_parameters_are_400_with_a_clear_message(
    client: TestClient[Any, Any],
    reports: MemoryReports,
    query: dict[str, str],
    field: str,
    words: str,
) -> None:
    token = await _token(client, "supervisor", "admin", "superpw")
    resp = await client.get("/api/reports", params=query, headers=_bearer(token))
    assert resp.status == 400
    body = await resp.json()
    assert body["error"] == "bad_request"
    assert body["field"] == field
    assert words in body["message"]
    assert reports.asked == []


async def test_unavailable_source_is_503(
    client: TestClient[Any, Any], reports: MemoryReports
) -> None:
    reports.fail = True
    token = await _token(client, "supervisor", "admin", "superpw")
    resp = await client.get("/api/reports", headers=_bearer(token))
    assert resp.status == 503
    body = await resp.json()
    assert body["error"] == "unavailable" and "unreachable" in body["message"]


async def test_without_a_source_the_endpoint_is_404(clock: FakeClock) -> None:
    client = await _client(None, clock)
    try:
        token = await _token(client, "supervisor", "admin", "superpw")
        resp = await client.get("/api/reports", headers=_bearer(token))
        assert resp.status == 404
    finally:
        await client.close()


async def test_report_page_is_served_with_the_csp(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/reports")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    html = await resp.text()
    assert '<script type="module" src="/static/reports.js"></script>' in html
    js = await client.get("/static/reports.js")
    assert js.status == 200
    # Data only ever goes in as text.
    assert "innerHTML" not in await js.text()
