"""Integration tests: marked as such; the real stack they run on (PostgreSQL, Asterisk in
its namespace, `madoguchi serve`) is tests/conftest.py's, shared with the browser tests."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def sipp_dir(tmp_path: Path) -> Path:
    return tmp_path / "sipp"
