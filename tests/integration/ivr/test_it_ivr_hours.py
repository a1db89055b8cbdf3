"""After-hours and closed-day routing on the shared stack, at the real time: test-only
flows and numbers are added to the stack's config copy and reloaded (then removed again),
so the demo schedule (open around the clock) and other tests are untouched.

- 190: schedule with no opening hours at all: closed -> message and hang-up;
- 191: open around the clock but today (and tomorrow, for a run across midnight) is an
  admin closed day: holiday -> voicemail;
- 192: open around the clock, Japanese public holidays on: holiday if today is one in
  Tokyo (ivr.jp_holidays decides), else open -> queue.
The fixed-clock holiday (2026-11-23, 勤労感謝の日) is in test_it_ivr_clock.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from ivr_it_helpers import (
    AmiWatch,
    Caller,
    add_hours_flows,
    reload_service,
    start_callers,
    stop_callers,
    wait_dialplan,
    wait_no_channels,
)

from bench.harness.caller import CallerScript
from ivr.jp_holidays import is_holiday
from madoguchi.stack.runner import Stack
from tests.polling import wait_for

ALL_DAY = "\n".join(
    f'{d} = ["00:00-24:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)
TOKYO = ZoneInfo("Asia/Tokyo")
SCRIPTS = {
    "closed": CallerScript("190", "0399003001", hangup_after_ms=None, max_wait_ms=30_000),
    "closed_day": CallerScript("191", "0399003002", hangup_after_ms=10_000),
    "public_holiday": CallerScript("192", "0399003003", hangup_after_ms=10_000),
}


@pytest.fixture(scope="module")
def calls(
    stack: Stack, ami: AmiWatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Caller]]:
    config = stack.paths.config
    saved = tmp_path_factory.mktemp("config-saved")
    for name in ("calendar.toml", "numbers.toml"):
        shutil.copy(config / name, saved / name)
    today = datetime.now(TOKYO).date()
    days = f'["{today.isoformat()}", "{(today + timedelta(days=1)).isoformat()}"]'
    add_hours_flows(
        config,
        {
            "never": "japanese_holidays = false",
            "dayoff": f"{ALL_DAY}\njapanese_holidays = false\nclosed = {days}",
            "jp": f"{ALL_DAY}\njapanese_holidays = true",
        },
        {"190": "never", "191": "dayoff", "192": "jp"},
    )
    callers: dict[str, Caller] = {}
    try:
        reload_service(stack)
        for number in ("190", "191", "192"):
            wait_dialplan(stack, number)
        callers = start_callers(list(SCRIPTS.items()), tmp_path_factory.mktemp("hours"))
        yield callers
    finally:
        stop_callers(callers.values(), finish_within=60)
        for name in ("calendar.toml", "numbers.toml"):
            shutil.copy(saved / name, config / name)
        for flow in ("never", "dayoff", "jp"):
            (config / "ivr" / f"it_{flow}.toml").unlink(missing_ok=True)
        reload_service(stack)
        wait_no_channels(stack)


async def _ended_record(db: asyncpg.Connection, number: str) -> asyncpg.Record:
    async def found() -> asyncpg.Record | None:
        return await db.fetchrow(
            "SELECT * FROM calls WHERE caller_number = $1 AND outcome IS NOT NULL", number
        )

    row: asyncpg.Record = await wait_for(f"the ended call of {number}", found, within=40)
    return row


def _path(row: asyncpg.Record) -> list[tuple[str, str, str | None]]:
    import json

    steps = row["ivr_path"]
    steps = json.loads(steps) if isinstance(steps, str) else steps
    return [(s["node"], s["kind"], s.get("value")) for s in steps]


async def test_outside_opening_hours_the_caller_hears_closed_and_is_hung_up(
    calls: dict[str, Caller], ami: AmiWatch, db: asyncpg.Connection
) -> None:
    caller = calls["closed"]
    # The caller waits for Asterisk's BYE: exit 0 means the IVR ended the call itself.
    assert await caller.finished(40) == 0, caller.process.errors()[-1500:]
    row = await _ended_record(db, caller.number)
    assert row["outcome"] == "ivr_completed"
    assert _path(row) == [("hours", "hours", "closed")]
    assert ami.for_caller(caller.number) == []


async def test_on_an_admin_closed_day_the_caller_reaches_voicemail(
    calls: dict[str, Caller], ami: AmiWatch, db: asyncpg.Connection
) -> None:
    caller = calls["closed_day"]
    assert await caller.finished(40) == 0, caller.process.errors()[-1500:]
    row = await _ended_record(db, caller.number)
    assert row["outcome"] == "voicemail"
    assert _path(row) == [("hours", "hours", "holiday")]
    assert ami.for_caller(caller.number) == []


async def test_japanese_public_holidays_follow_the_tokyo_calendar(
    calls: dict[str, Caller], ami: AmiWatch, db: asyncpg.Connection
) -> None:
    caller = calls["public_holiday"]
    if is_holiday(datetime.now(TOKYO).date()):
        assert await caller.finished(40) == 0, caller.process.errors()[-1500:]
        row = await _ended_record(db, caller.number)
        assert (row["outcome"], _path(row)) == ("voicemail", [("hours", "hours", "holiday")])
    else:
        e = await ami.wait_for_caller(caller.number)
        assert (e.queue, e.steps()) == ("support", [("hours", "hours", "open")])
