"""Hostile text through the real path: caller ID (SIPp From display name) and disposition notes
(desktop REST). Stored as sent, or bounded as docs/kpis.md says, or refused with a clear error;
the writer keeps recording calls and rejects nothing."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from bench.harness.caller import CallerScript, place_calls
from bench.harness.sipp_process import SippProcess
from madoguchi.stack.runner import Stack
from tests.polling import wait_for

from .calls import rejected_count, run_callers, wait_callers, wait_finished
from .conftest import Desktop, Staff

SQL_NAME = "1; DROP TABLE calls; -- %_ $1::text ;--"
HTML_NAME = "<script>alert(1)</script><img src=x onerror=alert(1)>&amp;"
LONG_ASCII = "A" * 8192
LONG_JAPANESE = "山" * 2731  # 8193 bytes of UTF-8
CALLER_ID_LIMIT = 256  # db/sanitize.py LIMITS["caller_name"], docs/kpis.md "Stored text"

NOTES_HOSTILE = (
    '\'); DELETE FROM calls; -- "quoted" \\ back\\slash '
    "<script>alert('x')</script> &amp; &lt;\n二行目\tタブ"
)
NOTES_8KB_JAPANESE = "あ" * 2731  # 8193 bytes, under the 4000-character limit of docs/api.md
NOTES_LIMIT = 4000  # docs/api.md: notes at most 4000 characters


async def _pops_by_number(desktop: Desktop, numbers: list[str]) -> dict[str, dict]:
    async def all_popped() -> dict[str, dict] | None:
        pops = {p["caller"]["number"]: p for p in desktop.payloads("call.offered")}
        return pops if all(n in pops for n in numbers) else None

    result: dict[str, dict] = await wait_for("a screen pop per caller", all_popped, 60)
    return result


async def _notes(db: asyncpg.Connection, call_id: str) -> tuple[str | None, str | None]:
    row = await db.fetchrow("SELECT disposition, notes FROM calls WHERE call_id = $1", call_id)
    assert row is not None
    return row["disposition"], row["notes"]


async def test_hostile_caller_ids_and_notes_are_stored_safely_and_the_writer_goes_on(
    stack: Stack, staff: Staff, db: asyncpg.Connection, tmp_path: Path
) -> None:
    rejected = rejected_count(stack.paths.spool)
    agent = await staff("1003", talk_ms=600)
    names = {
        "0504000001": SQL_NAME,
        "0504000002": HTML_NAME,
        "0504000003": LONG_ASCII,
        "0504000004": LONG_JAPANESE,
    }
    callers: list[SippProcess] = []
    try:
        for number, name in names.items():
            script = CallerScript("200", caller_num=number, caller_name=name)
            callers.append(place_calls(script, tmp_path / number))
        # The same names through the IVR (hanging up in the greeting).
        ivr_names = {"0504000011": HTML_NAME, "0504000012": LONG_JAPANESE}
        for number, name in ivr_names.items():
            script = CallerScript("100", caller_num=number, caller_name=name, hangup_after_ms=1000)
            callers.append(place_calls(script, tmp_path / number))
        for wave in callers:
            await wait_callers(wave, limit=90)
    finally:
        for wave in callers:
            wave.stop()

    pops = await _pops_by_number(agent.desktop, list(names))
    for number, sent in names.items():
        (row,) = await wait_finished(db, number, 1, also=("wrapup_ended_at",))
        stored = row["caller_name"]
        assert row["outcome"] == "answered" and row["call_id"] == pops[number]["call_id"]
        if len(sent) <= 64:
            assert stored == sent
        else:  # bounded: a prefix of what was sent, within the documented limit
            assert stored and sent.startswith(stored) and len(stored) <= CALLER_ID_LIMIT, stored
        # The desktop shows what was stored (the pages escape it: textContent).
        assert pops[number]["caller"]["name"] == stored
    for number, sent in ivr_names.items():
        (row,) = await wait_finished(db, number, 1)
        assert row["outcome"] == "abandoned_ivr"
        stored = row["caller_name"]
        assert stored and sent.startswith(stored) and len(stored) <= CALLER_ID_LIMIT, stored

    # -- disposition notes on the desktop's REST API ----------------------------------------
    sql_call = pops["0504000001"]["call_id"]
    html_call = pops["0504000002"]["call_id"]
    long_call = pops["0504000003"]["call_id"]
    jp_call = pops["0504000004"]["call_id"]
    path = "/api/calls/{}/disposition"
    status, body = await agent.desktop.post(
        path.format(sql_call), {"code": "resolved", "notes": NOTES_HOSTILE}
    )
    assert (status, body) == (200, {"ok": True, "data": {"saved": True}}), body
    assert await _notes(db, sql_call) == ("resolved", NOTES_HOSTILE)

    status, body = await agent.desktop.post(
        path.format(jp_call), {"code": "follow_up", "notes": NOTES_8KB_JAPANESE}
    )
    assert status == 200, body
    assert await _notes(db, jp_call) == ("follow_up", NOTES_8KB_JAPANESE)

    # NUL and a lone surrogate (JSON escapes): NUL removed, the surrogate becomes U+FFFD.
    raw = b'{"code": "other", "notes": "a\\u0000b\\ud800c <b>"}'
    status, body = await agent.desktop.post(path.format(html_call), raw=raw)
    assert status == 200, body
    assert await _notes(db, html_call) == ("other", "ab\ufffdc <b>")

    # Refused with a clear error, and nothing changes.
    status, body = await agent.desktop.post(
        path.format(long_call), {"code": "resolved", "notes": "x" * 8192}
    )
    assert status == 400 and body.get("field") == "notes", body
    assert str(NOTES_LIMIT) in str(body)
    status, body = await agent.desktop.post(
        path.format(long_call), raw=b'{"code": "resolved", "notes": "\xff\xfe broken"}'
    )
    assert status == 400, body
    status, body = await agent.desktop.post(
        path.format(long_call), {"code": "resolved'; DROP TABLE calls; --", "notes": ""}
    )
    assert status == 400 and body.get("field") == "code", body
    assert await _notes(db, long_call) == (None, None)
    assert await db.fetchval("SELECT count(*) FROM dispositions WHERE call_id = $1", long_call) == 0

    # The writer still records calls, and refused nothing.
    await run_callers(
        CallerScript("200", caller_num="0504000099", caller_name="After"), tmp_path / "after"
    )
    (row,) = await wait_finished(db, "0504000099", 1, also=("wrapup_ended_at",))
    assert (row["outcome"], row["caller_name"]) == ("answered", "After")
    assert rejected_count(stack.paths.spool) == rejected


async def test_an_apostrophe_in_caller_id_round_trips_on_the_acd_path(
    stack: Stack, staff: Staff, db: asyncpg.Connection, tmp_path: Path
) -> None:
    agent = await staff("1003", talk_ms=300)
    await run_callers(
        CallerScript("200", caller_num="0504000021", caller_name="O'Brien 山田"), tmp_path / "c"
    )
    (row,) = await wait_finished(db, "0504000021", 1)
    pop = (await _pops_by_number(agent.desktop, ["0504000021"]))["0504000021"]
    assert pop["caller"]["name"] == "O'Brien 山田"
    assert row["caller_name"] == "O'Brien 山田"


async def test_an_apostrophe_in_caller_id_round_trips_on_the_ivr_path(
    db: asyncpg.Connection, tmp_path: Path
) -> None:
    script = CallerScript(
        "100", caller_num="0504000022", caller_name="O'Brien 山田", hangup_after_ms=800
    )
    await run_callers(script, tmp_path / "c")
    (row,) = await wait_finished(db, "0504000022", 1)
    assert row["caller_name"] == "O'Brien 山田"
