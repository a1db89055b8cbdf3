"""Whatever the caller does, the demo flow ends properly and leaks nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from ivr_fakes import HANGUP, WAIT, ScriptedChannel

from ivr.caller import CallInfo
from ivr.config_dir import DEFAULT_CONFIG_DIR, load_ivr_config
from ivr.config_dir import queue_names as read_queue_names
from ivr.crm import InMemoryCrm
from ivr.engine import IvrEngine
from ivr.outcome import IvrResult, decode_context

FLOWS, CALENDAR = load_ivr_config()
QUEUES = read_queue_names(DEFAULT_CONFIG_DIR / "queues.toml")
ENGINE = IvrEngine(
    FLOWS,
    crm=InMemoryCrm.from_csv(DEFAULT_CONFIG_DIR / "crm_seed.csv"),
    calendar=CALENDAR,
    clock=lambda: datetime(2026, 1, 5, 10, tzinfo=ZoneInfo("Asia/Tokyo")),
)
callers = st.lists(st.sampled_from([*"0123456789*#", WAIT, WAIT, HANGUP]), max_size=400)


@settings(max_examples=300, deadline=None)
@given(callers)
def test_every_caller_behaviour_ends_with_a_proper_outcome(script: list[str]) -> None:
    channel = ScriptedChannel(script)
    outcome = asyncio.run(ENGINE.run("main", channel, CallInfo("0312345678", "x")))
    assert len(channel.log) < 300  # bounded, whatever the keys
    if outcome.result is IvrResult.ABANDONED:
        assert HANGUP in script
        return
    assert channel.variables["IVR_RESULT"] == outcome.result.value
    assert outcome.result is IvrResult.QUEUE  # the demo is open: every other way queues
    assert channel.variables["ACD_QUEUE"] in QUEUES
    assert 0 <= int(channel.variables["ACD_PRIORITY"]) <= 100
    context = decode_context(channel.variables["ACD_CONTEXT"])
    assert context["flow"] == "main" and context["language"] in ("ja", "en")
