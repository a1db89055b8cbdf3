"""The demo CRM (config/crm_seed.csv) is in a fresh stack's database, and a caller whose number
is in it is recognised: by the IVR's look-up on 100, and by the screen pop on 200."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

import asyncpg

from bench.harness.caller import CallerScript, Dtmf, Pause, place_calls
from db.sanitize import normalise_phone
from madoguchi.stack.runner import Stack
from tests.polling import wait_for

from .conftest import Staff


def _seed_rows(stack: Stack) -> list[dict[str, str]]:
    with (stack.paths.config / "crm_seed.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


async def test_fresh_stack_has_the_demo_customers(stack: Stack, db: asyncpg.Connection) -> None:
    seed = _seed_rows(stack)
    assert seed, "the demo seed is empty"

    async def seeded() -> list[asyncpg.Record]:
        # The service migrates and seeds in the background once PostgreSQL answers.
        if not await db.fetchval("SELECT to_regclass('customers') IS NOT NULL"):
            return []
        return await db.fetch(
            "SELECT account_number, name, name_kana, tier FROM customers "
            "WHERE account_number = ANY($1::text[])",
            [row["account_number"] for row in seed],
        )

    rows = {r["account_number"]: r for r in await wait_for("the CRM seed", seeded, 30)}
    assert set(rows) == {row["account_number"] for row in seed}
    for row in seed:
        stored = rows[row["account_number"]]
        assert (stored["name"], stored["name_kana"], stored["tier"]) == (
            row["name"],
            row["name_kana"],
            row["tier"],
        )
        for number in row["phones"].split(";"):
            owner = await db.fetchval(
                "SELECT c.account_number FROM customer_phones p "
                "JOIN customers c ON c.id = p.customer_id WHERE p.number = $1",
                normalise_phone(number),
            )
            assert owner == row["account_number"], number


async def test_ivr_recognises_a_seeded_caller_and_the_pop_shows_the_customer(
    stack: Stack, staff: Staff, db: asyncpg.Connection, tmp_path: Path
) -> None:
    seed = next(r for r in _seed_rows(stack) if r["tier"] == "silver")
    number = seed["phones"].split(";")[0]
    agent = await staff("1003", talk_ms=1000)
    # 100: welcome, menu "2" (support), "#" skips the account number -> look-up by caller ID.
    script = CallerScript(
        "100",
        caller_num=number,
        caller_name="Seed Caller",
        steps=(Pause(5000), Dtmf("2"), Pause(1500), Dtmf("#")),
        max_wait_ms=60_000,
    )
    callers = place_calls(script, tmp_path / "ivr-caller")
    try:
        pop = await agent.desktop.wait_message("call.offered", limit=60)
        assert pop["customer"] is not None, pop
        assert pop["customer"]["name"] == seed["name"]
        assert pop["customer"]["tier"] == seed["tier"]
        assert pop["customer"]["account"] == seed["account_number"]
        assert await asyncio.to_thread(callers.wait, 60) == 0, callers.errors()
        call_id = pop["call_id"]

        async def record() -> asyncpg.Record | None:
            return await db.fetchrow(
                "SELECT * FROM calls WHERE call_id = $1 AND outcome IS NOT NULL", call_id
            )

        row = await wait_for("the call record", record)
        customer_id = await db.fetchval(
            "SELECT id FROM customers WHERE account_number = $1", seed["account_number"]
        )
        assert row["customer_id"] == customer_id
        assert row["outcome"] == "answered"
        assert row["ivr_path"] is not None
    finally:
        callers.stop()


async def test_screen_pop_on_200_finds_a_seeded_caller_by_phone(
    stack: Stack, staff: Staff, tmp_path: Path
) -> None:
    seed = next(r for r in _seed_rows(stack) if r["tier"] == "gold")
    number = seed["phones"].split(";")[-1]
    agent = await staff("1003", talk_ms=500)
    callers = place_calls(
        CallerScript("200", caller_num=number, caller_name="Direct"), tmp_path / "caller"
    )
    try:
        first = await agent.desktop.wait_message("call.offered")
        assert first["caller"]["number"] == number

        async def pop_with_customer() -> dict[str, Any] | None:
            pops = agent.desktop.payloads("call.offered")
            return next((p for p in pops if p.get("customer")), None)

        # The pop never waits for PostgreSQL; the customer follows while the phone rings.
        pop = await wait_for("a screen pop with the customer", pop_with_customer, 10)
        assert pop["call_id"] == first["call_id"]
        assert pop["customer"]["name"] == seed["name"]
        assert pop["customer"]["account"] == seed["account_number"]
        assert await asyncio.to_thread(callers.wait, 60) == 0, callers.errors()
    finally:
        callers.stop()
