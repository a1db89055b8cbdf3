"""A sensitive entry (a PIN) on the real stack: the flow can use it, but the hand-off the
ACD receives over AMI, the call record and the service log only ever hold it masked.

A test-only flow on number 193 is added to the stack's config copy and reloaded (then
removed again): a 4-digit PIN, sensitive; PIN 4321 raises the priority to 7.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator

import asyncpg
import pytest
from ivr_it_helpers import (
    AmiWatch,
    Caller,
    reload_service,
    start_callers,
    stop_callers,
    wait_dialplan,
    wait_no_channels,
)

from bench.harness.caller import CallerScript, Dtmf, Pause
from madoguchi.stack.runner import Stack
from tests.polling import wait_for

PIN = "4321"
PIN_FLOW = f"""# Test-only (tests/integration/ivr/test_it_ivr_sensitive.py)
[flow]
start = "pin"
language = "ja"
languages = ["ja", "en"]
default_queue = "support"

[node.pin]
type = "collect"
prompt = "custom/enter-account"
store = "pin"
min_length = 4
max_length = 4
terminator = ""
sensitive = true
timeout = 6
attempts = 2
next = "check"
fallback = "connect"

[node.check]
type = "branch"
cases = [{{ field = "entered.pin", equals = "{PIN}", next = "known" }}]
default = "connect"

[node.known]
type = "set"
priority = 7
next = "connect"

[node.connect]
type = "queue"
"""
CALLER = "0399007001"
# Unique ids (1795376849.12), times and ports are digits the PIN could occur in by chance.
_NOISE = re.compile(r"\d+\.\d+|\d{4}-\d\d-\d\d[ T][\d:.,+]+|\d{5,}")


def _without_noise(text: str) -> str:
    return _NOISE.sub("#", text)


@pytest.fixture(scope="module")
def call(
    stack: Stack, ami: AmiWatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Caller, int]]:
    config = stack.paths.config
    saved = tmp_path_factory.mktemp("numbers-saved") / "numbers.toml"
    shutil.copy(config / "numbers.toml", saved)
    (config / "ivr" / "it_pin.toml").write_text(PIN_FLOW, encoding="utf-8")
    with (config / "numbers.toml").open("a", encoding="utf-8") as f:
        f.write('\n[number."193"]\nflow = "it_pin"\n')
    log_start = len((stack.paths.logs / "service.log").read_bytes())
    callers: dict[str, Caller] = {}
    try:
        reload_service(stack)
        wait_dialplan(stack, "193")
        script = CallerScript("193", CALLER, steps=(Pause(1500), Dtmf(PIN)), hangup_after_ms=8_000)
        callers = start_callers([("pin", script)], tmp_path_factory.mktemp("pin"))
        yield callers["pin"], log_start
    finally:
        stop_callers(callers.values(), finish_within=60)
        shutil.copy(saved, config / "numbers.toml")
        (config / "ivr" / "it_pin.toml").unlink(missing_ok=True)
        reload_service(stack)
        wait_no_channels(stack)


async def test_a_pin_is_used_by_the_flow_but_handed_over_masked(
    call: tuple[Caller, int], ami: AmiWatch, stack: Stack, db: asyncpg.Connection
) -> None:
    caller, log_start = call
    e = await ami.wait_for_caller(caller.number)
    # Used: the branch compared the clear PIN and raised the priority.
    assert (e.queue, e.priority) == ("support", 7)
    assert e.steps() == [("pin", "collect", "****"), ("check", "branch", "known")]
    assert e.context["entered"] == {"pin": {"value": "****", "sensitive": True}}
    # Masked everywhere else: the AMI event (the decoded context included) ...
    seen = json.dumps(e.raw) + json.dumps(e.context, ensure_ascii=False)
    assert PIN not in _without_noise(seen)
    assert await caller.finished(40) == 0, caller.process.errors()[-1500:]

    # ... the call record ...
    async def record() -> asyncpg.Record | None:
        return await db.fetchrow(
            "SELECT * FROM calls WHERE caller_number = $1 AND ivr_path IS NOT NULL", CALLER
        )

    row = await wait_for("the call record", record)
    assert PIN not in _without_noise(json.dumps({k: str(v) for k, v in dict(row).items()}))
    events = await db.fetch("SELECT e.* FROM call_events e WHERE e.call_id = $1", row["call_id"])
    stored = json.dumps([{k: str(v) for k, v in dict(r).items()} for r in events])
    assert PIN not in _without_noise(stored)
    # ... and the service log.
    log = (stack.paths.logs / "service.log").read_bytes()[log_start:].decode(errors="replace")
    assert "it_pin" in log and PIN not in _without_noise(log)
