"""Fixtures of the IVR integration tests: the session stack (tests/integration/conftest.py),
the lead's desktop and DB fixtures (e2e/conftest.py), and an AMI watch on the hand-offs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e.conftest import desktop_for  # noqa: F401  (a fixture shared with e2e)
from ivr_it_helpers import AmiWatch, ami_watch_for

from madoguchi.stack.runner import Stack


@pytest.fixture(scope="session")
def ami(stack: Stack) -> Iterator[AmiWatch]:
    watch = ami_watch_for(stack)
    try:
        yield watch
    finally:
        watch.close()
