"""What issue 7 asks of every call record: the number dialled, the IVR entry time, a record even
for the classic AGI IVR and for calls straight into a queue."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from bench.harness.caller import CallerScript, Dtmf, Pause

from .calls import run_callers, wait_finished
from .conftest import Staff


async def test_ivr_call_record_has_the_number_dialled_and_the_ivr_entry_time(
    db: asyncpg.Connection, tmp_path: Path
) -> None:
    script = CallerScript("100", caller_num="0506000001", caller_name="Gap", hangup_after_ms=800)
    await run_callers(script, tmp_path / "c")
    (row,) = await wait_finished(db, "0506000001", 1)
    assert row["dialled_number"] == "100"
    assert row["entered_ivr_at"] is not None and row["entered_ivr_at"] <= row["ended_at"]


async def test_classic_agi_ivr_abandon_leaves_a_record(
    db: asyncpg.Connection, tmp_path: Path
) -> None:
    script = CallerScript("101", caller_num="0506000002", caller_name="Gap", hangup_after_ms=800)
    await run_callers(script, tmp_path / "c")
    (row,) = await wait_finished(db, "0506000002", 1, limit=10)
    assert row["outcome"] == "abandoned_ivr"
    assert row["dialled_number"] == "101"
    assert row["entered_ivr_at"] is not None and row["entered_ivr_at"] <= row["ended_at"]


async def test_queue_call_record_has_the_number_dialled(
    staff: Staff, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await staff("1003", state="pause")
    script = CallerScript("200", caller_num="0506000003", caller_name="Gap", hangup_after_ms=800)
    await run_callers(script, tmp_path / "c")
    (row,) = await wait_finished(db, "0506000003", 1)
    assert row["outcome"] == "abandoned_queue"
    assert row["dialled_number"] == "200"


async def test_classic_agi_call_that_queues_keeps_its_ivr_fields(
    staff: Staff, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await staff("1003", state="pause")
    # The classic script starts a Python process per call: leave it time to hand over.
    keys = (Pause(1500), Dtmf("2"), Pause(2500), Dtmf("#"), Pause(7000))
    script = CallerScript(
        "101", caller_num="0506000004", caller_name="Gap", steps=keys, hangup_after_ms=500
    )
    await run_callers(script, tmp_path / "c")
    (row,) = await wait_finished(db, "0506000004", 1)
    assert row["outcome"] == "abandoned_queue"  # the ACD's word, not the IVR's
    assert row["queue"] == "support"
    assert row["dialled_number"] == "101"
    assert row["entered_ivr_at"] is not None
    assert row["entered_ivr_at"] <= row["entered_queue_at"] <= row["ended_at"]
