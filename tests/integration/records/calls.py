"""Reading what the service recorded: call rows by caller number, timelines, KPI reports
(library and `madoguchi report` CLI) and the writer's spool on disk."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.harness.caller import CallerScript, place_calls
from bench.harness.sipp_process import SippProcess
from db.kpi_math import RawCounts
from db.records import CallUpdate, from_json_line
from db.report import build_report
from madoguchi.stack.runner import Stack
from tests.integration.madoguchi_command import run_madoguchi
from tests.polling import wait_for

# Unique per test and per kind of caller: rows are told apart by caller number.
Numbers = Mapping[str, str]


async def rows_of(db: asyncpg.Connection, number: str) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT * FROM calls WHERE caller_number = $1 ORDER BY created_at", number
    )


async def wait_finished(
    db: asyncpg.Connection,
    number: str,
    count: int,
    limit: float = 30,
    also: tuple[str, ...] = (),
) -> list[asyncpg.Record]:
    """Wait until `count` rows of `number` have an outcome (and the columns `also` set);
    then there must be exactly `count` rows (one per call placed, no duplicate)."""
    condition = " AND ".join(f"{column} IS NOT NULL" for column in ("outcome", *also))

    async def finished() -> bool:
        done = await db.fetchval(
            f"SELECT count(*) FROM calls WHERE caller_number = $1 AND {condition}",
            number,
        )
        return bool(done >= count)

    try:
        await wait_for(f"{count} finished call records from {number}", finished, limit)
    except AssertionError:
        rows = [dict(r) for r in await rows_of(db, number)]
        raise AssertionError(f"{number}: expected {count} finished rows, have {rows}") from None
    rows = await rows_of(db, number)
    assert len(rows) == count, f"{number}: {len(rows)} rows for {count} calls: {rows}"
    return rows


async def events_of(db: asyncpg.Connection, call_id: str) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT event_uid, ts, kind, data FROM call_events WHERE call_id = $1 ORDER BY ts, seq",
        call_id,
    )


async def kinds_of(db: asyncpg.Connection, call_id: str) -> list[str]:
    return [e["kind"] for e in await events_of(db, call_id)]


async def wait_callers(callers: SippProcess, limit: float = 60) -> None:
    """SIPp exits 0 when every call followed its script (answered, then hung up as told)."""
    code = await asyncio.to_thread(callers.wait, limit)
    assert code == 0, f"SIPp callers exit {code}: {callers.errors()[-3000:]}"


async def run_callers(
    script: CallerScript, workdir: Path, limit: float = 60, **options: Any
) -> None:
    """Place the callers of `script` (place_calls `options`) and wait until every one
    followed it; they are stopped whatever happens."""
    wave = place_calls(script, workdir, **options)
    try:
        await wait_callers(wave, limit)
    finally:
        wave.stop()


# -- KPIs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kpis:
    """Period totals of one report, by (dimension, key)."""

    raw: Mapping[tuple[str, str], RawCounts]

    def get(self, dimension: str, key: str) -> RawCounts:
        return self.raw.get((dimension, key), RawCounts())


async def library_kpis(
    db: asyncpg.Connection, stack: Stack, start: datetime, end: datetime
) -> Kpis:
    service_levels = {name: float(q.service_level) for name, q in stack.config.queues.items()}
    report = await build_report(db, start, end, "hour", service_levels=service_levels)
    return Kpis({(r.dimension, r.key): r.raw for r in report.totals})


def cli_report(stack: Stack, start: datetime, end: datetime) -> dict[str, Any]:
    """`madoguchi report --json` run as an operator would, on the stack's var dir and config."""
    env = {k: v for k, v in os.environ.items() if k != "MADOGUCHI_DATABASE_DSN"}
    env["MADOGUCHI_VAR"] = str(stack.paths.var)
    env.setdefault("MADOGUCHI_PG_PORT", "5433")
    done = run_madoguchi(
        "--config",
        str(stack.paths.config),
        *("report", "--json", "--from", start.isoformat(), "--to", end.isoformat()),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def cli_totals(report: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["dimension"], r["key"]): r for r in report["totals"]}


COUNT_FIELDS = (
    "offered",
    "answered",
    "abandoned_ivr",
    "abandoned_queue",
    "abandoned_ringing",
    "short_abandons",
    "answered_within_sl",
    "handled",
    "transferred",
    "callbacks",
)


def count_delta(before: RawCounts, after: RawCounts) -> dict[str, int]:
    return {f: int(getattr(after, f)) - int(getattr(before, f)) for f in COUNT_FIELDS}


def cli_count_delta(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, int]:
    return {
        f: int(after.get(f) or 0) - int((before or {}).get(f) or 0)
        for f in COUNT_FIELDS
        if f in after and after[f] is not None
    }


# -- the writer's spool ------------------------------------------------------------------------


def spooled_calls(spool_dir: Path) -> dict[str, dict[str, Any]]:
    """Call fields waiting in the spool, merged per call id (read-only; the service may run)."""
    path = spool_dir / "spool.jsonl"
    merged: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return merged
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = from_json_line(line)
        except ValueError:
            continue  # a line being written right now
        if isinstance(record, CallUpdate):
            merged.setdefault(record.call_id, {}).update(record.fields)
    return merged


def spool_is_empty(spool_dir: Path) -> bool:
    return not (spool_dir / "spool.jsonl").exists()


def rejected_count(spool_dir: Path) -> int:
    path = spool_dir / "rejected.jsonl"
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0
