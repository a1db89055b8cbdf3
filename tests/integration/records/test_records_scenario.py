"""A SIPp scenario of answered, abandoned-in-queue, abandoned-while-ringing and abandoned-in-IVR
calls on the real stack; afterwards the call records and the KPIs (db.report and the
`madoguchi report --json` CLI) match what the scenario did, to the call."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.harness.caller import CallerScript, place_calls
from madoguchi.stack.runner import Stack

from .calls import (
    cli_count_delta,
    cli_report,
    cli_totals,
    count_delta,
    events_of,
    kinds_of,
    library_kpis,
    wait_callers,
    wait_finished,
)
from .conftest import Staff

ANSWERED, Q_LONG, Q_SHORT, RINGING, IVR = (
    "0501000001",
    "0501000002",
    "0501000003",
    "0501000004",
    "0501000005",
)
N_ANSWERED, N_Q_LONG, N_Q_SHORT, N_RINGING, N_IVR = 4, 2, 1, 1, 3
SHORT_ABANDON_S = 5.0  # docs/kpis.md


async def test_records_and_kpis_match_the_scenario_to_the_call(
    stack: Stack, staff: Staff, db: asyncpg.Connection, tmp_path: Path
) -> None:
    # Whole hours around the test: the reports before and after cover the same intervals, so
    # their difference is this scenario (tests run one at a time on the shared stack).
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=2)
    lib_before = await library_kpis(db, stack, start, end)
    cli_before = cli_totals(await asyncio.to_thread(cli_report, stack, start, end))

    callers = []
    try:
        # 1. Nobody ready (1003 logged in, on a break): queue callers give up, one of them
        #    within the short-abandon threshold; IVR callers hang up during the greeting.
        support = await staff("1003", state="pause", talk_ms=1000)
        waves = [
            place_calls(
                CallerScript(
                    "200", caller_num=Q_LONG, caller_name="待ち 長い", hangup_after_ms=6500
                ),
                tmp_path / "q-long",
                count=N_Q_LONG,
                rate=10,
            ),
            place_calls(
                CallerScript("200", caller_num=Q_SHORT, caller_name="Short", hangup_after_ms=1500),
                tmp_path / "q-short",
                count=N_Q_SHORT,
            ),
            place_calls(
                CallerScript("100", caller_num=IVR, caller_name="IVR 途中", hangup_after_ms=1000),
                tmp_path / "ivr",
                count=N_IVR,
                rate=10,
            ),
        ]
        callers += waves
        for wave in waves:
            await wait_callers(wave)

        # 2. An agent whose phone rings and rings: the caller gives up while it rings.
        ringer = await staff("1004", mode="ignore")
        wave = place_calls(
            CallerScript("200", caller_num=RINGING, caller_name="Ringing", hangup_after_ms=6500),
            tmp_path / "ringing",
        )
        callers.append(wave)
        await ringer.desktop.wait_message("call.offered")
        await wait_callers(wave)
        await ringer.desktop.set_state("logout")
        ringer.desktop.logged_out = True

        # 3. 1003 back from the break: answers each call (the agent hangs up after 1 s) and
        #    ends each wrap-up from the desktop.
        await support.desktop.set_state("ready")
        wave = place_calls(
            CallerScript("200", caller_num=ANSWERED, caller_name="山田 <b>&amp;応答</b>"),
            tmp_path / "answered",
            count=N_ANSWERED,
            rate=5,
        )
        callers.append(wave)
        await wait_callers(wave, limit=90)
    finally:
        for wave in callers:
            wave.stop()

    # -- the records: one row per call, one outcome each, a timeline each ---------------------
    answered = await wait_finished(db, ANSWERED, N_ANSWERED, also=("wrapup_ended_at",))
    q_long = await wait_finished(db, Q_LONG, N_Q_LONG)
    q_short = await wait_finished(db, Q_SHORT, N_Q_SHORT)
    ringing = await wait_finished(db, RINGING, N_RINGING)
    ivr = await wait_finished(db, IVR, N_IVR)

    for row in answered:
        assert row["outcome"] == "answered", dict(row)
        assert (row["queue"], row["agent_id"]) == ("support", "1003")
        assert row["caller_name"] == "山田 <b>&amp;応答</b>"
        assert (
            row["entered_queue_at"]
            <= row["offered_at"]
            <= row["answered_at"]
            <= row["ended_at"]
            <= row["wrapup_ended_at"]
        ), dict(row)
        kinds = await kinds_of(db, row["call_id"])
        assert kinds.count("call.ended") == 1 and "ring" in kinds, kinds
        assert "state.connected" in kinds, kinds
    for row in (*q_long, *q_short):
        assert row["outcome"] == "abandoned_queue", dict(row)
        assert row["queue"] == "support" and row["entered_queue_at"] is not None
        assert row["offered_at"] is None and row["answered_at"] is None
        kinds = await kinds_of(db, row["call_id"])
        assert kinds.count("call.ended") == 1 and "ring" not in kinds, kinds
    waits = [(r["ended_at"] - r["entered_queue_at"]).total_seconds() for r in (*q_long, *q_short)]
    assert sorted(w < SHORT_ABANDON_S for w in waits) == [False] * N_Q_LONG + [True] * N_Q_SHORT
    for row in ringing:
        assert row["outcome"] == "abandoned_ringing", dict(row)
        assert row["offered_at"] is not None and row["answered_at"] is None
        kinds = await kinds_of(db, row["call_id"])
        assert kinds.count("call.ended") == 1 and "ring" in kinds, kinds
    for row in ivr:
        assert row["outcome"] == "abandoned_ivr", dict(row)
        assert row["queue"] is None and row["entered_queue_at"] is None
        assert row["ended_at"] is not None and row["ivr_path"] is not None
        assert row["dialled_number"] == "100"
        assert row["entered_ivr_at"] is not None and row["entered_ivr_at"] <= row["ended_at"]
        events = await events_of(db, row["call_id"])
        assert [(e["kind"], e["data"]) for e in events if e["kind"] == "ivr.done"] == [
            ("ivr.done", '{"flow": "main", "result": "abandoned"}')
        ], events
    call_ids = [r["call_id"] for r in (*answered, *q_long, *q_short, *ringing, *ivr)]
    assert len(set(call_ids)) == len(call_ids)

    # -- the KPIs: what changed in this window is exactly this scenario -------------------------
    sl = stack.config.queues["support"].service_level
    within_sl = sum(
        (r["answered_at"] - r["entered_queue_at"]).total_seconds() <= sl for r in answered
    )
    offered = N_ANSWERED + N_Q_LONG + N_Q_SHORT + N_RINGING
    expected_queue = {
        "offered": offered,
        "answered": N_ANSWERED,
        "abandoned_ivr": 0,
        "abandoned_queue": N_Q_LONG + N_Q_SHORT,
        "abandoned_ringing": N_RINGING,
        "short_abandons": N_Q_SHORT,
        "answered_within_sl": within_sl,
        "handled": N_ANSWERED,
        "transferred": 0,
        "callbacks": 0,
    }
    expected_total = {**expected_queue, "abandoned_ivr": N_IVR}

    lib_after = await library_kpis(db, stack, start, end)
    assert count_delta(lib_before.get("queue", "support"), lib_after.get("queue", "support")) == (
        expected_queue
    )
    assert count_delta(lib_before.get("total", "*"), lib_after.get("total", "*")) == expected_total
    agent = count_delta(lib_before.get("agent", "1003"), lib_after.get("agent", "1003"))
    assert (agent["answered"], agent["handled"]) == (N_ANSWERED, N_ANSWERED)
    talk = sum((r["ended_at"] - r["answered_at"]).total_seconds() for r in answered)
    wrap = sum((r["wrapup_ended_at"] - r["ended_at"]).total_seconds() for r in answered)
    total_before, total_after = lib_before.get("total", "*"), lib_after.get("total", "*")
    assert abs((total_after.talk_s - total_before.talk_s) - talk) < 1e-3
    assert abs((total_after.wrap_s - total_before.wrap_s) - wrap) < 1e-3
    asa = sum((r["answered_at"] - r["entered_queue_at"]).total_seconds() for r in answered)
    assert abs((total_after.answer_wait_s - total_before.answer_wait_s) - asa) < 1e-3

    cli_after = cli_totals(await asyncio.to_thread(cli_report, stack, start, end))
    assert cli_count_delta(
        cli_before.get(("queue", "support")), cli_after[("queue", "support")]
    ) == (expected_queue)
    cli_total = cli_count_delta(cli_before.get(("total", "*")), cli_after[("total", "*")])
    assert cli_total == expected_total
    after_abandoned = cli_after[("total", "*")]["abandoned"]
    before_abandoned = (cli_before.get(("total", "*")) or {}).get("abandoned") or 0
    assert after_abandoned - before_abandoned == N_Q_LONG + N_Q_SHORT + N_RINGING + N_IVR
