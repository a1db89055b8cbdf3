"""Imports run one way (docs/architecture.md): the leaves import nothing of the root.

And ivr stays pure Python: the classic AGI script runs it under the Asterisk root
filesystem's own Python, which cannot load the virtualenv's compiled extensions (pydantic).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPILED = ("pydantic", "pydantic_core")


def modules_imported_by(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def imported_modules(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        found |= modules_imported_by(path)
    return found


def module_file(module: str) -> Path:
    base = ROOT / module.replace(".", "/")
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("ivr", ("madoguchi", "acd", "cti", "db")),
        ("configfile", ("madoguchi", "ivr", "acd", "cti", "db")),
        ("outbound", ("madoguchi", "ivr", "acd", "cti", "db", "configfile")),
        # db speaks SQL only, cti HTTP only: neither reaches the other, the ACD or the root
        # (both may use the pure cores' value types: a FAQ turn, a contact row).
        ("db", ("madoguchi", "ivr", "acd", "cti")),
        ("cti", ("madoguchi", "ivr", "acd", "db")),
        ("acd/core", ("madoguchi", "ivr", "acd.ami", "cti", "db", "asyncio", "panoramisk")),
        ("selfservice", ("madoguchi", "ivr", "acd", "cti", "db")),
    ],
)
def test_package_does_not_import_upwards(package: str, forbidden: tuple[str, ...]) -> None:
    bad = sorted(
        m
        for m in imported_modules(package)
        if m.split(".")[0] in forbidden or any(m.startswith(f + ".") for f in forbidden)
    )
    assert bad == [], f"{package} imports {bad}"


def test_ivr_and_what_it_imports_of_configfile_are_pure_python() -> None:
    todo = [m for m in imported_modules("ivr") if m.split(".")[0] == "configfile"]
    seen: set[str] = set()
    reached: set[str] = set(imported_modules("ivr"))
    while todo:  # follow configfile's own imports of configfile
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        inner = modules_imported_by(module_file(module))
        reached |= inner
        todo.extend(m for m in inner if m.split(".")[0] == "configfile")
    bad = sorted(m for m in reached if m.split(".")[0] in COMPILED)
    assert bad == [], f"ivr reaches {bad}"
