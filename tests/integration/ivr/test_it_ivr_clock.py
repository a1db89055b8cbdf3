"""Routing by the clock, with the clock fixed: a second stack of its own (ports moved
500 past the session stack's) whose IVR clock starts at 2026-11-23T10:00+09:00, a Monday
and 勤労感謝の日 (Labour Thanksgiving Day), via MADOGUCHI_IVR_CLOCK_START.

Its config copy turns Japanese holidays on for the demo schedule and adds two test-only
hours flows: Monday 09:00-18:00 (open at 10:00) on 190, Monday 18:00-24:00 (closed at
10:00) on 191. Started and stopped by this module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from ivr_it_helpers import (
    AmiWatch,
    Caller,
    add_hours_flows,
    ami_watch_for,
    callers_running,
)

from bench.harness.caller import CallerScript
from madoguchi.paths import Paths, default_paths
from madoguchi.service_config import load_service_config
from madoguchi.stack.postgres import LocalCluster
from madoguchi.stack.runner import Stack
from tests.polling import wait_for

CLOCK_START = "2026-11-23T10:00:00+09:00"
SCRIPTS = {
    "demo_on_holiday": CallerScript("100", "0399004001", hangup_after_ms=10_000),
    "weekday_hours": CallerScript("190", "0399004002", hangup_after_ms=8_000),
    "evening_hours": CallerScript("191", "0399004003", hangup_after_ms=None, max_wait_ms=30_000),
}


@dataclass
class ClockStack:
    stack: Stack
    pg_port: int
    sip: str

    def dsn(self) -> str:
        return LocalCluster(self.stack.paths.pg_data, port=self.pg_port).dsn


@contextmanager
def _env(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _move_ports(service_file: Path, offset: int) -> None:
    text = service_file.read_text(encoding="utf-8")
    for port in (5060, 5038, 4573, 8080):
        text = re.sub(rf"^port = {port}\b", f"port = {port + offset}", text, flags=re.M)
        text = text.replace(f':{port}"', f':{port + offset}"')
    service_file.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def clock_stack(stack: Stack) -> Iterator[ClockStack]:
    # `stack` first: the session stack is up before this one picks ports beside it.
    offset = int(os.environ.get("MADOGUCHI_TEST_PORT_OFFSET", "0")) + 500
    var = Path(tempfile.mkdtemp(prefix="madoguchi-it-clock-"))
    var.chmod(0o755)
    base = default_paths()
    config = var / "config"
    shutil.copytree(base.config, config)
    _move_ports(config / "madoguchi.toml", offset)
    calendar = config / "calendar.toml"
    text = calendar.read_text(encoding="utf-8")
    text, n = re.subn(
        r"^japanese_holidays = false(.*)$", r"japanese_holidays = true\1", text, flags=re.M
    )
    assert n == 1, "the demo schedule's japanese_holidays line moved"
    calendar.write_text(text, encoding="utf-8")
    add_hours_flows(
        config,
        {
            "weekday": 'mon = ["09:00-18:00"]\njapanese_holidays = false',
            "evening": 'mon = ["18:00-24:00"]\njapanese_holidays = false',
        },
        {"190": "weekday", "191": "evening"},
    )
    paths = Paths(project=base.project, config=config, var=var, rootfs=base.rootfs)
    st = Stack(paths, load_service_config(config))
    env = {"MADOGUCHI_PG_PORT": str(5433 + offset), "MADOGUCHI_IVR_CLOCK_START": CLOCK_START}
    try:
        with _env(**env):
            st.up(lambda _msg: None)
        yield ClockStack(st, 5433 + offset, f"127.0.0.1:{st.config.service.sip.port}")
    finally:
        with _env(**env):
            st.down(lambda _msg: None)
        artifacts = base.project / "test-artifacts" / "ivr-clock-stack"
        shutil.rmtree(artifacts, ignore_errors=True)
        for src in (var / "log", var / "asterisk" / "log"):
            if src.exists():
                shutil.copytree(src, artifacts / src.relative_to(var), dirs_exist_ok=True)
        shutil.rmtree(var, ignore_errors=True)


@pytest.fixture(scope="module")
def clock_ami(clock_stack: ClockStack) -> Iterator[AmiWatch]:
    watch = ami_watch_for(clock_stack.stack)
    try:
        yield watch
    finally:
        watch.close()


@pytest.fixture(scope="module")
def calls(
    clock_stack: ClockStack, clock_ami: AmiWatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Caller]]:
    workdir = tmp_path_factory.mktemp("clock")
    scripts = list(SCRIPTS.items())
    with callers_running(clock_stack.stack, scripts, workdir, 60, clock_stack.sip) as callers:
        yield callers


@pytest.fixture
async def clock_db(clock_stack: ClockStack) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(clock_stack.dsn())
    yield conn
    await conn.close()


async def _ended(db: asyncpg.Connection, number: str) -> tuple[str, list[list[str | None]]]:
    async def found() -> asyncpg.Record | None:
        return await db.fetchrow(
            "SELECT outcome, ivr_path FROM calls WHERE caller_number = $1 AND outcome IS NOT NULL",
            number,
        )

    row = await wait_for(f"the ended call of {number}", found, within=40)
    steps = row["ivr_path"]
    steps = json.loads(steps) if isinstance(steps, str) else steps
    return row["outcome"], [[s["node"], s["kind"], s.get("value")] for s in steps]


async def test_the_demo_flow_sends_callers_to_voicemail_on_a_public_holiday(
    calls: dict[str, Caller], clock_ami: AmiWatch, clock_db: asyncpg.Connection
) -> None:
    caller = calls["demo_on_holiday"]
    assert await caller.finished(40) == 0, caller.process.errors()[-1500:]
    outcome, path = await _ended(clock_db, caller.number)
    assert outcome == "voicemail"
    assert path == [["hours", "hours", "holiday"]]
    assert clock_ami.for_caller(caller.number) == []


async def test_a_schedule_without_holidays_is_open_at_ten_on_monday(
    calls: dict[str, Caller], clock_ami: AmiWatch
) -> None:
    e = await clock_ami.wait_for_caller(calls["weekday_hours"].number)
    assert (e.queue, e.steps()) == ("support", [("hours", "hours", "open")])


async def test_evening_hours_are_closed_at_ten_in_the_morning(
    calls: dict[str, Caller], clock_ami: AmiWatch, clock_db: asyncpg.Connection
) -> None:
    caller = calls["evening_hours"]
    assert await caller.finished(40) == 0, caller.process.errors()[-1500:]
    outcome, path = await _ended(clock_db, caller.number)
    assert (outcome, path) == ("ivr_completed", [["hours", "hours", "closed"]])
    assert clock_ami.for_caller(caller.number) == []
