"""Nothing lost, nothing doubled: PostgreSQL stopped in the middle of a scenario, and the service
restarted while its spool still holds the records of calls made during an outage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from bench.harness.caller import CallerScript, place_calls
from bench.harness.sipp_process import SippProcess
from madoguchi.service_config import database_dsn
from madoguchi.stack import asterisk
from madoguchi.stack.postgres import LocalCluster
from madoguchi.stack.runner import Stack, db_port
from tests.live_stack import wait_migrated
from tests.polling import wait_for, wait_until

from .calls import (
    rejected_count,
    spool_is_empty,
    spooled_calls,
    wait_callers,
    wait_finished,
)
from .conftest import Desktop, Staff


@pytest.fixture
def cluster(stack: Stack) -> Iterator[LocalCluster]:
    """The stack's PostgreSQL; whatever a test does to it, it runs again afterwards."""
    pg = LocalCluster(stack.paths.pg_data, port=db_port())
    yield pg
    if pg.status().state != "running":
        pg.start()


@pytest.fixture
def callers() -> Iterator[list[SippProcess]]:
    started: list[SippProcess] = []
    yield started
    for process in started:
        process.stop()


async def _connect(stack: Stack) -> asyncpg.Connection:
    conn = await asyncpg.connect(database_dsn(stack.paths, stack.config))
    try:
        await wait_migrated(conn)
    except BaseException:
        await conn.close()
        raise
    return conn


@pytest.fixture
async def connect(stack: Stack) -> AsyncIterator[list[asyncpg.Connection]]:
    """Connections opened once PostgreSQL is back (closed afterwards)."""
    opened: list[asyncpg.Connection] = []
    yield opened
    for conn in opened:
        await conn.close()


def _connected(*desktops: Desktop) -> set[str]:
    return {p["call_id"] for d in desktops for p in d.payloads("call.connected")}


async def _no_duplicate_events(db: asyncpg.Connection, call_ids: list[str]) -> None:
    doubled = await db.fetch(
        "SELECT call_id, kind, ts, count(*) FROM call_events WHERE call_id = ANY($1::text[]) "
        "GROUP BY call_id, kind, ts HAVING count(*) > 1",
        call_ids,
    )
    assert not doubled, [dict(r) for r in doubled]
    ended = await db.fetch(
        "SELECT call_id, count(*) AS n FROM call_events WHERE call_id = ANY($1::text[]) "
        "AND kind IN ('call.ended', 'ivr.done') GROUP BY call_id",
        call_ids,
    )
    assert {r["call_id"]: r["n"] for r in ended} == dict.fromkeys(call_ids, 1)


async def test_postgres_stopped_mid_scenario_calls_flow_and_no_record_is_lost_or_doubled(
    stack: Stack,
    staff: Staff,
    cluster: LocalCluster,
    callers: list[SippProcess],
    connect: list[asyncpg.Connection],
    tmp_path: Path,
) -> None:
    before_down, during, ivr_number = "0502000001", "0502000002", "0502000003"
    rejected = rejected_count(stack.paths.spool)
    a = await staff("1003", talk_ms=1500)
    b = await staff("1004", talk_ms=1500)
    script = CallerScript("200", caller_num=before_down, caller_name="停止前")
    callers.append(place_calls(script, tmp_path / "before", count=3, rate=1))

    await wait_until("a first call connected", lambda: _connected(a.desktop, b.desktop))
    await asyncio.to_thread(cluster.stop)
    assert cluster.status().state == "stopped"
    # Placed only now: these calls happen entirely while PostgreSQL is down.
    script = CallerScript("200", caller_num=during, caller_name="停止中")
    callers.append(place_calls(script, tmp_path / "during", count=3, rate=2))
    script = CallerScript(
        "100", caller_num=ivr_number, caller_name="IVR 停止中", hangup_after_ms=1000
    )
    callers.append(place_calls(script, tmp_path / "ivr", count=2, rate=5))
    for wave in callers:
        await wait_callers(wave, limit=90)
    assert len(_connected(a.desktop, b.desktop)) == 6  # every caller reached an agent

    async def spooled() -> bool:
        numbers = [
            f.get("caller_number")
            for f in spooled_calls(stack.paths.spool).values()
            if f.get("outcome")
        ]
        return numbers.count(during) == 3 and numbers.count(ivr_number) == 2

    await wait_for("the outage's calls in the spool", spooled, 15)
    assert cluster.status().state == "stopped"

    await asyncio.to_thread(cluster.start)
    db = await _connect(stack)
    connect.append(db)
    rows = [
        *await wait_finished(db, before_down, 3, also=("wrapup_ended_at",)),
        *await wait_finished(db, during, 3, also=("wrapup_ended_at",)),
        *await wait_finished(db, ivr_number, 2),
    ]
    assert {r["call_id"] for r in rows if r["outcome"] == "answered"} == _connected(
        a.desktop, b.desktop
    )
    assert [r["outcome"] for r in rows].count("abandoned_ivr") == 2
    await wait_until("the spool replayed", lambda: spool_is_empty(stack.paths.spool))
    await _no_duplicate_events(db, [r["call_id"] for r in rows])
    assert rejected_count(stack.paths.spool) == rejected


def _stop_service(stack: Stack) -> None:
    pid = stack.service_pid()
    assert pid is not None
    asterisk.stop(pid)  # SIGTERM: the writer flushes what it holds to the spool
    # The stack started it: reap it so no zombie (nor ResourceWarning) is left.
    process = stack._children.pop("service", None)
    if process is not None:
        process.wait(timeout=10)


async def test_service_restarted_with_a_non_empty_spool_replays_it(
    stack: Stack,
    staff: Staff,
    cluster: LocalCluster,
    callers: list[SippProcess],
    connect: list[asyncpg.Connection],
    tmp_path: Path,
) -> None:
    answered_number, ivr_number = "0503000001", "0503000002"
    rejected = rejected_count(stack.paths.spool)
    agent = await staff("1003", talk_ms=800)
    await asyncio.to_thread(cluster.stop)

    script = CallerScript("200", caller_num=answered_number, caller_name="再起動")
    callers.append(place_calls(script, tmp_path / "answered", count=2, rate=2))
    script = CallerScript("100", caller_num=ivr_number, caller_name="IVR", hangup_after_ms=1000)
    callers.append(place_calls(script, tmp_path / "ivr", count=1))
    for wave in callers:
        await wait_callers(wave)
    await wait_until("both calls answered", lambda: len(_connected(agent.desktop)) == 2)
    await agent.desktop.wait_state("ready")  # the second wrap-up is over
    await agent.desktop.set_state("logout")
    agent.desktop.logged_out = True

    await asyncio.to_thread(_stop_service, stack)
    spool = spooled_calls(stack.paths.spool)
    ours = {
        cid: f
        for cid, f in spool.items()
        if f.get("caller_number") in (answered_number, ivr_number)
    }
    assert sorted(f.get("outcome") for f in ours.values()) == [
        "abandoned_ivr",
        "answered",
        "answered",
    ], ours
    assert all(f.get("wrapup_ended_at") for f in ours.values() if f["outcome"] == "answered")

    await asyncio.to_thread(cluster.start)
    dsn = database_dsn(stack.paths, stack.config)
    await asyncio.to_thread(stack.start_service, dsn, print)
    # The desktop's sign-in outlived the restart: no password asked again.
    status, me = await agent.desktop.get("/api/me")
    assert (status, me["user_id"]) == (200, "1003"), me
    db = await _connect(stack)
    connect.append(db)
    rows = [
        *await wait_finished(db, answered_number, 2, also=("wrapup_ended_at",)),
        *await wait_finished(db, ivr_number, 1),
    ]
    assert {r["call_id"] for r in rows} == set(ours)
    for row in rows:
        spooled = ours[row["call_id"]]
        assert row["outcome"] == spooled["outcome"]
        assert row["caller_name"] == spooled["caller_name"]
    await wait_until("the spool replayed", lambda: spool_is_empty(stack.paths.spool))
    await _no_duplicate_events(db, list(ours))
    assert rejected_count(stack.paths.spool) == rejected
    log = (stack.paths.logs / "service.log").read_text(encoding="utf-8", errors="replace")
    assert "spooled records to replay" in log.rsplit("service ready", 2)[-2]
