"""Import customers from CSV: ``python -m db.import_customers FILE [--dsn DSN]``.

Columns (header row required, order free, extra columns refused):
    account_number (required, the key: importing again updates), name (required), name_kana,
    tier (gold | silver | standard; empty = standard), phones (several separated by ``;``), notes

Encoding: UTF-8 (with or without BOM); files that are not UTF-8 are read as Shift_JIS (cp932,
what Excel writes in Japan). The whole file is validated first: on any problem nothing is imported
and every problem is reported with its line number.

DSN: ``--dsn``, else ``DATABASE_URL``, else the local cluster in ``var/pg`` (port 5433).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from db.crm import TIERS, CustomerInput, upsert_customer
from db.migrate import migrate
from db.sanitize import LIMITS, clean_text, normalise_phone

COLUMNS = ("account_number", "name", "name_kana", "tier", "phones", "notes")
REQUIRED = ("account_number", "name")


class CustomerImportError(ValueError):
    """The CSV has problems; ``problems`` lists each as ``FILE:LINE: reason``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int


def read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp932")
        except UnicodeDecodeError as exc:
            raise CustomerImportError(
                [f"{path}: neither UTF-8 nor Shift_JIS (byte {exc.start}); save it as UTF-8 CSV"]
            ) from exc


def parse_customers(text: str, source: str) -> list[CustomerInput]:
    """Validate the CSV text; raises CustomerImportError with every problem found."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    problems: list[str] = []
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing:
        if unknown:
            problems.append(
                f"{source}:1: unknown column(s) {', '.join(unknown)}; expected {', '.join(COLUMNS)}"
            )
        if missing:
            problems.append(f"{source}:1: missing column(s) {', '.join(missing)}")
        raise CustomerImportError(problems)
    reader.fieldnames = header
    customers: list[CustomerInput] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        values = {
            k: clean_text(v or "", 100000, multiline=(k == "notes")).strip()
            for k, v in row.items()
            if k is not None
        }
        if None in row:
            problems.append(f"{source}:{line}: more fields than columns")
            continue
        account, name = values.get("account_number", ""), values.get("name", "")
        tier = (values.get("tier") or "standard").lower()
        row_problems = []
        if not account:
            row_problems.append("account_number is empty")
        elif len(account) > LIMITS["account_number"]:
            row_problems.append(f"account_number longer than {LIMITS['account_number']}")
        elif account in seen:
            row_problems.append(f"account_number {account!r} already on line {seen[account]}")
        if not name:
            row_problems.append("name is empty")
        elif len(name) > LIMITS["customer_name"]:
            row_problems.append(f"name longer than {LIMITS['customer_name']} characters")
        if len(values.get("name_kana", "")) > LIMITS["name_kana"]:
            row_problems.append(f"name_kana longer than {LIMITS['name_kana']} characters")
        if len(values.get("notes", "")) > LIMITS["notes"]:
            row_problems.append(f"notes longer than {LIMITS['notes']} characters")
        if tier not in TIERS:
            row_problems.append(f"tier {tier!r} is not one of {', '.join(sorted(TIERS))}")
        phones = [p.strip() for p in values.get("phones", "").split(";") if p.strip()]
        for phone in phones:
            if not normalise_phone(phone):
                row_problems.append(f"phone {phone!r} has no digits")
        if row_problems:
            problems.extend(f"{source}:{line}: {p}" for p in row_problems)
            continue
        seen[account] = line
        customers.append(
            CustomerInput(
                account_number=account,
                name=name,
                name_kana=values.get("name_kana") or None,
                tier=tier,
                phones=tuple(phones),
                notes=values.get("notes", ""),
            )
        )
    if problems:
        raise CustomerImportError(problems)
    return customers


async def import_customers(pool_or_conn: Any, path: Path) -> ImportResult:
    """Validate ``path`` and upsert its customers in one transaction."""
    customers = parse_customers(read_text(path), str(path))
    if isinstance(pool_or_conn, asyncpg.Pool):
        async with pool_or_conn.acquire() as conn:
            return await _import(conn, customers)
    return await _import(pool_or_conn, customers)


async def _import(conn: asyncpg.Connection, customers: list[CustomerInput]) -> ImportResult:
    created = updated = 0
    async with conn.transaction():
        for customer in customers:
            if await upsert_customer(conn, customer):
                created += 1
            else:
                updated += 1
    return ImportResult(created, updated)


async def seed_if_empty(pool_or_conn: Any, path: Path) -> ImportResult | None:
    """Import ``path`` (e.g. config/crm_seed.csv) only when there are no customers yet."""
    if await pool_or_conn.fetchval("SELECT EXISTS (SELECT 1 FROM customers)"):
        return None
    return await import_customers(pool_or_conn, path)


def default_dsn() -> str:
    """DATABASE_URL; the stack's own cluster is `madoguchi crm import`'s (db speaks SQL only)."""
    dsn = os.environ.get("DATABASE_URL", "")
    if not dsn:
        raise RuntimeError("no database: give --dsn or DATABASE_URL, or use `madoguchi crm import`")
    return dsn


async def _main_async(path: Path, dsn: str) -> ImportResult:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await migrate(conn)
        return await import_customers(conn, path)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m db.import_customers", description="Import customers from a CSV file."
    )
    parser.add_argument("file", type=Path)
    parser.add_argument(
        "--dsn",
        default=None,
        help="PostgreSQL DSN (default: DATABASE_URL)",
    )
    args = parser.parse_args(argv)
    try:
        dsn = args.dsn or default_dsn()
        result = asyncio.run(_main_async(args.file, dsn))
    except CustomerImportError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print("nothing imported", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"imported {result.created + result.updated} customers "
        f"({result.created} new, {result.updated} updated)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
