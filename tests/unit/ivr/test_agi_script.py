"""The classic AGI script, run as Asterisk runs it: a process speaking AGI on stdin/stdout."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from asterisk_agi import FakeAsterisk, environment
from ivr_fakes import WAIT

from ivr.outcome import decode_context

FLOW = """
[flow]
start = "menu"
default_queue = "support"
[node.menu]
type = "menu"
prompt = "hello"
choices = { "1" = "sales", "2" = "q" }
fallback = "q"
[node.sales]
type = "set"
queue = "sales"
next = "pin"
[node.pin]
type = "collect"
prompt = "vm-password"
sensitive = true
min_length = 4
max_length = 4
next = "who"
fallback = "q"
[node.who]
type = "lookup"
by = "caller"
found = "q"
not_found = "q"
[node.q]
type = "queue"
"""


def config_dir(tmp_path: Path) -> Path:
    (tmp_path / "ivr").mkdir()
    (tmp_path / "ivr" / "main.toml").write_text(FLOW, encoding="utf-8")
    (tmp_path / "queues.toml").write_text("[queue.sales]\n[queue.support]\n", encoding="utf-8")
    (tmp_path / "crm_seed.csv").write_text(
        "account_number,name,tier,phones\nA-1001,山田 太郎,gold,0312345678;09012345678\n",
        encoding="utf-8",
    )
    return tmp_path


async def run_script(*args: str, keys: list[str]) -> tuple[FakeAsterisk, int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ivr.agi_script", *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    asterisk = FakeAsterisk(keys)
    async with asyncio.timeout(60):
        await asterisk.converse(proc.stdout, proc.stdin, environment())
        proc.stdin.close()
        stderr = (await proc.stderr.read()).decode()
        code = await proc.wait()
    return asterisk, code, stderr


async def test_classic_agi_script_runs_the_flow(tmp_path: Path) -> None:
    config = config_dir(tmp_path)
    asterisk, code, stderr = await run_script(
        "main", "--config", str(config), keys=[WAIT, "1", *"4321"]
    )
    assert code == 0, stderr
    assert asterisk.variables["ACD_QUEUE"] == "sales"
    assert asterisk.variables["IVR_RESULT"] == "queue"
    ctx = decode_context(asterisk.variables["ACD_CONTEXT"])
    assert ctx["customer"]["name"] == "山田 太郎"
    assert ctx["entered"]["pin"] == {"value": "****", "sensitive": True}
    assert "4321" not in stderr and "4321" not in repr(asterisk.variables)


async def test_classic_agi_script_reports_config_problems(tmp_path: Path) -> None:
    config = config_dir(tmp_path)
    (config / "queues.toml").write_text("[queue.support]\n", encoding="utf-8")
    asterisk, code, stderr = await run_script("main", "--config", str(config), keys=[])
    assert code == 2
    assert "main.toml: node.sales.queue: unknown queue 'sales'" in stderr
    assert asterisk.commands == []


HOURS_FLOW = """
[flow]
start = "h"
default_queue = "support"
[node.h]
type = "hours"
schedule = "office"
open = "q"
closed = "bye"
holiday = "vm"
[node.q]
type = "queue"
[node.bye]
type = "hangup"
prompt = "vm-goodbye"
[node.vm]
type = "voicemail"
mailbox = "support@madoguchi"
"""


async def test_clock_can_be_set_for_holiday_routing(tmp_path: Path) -> None:
    config = config_dir(tmp_path)
    (config / "ivr" / "main.toml").write_text(HOURS_FLOW, encoding="utf-8")
    (config / "calendar.toml").write_text(
        '[hours.office]\nmon = ["09:00-18:00"]\n', encoding="utf-8"
    )
    holiday = "2026-11-23T10:00:00+09:00"  # 勤労感謝の日, a Monday
    asterisk, code, stderr = await run_script(
        "main", "--config", str(config), "--now", holiday, keys=[]
    )
    assert code == 0, stderr
    assert asterisk.variables["IVR_RESULT"] == "voicemail"
    assert ["EXEC", "VoiceMail", "support@madoguchi,u"] in asterisk.commands
    monday_night = "2026-11-30T20:00:00+09:00"
    asterisk, _, _ = await run_script("main", "--config", str(config), "--now", monday_night,
                                      keys=[])  # fmt: skip
    assert asterisk.variables["IVR_RESULT"] == "hangup"
