from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from acd.core.specs import OverflowTarget, Strategy
from madoguchi.config import load_config
from madoguchi.config.acd import agent_specs, queue_specs
from madoguchi.config.load import collect

Edit = Callable[[str, str, str], None]

REPO_CONFIG = Path(__file__).resolve().parents[3] / "config"


def test_queue_specs(config_dir: Path) -> None:
    specs = queue_specs(load_config(config_dir, {}))
    sales = specs["sales"]
    assert sales.strategy is Strategy.LONGEST_IDLE
    assert sales.ring_timeout == 15.0 and sales.max_wait == 600.0
    assert [step.after for step in sales.relax] == [30.0, 90.0]
    assert sales.overflow.after == 300.0
    assert sales.overflow.target == OverflowTarget("queue", "support")
    assert sales.overflow.when_no_agents == OverflowTarget("voicemail")
    assert sales.overflow.position_above is None  # 0 in the file: off
    support = specs["support"]
    assert support.strategy is Strategy.ROUND_ROBIN
    assert support.overflow.after is None and support.overflow.when_no_agents is None


def test_queue_length_cap_converts(config_dir: Path, edit: Edit) -> None:
    edit("queues.toml", "after = 300,", "after = 300, position_above = 40,")
    sales = queue_specs(load_config(config_dir, {}))["sales"]
    assert sales.overflow.position_above == 40
    assert sales.overflow.target == OverflowTarget("queue", "support")


def test_ring_ahead_is_on_unless_a_queue_turns_it_off(config_dir: Path, edit: Edit) -> None:
    assert all(spec.ring_ahead for spec in queue_specs(load_config(config_dir, {})).values())
    edit("queues.toml", 'strategy = "round_robin"', 'strategy = "round_robin"\nring_ahead = false')
    specs = queue_specs(load_config(config_dir, {}))
    assert not specs["support"].ring_ahead and specs["sales"].ring_ahead


def test_agent_specs(config_dir: Path) -> None:
    specs = agent_specs(load_config(config_dir, {}))
    assert specs["2001"].name == "山田 花子"
    assert dict(specs["2001"].skills) == {"lang_ja": 5, "billing": 3}
    assert dict(specs["2002"].queues) == {"sales": 2, "support": 1}


def test_shipped_config_converts() -> None:
    config, _ = collect(REPO_CONFIG, {})
    assert set(queue_specs(config)) == {"sales", "support"}
    assert set(agent_specs(config)) == {"1001", "1002", "1003", "1004"}
