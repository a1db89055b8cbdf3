"""The screen pop on the real stack: a SIPp caller through the IVR (number 100) reaches agent
1003; its desktop gets `call.offered` no later than the phone's INVITE, then `call.connected`
and `call.ended`. The pop carries the IVR path, the entered data and the CRM record."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from live_floor import Floor

from bench.harness.agent import SippAgent
from bench.harness.caller import CallerScript, Dtmf, Pause, place_calls
from db.crm import CustomerInput, upsert_customer
from madoguchi.stack.runner import Stack
from tests.integration.phones import invite_watch
from tests.polling import wait_for

# SIPp's DTMF captures all carry one SSRC and fixed RTP sequence numbers, so Asterisk only
# takes digits whose captures come later in that numbering (1..9, *, #, 0) and never the
# same digit twice in a row: the demo accounts (A-1001..) cannot be keyed after "2". This
# test's own customer has an account that can: 3456.
ACCOUNT = "3456"
CUSTOMER = CustomerInput(
    ACCOUNT,
    "中村 光 <b>&amp;</b>",
    "ナカムラ ヒカル",
    "gold",
    ("0398765432",),
    "折り返し希望\n<script>x</script>",
)
CALLER_NAME = "中村 光 (携帯)"


async def add_customer(db: asyncpg.Connection, customer: CustomerInput) -> None:
    # The service migrates the database in the background after it reports ready.
    async def migrated() -> bool:
        return bool(await db.fetchval("SELECT to_regclass('customer_phones') IS NOT NULL"))

    await wait_for("the CRM tables (migrations)", migrated)
    async with db.transaction():
        await upsert_customer(db, customer)


async def pop_then_invite(
    desktop: Any, phone: SippAgent, script: CallerScript, workdir: Path
) -> tuple[dict[str, Any], float, Any]:
    """Place the call; return the pop, how long before the INVITE it came (s), the caller."""
    invite_at = invite_watch(phone)
    caller = place_calls(script, workdir)
    try:
        pop = await desktop.wait_message("call.offered", limit=40)
        pop_at, published = next(
            (t, m["ts"])
            for t, m in desktop.of_type("call.offered")
            if m["payload"]["call_id"] == pop["call_id"]
        )
        rang = await invite_at()
    except BaseException:
        caller.stop()
        print("caller:", caller.errors()[-1500:], caller.output()[-1500:])
        raise
    # Also from the server's publishing time (wall clock, same machine): the desktop's
    # arrival time carries the test's own scheduling jitter.
    rang_wall = rang + (time.time() - time.monotonic())
    print(
        f"\ncall.offered published {1000 * (rang_wall - published):.1f} ms and received "
        f"{1000 * (rang - pop_at):.1f} ms before the agent's INVITE was seen"
    )
    return pop, rang - pop_at, caller


async def test_ivr_call_pops_before_the_phone_rings_with_path_entries_and_crm(
    floor: Floor,
    desktop_for: Callable[..., Any],
    phones: Callable[..., SippAgent],
    db: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    await add_customer(db, CUSTOMER)
    phone = phones("1003", talk_ms=1500)  # the agent hangs up after 1.5 s of talk
    desktop = await desktop_for("1003", "pw1003")
    await desktop.become("1003", "ready")

    # welcome (3.6 s), then "2" (support) during the menu prompt, then the account number
    # during its prompt; the caller then waits for the agent to hang up.
    script = CallerScript(
        "100",
        caller_num="09099990000",
        caller_name=CALLER_NAME,
        steps=(Pause(4500), Dtmf("2"), Pause(1200), Dtmf(ACCOUNT + "#")),
        max_wait_ms=40_000,
    )
    pop, lead, caller = await pop_then_invite(desktop, phone, script, tmp_path / "caller")
    try:
        print("IVR path:", pop["ivr"]["path"])
        assert lead >= -0.01, f"the pop trailed the INVITE by {-1000 * lead:.1f} ms"

        assert pop["caller"] == {"number": "09099990000", "name": CALLER_NAME}
        assert pop["queue"] == "support"
        assert pop["priority"] == 10  # gold customer (node gold)
        ivr = pop["ivr"]
        assert ivr["flow"] == "main"
        assert "main_menu menu: 2" in ivr["path"], ivr["path"]
        assert f"account collect: {ACCOUNT}" in ivr["path"], ivr["path"]
        assert "by_account lookup: found" in ivr["path"], ivr["path"]
        # The demo's account entry is not sensitive (main.toml): shown as typed.
        assert ivr["entered"] == {"account": ACCOUNT}
        print("customer:", pop["customer"], "last contacts:", pop["last_contacts"])
        customer = pop["customer"]
        assert customer["name"] == CUSTOMER.name and customer["tier"] == "gold"
        assert customer["account"] == ACCOUNT

        call_id = pop["call_id"]
        await desktop.wait_message("call.connected", call_id=call_id)
        ended = await desktop.wait_message("call.ended", call_id=call_id, limit=30)
        assert ended["outcome"] == "answered"
        assert await asyncio.to_thread(caller.wait, 30) == 0, caller.errors()
        assert "09099990000" in phone.uas.invites()[-1]  # type: ignore[union-attr]
    finally:
        caller.stop()

    # The call record carries the IVR path and the customer the IVR found.
    async def record() -> asyncpg.Record | None:
        return await db.fetchrow(
            "SELECT * FROM calls WHERE call_id = $1 AND outcome IS NOT NULL", call_id
        )

    row = await wait_for("the call record", record)
    assert row["outcome"] == "answered" and row["agent_id"] == "1003"
    assert row["customer_id"] is not None
    await desktop.set_state("1003", "logout")


REPEAT = CustomerInput(
    "3457", "小林 誠", "コバヤシ マコト", "silver", ("0312000111",), "前回: 請求の問い合わせ"
)


async def test_pop_of_a_returning_customer_carries_the_crm_record_and_last_contacts(
    floor: Floor,
    desktop_for: Callable[..., Any],
    phones: Callable[..., SippAgent],
    db: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    await add_customer(db, REPEAT)
    phone = phones("1003", talk_ms=300)
    desktop = await desktop_for("1003", "pw1003")
    calls = []
    for n in range(2):
        await desktop.become("1003", "ready")
        script = CallerScript(
            "200", caller_num="0312000111", caller_name="小林", max_wait_ms=20_000
        )
        desktop.messages.clear()
        pop, _lead, caller = await pop_then_invite(desktop, phone, script, tmp_path / f"c{n}")
        try:
            await desktop.wait_message("call.ended", call_id=pop["call_id"])
            assert await asyncio.to_thread(caller.wait, 20) == 0, caller.errors()
        finally:
            caller.stop()
        calls.append(pop)
        await desktop.set_state("1003", "logout")  # out of wrap-up, ready again next round

        async def recorded(call_id: str = pop["call_id"]) -> Any:
            return await db.fetchval(
                "SELECT 1 FROM calls WHERE call_id = $1 AND outcome IS NOT NULL", call_id
            )

        await wait_for("the first call's record", recorded)
    second = calls[1]
    print("\nreturning customer's pop:", second["customer"], second["last_contacts"])
    assert second["customer"] is not None, "no CRM record in the pop"
    assert second["customer"]["name"] == REPEAT.name
    assert second["customer"]["notes"] == REPEAT.notes
    assert calls[0]["call_id"] in [c.get("call_id") for c in second["last_contacts"]]


# A flow of the test's own, added to the stack's config copy and reloaded: a sensitive PIN.
SECURE_FLOW = """
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
terminator = "#"
timeout = 6
attempts = 2
sensitive = true
invalid_prompt = "custom/invalid"
fallback = "connect"
next = "connect"

[node.connect]
type = "queue"
queue = "support"
"""
SECURE_NUMBER = '\n[number."102"]\nflow = "secure"    # added by test_live_cti_pop\n'
PIN = "1234"  # keyable with SIPp's captures: rising digits, no repeat


def service_log_mark(stack: Stack) -> int:
    return (stack.paths.logs / "service.log").stat().st_size


async def reload_config(stack: Stack) -> None:
    mark = service_log_mark(stack)
    pid = stack.service_pid()
    assert pid is not None
    os.kill(pid, signal.SIGHUP)

    async def outcome() -> str | None:
        with (stack.paths.logs / "service.log").open("rb") as log:
            log.seek(mark)
            text = log.read().decode(errors="replace")
        if "reload refused" in text:
            raise AssertionError(f"reload refused:\n{text}")
        return "applied" if "reload applied" in text else None

    await wait_for("the reload", outcome, 20)


@pytest.fixture
async def secure_number(stack: Stack) -> AsyncIterator[str]:
    config = stack.paths.config
    numbers = (config / "numbers.toml").read_text(encoding="utf-8")
    (config / "ivr" / "secure.toml").write_text(SECURE_FLOW, encoding="utf-8")
    (config / "numbers.toml").write_text(numbers + SECURE_NUMBER, encoding="utf-8")
    try:
        await reload_config(stack)
        yield "102"
    finally:
        (config / "numbers.toml").write_text(numbers, encoding="utf-8")
        (config / "ivr" / "secure.toml").unlink()
        await reload_config(stack)


async def test_sensitive_entries_reach_the_pop_masked_only(
    floor: Floor,
    desktop_for: Callable[..., Any],
    phones: Callable[..., SippAgent],
    db: asyncpg.Connection,
    secure_number: str,
    tmp_path: Path,
) -> None:
    phone = phones("1003", talk_ms=300)
    desktop = await desktop_for("1003", "pw1003")
    await desktop.become("1003", "ready")
    script = CallerScript(
        secure_number,
        caller_num="0311110000",
        caller_name="暗証 番号",
        steps=(Pause(800), Dtmf(PIN + "#")),
        max_wait_ms=30_000,
    )
    pop, lead, caller = await pop_then_invite(desktop, phone, script, tmp_path / "caller")
    try:
        print(f"IVR: {pop['ivr']}")
        assert lead >= -0.01
        assert pop["ivr"]["entered"] == {"pin": "****"}
        assert "pin collect: ****" in pop["ivr"]["path"], pop["ivr"]["path"]
        # The clear PIN is nowhere in what the desktop received.
        assert all(PIN not in json.dumps(m) for _t, m in desktop.messages)
        await desktop.wait_message("call.ended", call_id=pop["call_id"])
        assert await asyncio.to_thread(caller.wait, 20) == 0, caller.errors()
    finally:
        caller.stop()

    async def record() -> asyncpg.Record | None:
        return await db.fetchrow(
            "SELECT ivr_path::text AS path FROM calls WHERE call_id = $1 AND outcome IS NOT NULL",
            pop["call_id"],
        )

    row = await wait_for("the call record", record)
    assert PIN not in (row["path"] or ""), row["path"]
    await desktop.set_state("1003", "logout")
