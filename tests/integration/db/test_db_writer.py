"""The durable writer against a real PostgreSQL: batching, upserts, outage, restart, bad input."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import asyncpg
import pytest

from db.migrate import available_migrations, migrate, schema_version
from db.records import CallUpdate, to_json_line
from db.writer import DurableWriter, WriterStatus
from madoguchi.stack.pg_tools import free_port
from madoguchi.stack.postgres import LocalCluster
from tests.polling import wait_for, wait_until

pytestmark = pytest.mark.integration

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)

ALL_VERSIONS = [m.version for m in available_migrations()]


async def _count(pool: asyncpg.Pool, table: str) -> int:
    return int(await pool.fetchval(f"SELECT count(*) FROM {table}"))


async def test_migrations_are_idempotent(empty_dsn: str) -> None:
    conn = await asyncpg.connect(empty_dsn)
    try:
        assert await schema_version(conn) == 0
        assert await migrate(conn) == ALL_VERSIONS
        assert await migrate(conn) == []
        assert await schema_version(conn) == ALL_VERSIONS[-1]
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
        assert {
            "customers",
            "customer_phones",
            "agents",
            "calls",
            "call_events",
            "agent_state_intervals",
            "dispositions",
            "recordings",
            "schema_version",
        } <= tables
    finally:
        await conn.close()


async def test_concurrent_migrators_apply_once(empty_dsn: str) -> None:
    pool = await asyncpg.create_pool(empty_dsn, min_size=3, max_size=3)
    try:
        results = await asyncio.gather(migrate(pool), migrate(pool), migrate(pool))
        assert sorted(results) == [[], [], ALL_VERSIONS]
    finally:
        await pool.close()


async def test_writes_are_batched_by_size(dsn: str, pool: asyncpg.Pool, spool_dir: Path) -> None:
    writer = DurableWriter(dsn, spool_dir, batch_size=10, flush_interval=3600)
    await writer.start()
    try:
        for i in range(25):
            writer.record_call(f"c{i}", caller_number="0312345678", entered_queue=T0)

        calls = partial(_count, pool, "calls")
        await wait_for("20 calls in two batches", calls, until=lambda n: n == 20, every=0.02)
        assert writer.status().pending == 5  # the third batch waits for size or time
    finally:
        await writer.stop()
    assert await _count(pool, "calls") == 25


async def test_writes_are_flushed_after_interval(
    dsn: str, pool: asyncpg.Pool, spool_dir: Path
) -> None:
    writer = DurableWriter(dsn, spool_dir, batch_size=1000, flush_interval=0.05)
    await writer.start()
    try:
        writer.record_call("only", caller_number="100")

        calls = partial(_count, pool, "calls")
        await wait_for("the call written", calls, until=lambda n: n == 1, every=0.02)
        assert writer.status().state == "connected"
    finally:
        await writer.stop()


async def test_later_fields_win_and_null_never_clears(
    dsn: str, pool: asyncpg.Pool, spool_dir: Path
) -> None:
    writer = DurableWriter(dsn, spool_dir, flush_interval=0.01)
    await writer.start()
    try:
        writer.record_call(
            "u1",
            caller_number="0312345678",
            entered_queue_at=T0,
            queue="sales",
            ivr_path=["main", "1"],
        )
        writer.record_call(
            "u1",
            answered_at=T0 + timedelta(seconds=12),
            agent_id="1001",
            outcome="answered",
            entered_queue_at=None,
        )
        writer.record_call("u1", queue="support", transferred=True, nonsense_field=1)
        writer.record_call("u1", callback=None, ended=T0 + timedelta(seconds=70))
        assert await writer.wait_idle(30)
    finally:
        await writer.stop()
    row = await pool.fetchrow("SELECT * FROM calls WHERE call_id = 'u1'")
    assert row["entered_queue_at"] == T0
    assert row["answered_at"] == T0 + timedelta(seconds=12)
    assert row["ended_at"] == T0 + timedelta(seconds=70)
    assert row["queue"] == "support"
    assert row["transferred"] is True and row["callback"] is False
    assert json.loads(row["ivr_path"]) == ["main", "1"]


async def test_events_and_agent_states_are_idempotent(
    dsn: str, pool: asyncpg.Pool, spool_dir: Path
) -> None:
    writer = DurableWriter(dsn, spool_dir, flush_interval=0.01)
    await writer.start()
    try:
        for _ in range(3):
            writer.record_event("e1", "uid-1", T0, "enqueued", {"queue": "sales"})
            writer.record_event("e1", "uid-2", T0.timestamp() + 1, "offered", {"agent": "1001"})
        writer.record_agent_state("1001", "ready", None, T0)
        writer.record_agent_state("1001", "ready", None, T0, T0 + timedelta(minutes=5))
        writer.record_agent_state("1001", "not_ready", "break", T0 + timedelta(minutes=5))
        writer.record_recording("e1", "rec-1", "/rec/e1.wav", T0)
        writer.record_recording("e1", "rec-1", "/rec/e1.wav", T0, T0 + timedelta(seconds=30), 480)
        writer.record_recording("e1", "rec-1", "/rec/e1.wav", T0)  # a late duplicate start
        assert await writer.wait_idle(30)
    finally:
        await writer.stop()
    events = await pool.fetch("SELECT event_uid, kind FROM call_events ORDER BY seq")
    assert [(e["event_uid"], e["kind"]) for e in events] == [
        ("uid-1", "enqueued"),
        ("uid-2", "offered"),
    ]
    states = await pool.fetch(
        "SELECT state, reason, ended_at FROM agent_state_intervals ORDER BY started_at"
    )
    assert [(s["state"], s["reason"], s["ended_at"]) for s in states] == [
        ("ready", None, T0 + timedelta(minutes=5)),
        ("not_ready", "break", None),
    ]
    assert await pool.fetchval("SELECT id FROM agents") == "1001"
    recording = await pool.fetchrow("SELECT * FROM recordings")
    assert (recording["ended_at"], recording["size_bytes"]) == (T0 + timedelta(seconds=30), 480)


async def test_postgres_stopped_mid_stream_loses_and_duplicates_nothing(
    pg_cluster: LocalCluster, dsn: str, spool_dir: Path
) -> None:
    writer = DurableWriter(
        dsn,
        spool_dir,
        batch_size=20,
        flush_interval=0.02,
        write_timeout=2,
        connect_timeout=1,
        retry_min=0.1,
        retry_max=0.5,
    )
    await writer.start()
    total = 600
    produced = 0

    async def produce(until: int) -> None:
        nonlocal produced
        while produced < until:
            i = produced
            start = T0 + timedelta(seconds=i)
            writer.record_call(
                f"s{i}", caller_number=f"090{i:08d}", entered_queue=start, queue="sales"
            )
            writer.record_event(f"s{i}", "enq", start, "enqueued", {"n": i})
            writer.record_call(
                f"s{i}", ended=start + timedelta(seconds=30), outcome="abandoned_queue"
            )
            writer.record_event(f"s{i}", "end", start + timedelta(seconds=30), "ended", {})
            produced += 1
            if i % 10 == 0:
                await asyncio.sleep(0.005)

    try:
        await produce(200)
        await asyncio.to_thread(pg_cluster.stop)
        await produce(400)

        await wait_until(
            "the writer spooling",
            writer.status,
            until=lambda s: s.state == "spooling" and s.spool_depth > 0,
            every=0.02,
        )
        await asyncio.to_thread(pg_cluster.start)
        await produce(total)
        assert await writer.wait_idle(60)
        assert writer.status().state == "connected"
    finally:
        await writer.stop()
        await asyncio.to_thread(pg_cluster.start)

    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM calls") == total
        assert await conn.fetchval("SELECT count(*) FROM call_events") == 2 * total
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM calls WHERE ended_at IS NOT NULL"
                " AND entered_queue_at IS NOT NULL AND outcome = 'abandoned_queue'"
            )
            == total
        )
    finally:
        await conn.close()
    assert not (spool_dir / "spool.jsonl").exists()


async def test_restart_with_non_empty_spool_replays_it(
    dsn: str, pool: asyncpg.Pool, spool_dir: Path
) -> None:
    dead = f"postgresql://madoguchi:x@127.0.0.1:{free_port()}/madoguchi"
    first = DurableWriter(dead, spool_dir, flush_interval=0.01, connect_timeout=0.5, retry_min=0.05)
    await first.start()
    for i in range(50):
        first.record_call(f"r{i}", caller_number="0312345678", entered_queue=T0)
        first.record_event(f"r{i}", "e", T0, "enqueued", None)

    await wait_until(
        "100 rows spooled", first.status, until=lambda s: s.spool_depth == 100, every=0.02
    )
    await first.stop()
    assert (spool_dir / "spool.jsonl").read_text().count("\n") == 100

    second = DurableWriter(dsn, spool_dir, flush_interval=0.01)
    second.record_call("before-start", caller_number="1")  # goes to the spool, replayed too
    await second.start()
    try:
        assert await second.wait_idle(30)
    finally:
        await second.stop()
    assert await _count(pool, "calls") == 51
    assert await _count(pool, "call_events") == 50
    assert not (spool_dir / "spool.jsonl").exists()


async def test_refused_and_corrupt_spool_lines_are_kept_aside(
    dsn: str, pool: asyncpg.Pool, spool_dir: Path
) -> None:
    # A record built without validation (e.g. by an older version): priority overflows integer.
    bad = CallUpdate("bad", {"priority": 2**40})
    lines = [
        to_json_line(CallUpdate("good1", {"queue": "sales"})),
        to_json_line(bad),
        "{not json",
        to_json_line(CallUpdate("good2", {"queue": "sales"})),
    ]
    (spool_dir / "spool.jsonl").write_text("\n".join(lines) + "\n")
    writer = DurableWriter(dsn, spool_dir, flush_interval=0.01)
    await writer.start()
    try:
        assert await writer.wait_idle(30)
        assert writer.status().rejected == 2
    finally:
        await writer.stop()
    ids = [r["call_id"] for r in await pool.fetch("SELECT call_id FROM calls ORDER BY call_id")]
    assert ids == ["good1", "good2"]
    rejected = [json.loads(x) for x in (spool_dir / "rejected.jsonl").read_text().splitlines()]
    assert {r["line"] for r in rejected} == {lines[1], lines[2]}


HOSTILE = [
    "'; DROP TABLE calls; --",
    "nul\x00inside",
    b"\xff\xfe invalid \xc3\x28 utf8".decode("utf-8", errors="surrogateescape"),
    "x" * 8192,
    "山田 花子 (ヤマダ ハナコ) 🎧",
]


async def test_hostile_text_is_stored_safely(dsn: str, pool: asyncpg.Pool, spool_dir: Path) -> None:
    writer = DurableWriter(dsn, spool_dir, flush_interval=0.01)
    await writer.start()
    try:
        for i, text in enumerate(HOSTILE):
            writer.record_call(
                f"h{i}",
                caller_number=text,
                caller_name=text,
                notes=text,
                queue=text,
                ivr_path={"entered": text},
            )
            writer.record_event(f"h{i}", text, T0, text, {"v": text, text[:50]: 1})
        writer.record_call(b"raw\xffbytes", caller_name=b"\xe5\xb1\xb1\xe7\x94\xb0\xff")
        assert await writer.wait_idle(30)
        assert writer.status().rejected == 0
    finally:
        await writer.stop()
    assert await _count(pool, "calls") == len(HOSTILE) + 1
    assert await _count(pool, "call_events") == len(HOSTILE)
    rows = {r["call_id"]: r for r in await pool.fetch("SELECT * FROM calls")}
    assert rows["h0"]["caller_number"] == "'; DROP TABLE calls; --"
    assert rows["h1"]["caller_name"] == "nulinside"
    assert rows["h2"]["caller_name"] == "\ufffd\ufffd invalid \ufffd( utf8"
    assert len(rows["h3"]["caller_number"]) == 64
    assert len(rows["h3"]["caller_name"]) == 256
    assert rows["h3"]["notes"] == "x" * 8192
    assert rows["h4"]["caller_name"] == "山田 花子 (ヤマダ ハナコ) 🎧"
    assert rows["raw\ufffdbytes"]["caller_name"] == "山田\ufffd"


def _replace_dir_by_file(path: Path) -> None:
    path.rmdir()
    path.write_text("a file where the spool directory should be")


def _remove_file(path: Path) -> None:
    path.unlink()


async def test_unwritable_spool_keeps_records_in_memory_until_disk_is_back(
    dsn: str, pool: asyncpg.Pool, spool_dir: Path
) -> None:
    dead = f"postgresql://madoguchi:x@127.0.0.1:{free_port()}/madoguchi"
    writer = DurableWriter(
        dead, spool_dir, flush_interval=0.01, connect_timeout=0.5, retry_min=0.05
    )
    await writer.start()
    _replace_dir_by_file(spool_dir)
    for i in range(10):
        writer.record_call(f"m{i}", queue="sales")

    def spool_failing(status: WriterStatus) -> bool:
        return (status.last_error or "").startswith("spool write failed") and status.pending == 10

    await wait_until("the spool failing", writer.status, until=spool_failing, every=0.02)
    _remove_file(spool_dir)  # the disk is back

    await wait_until(
        "10 rows spooled", writer.status, until=lambda s: s.spool_depth == 10, every=0.02
    )
    await writer.stop()
    second = DurableWriter(dsn, spool_dir, flush_interval=0.01)
    await second.start()
    try:
        assert await second.wait_idle(30)
    finally:
        await second.stop()
    assert await _count(pool, "calls") == 10


async def test_slow_postgres_is_treated_like_a_down_one(
    dsn: str, pool: asyncpg.Pool, spool_dir: Path
) -> None:
    writer = DurableWriter(
        dsn, spool_dir, flush_interval=0.01, write_timeout=0.5, retry_min=0.1, retry_max=0.2
    )
    await writer.start()
    try:
        writer.record_call("before", queue="sales")
        assert await writer.wait_idle(30)
        async with pool.acquire() as blocker:
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE")
            for i in range(20):
                writer.record_call(f"slow{i}", queue="sales")

            await wait_until(
                "20 rows spooled", writer.status, until=lambda s: s.spool_depth == 20, every=0.02
            )
            assert "did not answer" in (writer.status().last_error or "")
            await tx.rollback()
        assert await writer.wait_idle(30)
        assert writer.status().state == "connected"
    finally:
        await writer.stop()
    assert await _count(pool, "calls") == 21
