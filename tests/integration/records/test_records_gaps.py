"""What issue 7 asks of every call record: the number dialled, the IVR entry time, a record even
for the classic AGI IVR. Where the wiring does not provide it yet the test is marked xfail with
the place to fix it (strict: it turns red the day it is fixed, and the mark must go)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from madoguchi.harness.sipp import CallerScript, place_calls

from .calls import wait_callers, wait_finished
from .conftest import Staff


async def test_ivr_call_record_has_the_number_dialled_and_the_ivr_entry_time(
    db: asyncpg.Connection, tmp_path: Path
) -> None:
    script = CallerScript("100", caller_num="0506000001", caller_name="Gap", hangup_after_ms=800)
    wave = place_calls(script, tmp_path / "c")
    try:
        await wait_callers(wave)
    finally:
        wave.stop()
    (row,) = await wait_finished(db, "0506000001", 1)
    assert row["dialled_number"] == "100"
    assert row["entered_ivr_at"] is not None and row["entered_ivr_at"] <= row["ended_at"]


@pytest.mark.xfail(
    strict=True,
    reason=(
        "number 101 (classic AGI, ivr/agi_script.py in Asterisk) reports no IVR outcome to the "
        "service: a caller who hangs up in that IVR leaves no call record at all"
    ),
)
async def test_classic_agi_ivr_abandon_leaves_a_record(
    db: asyncpg.Connection, tmp_path: Path
) -> None:
    script = CallerScript("101", caller_num="0506000002", caller_name="Gap", hangup_after_ms=800)
    wave = place_calls(script, tmp_path / "c")
    try:
        await wait_callers(wave)
    finally:
        wave.stop()
    (row,) = await wait_finished(db, "0506000002", 1, limit=10)
    assert row["outcome"] == "abandoned_ivr"


@pytest.mark.xfail(
    strict=True,
    reason=(
        "calls straight into a queue (200) have no dialled number: the AcdEnqueue UserEvent "
        "(asterisk/etc/extensions.conf madoguchi-wait) carries no DNID, so CallArrived and "
        "madoguchi/wiring/feed.py _record_arrival have none to record"
    ),
)
async def test_queue_call_record_has_the_number_dialled(
    staff: Staff, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await staff("1003", state="pause")
    script = CallerScript("200", caller_num="0506000003", caller_name="Gap", hangup_after_ms=800)
    wave = place_calls(script, tmp_path / "c")
    try:
        await wait_callers(wave)
    finally:
        wave.stop()
    (row,) = await wait_finished(db, "0506000003", 1)
    assert row["outcome"] == "abandoned_queue"
    assert row["dialled_number"] == "200"
