"""Imports run one way: the shared leaf imports nothing of the project, ivr nothing of madoguchi."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("ivr", ("madoguchi", "acd", "cti", "db")),
        ("configfile", ("madoguchi", "ivr", "acd", "cti", "db")),
    ],
)
def test_package_does_not_import_upwards(package: str, forbidden: tuple[str, ...]) -> None:
    bad = sorted(m for m in imported_modules(package) if m.split(".")[0] in forbidden)
    assert bad == [], f"{package} imports {bad}"
