"""docs/configuration.md stays the reference: every key documented, the example valid."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from madoguchi.config import (
    AgentConfig,
    AmiConfig,
    CalendarConfig,
    CtiConfig,
    DatabaseConfig,
    FastAgiConfig,
    OverflowConfig,
    QueueConfig,
    RecordingConfig,
    RetentionConfig,
    SipConfig,
    StatesConfig,
    SupervisorConfig,
    check_config,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"
NOT_KEYS = {"name", "hours"}  # QueueConfig.name is the table name; hours are [hours.<name>]


@pytest.mark.parametrize(
    "model",
    [
        SipConfig,
        AmiConfig,
        FastAgiConfig,
        CtiConfig,
        DatabaseConfig,
        RecordingConfig,
        RetentionConfig,
        AgentConfig,
        SupervisorConfig,
        StatesConfig,
        QueueConfig,
        OverflowConfig,
        CalendarConfig,
    ],
)
def test_every_key_is_documented(model: type) -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE))
    keys = {f.name for f in dataclasses.fields(model)} - NOT_KEYS
    assert keys <= documented, keys - documented


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    block = DOC.read_text(encoding="utf-8").split("## Example")[1].split("```toml")[1]
    files: dict[str, list[str]] = {}
    current = ""
    for line in block.split("```")[0].splitlines():
        if match := re.fullmatch(r"# (\S+\.toml)", line):
            current = match.group(1)
            files[current] = []
        elif current:
            files[current].append(line)
    assert set(files) == {
        "madoguchi.toml",
        "agents.toml",
        "queues.toml",
        "calendar.toml",
        "numbers.toml",
    }
    for name, lines in files.items():
        (tmp_path / name).write_text("\n".join(lines), encoding="utf-8")
    env = {"MADOGUCHI_AMI_SECRET": "a-long-ami-secret", "AGENT_1001_PASSWORD": "Strong-Pass-1234"}
    assert check_config(tmp_path, env) == []
