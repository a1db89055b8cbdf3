"""``madoguchi config check [DIR]``: print every problem, exit non-zero on any error."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

from madoguchi.config.load import ExtraCheck, check_config

DEFAULT_CONFIG_DIR = Path("config")


def main_check(
    config_dir: Path = DEFAULT_CONFIG_DIR,
    *,
    extra_checks: Iterable[ExtraCheck] = (),
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> int:
    """Print each problem on its own line (errors first); return 1 on any error, else 0."""
    stream = out if out is not None else sys.stdout
    problems = check_config(Path(config_dir), env, extra_checks=extra_checks)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for problem in errors + warnings:
        print(f"{problem.severity}: {problem}", file=stream)
    print(
        f"{config_dir}: {len(errors)} error(s), {len(warnings)} warning(s)"
        + ("" if errors else " - configuration OK"),
        file=stream,
    )
    return 1 if errors else 0
