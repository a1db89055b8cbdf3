"""A small valid configuration directory that each test edits to provoke one problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from madoguchi.config import ConfigProblem, check_config

SERVICE = """\
[sip]
bind = "127.0.0.1"
port = 5060

[ami]
host = "127.0.0.1"
port = 5038
user = "madoguchi"
secret = "s3cret-for-tests"

[fastagi]
host = "127.0.0.1"
port = 4573
allowed_peers = ["127.0.0.1"]

[cti]
host = "127.0.0.1"
port = 8080
"""

AGENTS = """\
[[agent]]
id = "2001"
name = "山田 花子"
password = "Kq7-vX9p-2001z"
pin = "2001"
skills = { lang_ja = 5, billing = 3 }
queues = { sales = 1 }

[[agent]]
id = "2002"
name = "Emily Tanaka"
password = "Zr4!mW8q-Lp"
skills = { lang_en = 5 }
queues = { sales = 2, support = 1 }

[[supervisor]]
id = "boss"
name = "管理者"
password = "Long-Enough-Pass-1"
"""

QUEUES = """\
[queue.sales]
strategy = "longest_idle"
requirements = "lang_ja>=3 and (billing>=2 or lang_en==5)"
relax = [{ after = 30, requirements = "lang_ja>=1" }, { after = 90, requirements = "" }]
overflow = { after = 300, target = "queue:support", when_no_agents = "voicemail" }

[queue.support]
strategy = "round_robin"
"""

CALENDAR = """\
timezone = "Asia/Tokyo"
japanese_holidays = true

[hours.main]
mon = ["09:00-12:00", "13:00-18:00"]
sat = []
closed = ["2026-12-29"]
"""

NUMBERS = """\
[number."100"]
flow = "main"

[number."200"]
queue = "support"
"""

FILES = {
    "madoguchi.toml": SERVICE,
    "agents.toml": AGENTS,
    "queues.toml": QUEUES,
    "calendar.toml": CALENDAR,
    "numbers.toml": NUMBERS,
}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    (directory / "ivr").mkdir(parents=True)
    (directory / "ivr" / "main.toml").write_text("# a flow (the IVR package reads it)\n")
    for name, text in FILES.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


Edit = Callable[[str, str, str], None]


@pytest.fixture
def edit(config_dir: Path) -> Edit:
    """Replace ``old`` by ``new`` in one file (failing loudly if ``old`` is absent)."""

    def apply(name: str, old: str, new: str) -> None:
        path = config_dir / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


ProblemsAt = Callable[..., list[ConfigProblem]]


@pytest.fixture
def problems_at(config_dir: Path) -> ProblemsAt:
    """The problems reported at one key path (with an empty environment unless given)."""

    def find(key: str, env: dict[str, str] | None = None) -> list[ConfigProblem]:
        return [p for p in check_config(config_dir, env or {}) if p.key == key]

    return find
