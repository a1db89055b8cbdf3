"""The do-not-call list in PostgreSQL: add, remove, list and look up national-digit numbers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import asyncpg

from db.sanitize import clean_text

SOURCES: Final = ("company", "customer", "import")


@dataclass(frozen=True, slots=True)
class DncEntry:
    number: str
    source: str
    reason: str
    added_by: str
    added_at: datetime


async def add(
    pool: asyncpg.Pool,
    numbers: Iterable[str],
    *,
    source: str = "company",
    reason: str = "",
    added_by: str = "",
) -> int:
    """Put ``numbers`` (national digits) on the list; returns how many were not on it yet."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")
    rows = await pool.fetch(
        """
        INSERT INTO dnc (number, source, reason, added_by)
        SELECT n, $2, $3, $4 FROM unnest($1::text[]) AS n
        ON CONFLICT (number) DO NOTHING
        RETURNING number
        """,
        sorted(set(numbers)),
        source,
        clean_text(reason, 256),
        clean_text(added_by, 64),
    )
    return len(rows)


async def remove(pool: asyncpg.Pool, numbers: Iterable[str]) -> int:
    rows = await pool.fetch(
        "DELETE FROM dnc WHERE number = ANY($1::text[]) RETURNING number", sorted(set(numbers))
    )
    return len(rows)


async def entries(pool: asyncpg.Pool) -> list[DncEntry]:
    rows = await pool.fetch(
        "SELECT number, source, reason, added_by, added_at FROM dnc ORDER BY number"
    )
    return [DncEntry(**dict(r)) for r in rows]


async def numbers(pool: asyncpg.Pool) -> frozenset[str]:
    """Every number on the list (an import checks its rows against them)."""
    return frozenset(r["number"] for r in await pool.fetch("SELECT number FROM dnc"))


async def is_listed(pool: asyncpg.Pool, number: str) -> bool:
    """Checked right before each dial."""
    return bool(await pool.fetchval("SELECT 1 FROM dnc WHERE number = $1", number))
