"""Benchmark of the durable writer: direct write rate, spool rate, replay rate.

    .venv/bin/python bench/db_writer.py [--calls 5000] [--dsn DSN]

Without --dsn a throw-away local cluster is started (madoguchi.stack.postgres) in a temporary
directory.
Each simulated call produces 4 records (2 call upserts, 2 timeline events).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from db.migrate import migrate
from db.writer import DurableWriter
from madoguchi.stack.pg_tools import free_port
from madoguchi.stack.postgres import LocalCluster

T0 = datetime(2026, 4, 1, tzinfo=UTC)


def produce(writer: DurableWriter, calls: int, prefix: str) -> None:
    for i in range(calls):
        start = T0 + timedelta(seconds=i)
        call_id = f"{prefix}{i}"
        writer.record_call(call_id, caller_number="0312345678", queue="sales", entered_queue=start)
        writer.record_event(call_id, "enq", start, "enqueued", {"queue": "sales"})
        writer.record_call(
            call_id,
            answered=start + timedelta(seconds=9),
            agent_id="1001",
            ended=start + timedelta(seconds=99),
            outcome="answered",
        )
        writer.record_event(call_id, "end", start + timedelta(seconds=99), "ended", {})


async def run(dsn: str, calls: int, spool_root: Path) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        await conn.execute("TRUNCATE calls, call_events")
    finally:
        await conn.close()
    records = calls * 4

    writer = DurableWriter(dsn, spool_root / "direct")
    await writer.start()
    began = time.perf_counter()
    produce(writer, calls, "d")
    enqueue_s = time.perf_counter() - began
    await writer.wait_idle(600)
    direct_s = time.perf_counter() - began
    await writer.stop()

    dead = f"postgresql://madoguchi:x@127.0.0.1:{free_port()}/madoguchi"
    spooler = DurableWriter(dead, spool_root / "spool", connect_timeout=0.5)
    await spooler.start()
    began = time.perf_counter()
    produce(spooler, calls, "s")
    await spooler.stop()  # returns once everything is on disk
    spool_s = time.perf_counter() - began

    replayer = DurableWriter(dsn, spool_root / "spool")
    began = time.perf_counter()
    await replayer.start()
    await replayer.wait_idle(600)
    replay_s = time.perf_counter() - began
    await replayer.stop()

    print(f"records per run: {records} ({calls} calls x 4)")
    print(f"enqueue (call path cost): {enqueue_s * 1e6 / records:8.1f} us/record")
    print(f"direct to PostgreSQL:     {records / direct_s:8.0f} records/s")
    print(f"to the spool (DB down):   {records / spool_s:8.0f} records/s")
    print(f"spool replay:             {records / replay_s:8.0f} records/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--dsn", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="madoguchi-bench-"))
    tmp.chmod(0o755)
    cluster = None
    try:
        dsn = args.dsn
        if dsn is None:
            cluster = LocalCluster(tmp / "pg", port=free_port())
            dsn = cluster.start()
        asyncio.run(run(dsn, args.calls, tmp))
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
