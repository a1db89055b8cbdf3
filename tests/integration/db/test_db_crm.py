"""CRM look-ups, dispositions and CSV import against a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from db.crm import CrmRepository, CrmUnavailable, CustomerInput
from db.import_customers import (
    CustomerImportError,
    import_customers,
    main,
    parse_customers,
    seed_if_empty,
)
from db.writer import DurableWriter

pytestmark = pytest.mark.integration

SEED = Path(__file__).parents[3] / "config" / "crm_seed.csv"
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


async def test_seed_imports_and_japanese_round_trips(pool: asyncpg.Pool) -> None:
    result = await import_customers(pool, SEED)
    assert (result.created, result.updated) == (12, 0)
    again = await import_customers(pool, SEED)
    assert (again.created, again.updated) == (0, 12)
    crm = CrmRepository(pool)
    yamada = await crm.find_by_phone("03-1234-5678")
    assert yamada is not None
    assert yamada["name"] == "山田 太郎"
    assert yamada["name_kana"] == "ヤマダ タロウ"
    assert yamada["tier"] == "gold"
    assert yamada["account_number"] == "A-1001"
    assert yamada["phones"] == ["0312345678", "09012345678"]
    assert yamada["notes"] == "法人契約。請求書払い。"
    assert yamada["last_contacts"] == []
    suzuki = await crm.find_by_phone("+81 90-1111-2222")
    assert suzuki is not None and suzuki["name"] == "鈴木 花子"
    smith = await crm.find_by_account(" A-1008 ")
    assert smith is not None and smith["phones"] == ["09099990000", "+14155550100"]
    nakamura = await crm.find_by_account("A-1012")
    assert nakamura is not None and nakamura["notes"] == "ゴールド会員, 年間契約"


async def test_unknown_and_hostile_lookups_return_none(pool: asyncpg.Pool) -> None:
    await import_customers(pool, SEED)
    crm = CrmRepository(pool)
    assert await crm.find_by_phone("0000000000") is None
    assert await crm.find_by_phone("'; DROP TABLE customers; --") is None
    assert await crm.find_by_account("' OR 1=1 --") is None
    assert await crm.find_by_account("A-1001\x00") is not None  # NUL stripped, still a match
    assert await pool.fetchval("SELECT count(*) FROM customers") == 12


async def test_last_contacts_and_disposition(dsn: str, pool: asyncpg.Pool, spool_dir: Path) -> None:
    await import_customers(pool, SEED)
    crm = CrmRepository(pool, last_contacts=2)
    yamada = await crm.find_by_account("A-1001")
    assert yamada is not None
    writer = DurableWriter(dsn, spool_dir, flush_interval=0.01)
    await writer.start()
    try:
        for i in range(3):
            writer.record_call(
                f"y{i}",
                caller_number="0312345678",
                customer_id=yamada["id"],
                entered_ivr=T0 + timedelta(hours=i),
                queue="sales",
                outcome="answered",
                agent_id="1001",
            )
        writer.record_call(
            "other", caller_number="09011112222", entered_ivr=T0 + timedelta(hours=5)
        )
        assert await writer.wait_idle(30)
    finally:
        await writer.stop()
    await crm.save_disposition("y2", "1001", "resolved", "住所変更を受付。\n'; --")
    await crm.save_disposition("y2", "1001", "follow_up", "折り返し予定")
    found = await crm.find_by_phone("0312345678")
    assert found is not None
    contacts = found["last_contacts"]
    assert [c["call_id"] for c in contacts] == ["y2", "y1"]
    assert contacts[0]["disposition"] == "follow_up"
    assert contacts[0]["notes"] == "折り返し予定"
    assert contacts[0]["started_at"] == (T0 + timedelta(hours=2)).isoformat()
    history = await pool.fetch("SELECT code, notes FROM dispositions ORDER BY id")
    assert [(h["code"], h["notes"]) for h in history] == [
        ("resolved", "住所変更を受付。\n'; --"),
        ("follow_up", "折り返し予定"),
    ]
    with pytest.raises(ValueError, match="disposition code"):
        await crm.save_disposition("y2", "1001", "  ", "")


async def test_disposition_before_the_call_row_exists(pool: asyncpg.Pool) -> None:
    crm = CrmRepository(pool)
    await crm.save_disposition("early", "1002", "sale", "x" * 9000)
    row = await pool.fetchrow("SELECT agent_id, disposition, notes FROM calls")
    assert (row["agent_id"], row["disposition"], len(row["notes"])) == ("1002", "sale", 9000)


async def test_upsert_customers_and_agents(pool: asyncpg.Pool) -> None:
    crm = CrmRepository(pool)
    created, updated = await crm.upsert_customers(
        [
            CustomerInput("B-1", "テスト 顧客", tier="silver", phones=("03-0000-0001",)),
            CustomerInput("B-1", "テスト 顧客 改", tier="gold", phones=("03-0000-0002",)),
        ]
    )
    assert (created, updated) == (1, 1)
    assert await crm.find_by_phone("0300000001") is None
    customer = await crm.find_by_phone("0300000002")
    assert customer is not None and customer["tier"] == "gold"
    await crm.upsert_agents([("1001", "山田 花子"), ("1002", "Bob")])
    await crm.upsert_agents([("1001", "山田 花子 (SV)")])
    names = await pool.fetch("SELECT id, name FROM agents ORDER BY id")
    assert [(n["id"], n["name"]) for n in names] == [("1001", "山田 花子 (SV)"), ("1002", "Bob")]


async def test_lookup_when_postgres_unreachable_raises_crm_unavailable(pool: asyncpg.Pool) -> None:
    crm = CrmRepository(pool, timeout=1)
    await pool.close()
    with pytest.raises(CrmUnavailable):
        await crm.find_by_phone("0312345678")


def test_csv_problems_are_all_reported_with_line_numbers() -> None:
    text = (
        "account_number,name,tier,phones\n"
        "A-1,山田,gold,03-1234-5678\n"
        ",名無し,standard,\n"
        "A-1,重複,silver,\n"
        "A-4,Bad Tier,platinum,abc\n"
    )
    with pytest.raises(CustomerImportError) as info:
        parse_customers(text, "c.csv")
    assert info.value.problems == [
        "c.csv:3: account_number is empty",
        "c.csv:4: account_number 'A-1' already on line 2",
        "c.csv:5: tier 'platinum' is not one of gold, silver, standard",
        "c.csv:5: phone 'abc' has no digits",
    ]


def test_csv_unknown_column_refused() -> None:
    with pytest.raises(CustomerImportError, match="unknown column"):
        parse_customers("account_number,name,email\nA,B,c@example.com\n", "c.csv")


async def test_shift_jis_file_and_cli(dsn: str, pool: asyncpg.Pool, tmp_path: Path) -> None:
    path = tmp_path / "sjis.csv"
    path.write_bytes("account_number,name,phones\nS-1,渡辺 翔,090-7777-0000\n".encode("cp932"))
    assert await _run_cli([str(path), "--dsn", dsn]) == 0
    customer = await CrmRepository(pool).find_by_phone("09077770000")
    assert customer is not None and customer["name"] == "渡辺 翔"
    bad = tmp_path / "bad.csv"
    bad.write_text("account_number,name\n,\n", encoding="utf-8")
    assert await _run_cli([str(bad), "--dsn", dsn]) == 1


async def _run_cli(args: list[str]) -> int:
    import asyncio

    return await asyncio.to_thread(main, args)


async def test_seed_only_into_an_empty_crm(pool: asyncpg.Pool) -> None:
    first = await seed_if_empty(pool, SEED)
    assert first is not None and first.created == 12
    assert await seed_if_empty(pool, SEED) is None
