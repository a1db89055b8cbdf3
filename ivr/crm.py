"""Customer look-up as the IVR needs it; db/ implements it on PostgreSQL."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol


class Crm(Protocol):
    """Records are mappings with at least: id, name, tier, account_number (more keys allowed)."""

    async def find_by_phone(self, number: str) -> Mapping[str, Any] | None: ...

    async def find_by_account(self, account: str) -> Mapping[str, Any] | None: ...


def phone_key(number: str) -> str:
    """Comparable form of a phone number: digits only, Japanese +81 turned into a leading 0."""
    digits = "".join(c for c in number if c.isdigit())
    if number.startswith("+81"):
        digits = "0" + digits[2:]
    return digits


def account_key(account: str) -> str:
    """Callers can only key digits: "A-1001" is found as 1001."""
    return "".join(c for c in account if c.isascii() and c.isdigit())


class InMemoryCrm:
    """A Crm over records held in memory: unit tests and the classic AGI script fallback.

    Records carry `phone` or `phones` (several separated by ; or ,) and `account_number`;
    a record without `id` gets its account number as id.
    """

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        self._by_phone: dict[str, Mapping[str, Any]] = {}
        self._by_account: dict[str, Mapping[str, Any]] = {}
        for given in records:
            record = dict(given)
            account = str(record.get("account_number") or "").strip()
            record.setdefault("id", account)
            phones = f"{record.get('phone') or ''};{record.get('phones') or ''}"
            for phone in re.split(r"[;,]", phones):
                if phone_key(phone):
                    self._by_phone[phone_key(phone)] = record
            for key in {account, account_key(account)} - {""}:
                self._by_account[key] = record

    async def find_by_phone(self, number: str) -> Mapping[str, Any] | None:
        key = phone_key(number)
        return self._by_phone.get(key) if key else None

    async def find_by_account(self, account: str) -> Mapping[str, Any] | None:
        return self._by_account.get(account) or self._by_account.get(account_key(account) or "-")

    @classmethod
    def from_csv(cls, path: Path) -> InMemoryCrm:
        """Rows of a CSV with a header (id, name, tier, account_number, phone, ...)."""
        with path.open(encoding="utf-8", newline="") as f:
            return cls([dict(row) for row in csv.DictReader(f)])
