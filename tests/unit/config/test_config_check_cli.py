from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from madoguchi.config import main_check

Edit = Callable[[str, str, str], None]


def test_clean_config_exits_zero(config_dir: Path) -> None:
    out = io.StringIO()
    assert main_check(config_dir, env={}, out=out) == 0
    assert out.getvalue().strip().endswith("0 error(s), 0 warning(s) - configuration OK")


def test_each_problem_on_its_own_line_and_non_zero_exit(config_dir: Path, edit: Edit) -> None:
    edit("queues.toml", 'strategy = "round_robin"', 'strategy = "round_robin"\nring_timout = 20')
    edit("agents.toml", '"Kq7-vX9p-2001z"', '"pw2001"')
    out = io.StringIO()
    assert main_check(config_dir, env={}, out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        f"error: {config_dir / 'queues.toml'}: queue.support.ring_timout: "
        "unknown key (did you mean 'ring_timeout'?)"
    )
    assert lines[1].startswith(f"warning: {config_dir / 'agents.toml'}: agent.2001.password:")
    assert lines[2].endswith("1 error(s), 1 warning(s)")


def test_warnings_alone_exit_zero(config_dir: Path, edit: Edit) -> None:
    edit("agents.toml", '"Kq7-vX9p-2001z"', '"pw2001"')
    assert main_check(config_dir, env={}, out=io.StringIO()) == 0


def test_module_entry_point(config_dir: Path, edit: Edit, tmp_path: Path) -> None:
    edit("queues.toml", '"round_robin"', '"nope"')
    result = subprocess.run(
        [sys.executable, "-m", "madoguchi.config", "check", str(config_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "queue.support.strategy: 'nope' is not one of" in result.stdout
