"""Outbound on a real PostgreSQL: idempotent contact import, the do-not-call list, the CLI."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import asyncpg
import pytest

from db import campaign_contacts, dnc
from madoguchi.cli import main
from madoguchi.stack.postgres import LocalCluster
from outbound.contacts import parse_contacts

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
LIST = (
    "電話番号,氏名,プラン\r\n"
    "03-1234-5678,山田 太郎,gold\r\n"
    '"０９０－１１１１－２２２２","鈴木\r\n花子",silver\r\n'
    "0120-000-111,お断り,\r\n"  # line 5: the name above spans lines 3 and 4
    "12345,短い,\r\n"
)


async def test_import_twice_adds_nothing(pool: asyncpg.Pool) -> None:
    parsed = parse_contacts(LIST.encode("cp932"), await dnc.numbers(pool))
    assert await campaign_contacts.insert_contacts(pool, "demo", parsed.contacts) == 3
    assert await campaign_contacts.insert_contacts(pool, "demo", parsed.contacts) == 0
    assert await campaign_contacts.insert_contacts(pool, "other", parsed.contacts) == 3
    row = await pool.fetchrow(
        "SELECT name, data, status, attempts FROM campaign_contacts WHERE phone = '09011112222'"
        " AND campaign = 'demo'"
    )
    assert row["name"] == "鈴木\r\n花子"
    assert row["data"] == '{"プラン": "silver"}'
    assert (row["status"], row["attempts"]) == ("new", 0)


async def test_dnc_numbers_are_refused_at_import_and_found_at_dial_time(
    pool: asyncpg.Pool,
) -> None:
    assert await dnc.add(pool, ["0120000111"], reason="会社方針") == 1
    assert await dnc.add(pool, ["0120000111", "0312345678"], source="customer") == 1
    assert await dnc.is_listed(pool, "0312345678")
    parsed = parse_contacts(LIST.encode("utf-8"), await dnc.numbers(pool))
    assert [c.phone for c in parsed.contacts] == ["09011112222"]
    assert [b.reason for b in parsed.bad] == [
        "0312345678 is on the do-not-call list",
        "0120000111 is on the do-not-call list",
        "bad number '12345'",
    ]
    assert [(e.number, e.source) for e in await dnc.entries(pool)] == [
        ("0120000111", "company"),
        ("0312345678", "customer"),
    ]
    assert await dnc.remove(pool, ["0312345678", "0399999999"]) == 1
    assert not await dnc.is_listed(pool, "0312345678")


async def test_the_schema_refuses_anything_but_digits(pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute("INSERT INTO dnc (number) VALUES ('03-1234;5678')")
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute(
            "INSERT INTO campaign_contacts (campaign, phone) VALUES ('demo', '0312345678,1')"
        )


def test_cli_campaign_import_and_dnc(
    pg_cluster: LocalCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dsn = asyncio.run(_new_database(pg_cluster))
    monkeypatch.setenv("MADOGUCHI_DATABASE_DSN", dsn)
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    csv = tmp_path / "list.csv"
    csv.write_bytes(LIST.encode("utf-8-sig"))
    base = ["--config", str(config)]

    assert main([*base, "dnc", "add", "０１２０－０００－１１１", "--reason", "依頼"]) == 0
    assert "1 number(s) added" in capsys.readouterr().out
    assert main([*base, "campaign", "import", "demo_reminder", str(csv)]) == 0
    out, err = capsys.readouterr()
    assert "2 contact(s) added, 0 already there, 2 row(s) skipped" in out
    assert f"{csv}:5: 0120000111 is on the do-not-call list; skipped" in err
    assert f"{csv}:6: bad number '12345'; skipped" in err
    assert main([*base, "campaign", "import", "demo_reminder", str(csv)]) == 0
    assert "0 contact(s) added, 2 already there" in capsys.readouterr().out

    assert main([*base, "campaign", "import", "nosuch", str(csv)]) == 1
    assert "unknown campaign 'nosuch'" in capsys.readouterr().err
    assert main([*base, "dnc", "add", "12345"]) == 1
    assert "not a phone number: 12345" in capsys.readouterr().err

    numbers = tmp_path / "dnc.csv"
    numbers.write_text("phone\n090-1111-2222\nabc\n\n03-1234-5678\n", encoding="utf-8")
    assert main([*base, "dnc", "import", str(numbers)]) == 0
    out, err = capsys.readouterr()
    assert "2 number(s) added to the do-not-call list (2 read)" in out
    assert f"{numbers}:3: bad number 'abc'" in err
    assert main([*base, "dnc", "remove", "09011112222"]) == 0
    capsys.readouterr()
    assert main([*base, "dnc", "list"]) == 0
    listed = [line.split("\t")[:2] for line in capsys.readouterr().out.splitlines()]
    assert listed == [["0120000111", "company"], ["0312345678", "import"]]


async def _new_database(cluster: LocalCluster) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    base = cluster.dsn.rpartition("/")[0]
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"{base}/{name}"
