"""`madoguchi campaign import NAME FILE.csv` and `madoguchi dnc add|remove|import|list`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from madoguchi.paths import Paths

T = TypeVar("T")


def add_parsers(sub: Any) -> None:
    """Add the `campaign` and `dnc` sub-commands to the main parser's sub-parsers."""
    campaign = sub.add_parser("campaign", help="outbound campaigns")
    campaign_sub = campaign.add_subparsers(dest="campaign_command", required=True)
    imp = campaign_sub.add_parser("import", help="load a contact list (CSV) into a campaign")
    imp.add_argument("name")
    imp.add_argument("file", type=Path)
    dnc = sub.add_parser("dnc", help="the do-not-call list")
    dnc_sub = dnc.add_subparsers(dest="dnc_command", required=True)
    add = dnc_sub.add_parser("add", help="put numbers on the list")
    add.add_argument("numbers", nargs="+")
    add.add_argument("--reason", default="")
    rm = dnc_sub.add_parser("remove", help="take numbers off the list")
    rm.add_argument("numbers", nargs="+")
    di = dnc_sub.add_parser("import", help="put every number of a file on the list (CSV or lines)")
    di.add_argument("file", type=Path)
    dnc_sub.add_parser("list", help="print the list")


def run(paths: Paths, args: argparse.Namespace) -> int:
    from madoguchi.config import ConfigError
    from madoguchi.service_config import database_dsn, load_service_config

    try:
        config = load_service_config(paths.config)
    except ConfigError as exc:
        return _fail(f"configuration has errors:\n{exc}")
    dsn = database_dsn(paths, config)
    if args.command == "campaign":
        return _campaign_import(paths, config, dsn, args.name, args.file)
    match args.dnc_command:
        case "add" | "remove":
            return _dnc_change(dsn, args.dnc_command, args.numbers, getattr(args, "reason", ""))
        case "import":
            return _dnc_import(dsn, args.file)
        case _:
            return _dnc_list(dsn)


def _campaign_import(paths: Paths, config: Any, dsn: str, name: str, file: Path) -> int:
    from db import campaign_contacts, dnc
    from madoguchi.config.campaigns_file import load_campaigns
    from outbound.contacts import ContactFileError, parse_contacts

    campaigns, _ = load_campaigns(config, paths.config)
    if name not in campaigns:
        known = ", ".join(sorted(campaigns)) or "none"
        return _fail(f"unknown campaign '{name}' (campaigns.toml has: {known})")
    try:
        data = file.read_bytes()
    except OSError as exc:
        return _fail(f"{file}: cannot be read: {exc.strerror}")

    async def load() -> tuple[int, int, int]:
        async with _pool(dsn) as pool:
            listed = await dnc.numbers(pool)
            parsed = parse_contacts(data, listed)
            for bad in parsed.bad:
                print(f"{file}:{bad.line}: {bad.reason}; skipped", file=sys.stderr)
            added = await campaign_contacts.insert_contacts(pool, name, parsed.contacts)
            return added, len(parsed.contacts) - added, len(parsed.bad)

    try:
        added, already, skipped = _run(load)
    except ContactFileError as exc:
        return _fail(f"{file}: {exc}; nothing was loaded")
    print(f"{name}: {added} contact(s) added, {already} already there, {skipped} row(s) skipped")
    return 0


def _dnc_change(dsn: str, command: str, raw: list[str], reason: str) -> int:
    from db import dnc
    from outbound.contacts import normalise_number

    numbers = [normalise_number(n) for n in raw]
    bad = [r for r, n in zip(raw, numbers, strict=True) if n is None]
    if bad:
        return _fail(f"not a phone number: {', '.join(bad)}; nothing was changed")
    valid = [n for n in numbers if n is not None]

    async def change() -> int:
        async with _pool(dsn) as pool:
            if command == "add":
                return await dnc.add(pool, valid, reason=reason, added_by="cli")
            return await dnc.remove(pool, valid)

    changed = _run(change)
    verb = "added to" if command == "add" else "removed from"
    print(f"{changed} number(s) {verb} the do-not-call list")
    return 0


def _dnc_import(dsn: str, file: Path) -> int:
    from db import dnc
    from outbound.contacts import ContactFileError, decode, normalise_number, shown

    try:
        text, _ = decode(file.read_bytes())
    except (OSError, ContactFileError) as exc:
        return _fail(f"{file}: {exc}")
    numbers: list[str] = []
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        line = reader.line_num  # the row's last line: a quoted field may span several
        first = row[0].strip() if row else ""
        if not first or (line == 1 and normalise_number(first) is None and first.isalpha()):
            continue  # blank lines and a header
        number = normalise_number(first)
        if number is None:
            print(f"{file}:{line}: bad number '{shown(first)}'; skipped", file=sys.stderr)
        else:
            numbers.append(number)

    async def add() -> int:
        async with _pool(dsn) as pool:
            return await dnc.add(pool, numbers, source="import", added_by="cli")

    print(f"{_run(add)} number(s) added to the do-not-call list ({len(numbers)} read)")
    return 0


def _dnc_list(dsn: str) -> int:
    from db import dnc

    async def entries() -> list[dnc.DncEntry]:
        async with _pool(dsn) as pool:
            return await dnc.entries(pool)

    for e in _run(entries):
        print(f"{e.number}\t{e.source}\t{e.added_at:%Y-%m-%d %H:%M}\t{e.reason}")
    return 0


@contextlib.asynccontextmanager
async def _pool(dsn: str) -> AsyncIterator[Any]:
    """A small pool on the migrated database (the CLI may run before the service ever did)."""
    import asyncpg

    from db.migrate import migrate

    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        await migrate(pool)
        yield pool
    finally:
        await pool.close()


def _run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(factory())


def _fail(msg: str) -> int:
    print(f"madoguchi: {msg}", file=sys.stderr, flush=True)
    return 1
