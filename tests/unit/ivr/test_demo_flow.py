"""The shipped demo flow (config/ivr/main.toml, number 100) against the shipped config."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from ivr_fakes import HANGUP, WAIT, ScriptedChannel

from ivr.calendar import Calendar, parse_calendar
from ivr.caller import CallInfo
from ivr.config_dir import DEFAULT_CONFIG_DIR, load_ivr_config
from ivr.crm import InMemoryCrm
from ivr.engine import IvrEngine
from ivr.outcome import IvrOutcome, IvrResult, decode_context

TOKYO = ZoneInfo("Asia/Tokyo")
FLOWS, DEMO_CALENDAR = load_ivr_config()
CRM = InMemoryCrm.from_csv(DEFAULT_CONFIG_DIR / "crm_seed.csv")
OFFICE = parse_calendar(
    {"hours": {"main": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}},
    "calendar.toml",
)
UNKNOWN_CALLER = CallInfo("0399990000", "")
GOLD_CALLER = CallInfo("0312345678", "ヤマダ")  # A-1001 in crm_seed.csv, gold


async def call(
    keys: list[str],
    caller: CallInfo = UNKNOWN_CALLER,
    calendar: Calendar = DEMO_CALENDAR,
    at: datetime = datetime(2026, 11, 30, 3, 0, tzinfo=TOKYO),
) -> tuple[IvrOutcome, ScriptedChannel]:
    engine = IvrEngine(FLOWS, crm=CRM, calendar=calendar, clock=lambda: at)
    channel = ScriptedChannel(keys)
    return await engine.run("main", channel, caller), channel


def test_demo_prompts_are_shipped() -> None:
    sounds = Path(__file__).resolve().parents[3] / "asterisk" / "sounds"
    for lang in ("ja", "en"):
        assert (sounds / lang / "welcome.wav").stat().st_size > 1000


@pytest.mark.parametrize(("key", "queue"), [("1", "sales"), ("2", "support")])
async def test_menu_choices_at_3am_demo_is_open(key: str, queue: str) -> None:
    outcome, ch = await call([WAIT, WAIT, WAIT, key, "#"])
    assert outcome.result is IvrResult.QUEUE
    assert ch.variables["ACD_QUEUE"] == queue and ch.variables["ACD_PRIORITY"] == "0"
    assert ch.played()[-1] == "custom/connecting"


async def test_invalid_then_valid() -> None:
    outcome, _ = await call([WAIT, WAIT, WAIT, "5", WAIT, WAIT, WAIT, "1", "#"])
    assert outcome.queue == "sales"
    assert [s.kind for s in outcome.path if s.node == "main_menu"] == ["invalid", "menu"]


async def test_no_input_falls_back_to_support() -> None:
    outcome, ch = await call([])
    assert (outcome.queue, outcome.priority) == ("support", 5)
    assert ch.variables["IVR_RESULT"] == "queue"


async def test_account_entry_finds_a_gold_customer() -> None:
    _, ch = await call([WAIT, WAIT, WAIT, "2", *"1004", "#"])
    assert ch.variables["ACD_PRIORITY"] == "10"
    ctx = decode_context(ch.variables["ACD_CONTEXT"])
    assert ctx["customer"]["name"] == "高橋 美咲" and ctx["customer"]["account"] == "A-1004"
    assert ctx["entered"] == {"account": {"value": "1004", "sensitive": False}}
    assert ctx["data"] == {"topic": "サポート / support", "service": "gold"}


async def test_unknown_account_tells_the_caller_then_uses_caller_id() -> None:
    outcome, ch = await call([WAIT, WAIT, WAIT, "1", *"9999", "#"], caller=GOLD_CALLER)
    assert "custom/not-found" in ch.played()
    assert outcome.customer is not None and outcome.customer.account == "A-1001"
    assert outcome.priority == 10


async def test_english() -> None:
    outcome, ch = await call([WAIT, WAIT, WAIT, "9", WAIT, WAIT, "1", "#"])
    assert outcome.language == "en" and ch.variables["CHANNEL(language)"] == "en"
    assert ch.variables["ACD_SKILLS"] == "lang_en>=1"


async def test_after_hours_and_holiday_with_an_office_calendar() -> None:
    night = datetime(2026, 11, 30, 20, 0, tzinfo=TOKYO)
    outcome, ch = await call([], calendar=OFFICE, at=night)
    assert outcome.result is IvrResult.HANGUP and ch.played()[-1] == "custom/closed"
    holiday = datetime(2026, 11, 23, 10, 0, tzinfo=TOKYO)  # 勤労感謝の日, a Monday
    outcome, ch = await call([], calendar=OFFICE, at=holiday)
    assert outcome.result is IvrResult.VOICEMAIL
    assert ("voicemail", "support@madoguchi", "s") in ch.log


async def test_caller_hangs_up_mid_menu() -> None:
    outcome, _ = await call([WAIT, WAIT, WAIT, HANGUP])
    assert outcome.result is IvrResult.ABANDONED
