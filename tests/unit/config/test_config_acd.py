from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from acd.core.requirements import RequirementError
from acd.core.requirements import parse_requirement as acd_parse
from acd.core.specs import OverflowTarget, Strategy
from madoguchi.config import load_config
from madoguchi.config.acd import agent_specs, queue_specs
from madoguchi.config.load import collect
from madoguchi.config.requirements import RequirementSyntaxError, parse_requirement

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


# The configuration checks requirements with its own parser (it must not depend on the ACD);
# both must accept the same texts and agree on who matches.

SKILLS = ("a", "b", "lang_ja")
_comparison = st.builds(
    lambda s, op, n: f"{s}{op}{n}",
    st.sampled_from(SKILLS),
    st.sampled_from([">=", "<=", "==", "!=", ">", "<"]),
    st.integers(0, 5),
)
_expression = st.recursive(
    _comparison,
    lambda inner: st.one_of(
        st.builds(lambda x, y: f"{x} and {y}", inner, inner),
        st.builds(lambda x, y: f"{x} or {y}", inner, inner),
        st.builds(lambda x: f"({x})", inner),
    ),
    max_leaves=6,
)
_noise = st.text(alphabet="ab_01 ()<>=!andor", max_size=20)


@settings(max_examples=200, deadline=None)
@given(_expression, st.dictionaries(st.sampled_from(SKILLS), st.integers(0, 5)))
def test_both_parsers_agree_on_matching(text: str, skills: dict[str, int]) -> None:
    assert parse_requirement(text).matches(skills) == acd_parse(text).matches(skills)


@settings(max_examples=300, deadline=None)
@given(_noise)
def test_both_parsers_accept_the_same_texts(text: str) -> None:
    try:
        parse_requirement(text)
        ours = True
    except RequirementSyntaxError:
        ours = False
    try:
        acd_parse(text)
        theirs = True
    except RequirementError:
        theirs = False
    assert ours == theirs, text
