from __future__ import annotations

from pathlib import Path

from acd.core.specs import OverflowTarget, Strategy
from madoguchi.config import load_config
from madoguchi.config.acd import agent_specs, queue_specs
from madoguchi.config.load import collect

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
    support = specs["support"]
    assert support.strategy is Strategy.ROUND_ROBIN
    assert support.overflow.after is None and support.overflow.when_no_agents is None


def test_agent_specs(config_dir: Path) -> None:
    specs = agent_specs(load_config(config_dir, {}))
    assert specs["2001"].name == "山田 花子"
    assert dict(specs["2001"].skills) == {"lang_ja": 5, "billing": 3}
    assert dict(specs["2002"].queues) == {"sales": 2, "support": 1}


def test_shipped_config_converts() -> None:
    config, _ = collect(REPO_CONFIG, {})
    assert set(queue_specs(config)) == {"sales", "support"}
    assert set(agent_specs(config)) == {"1001", "1002", "1003", "1004"}
