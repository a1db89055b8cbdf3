"""Customers and callers on the real stack: account numbers and caller IDs looked up in
the demo CRM (PostgreSQL, seeded from config/crm_seed.csv), gold priority, hostile caller
IDs, and the classic AGI transport (number 101, pyst2 inside the Asterisk root) giving
the same hand-off as FastAGI (number 100).

All callers of the module dial at once; each has a caller number of its own.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from ivr_it_helpers import (
    AmiWatch,
    Caller,
    Enqueued,
    callers_running,
    wait_crm_seeded,
)

from bench.harness.caller import CallerScript, Dtmf, Pause
from madoguchi.stack.runner import Stack
from tests.polling import wait_for

OPEN = ("hours", "hours", "open")
KEYS_SUPPORT_SKIP = (Pause(1500), Dtmf("2"), Pause(2500), Dtmf("#"))
QUOTES = 'He said "hi" \\ then left'
INJECTION = 'x" SET VARIABLE ACD_QUEUE "sales'
LINE_BREAKS = "line1\u2028line2\u0085line3\u3000end"
HTML = '<script>alert("x")</script>&amp;<b>'
HUGE = "山" * 2731  # 8 KB of UTF-8


def _script(number: str, caller: str, steps: Any, name: str = "Test Caller") -> CallerScript:
    return CallerScript(number, caller, caller_name=name, steps=steps, hangup_after_ms=14_000)


SCRIPTS: dict[str, CallerScript] = {
    # account numbers (FastAGI, PostgreSQL CRM)
    "account_gold": _script(
        "100", "0399002001", (Pause(1500), Dtmf("2"), Pause(2000), Dtmf("1004#"))
    ),
    "account_unknown": _script(
        "100", "0399002002", (Pause(1500), Dtmf("2"), Pause(2000), Dtmf("9999#"))
    ),
    "account_too_short": _script(
        "100",
        "0399002003",
        (Pause(1500), Dtmf("1"), Pause(2000), Dtmf("12#"), Pause(5000), Dtmf("#")),
    ),
    # caller ID look-ups: 中村 優子 (gold), 鈴木 花子 (silver)
    "gold_by_caller_id": _script("100", "0112345678", KEYS_SUPPORT_SKIP),
    "silver_by_caller_id": _script("100", "09011112222", KEYS_SUPPORT_SKIP),
    # hostile caller ID names
    "quotes": _script("100", "0399002011", KEYS_SUPPORT_SKIP, QUOTES),
    "injection": _script("100", "0399002012", KEYS_SUPPORT_SKIP, INJECTION),
    "line_breaks": _script("100", "0399002013", KEYS_SUPPORT_SKIP, LINE_BREAKS),
    "html": _script("100", "0399002014", KEYS_SUPPORT_SKIP, HTML),
    "huge": _script("100", "0399002015", KEYS_SUPPORT_SKIP, HUGE),
    # the same caller (高橋 美咲, gold, two phones) on both transports
    "fastagi_twin": _script("100", "08033334444", KEYS_SUPPORT_SKIP),
    "agi_twin": _script("101", "0451234567", KEYS_SUPPORT_SKIP),
    "agi_account": _script(
        "101", "0399002021", (Pause(1500), Dtmf("2"), Pause(2000), Dtmf("1004#"))
    ),
}


@pytest.fixture(scope="module")
def calls(
    stack: Stack, ami: AmiWatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Caller]]:
    wait_crm_seeded(stack)
    workdir = tmp_path_factory.mktemp("customers")
    with callers_running(stack, list(SCRIPTS.items()), workdir, finish_within=90) as callers:
        yield callers


async def _record(db: asyncpg.Connection, number: str) -> asyncpg.Record:
    async def found() -> asyncpg.Record | None:
        return await db.fetchrow(
            "SELECT * FROM calls WHERE caller_number = $1 AND ivr_path IS NOT NULL", number
        )

    row: asyncpg.Record = await wait_for(f"the call record of {number}", found)
    return row


# -- account numbers and the CRM ---------------------------------------------------------


async def test_a_gold_account_number_finds_the_customer_and_raises_priority(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    e = await ami.wait_for_caller(calls["account_gold"].number)
    assert e.steps() == [
        OPEN,
        ("main_menu", "menu", "2"),
        ("account", "collect", "1004"),
        ("by_account", "lookup", "found"),
        ("tier", "branch", "gold"),
    ]
    assert (e.queue, e.priority) == ("support", 10)
    assert e.context["entered"] == {"account": {"value": "1004", "sensitive": False}}
    customer = e.context["customer"]
    assert (customer["name"], customer["tier"], customer["account"]) == (
        "高橋 美咲",
        "gold",
        "A-1004",
    )
    assert e.context["data"] == {"topic": "サポート / support", "service": "gold"}


async def test_an_unknown_account_number_falls_back_to_the_caller_id(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    e = await ami.wait_for_caller(calls["account_unknown"].number)
    assert e.steps() == [
        OPEN,
        ("main_menu", "menu", "2"),
        ("account", "collect", "9999"),
        ("by_account", "lookup", "not_found"),
        ("by_caller", "lookup", "not_found"),
    ]
    assert (e.queue, e.priority) == ("support", 0)
    assert e.context["customer"] is None
    assert e.context["entered"] == {"account": {"value": "9999", "sensitive": False}}


async def test_a_too_short_account_number_is_reprompted(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    e = await ami.wait_for_caller(calls["account_too_short"].number)
    assert e.queue == "sales"
    assert e.steps() == [
        OPEN,
        ("main_menu", "menu", "1"),
        ("account", "invalid", "too_short"),
        ("account", "skip", None),
        ("by_caller", "lookup", "not_found"),
    ]
    assert e.context["entered"] == {}


async def test_a_gold_caller_id_gets_gold_priority(
    calls: dict[str, Caller], ami: AmiWatch, db: asyncpg.Connection
) -> None:
    e = await ami.wait_for_caller(calls["gold_by_caller_id"].number)
    assert e.steps()[-2:] == [("by_caller", "lookup", "found"), ("tier", "branch", "gold")]
    assert (e.queue, e.priority) == ("support", 10)
    customer = e.context["customer"]
    assert (customer["name"], customer["tier"], customer["account"]) == (
        "中村 優子",
        "gold",
        "A-1012",
    )
    assert e.context["data"]["service"] == "gold"
    db_id = await db.fetchval("SELECT id FROM customers WHERE account_number = 'A-1012'")
    assert customer["id"] == str(db_id)


async def test_a_silver_caller_id_is_found_without_priority(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    e = await ami.wait_for_caller(calls["silver_by_caller_id"].number)
    assert e.steps()[-2:] == [("by_caller", "lookup", "found"), ("tier", "branch", "connect")]
    assert (e.queue, e.priority) == ("support", 0)
    assert e.context["customer"]["name"] == "鈴木 花子"
    assert "service" not in e.context["data"]


# -- hostile caller IDs --------------------------------------------------------------------


def _assert_plain_hand_off(e: Enqueued) -> None:
    """Whatever the caller ID says, the hand-off is the one the keys chose."""
    assert (e.queue, e.priority, e.skills) == ("support", 0, "")
    assert e.steps() == [
        OPEN,
        ("main_menu", "menu", "2"),
        ("account", "skip", None),
        ("by_caller", "lookup", "not_found"),
    ]
    assert set(e.context) == {"flow", "path", "entered", "customer", "language", "data"}


def _printable(text: str) -> bool:
    return all(unicodedata.category(c)[0] != "C" and c not in "\u2028\u2029" for c in text)


@pytest.mark.parametrize("name", ["quotes", "injection", "line_breaks", "html", "huge"])
async def test_hostile_caller_names_change_nothing_and_are_stored_bounded(
    name: str, calls: dict[str, Caller], ami: AmiWatch, db: asyncpg.Connection
) -> None:
    caller = calls[name]
    e = await ami.wait_for_caller(caller.number)
    _assert_plain_hand_off(e)
    assert len(ami.for_caller(caller.number)) == 1
    row = await _record(db, caller.number)
    stored = row["caller_name"] or ""
    assert len(stored) <= 64, f"caller name stored unbounded ({len(stored)} characters)"
    assert _printable(stored), repr(stored)
    expected = {
        "quotes": "He said",
        "injection": "SET VARIABLE ACD_QUEUE",
        "line_breaks": "line1",
        "html": "<script>",
        "huge": "山山山",
    }[name]
    assert expected in stored, f"{stored!r} lost the caller's text"
    assert e.raw.get("acd_queue") is None


# -- classic AGI (101) ---------------------------------------------------------------------


def _comparable(e: Enqueued) -> dict[str, Any]:
    ctx = dict(e.context)
    customer = dict(ctx.pop("customer") or {})
    customer.pop("id", None)  # PostgreSQL's id (FastAGI) or the account (AGI script's CSV)
    return {
        "queue": e.queue,
        "priority": e.priority,
        "skills": e.skills,
        "ctx": ctx,
        "customer": customer,
    }


async def test_classic_agi_gives_the_same_hand_off_as_fastagi(
    calls: dict[str, Caller], ami: AmiWatch
) -> None:
    fast = await ami.wait_for_caller(calls["fastagi_twin"].number)
    agi = await ami.wait_for_caller(calls["agi_twin"].number)
    assert (agi.queue, agi.priority) == ("support", 10)
    assert agi.context["customer"]["name"] == "高橋 美咲"
    assert _comparable(agi) == _comparable(fast)


async def test_classic_agi_finds_an_account_number(calls: dict[str, Caller], ami: AmiWatch) -> None:
    e = await ami.wait_for_caller(calls["agi_account"].number)
    assert e.steps() == [
        OPEN,
        ("main_menu", "menu", "2"),
        ("account", "collect", "1004"),
        ("by_account", "lookup", "found"),
        ("tier", "branch", "gold"),
    ]
    assert (e.queue, e.priority) == ("support", 10)
    assert e.context["customer"]["account"] == "A-1004"


async def test_every_caller_followed_its_script(calls: dict[str, Caller]) -> None:
    for name, caller in calls.items():
        assert await caller.finished(90) == 0, f"{name}: {caller.process.errors()[-1500:]}"
