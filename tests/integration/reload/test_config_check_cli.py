"""`madoguchi config check DIR` end to end (a subprocess on a copy of the shipped config):
every problem is printed with its file, key path and reason; any error exits non-zero.
The rules themselves are unit-tested in tests/unit/config; here the CLI, its exit code and
the IVR flow checks it adds (extra_checks) are proven."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from madoguchi.paths import default_paths
from tests.integration.madoguchi_command import run_madoguchi

Edit = Callable[[Path], None]


def replace(file: str, old: str, new: str) -> Edit:
    def edit(config: Path) -> None:
        path = config / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def config_check(config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_")}
    return run_madoguchi("config", "check", str(config), env=env)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    copy = tmp_path / "config"
    shutil.copytree(default_paths().config, copy)
    return copy


CASES = {
    "unknown key": (
        replace("queues.toml", 'display_name = "営業"', 'display_name = "営業"\ncolour = "red"'),
        "queues.toml: queue.sales.colour: unknown key",
    ),
    "wrong type": (
        replace("queues.toml", "weight = 1\n", 'weight = "heavy"\n'),
        "queues.toml: queue.sales.weight: expected an integer",
    ),
    "unknown queue in an IVR flow": (
        replace("ivr/main.toml", 'queue = "sales"', 'queue = "vip"'),
        "ivr/main.toml: node.sales.queue: unknown queue 'vip'",
    ),
    "unknown node in an IVR menu": (
        replace("ivr/main.toml", '"1" = "sales"', '"1" = "nowhere"'),
        "ivr/main.toml: node.main_menu.choices.1: unknown node 'nowhere'",
    ),
    "skill requirement no agent can meet": (
        replace("queues.toml", 'requirements = "lang_ja>=3"', 'requirements = "lang_ja>=9"'),
        "queues.toml: queue.sales.requirements: no member of this queue can ever meet",
    ),
    "duplicate extension": (
        replace("agents.toml", 'id = "1002"', 'id = "1001"'),
        "agents.toml: agent.1001.id: duplicate agent extension 1001",
    ),
    "missing SIP password": (
        replace("agents.toml", 'password = "pw1003"\n', ""),
        "agents.toml: agent.1003.password: the SIP password is missing",
    ),
    "weak SIP password beyond loopback": (
        replace("madoguchi.toml", 'bind = "127.0.0.1" ', 'bind = "0.0.0.0" '),
        "agents.toml: agent.1001.password: weak SIP password",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_error_is_printed_with_file_key_and_reason_and_exits_non_zero(
    config: Path, case: str
) -> None:
    edit, expected = CASES[case]
    edit(config)
    result = config_check(config)
    errors = [line for line in result.stdout.splitlines() if line.startswith("error: ")]
    assert result.returncode == 1, result.stdout + result.stderr
    matching = [line for line in errors if expected in line]
    assert matching, f"no error line with {expected!r}:\n{result.stdout}"
    assert all(line.startswith(f"error: {config}/") for line in matching)
    assert "configuration OK" not in result.stdout


def test_weak_passwords_on_loopback_are_warnings_only_and_exit_zero(config: Path) -> None:
    result = config_check(config)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert not [line for line in lines if line.startswith("error: ")]
    for agent in ("1001", "1002", "1003", "1004"):
        assert any(
            line.startswith("warning: ")
            and f"agents.toml: agent.{agent}.password: weak SIP password" in line
            for line in lines
        ), result.stdout
    assert "0 error(s), 4 warning(s) - configuration OK" in result.stdout


def test_several_problems_in_several_files_are_all_reported(config: Path) -> None:
    for edit, _expected in (CASES["unknown key"], CASES["unknown queue in an IVR flow"]):
        edit(config)
    replace("agents.toml", 'password = "pw1004"\n', "")(config)
    result = config_check(config)
    assert result.returncode == 1
    for expected in (
        CASES["unknown key"][1],
        CASES["unknown queue in an IVR flow"][1],
        "agents.toml: agent.1004.password: the SIP password is missing",
    ):
        assert expected in result.stdout, result.stdout
    assert f"{config}: 3 error(s)" in result.stdout


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    result = config_check(tmp_path / "nope")
    assert result.returncode != 0
    assert "nope" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
