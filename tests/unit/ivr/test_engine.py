from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from ivr_fakes import HANGUP, WAIT, FlowsFactory, ScriptedChannel

from ivr.calendar import parse_calendar
from ivr.call_state import Limits
from ivr.caller import CallInfo
from ivr.crm import InMemoryCrm
from ivr.engine import IvrEngine
from ivr.flow import Flow
from ivr.outcome import IvrOutcome, IvrResult, decode_context

TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY_NOON = datetime(2026, 11, 30, 12, 0, tzinfo=TOKYO)
MONDAY_NIGHT = datetime(2026, 11, 30, 22, 0, tzinfo=TOKYO)
HOLIDAY_NOON = datetime(2026, 9, 22, 12, 0, tzinfo=TOKYO)  # 国民の休日

CALENDAR = parse_calendar(
    {
        "timezone": "Asia/Tokyo",
        "japanese_holidays": True,
        "hours": {"main": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}},
    },
    "calendar.toml",
)

CUSTOMERS = [
    {"id": "c1", "name": "山田　花子", "tier": "gold", "account_number": "12345674",
     "phone": "0312345678"},
    {"id": "c2", "name": "Bob \"Tables\"", "tier": "silver", "account_number": "00000000",
     "phone": "+81 90 1111 2222"},
]  # fmt: skip

MAIN = """
[flow]
start = "greeting"
language = "ja"
languages = ["ja", "en"]
default_queue = "support"

[node.greeting]
type = "play"
prompt = "hello"
next = "hours"

[node.hours]
type = "hours"
schedule = "main"
open = "menu"
closed = "closed_msg"
holiday = "holiday_vm"

[node.menu]
type = "menu"
prompt = ["for", "digits/1"]
choices = { "1" = "sales", "2" = "support", "9" = "english" }
timeout = 4
attempts = 3
timeout_prompt = "please-try-again"
fallback = "to_support"

[node.sales]
type = "set"
queue = "sales"
skills = "lang_ja>=1"
data = { topic = "sales" }
next = "account"

[node.support]
type = "set"
queue = "support"
next = "account"

[node.english]
type = "set"
language = "en"
next = "menu"

[node.account]
type = "collect"
prompt = "vm-enter-num-to-call"
store = "account"
min_length = 8
max_length = 8
check = "luhn"
empty = "lookup_caller"
fallback = "lookup_caller"
next = "lookup_account"

[node.lookup_account]
type = "lookup"
by = "account"
input = "account"
found = "tier"
not_found = "lookup_caller"
error = "to_queue"

[node.lookup_caller]
type = "lookup"
by = "caller"
found = "tier"
not_found = "to_queue"

[node.tier]
type = "branch"
cases = [{ field = "customer.tier", equals = "gold", next = "gold" }]
default = "to_queue"

[node.gold]
type = "set"
priority = 10
next = "to_queue"

[node.to_queue]
type = "queue"

[node.to_support]
type = "queue"
queue = "support"
priority = 1

[node.closed_msg]
type = "hangup"
prompt = "vm-goodbye"

[node.holiday_vm]
type = "voicemail"
mailbox = "100@default"
options = "u"
prompt = "vm-nobodyavail"
"""

CALL = CallInfo(caller_number="0399999999", caller_name="Caller", unique_id="1.1")


class SlowCrm:
    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def find_by_phone(self, number: str) -> Mapping[str, Any] | None:
        await self.release.wait()
        return None

    async def find_by_account(self, account: str) -> Mapping[str, Any] | None:
        await self.release.wait()
        return None


class BrokenCrm:
    async def find_by_phone(self, number: str) -> Mapping[str, Any] | None:
        raise ConnectionError("db down")

    async def find_by_account(self, account: str) -> Mapping[str, Any] | None:
        raise ConnectionError("db down")


def engine(flows: dict[str, Flow], *, at: datetime = MONDAY_NOON, crm: Any = None,
           limits: Limits | None = None) -> IvrEngine:  # fmt: skip
    return IvrEngine(
        flows,
        crm=crm if crm is not None else InMemoryCrm(CUSTOMERS),
        calendar=CALENDAR,
        clock=lambda: at,
        limits=limits or Limits(),
    )


async def run(
    flows: dict[str, Flow], script: list[str], call: CallInfo = CALL, **kw: Any
) -> tuple[IvrOutcome, ScriptedChannel]:
    channel = ScriptedChannel(script)
    outcome = await engine(flows, **kw).run("main", channel, call)
    return outcome, channel


def steps(outcome: IvrOutcome) -> list[tuple[str, str, str | None]]:
    return [(s.node, s.kind, s.value) for s in outcome.path]


async def test_menu_choice_reaches_queue_with_context(make_flows: FlowsFactory) -> None:
    flows = make_flows(main=MAIN)
    outcome, ch = await run(flows, [WAIT, WAIT, "1", "#"])
    assert outcome.result is IvrResult.QUEUE
    assert ch.variables["ACD_QUEUE"] == "sales"
    assert ch.variables["ACD_PRIORITY"] == "0"
    assert ch.variables["ACD_SKILLS"] == "lang_ja>=1"
    assert ch.variables["IVR_RESULT"] == "queue"
    assert ch.variables["CHANNEL(language)"] == "ja"
    ctx = decode_context(ch.variables["ACD_CONTEXT"])
    assert ctx["flow"] == "main" and ctx["language"] == "ja" and ctx["customer"] is None
    assert ctx["data"] == {"topic": "sales"}
    assert {"node": "menu", "kind": "menu", "value": "1"} in ctx["path"]
    assert ("account", "skip", None) in steps(outcome)
    assert ch.log[0] == ("answer",)
    assert ("hangup",) not in ch.log  # the dialplan continues to the waiting context


async def test_invalid_key_then_valid(make_flows: FlowsFactory) -> None:
    flows = make_flows(main=MAIN)
    outcome, ch = await run(flows, [WAIT, WAIT, "7", WAIT, "2", "#"])
    assert ch.variables["ACD_QUEUE"] == "support"
    path = steps(outcome)
    assert path.index(("menu", "invalid", "7")) < path.index(("menu", "menu", "2"))
    assert "invalid" in ch.played()  # told, not left in dead air


@pytest.mark.parametrize("key", ["*", "#"])
async def test_star_and_hash_where_not_expected_are_invalid(
    make_flows: FlowsFactory, key: str
) -> None:
    outcome, _ = await run(make_flows(main=MAIN), [WAIT, WAIT, key, WAIT, "1", "#"])
    assert ("menu", "invalid", key) in steps(outcome)
    assert outcome.queue == "sales"


async def test_no_input_until_retry_limit_takes_fallback(make_flows: FlowsFactory) -> None:
    outcome, ch = await run(make_flows(main=MAIN), [])
    assert outcome.result is IvrResult.QUEUE
    assert (outcome.queue, outcome.priority) == ("support", 1)
    assert [s for s in steps(outcome) if s[0] == "menu"] == [
        ("menu", "timeout", None), ("menu", "timeout", None), ("menu", "timeout", None),
        ("menu", "fallback", None),
    ]  # fmt: skip
    assert ch.played().count("please-try-again") == 2
    assert [e for e in ch.log if e[0] == "read"] == [("read", 4.0)] * 3


async def test_key_pressed_during_greeting_is_not_lost(make_flows: FlowsFactory) -> None:
    outcome, ch = await run(make_flows(main=MAIN), ["2", "#"])
    assert outcome.queue == "support"
    assert ("menu", "menu", "2") in steps(outcome)
    assert "for" not in ch.played()  # menu prompt skipped: the caller already answered


async def test_type_ahead_across_prompts(make_flows: FlowsFactory) -> None:
    # "1" interrupts the greeting, then "#" is pressed while the menu would still play
    outcome, ch = await run(make_flows(main=MAIN), ["1", "#"])
    assert ("account", "skip", None) in steps(outcome)
    assert ch.played() == ["hello", "vm-enter-num-to-call"]


async def test_account_entry_lookup_and_gold_priority(make_flows: FlowsFactory) -> None:
    script = [WAIT, WAIT, "1", *"12345674", "#"]
    outcome, ch = await run(make_flows(main=MAIN), script)
    assert outcome.customer is not None and outcome.customer.tier == "gold"
    assert ch.variables["ACD_PRIORITY"] == "10"
    ctx = decode_context(ch.variables["ACD_CONTEXT"])
    assert ctx["customer"] == {"id": "c1", "name": "山田 花子", "tier": "gold",
                               "account": "12345674"}  # fmt: skip
    assert ctx["entered"] == {"account": {"value": "12345674", "sensitive": False}}
    assert ("lookup_account", "lookup", "found") in steps(outcome)
    assert ("tier", "branch", "gold") in steps(outcome)


async def test_invalid_account_check_digit_then_fallback(make_flows: FlowsFactory) -> None:
    script = [WAIT, WAIT, "2", *"12345670", "#", WAIT, *"1234", "#", WAIT, "*"]
    outcome, _ = await run(make_flows(main=MAIN), script)
    account = [s for s in steps(outcome) if s[0] == "account"]
    assert account == [
        ("account", "invalid", "check_digit"), ("account", "invalid", "too_short"),
        ("account", "invalid", "bad_key"), ("account", "fallback", None),
    ]  # fmt: skip
    # fallback: lookup by caller number, which is unknown -> default queue set by the menu
    assert outcome.queue == "support" and outcome.customer is None
    assert outcome.entered == {}


async def test_digits_longer_than_asked_are_invalid(make_flows: FlowsFactory) -> None:
    script = [WAIT, WAIT, "2", *"123456749", "#", *"12345674", "#"]  # "#" is lost
    outcome, _ = await run(make_flows(main=MAIN), script)
    assert ("account", "invalid", "too_long") in steps(outcome)
    assert outcome.customer is not None and outcome.customer.id == "c1"


async def test_unknown_account_falls_back_to_caller_lookup(make_flows: FlowsFactory) -> None:
    call = CallInfo(caller_number="09011112222", caller_name="")
    script = [WAIT, WAIT, "2", *"79927398", "#"]
    outcome, _ = await run(make_flows(main=MAIN), script, call=call)
    assert ("lookup_account", "lookup", "not_found") in steps(outcome)
    assert ("lookup_caller", "lookup", "found") in steps(outcome)
    assert outcome.customer is not None and outcome.customer.id == "c2"
    assert outcome.priority == 0


async def test_crm_error_takes_error_path(make_flows: FlowsFactory, caplog: Any) -> None:
    script = [WAIT, WAIT, "2", *"12345674", "#"]
    outcome, _ = await run(make_flows(main=MAIN), script, crm=BrokenCrm())
    assert ("lookup_account", "lookup", "error") in steps(outcome)
    assert outcome.result is IvrResult.QUEUE and outcome.queue == "support"
    assert "12345674" not in caplog.text


async def test_crm_too_slow_takes_error_path(make_flows: FlowsFactory) -> None:
    flows = make_flows(main=MAIN.replace('error = "to_queue"', 'error = "to_queue"\ntimeout = 0.1'))
    script = [WAIT, WAIT, "2", *"12345674", "#"]
    outcome, _ = await run(flows, script, crm=SlowCrm())
    assert ("lookup_account", "lookup", "error") in steps(outcome)


async def test_after_hours_message_and_hangup(make_flows: FlowsFactory) -> None:
    outcome, ch = await run(make_flows(main=MAIN), [], at=MONDAY_NIGHT)
    assert outcome.result is IvrResult.HANGUP
    assert ch.played() == ["hello", "vm-goodbye"]
    assert ch.variables["IVR_RESULT"] == "hangup"
    assert "ACD_QUEUE" not in ch.variables
    assert ch.log[-1] == ("hangup",)
    assert ("hours", "hours", "closed") in steps(outcome)


async def test_holiday_goes_to_voicemail(make_flows: FlowsFactory) -> None:
    outcome, ch = await run(make_flows(main=MAIN), [], at=HOLIDAY_NOON)
    assert outcome.result is IvrResult.VOICEMAIL
    assert ("voicemail", "100@default", "u") in ch.log
    assert ch.variables["IVR_RESULT"] == "voicemail"
    assert ch.log[-1] == ("hangup",)
    assert ("hours", "hours", "holiday") in steps(outcome)


async def test_caller_hangs_up_mid_menu(make_flows: FlowsFactory) -> None:
    outcome, ch = await run(make_flows(main=MAIN), [WAIT, WAIT, "5", HANGUP])
    assert outcome.result is IvrResult.ABANDONED
    assert steps(outcome)[-1] == ("menu", "hangup", None)
    assert "IVR_RESULT" not in ch.variables  # nothing can be set on a dead channel


async def test_hangup_before_answer_is_abandoned(make_flows: FlowsFactory) -> None:
    outcome, _ = await run(make_flows(main=MAIN), [HANGUP])
    assert outcome.result is IvrResult.ABANDONED


async def test_language_switch_and_preset(make_flows: FlowsFactory) -> None:
    outcome, ch = await run(make_flows(main=MAIN), [WAIT, WAIT, "9", WAIT, "2", "#"])
    assert outcome.language == "en"
    assert [e for e in ch.log if e[:2] == ("set", "CHANNEL(language)")] == [
        ("set", "CHANNEL(language)", "ja"), ("set", "CHANNEL(language)", "en"),
    ]  # fmt: skip
    channel = ScriptedChannel([WAIT, WAIT, "2", "#"], variables={"IVR_LANGUAGE": "en"})
    preset = await engine(make_flows(main=MAIN)).run("main", channel, CALL)
    assert preset.language == "en"
    channel = ScriptedChannel([WAIT, WAIT, "2", "#"], variables={"IVR_LANGUAGE": "fr"})
    assert (await engine(make_flows(main=MAIN)).run("main", channel, CALL)).language == "ja"


async def test_dtmf_flood_is_bounded(make_flows: FlowsFactory) -> None:
    flood = ["5"] * 5000
    outcome, ch = await run(make_flows(main=MAIN), flood)
    assert outcome.result is IvrResult.QUEUE
    assert outcome.queue == "support"  # the menu's fallback route
    assert len(ch.script) > 4900  # the rest of the flood was never read
    assert len(outcome.path) < 20


async def test_digit_budget_over_the_call(make_flows: FlowsFactory) -> None:
    loop = """
[flow]
start = "menu"
default_queue = "billing"
[node.menu]
type = "menu"
prompt = "hello"
choices = { "1" = "again" }
fallback = "out"
[node.again]
type = "play"
prompt = "beep"
next = "menu"
[node.out]
type = "hangup"
"""
    outcome, _ = await run(make_flows(main=loop), ["1"] * 50, limits=Limits(max_digits=10))
    assert outcome.result is IvrResult.QUEUE and outcome.queue == "billing"
    assert steps(outcome)[-1][1:] == ("limit", "digits")
    outcome, _ = await run(make_flows(main=loop), ["1"] * 500)  # max_steps = 100
    assert steps(outcome)[-1][1:] == ("limit", "steps")
    no_queue = loop.replace('default_queue = "billing"\n', "")
    outcome, ch = await run(make_flows(main=no_queue), ["1"] * 500)
    assert outcome.result is IvrResult.HANGUP and ch.log[-1] == ("hangup",)


SENSITIVE = """
[flow]
start = "card"
default_queue = "billing"
[node.card]
type = "collect"
prompt = "vm-password"
sensitive = true
min_length = 16
max_length = 16
terminator = ""
check = "luhn"
next = "pin"
fallback = "q"
[node.pin]
type = "collect"
prompt = "vm-password"
sensitive = true
min_length = 4
max_length = 4
pattern = "[0-9]{4}"
next = "check"
fallback = "q"
[node.check]
type = "branch"
cases = [{ field = "entered.pin", equals = "0000", next = "q" },
         { field = "entered.card", matches = "4.*", next = "visa" }]
default = "q"
[node.visa]
type = "set"
data = { brand = "visa" }
next = "q"
[node.q]
type = "queue"
"""


async def test_sensitive_entries_are_masked_everywhere(
    make_flows: FlowsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    card, pin = "4111111111111111", "9876"
    outcome, ch = await run(make_flows(main=SENSITIVE), [*card, *pin, "#"])
    assert outcome.data == {"brand": "visa"}  # the clear value was usable inside the flow
    ctx = decode_context(ch.variables["ACD_CONTEXT"])
    assert ctx["entered"] == {
        "card": {"value": "************1111", "sensitive": True},
        "pin": {"value": "****", "sensitive": True},
    }
    everything = repr(ch.log) + repr(outcome) + repr(ctx) + caplog.text
    assert card not in everything and pin not in everything
    assert ("card", "collect", "************1111") in steps(outcome)


async def test_collect_without_terminator_completes_at_max_length(
    make_flows: FlowsFactory,
) -> None:
    outcome, _ = await run(make_flows(main=SENSITIVE), [*"4111111111111111", WAIT, WAIT, WAIT])
    assert ("pin", "invalid", "too_short") not in steps(outcome)
    assert [s[1] for s in steps(outcome) if s[0] == "pin"] == [
        "timeout", "timeout", "timeout", "fallback"
    ]  # fmt: skip


async def test_pin_timeout_after_some_digits_accepts_what_was_typed(
    make_flows: FlowsFactory,
) -> None:
    outcome, _ = await run(make_flows(main=SENSITIVE), [*"4111111111111111", *"12", WAIT])
    assert ("pin", "invalid", "too_short") in steps(outcome)


GOTO = """
[flow]
start = "a"
[node.a]
type = "say"
value = "caller.number"
next = "b"
[node.b]
type = "goto"
flow = "other"
"""
OTHER = """
[flow]
start = "x"
language = "en"
[node.x]
type = "branch"
cases = [{ field = "caller.number", exists = false, next = "anon" },
         { field = "caller.number", in = ["0312345678"], next = "known" }]
default = "vm"
[node.anon]
type = "hangup"
prompt = "vm-goodbye"
[node.known]
type = "queue"
queue = "billing"
[node.vm]
type = "voicemail"
mailbox = "200"
"""


async def test_goto_flow_say_and_branch_operators(make_flows: FlowsFactory) -> None:
    flows = make_flows(main=GOTO, other=OTHER)
    outcome, ch = await run(flows, [], call=CallInfo("0312345678", ""))
    assert ("say_digits", "0312345678") in ch.log
    assert outcome.flow == "main" and outcome.queue == "billing"
    assert ("b", "goto", "other") in steps(outcome)
    outcome, ch = await run(flows, [], call=CallInfo("", ""))
    assert outcome.result is IvrResult.HANGUP and "say_digits" not in repr(ch.log)
    outcome, ch = await run(flows, [], call=CallInfo("0311112222", ""))
    assert outcome.result is IvrResult.VOICEMAIL and ("voicemail", "200", "u") in ch.log


async def test_say_number(make_flows: FlowsFactory) -> None:
    flow = """
[flow]
start = "n"
default_queue = "sales"
[node.n]
type = "collect"
prompt = "hello"
store = "amount"
next = "s"
fallback = "q"
[node.s]
type = "say"
value = "entered.amount"
mode = "number"
next = "q"
[node.q]
type = "queue"
"""
    _, ch = await run(make_flows(main=flow), [*"250", "#"])
    assert ("say_number", 250) in ch.log


async def test_context_stays_small_enough_for_one_agi_line(make_flows: FlowsFactory) -> None:
    flow = """
[flow]
start = "menu"
default_queue = "sales"
max_steps = 1000
[node.menu]
type = "menu"
prompt = "hello"
choices = { "1" = "menu", "2" = "q" }
attempts = 10
fallback = "q"
[node.q]
type = "set"
data = { note = "%s" }
next = "out"
[node.out]
type = "queue"
""" % ("長い" * 90)
    outcome, ch = await run(make_flows(main=flow), ["1"] * 150 + ["2"])
    assert outcome.path_truncated
    assert len(ch.variables["ACD_CONTEXT"]) <= 1500
    ctx = decode_context(ch.variables["ACD_CONTEXT"])
    assert ctx["path_truncated"] is True and ctx["path"][-1]["value"] == "2"
