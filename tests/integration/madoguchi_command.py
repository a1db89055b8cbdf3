"""The `madoguchi` command run as an operator runs it, from the project root, for the tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping

from madoguchi.paths import PROJECT_ROOT


def run_madoguchi(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m madoguchi ARGS` with `env` (else this process's), output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "madoguchi", *args],
        cwd=PROJECT_ROOT,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
