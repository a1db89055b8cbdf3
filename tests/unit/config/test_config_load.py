from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from madoguchi.config import (
    Config,
    ConfigError,
    TimeRange,
    check_config,
    load_config,
)
from madoguchi.service_config import extra_checks

Edit = Callable[[str, str, str], None]

REPO_CONFIG = Path(__file__).resolve().parents[3] / "config"


def test_the_fixture_config_loads_without_problems(config_dir: Path) -> None:
    assert check_config(config_dir, {}) == []
    config = load_config(config_dir, {})
    assert isinstance(config, Config)
    assert config.warnings == ()


def test_values_and_defaults_are_typed(config_dir: Path) -> None:
    config = load_config(config_dir, {})
    assert config.service.sip.bind == "127.0.0.1"
    assert config.service.sip.port == 5060
    assert config.service.sip.qualify_frequency == 30  # default
    assert config.service.cti.token_ttl == 28800  # default
    assert config.service.ami.ring_ahead_yield_ms == 4  # default
    assert config.service.database.url == ""
    assert config.service.retention.days == 400
    agent = config.agents["2001"]
    assert agent.name == "山田 花子"
    assert dict(agent.skills) == {"lang_ja": 5, "billing": 3}
    assert dict(agent.queues) == {"sales": 1}
    assert config.agents["2002"].pin == ""
    assert config.supervisors["boss"].name == "管理者"
    assert "no_answer" in config.states.not_ready_reasons
    sales = config.queues["sales"]
    assert sales.ring_timeout == 15 and sales.wrapup == 10 and sales.max_wait == 600
    assert [s.after for s in sales.relax] == [30, 90]
    assert sales.overflow.target == "queue:support"
    assert config.queues["support"].strategy == "round_robin"
    assert config.queues["support"].display_name == "support"
    hours = config.calendar.hours["main"]
    assert hours.days["mon"] == (TimeRange(540, 720), TimeRange(780, 1080))
    assert hours.days["sun"] == ()
    assert hours.closed == (date(2026, 12, 29),)
    assert hours.japanese_holidays is True
    assert config.numbers["100"].kind == "flow" and config.numbers["100"].target == "main"
    assert config.numbers["200"].kind == "queue" and config.numbers["200"].target == "support"
    assert config.flows == ("main",)


def test_the_model_is_immutable(config_dir: Path) -> None:
    config = load_config(config_dir, {})
    with pytest.raises(AttributeError):
        config.agents["2001"].name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.agents["9999"] = config.agents["2001"]  # type: ignore[index]


def test_load_config_raises_with_every_problem(config_dir: Path, edit: Edit) -> None:
    edit("queues.toml", 'strategy = "round_robin"', 'strategy = "robin"\nring_timeout = "15"')
    edit("madoguchi.toml", "port = 8080", "port = 70000")
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir, {})
    keys = {p.key for p in caught.value.problems}
    assert {"queue.support.strategy", "queue.support.ring_timeout", "cti.port"} <= keys
    text = str(caught.value)
    assert "queues.toml: queue.support.ring_timeout: expected an integer, got a string" in text


def test_the_ring_ahead_yield_is_bounded(config_dir: Path, edit: Edit) -> None:
    edit("madoguchi.toml", 'user = "madoguchi"', 'user = "madoguchi"\nring_ahead_yield_ms = 0')
    assert load_config(config_dir, {}).service.ami.ring_ahead_yield_ms == 0
    edit("madoguchi.toml", "ring_ahead_yield_ms = 0", "ring_ahead_yield_ms = 500")
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir, {})
    assert [p.key for p in caught.value.problems] == ["ami.ring_ahead_yield_ms"]
    assert "madoguchi.toml: ami.ring_ahead_yield_ms" in str(caught.value)


def test_shipped_config_has_no_error() -> None:
    # The shipped IVR flows are checked against the shipped queues and schedules too.
    problems = check_config(REPO_CONFIG, {}, extra_checks=extra_checks())
    assert [p for p in problems if p.severity == "error"] == []
    config = load_config(REPO_CONFIG, {})
    assert set(config.agents) == {"1001", "1002", "1003", "1004"}
    assert {a.password for a in config.agents.values()} == {f"pw{i}" for i in range(1001, 1005)}
    assert set(config.queues) == {"sales", "support"}
    assert config.numbers["100"].target == "main" and config.numbers["200"].target == "support"
    assert config.service.ami.secret  # the ${...:-default} demo secret
    assert all(day == (TimeRange(0, 1440),) for day in config.calendar.hours["main"].days.values())
    assert config.calendar.hours["main"].japanese_holidays is False
    # Weak demo passwords are accepted on loopback, but said out loud.
    assert {p.key for p in config.warnings} >= {f"agent.{i}.password" for i in range(1001, 1005)}


def test_shipped_calendar_is_read_the_same_by_the_ivr() -> None:
    from ivr.calendar import load_calendar

    calendar = load_calendar(REPO_CONFIG / "calendar.toml")
    assert "main" in calendar.schedules
