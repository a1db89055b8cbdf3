"""`madoguchi crm import FILE.csv`: customers into the CRM of the configured database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from madoguchi.paths import Paths


def add_parsers(sub: Any) -> None:
    """Add the `crm` sub-command to the main parser's sub-parsers."""
    crm = sub.add_parser("crm", help="the CRM's customers")
    crm_sub = crm.add_subparsers(dest="crm_command", required=True)
    imp = crm_sub.add_parser("import", help="import or update customers from a CSV file")
    imp.add_argument("file", type=Path)


def run(paths: Paths, args: argparse.Namespace) -> int:
    from db.import_customers import main as import_main
    from madoguchi.config import ConfigError
    from madoguchi.service_config import database_dsn, load_service_config

    try:
        config = load_service_config(paths.config)
    except ConfigError as exc:
        print(f"madoguchi: configuration has errors:\n{exc}", file=sys.stderr)
        return 1
    return import_main([str(args.file), "--dsn", database_dsn(paths, config)])
