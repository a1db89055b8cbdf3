"""The demo flow on number 100 with SIPp callers pressing RFC 2833 keys: every menu choice,
wrong keys, silence, too many digits, `*`/`#` where they mean nothing and a key flood each
reach the expected queue with the expected hand-off; a caller hanging up mid-menu leaves
a call record that says so.

All callers of this module dial at once (one SIPp process each, own caller number) so the
module takes as long as its longest caller (the one who never presses a key, ~45 s).
Timings in the scripts follow the demo's Japanese prompts (asterisk/sounds/ja): a key
pressed while a prompt plays interrupts it (barge-in); the "invalid" prompt (4 s) cannot
be interrupted, so the next key of a script comes after it.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import pytest
from ivr_it_helpers import (
    AmiWatch,
    Caller,
    callers_running,
)

from bench.harness.caller import CallerScript, Dtmf, Pause
from madoguchi.stack.runner import Stack
from tests.polling import wait_for

OPEN = ("hours", "hours", "open")
NOT_FOUND_BY_CALLER = ("by_caller", "lookup", "not_found")
SALES_DATA = {"topic": "営業 / sales"}
SUPPORT_DATA = {"topic": "サポート / support"}

# name -> (caller number, keys and pauses, hang up this long after the last step)
SCRIPTS: dict[str, CallerScript] = {
    "sales": CallerScript(
        "100",
        "0399001001",
        steps=(Pause(1500), Dtmf("1"), Pause(2500), Dtmf("#")),
        hangup_after_ms=12_000,
    ),
    "support": CallerScript(
        "100",
        "0399001002",
        steps=(Pause(1500), Dtmf("2"), Pause(2500), Dtmf("#")),
        hangup_after_ms=12_000,
    ),
    "english": CallerScript(
        "100",
        "0399001003",
        steps=(Pause(1500), Dtmf("9"), Pause(2000), Dtmf("2"), Pause(2000), Dtmf("#")),
        hangup_after_ms=12_000,
    ),
    "invalid_then_valid": CallerScript(
        "100",
        "0399001004",
        steps=(Pause(1500), Dtmf("5"), Pause(6000), Dtmf("1"), Pause(2500), Dtmf("#")),
        hangup_after_ms=12_000,
    ),
    "no_input": CallerScript("100", "0399001005", hangup_after_ms=52_000),
    "star_and_pound_in_menu": CallerScript(
        "100",
        "0399001006",
        steps=(
            Pause(1500),
            Dtmf("*"),
            Pause(6000),
            Dtmf("#"),
            Pause(6000),
            Dtmf("2"),
            Pause(2500),
            Dtmf("#"),
        ),
        hangup_after_ms=12_000,
    ),
    "too_many_digits": CallerScript(
        "100",
        "0399001007",
        steps=(Pause(1500), Dtmf("2"), Pause(2000), Dtmf("123456789#")),
        hangup_after_ms=35_000,
    ),
    "star_in_account": CallerScript(
        "100",
        "0399001008",
        steps=(Pause(1500), Dtmf("1"), Pause(2000), Dtmf("12*34#"), Pause(5000), Dtmf("#")),
        hangup_after_ms=12_000,
    ),
    "flood": CallerScript(
        "100",
        "0399001009",
        steps=(Pause(1500), Dtmf("5" * 60, gap_ms=200)),
        hangup_after_ms=8_000,
    ),
    "hangs_up_mid_menu": CallerScript("100", "0399001010", hangup_after_ms=6_000),
}


@pytest.fixture(scope="module")
def calls(
    stack: Stack, ami: AmiWatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Caller]]:
    workdir = tmp_path_factory.mktemp("menu")
    with callers_running(stack, list(SCRIPTS.items()), workdir, finish_within=90) as callers:
        yield callers


async def test_menu_1_reaches_sales_with_the_path_and_topic(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    e = await ami.wait_for_caller(calls["sales"].number)
    assert (e.queue, e.priority, e.skills) == ("sales", 0, "")
    assert e.steps() == [
        OPEN,
        ("main_menu", "menu", "1"),
        ("account", "skip", None),
        NOT_FOUND_BY_CALLER,
    ]
    assert e.context["flow"] == "main"
    assert e.context["language"] == "ja"
    assert e.context["customer"] is None
    assert e.context["entered"] == {}
    assert e.context["data"] == SALES_DATA
    assert await calls["sales"].finished(60) == 0, calls["sales"].process.errors()


async def test_menu_2_reaches_support(calls: dict[str, Caller], ami: AmiWatch) -> None:
    e = await ami.wait_for_caller(calls["support"].number)
    assert (e.queue, e.priority, e.skills) == ("support", 0, "")
    assert e.steps() == [
        OPEN,
        ("main_menu", "menu", "2"),
        ("account", "skip", None),
        NOT_FOUND_BY_CALLER,
    ]
    assert e.context["data"] == SUPPORT_DATA
    assert e.context["language"] == "ja"
    assert await calls["support"].finished(60) == 0, calls["support"].process.errors()


async def test_menu_9_switches_to_english_and_asks_for_an_english_speaker(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    e = await ami.wait_for_caller(calls["english"].number)
    assert (e.queue, e.priority, e.skills) == ("support", 0, "lang_en>=1")
    assert e.steps() == [
        OPEN,
        ("main_menu", "menu", "9"),
        ("main_menu", "menu", "2"),
        ("account", "skip", None),
        NOT_FOUND_BY_CALLER,
    ]
    assert e.context["language"] == "en"
    assert e.raw.get("language") == ["en"], "the channel's language follows the caller's choice"


async def test_invalid_key_is_reprompted_then_the_valid_one_counts(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    e = await ami.wait_for_caller(calls["invalid_then_valid"].number)
    assert e.queue == "sales"
    assert e.steps() == [
        OPEN,
        ("main_menu", "invalid", "5"),
        ("main_menu", "menu", "1"),
        ("account", "skip", None),
        NOT_FOUND_BY_CALLER,
    ]


async def test_silence_until_the_retry_limit_takes_the_fallback_route(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    e = await ami.wait_for_caller(calls["no_input"].number, limit=70)
    assert (e.queue, e.priority) == ("support", 5)
    assert e.steps() == [
        OPEN,
        ("main_menu", "timeout", None),
        ("main_menu", "timeout", None),
        ("main_menu", "timeout", None),
        ("main_menu", "fallback", None),
    ]
    assert e.context["data"] == {}


async def test_star_and_pound_in_the_menu_are_invalid_and_reprompted(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    e = await ami.wait_for_caller(calls["star_and_pound_in_menu"].number)
    assert e.queue == "support"
    assert e.steps() == [
        OPEN,
        ("main_menu", "invalid", "*"),
        ("main_menu", "invalid", "#"),
        ("main_menu", "menu", "2"),
        ("account", "skip", None),
        NOT_FOUND_BY_CALLER,
    ]


async def test_more_digits_than_asked_is_invalid_and_never_recorded(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    e = await ami.wait_for_caller(calls["too_many_digits"].number, limit=70)
    assert (e.queue, e.priority) == ("support", 0)
    # 9 digits for an 8-digit account: re-prompted (the trailing # of the burst is not taken
    # as an answer), then silence until the attempts run out: on to the caller-ID look-up.
    assert e.steps() == [
        OPEN,
        ("main_menu", "menu", "2"),
        ("account", "invalid", "too_long"),
        ("account", "timeout", None),
        ("account", "fallback", None),
        NOT_FOUND_BY_CALLER,
    ]
    assert e.context["entered"] == {}
    assert "123456789" not in str(e.raw)


async def test_star_inside_an_account_number_is_a_bad_key(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    e = await ami.wait_for_caller(calls["star_in_account"].number)
    assert e.queue == "sales"
    assert e.steps() == [
        OPEN,
        ("main_menu", "menu", "1"),
        ("account", "invalid", "bad_key"),
        ("account", "skip", None),
        NOT_FOUND_BY_CALLER,
    ]
    assert e.context["entered"] == {}


async def test_a_key_flood_is_bounded_and_ends_on_the_fallback_route(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    e = await ami.wait_for_caller(calls["flood"].number)
    assert (e.queue, e.priority) == ("support", 5)
    assert e.steps() == [
        OPEN,
        ("main_menu", "invalid", "5"),
        ("main_menu", "invalid", "5"),
        ("main_menu", "invalid", "5"),
        ("main_menu", "fallback", None),
    ]
    assert len(ami.for_caller(calls["flood"].number)) == 1, "one hand-off per call"


async def test_every_caller_was_handed_over_exactly_once(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    for name, caller in calls.items():
        if name == "hangs_up_mid_menu":
            continue
        await ami.wait_for_caller(caller.number, limit=70)
        assert len(ami.for_caller(caller.number)) == 1, name


async def test_hanging_up_mid_menu_leaves_an_abandoned_ivr_record(
    calls: dict[str, Caller], ami: AmiWatch, db: asyncpg.Connection
) -> None:
    caller = calls["hangs_up_mid_menu"]
    assert await caller.finished(30) == 0, caller.process.errors()

    async def record() -> asyncpg.Record | None:
        return await db.fetchrow(
            "SELECT * FROM calls WHERE caller_number = $1 AND outcome IS NOT NULL", caller.number
        )

    row = await wait_for("the abandoned call's record", record)
    assert row["outcome"] == "abandoned_ivr"
    assert row["queue"] is None and row["agent_id"] is None
    assert (
        await db.fetchval("SELECT count(*) FROM calls WHERE caller_number = $1", caller.number) == 1
    )
    assert ami.for_caller(caller.number) == [], "an abandoned caller is never queued"
