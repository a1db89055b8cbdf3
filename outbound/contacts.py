"""Contact lists: a campaign's CSV parsed into typed rows, bad rows reported by line; pure.

The file is UTF-8 (with or without BOM) or, failing that, Shift_JIS as Excel writes it in
Japan (cp932). A header row names the columns: the phone (``phone``, ``tel``, 電話番号) and
the name (``name``, 氏名, 名前) are known, every other column is kept as data for the screen
pop. Numbers are normalised (NFKC: full-width digits and dashes; hyphens, spaces and
brackets dropped; +81 becomes the national 0) to digits only, so nothing but digits ever
reaches a dial string. A row with a bad number, a number seen on an earlier line or a number
on the do-not-call list is reported with its line (the line it starts on: quoted names may
span lines) and skipped; the others load.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Container, Mapping
from dataclasses import dataclass, field

PHONE_COLUMNS = ("phone", "tel", "telephone", "電話番号", "電話")
NAME_COLUMNS = ("name", "氏名", "名前", "お名前")
MAX_FIELD = 1024  # characters of one extra column kept for the screen pop
# Dashes people type in numbers that NFKC leaves alone (the long vowel mark ー included).
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ーｰ()（）.]")
_NATIONAL = re.compile(r"0[1-9][0-9]{8,9}")  # 10 digits (fixed, 0120...) or 11 (mobile, 050...)


class ContactFileError(ValueError):
    """The file as a whole cannot be read (encoding, no header, no phone column)."""


@dataclass(frozen=True, slots=True)
class Contact:
    line: int
    phone: str  # digits only, national form
    name: str
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedContacts:
    contacts: list[Contact]
    bad: list[BadRow]
    encoding: str


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with: UTF-8 (BOM or not), else cp932."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise ContactFileError(f"starts as UTF-8 but byte {exc.start + 3} is not") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        raise ContactFileError(
            f"neither UTF-8 nor Shift_JIS (byte {exc.start}); save it as UTF-8 CSV"
        ) from exc


def normalise_number(raw: str) -> str | None:
    """The number as national digits (``03-1234-5678`` -> ``0312345678``), or None if not one."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    if text.startswith("+81"):
        text = "0" + text[3:]
    if not text.isascii() or not _NATIONAL.fullmatch(text):
        return None
    return text


def parse_contacts(data: bytes, dnc: Container[str] = frozenset()) -> ParsedContacts:
    """Every good row as a Contact and every bad one with its line and reason."""
    text, encoding = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ContactFileError("empty file: a header row is needed") from None
    except csv.Error as exc:
        raise ContactFileError(f"line 1: {exc}") from None
    phone_col = _column(header, PHONE_COLUMNS)
    if phone_col is None:
        raise ContactFileError(
            f"line 1: no phone column (name one of {', '.join(PHONE_COLUMNS)}); got {header}"
        )
    name_col = _column(header, NAME_COLUMNS)
    contacts: list[Contact] = []
    bad: list[BadRow] = []
    seen: dict[str, int] = {}
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            bad.append(BadRow(line, f"not valid CSV: {exc}"))
            break  # the reader cannot resynchronise after a broken quote
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not rows
        if len(row) != len(header):
            bad.append(BadRow(line, f"{len(row)} fields, the header has {len(header)}"))
            continue
        raw = row[phone_col].strip()
        phone = normalise_number(raw)
        if phone is None:
            bad.append(BadRow(line, f"bad number '{shown(raw)}'" if raw else "no phone number"))
        elif phone in seen:
            bad.append(BadRow(line, f"duplicate: {phone} is on line {seen[phone]}"))
        elif phone in dnc:
            bad.append(BadRow(line, f"{phone} is on the do-not-call list"))
        else:
            seen[phone] = line
            extra = {
                header[i]: cell[:MAX_FIELD]
                for i, cell in enumerate(row)
                if i not in (phone_col, name_col) and header[i]
            }
            name = row[name_col].strip() if name_col is not None else ""
            contacts.append(Contact(line, phone, name, extra))
    return ParsedContacts(contacts, bad, encoding)


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.lower() for h in header]
    for candidate in names:
        if candidate in lowered:
            return lowered.index(candidate)
    return None


def shown(raw: str) -> str:
    """A bad value as reported: printable and short."""
    text = "".join(ch if ch.isprintable() else "?" for ch in raw)
    return text if len(text) <= 40 else text[:37] + "..."
