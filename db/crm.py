"""CRM repository: customer look-up for the IVR and the screen pop, dispositions, customer upserts.

Look-ups return plain JSON-ready dicts (times as ISO 8601 strings) so the IVR can put them in
ACD_CONTEXT and the CTI can push them unchanged:

    {"id": 1, "name": "山田 太郎", "name_kana": "ヤマダ タロウ", "tier": "gold",
     "account_number": "A-1001", "phones": ["0312345678"], "notes": "...",
     "last_contacts": [{"call_id": ..., "started_at": ..., "queue": ..., "agent_id": ...,
                        "outcome": ..., "disposition": ..., "notes": ...}, ...]}

A look-up that cannot reach PostgreSQL within ``timeout`` raises ``CrmUnavailable`` (the IVR then
goes on without a customer); "no such customer" is ``None``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import asyncpg

from db.sanitize import clean_field, normalise_phone, optional_field

TIERS: Final[frozenset[str]] = frozenset({"gold", "silver", "standard"})


class CrmUnavailable(RuntimeError):
    """PostgreSQL did not answer a CRM query in time or is down."""


@dataclass(frozen=True, slots=True)
class CustomerInput:
    """A customer to create or update, keyed by ``account_number``."""

    account_number: str
    name: str
    name_kana: str | None = None
    tier: str = "standard"
    phones: Sequence[str] = field(default_factory=tuple)
    notes: str = ""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class CrmRepository:
    def __init__(self, pool: asyncpg.Pool, *, timeout: float = 2.0, last_contacts: int = 5):
        self._pool = pool
        self._timeout = timeout
        self._last_contacts = last_contacts

    async def find_by_phone(self, number: str) -> Mapping[str, Any] | None:
        """The customer owning ``number`` (any format: ``03-1234-5678``, ``+81312345678``)."""
        canonical = normalise_phone(number)
        if not canonical:
            return None
        return await self._find(
            """SELECT c.id, c.name, c.name_kana, c.tier, c.account_number, c.notes
                FROM customers c
                JOIN customer_phones p ON p.customer_id = c.id
                WHERE p.number = $1
                ORDER BY c.updated_at DESC, c.id DESC LIMIT 1""",
            canonical,
        )

    async def find_by_account(self, account: str) -> Mapping[str, Any] | None:
        """The customer with account number ``account``: the exact number, or else, for the
        digits a caller keys on a phone ("1004"), the one account whose digits they are
        ("A-1004"). Several accounts with the same digits: no match (never guess)."""
        key = clean_field("account_number", account).strip()
        if not key:
            return None
        found = await self._find(
            "SELECT c.id, c.name, c.name_kana, c.tier, c.account_number, c.notes "
            "FROM customers c WHERE c.account_number = $1",
            key,
        )
        if found is not None or not key.isdigit():
            return found
        return await self._find(
            "SELECT c.id, c.name, c.name_kana, c.tier, c.account_number, c.notes "
            "FROM customers c WHERE regexp_replace(c.account_number, '[^0-9]', '', 'g') = $1 "
            "AND (SELECT count(*) FROM customers o "
            "     WHERE regexp_replace(o.account_number, '[^0-9]', '', 'g') = $1) = 1",
            key,
        )

    async def _find(self, query: str, arg: str) -> Mapping[str, Any] | None:
        try:
            async with asyncio.timeout(self._timeout):
                async with self._pool.acquire() as conn:
                    row = await conn.fetchrow(query, arg)
                    if row is None:
                        return None
                    return await self._with_details(conn, row)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise CrmUnavailable(f"CRM look-up failed: {type(exc).__name__}") from exc

    async def _with_details(self, conn: asyncpg.Connection, row: asyncpg.Record) -> dict[str, Any]:
        phones = [
            r["number"]
            for r in await conn.fetch(
                "SELECT number FROM customer_phones WHERE customer_id = $1 "
                "ORDER BY position, number",
                row["id"],
            )
        ]
        contacts = await conn.fetch(
            """SELECT call_id, coalesce(entered_ivr_at, entered_queue_at, ended_at, created_at)
                          AS started_at,
                      queue, agent_id, outcome, disposition, notes
               FROM calls
               WHERE customer_id = $1 OR caller_number = ANY($2::text[])
               ORDER BY started_at DESC LIMIT $3""",
            row["id"],
            phones,
            self._last_contacts,
        )
        return {
            "id": row["id"],
            "name": row["name"],
            "name_kana": row["name_kana"],
            "tier": row["tier"],
            "account_number": row["account_number"],
            "phones": phones,
            "notes": row["notes"],
            "last_contacts": [
                {
                    "call_id": c["call_id"],
                    "started_at": _iso(c["started_at"]),
                    "queue": c["queue"],
                    "agent_id": c["agent_id"],
                    "outcome": c["outcome"],
                    "disposition": c["disposition"],
                    "notes": c["notes"],
                }
                for c in contacts
            ],
        }

    async def save_disposition(
        self, call_id: str, agent: str | None, code: str, notes: str = ""
    ) -> None:
        """Record an agent's disposition (history kept) and copy it, with the notes, onto the call.

        Raises ValueError for an empty call id or code; text is sanitised like the writer's.
        """
        cid = clean_field("call_id", call_id).strip()
        disposition = clean_field("disposition", code).strip()
        if not cid or not disposition:
            raise ValueError("save_disposition needs a call id and a disposition code")
        agent_id = optional_field("agent_id", agent)
        text = clean_field("notes", notes or "", multiline=True)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO dispositions (call_id, agent_id, code, notes) VALUES ($1,$2,$3,$4)",
                cid,
                agent_id,
                disposition,
                text,
            )
            await conn.execute(
                """INSERT INTO calls (call_id, agent_id, disposition, notes)
                   VALUES ($1, $2, $3, $4)
                   ON CONFLICT (call_id) DO UPDATE SET
                       agent_id = coalesce(calls.agent_id, EXCLUDED.agent_id),
                       disposition = EXCLUDED.disposition,
                       notes = EXCLUDED.notes,
                       updated_at = now()""",
                cid,
                agent_id,
                disposition,
                text,
            )

    async def upsert_customers(self, customers: Iterable[CustomerInput]) -> tuple[int, int]:
        """Create or update customers by account number in one transaction.

        Their phone lists are replaced. Returns ``(created, updated)``.
        """
        created = updated = 0
        async with self._pool.acquire() as conn, conn.transaction():
            for customer in customers:
                inserted = await upsert_customer(conn, customer)
                created += inserted
                updated += not inserted
        return created, updated

    async def upsert_agents(self, agents: Iterable[tuple[str, str]]) -> None:
        """Mirror ``(id, name)`` of configured agents into the ``agents`` table."""
        rows = [(clean_field("agent_id", a), clean_field("customer_name", n)) for a, n in agents]
        async with self._pool.acquire() as conn:
            await conn.executemany(
                """INSERT INTO agents (id, name) VALUES ($1, $2)
                   ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()""",
                rows,
            )


async def upsert_customer(conn: asyncpg.Connection, customer: CustomerInput) -> bool:
    """Create or update one customer (caller holds the transaction); True when created."""
    account = clean_field("account_number", customer.account_number).strip()
    name = clean_field("customer_name", customer.name).strip()
    if not account or not name:
        raise ValueError("a customer needs an account number and a name")
    tier = customer.tier.strip().lower() or "standard"
    if tier not in TIERS:
        raise ValueError(f"tier must be one of {', '.join(sorted(TIERS))}, not {tier!r}")
    row = await conn.fetchrow(
        """INSERT INTO customers (account_number, name, name_kana, tier, notes)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (account_number) DO UPDATE SET
               name = EXCLUDED.name, name_kana = EXCLUDED.name_kana, tier = EXCLUDED.tier,
               notes = EXCLUDED.notes, updated_at = now()
           RETURNING id, (xmax = 0) AS created""",
        account,
        name,
        optional_field("name_kana", customer.name_kana),
        tier,
        clean_field("notes", customer.notes, multiline=True),
    )
    assert row is not None
    phones: list[str] = []
    for raw in customer.phones:
        number = normalise_phone(raw)
        if number and number not in phones:
            phones.append(number)
    await conn.execute("DELETE FROM customer_phones WHERE customer_id = $1", row["id"])
    await conn.executemany(
        "INSERT INTO customer_phones (customer_id, number, position) VALUES ($1, $2, $3)",
        [(row["id"], number, position) for position, number in enumerate(phones)],
    )
    return bool(row["created"])
