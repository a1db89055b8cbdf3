"""The pacing benchmark, short: its targets on a few scenarios, and the adaptive rule's steps."""

from __future__ import annotations

import pytest

from bench.pacing_adaptive import AdaptiveRule
from bench.pacing_sim import POLICIES, Result, Scenario, simulate, targets_met, worst_window
from outbound.pacing import PacingPolicy

LIMIT = PacingPolicy().max_abandon_rate


def run(sc: Scenario) -> dict[str, Result]:
    return {p: simulate(sc, p, days=1, seed=7) for p in POLICIES}


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(25, 0.1, hours_per_day=4),
        Scenario(25, 0.2, talk_mean_s=60.0, wrap_mean_s=5.0, hours_per_day=4, label="short"),
        Scenario(10, 0.6, hours_per_day=4),
    ],
    ids=lambda sc: sc.name,
)
def test_predictive_meets_the_targets(scenario: Scenario) -> None:
    row = run(scenario)
    assert targets_met([row], LIMIT) == []
    pred = row["predictive"]
    assert pred.answered > 300 and 0 < pred.abandoned  # it did lean in, within the limit
    assert pred.worst_window <= LIMIT


def test_every_policy_sees_the_same_calls() -> None:
    sc = Scenario(10, 0.3, hours_per_day=1)
    a, b = simulate(sc, "progressive", 1, 3), simulate(sc, "progressive", 1, 3)
    assert (a.dialed, a.answered, a.busy_s) == (b.dialed, b.answered, b.busy_s)
    assert a.abandoned == 0  # progressive never dials a line without a free agent


def test_worst_window_covers_days_and_rolling_24h() -> None:
    day = 86400.0
    hours = [(day + 3600.0 * h, 100, 1) for h in range(1, 9)]
    hours += [(2 * day + 3600.0, 100, 9)]  # a bad first hour on day 2: 9 %
    assert worst_window(hours, 8) == pytest.approx(9 / 100)


def tick(rule: AdaptiveRule, seconds: int, **kw: int) -> int:
    args = dict(
        ready=0,
        waiting=0,
        agents=10,
        alive_calls=0,
        calls_today=0,
        answered_today=0,
        drops_today=0,
        placed_last_s=0,
        dropped_last_s=0,
    )
    args.update(kw)
    lines = 0
    for _ in range(seconds):
        lines = rule.lines(**args)
    return lines


def test_adaptive_rule_raises_with_ready_agents_and_caps() -> None:
    rule = AdaptiveRule(hard_limit=False)
    tick(rule, 15, ready=5)
    assert rule.level == pytest.approx(1.5)
    tick(rule, 600, ready=5)
    assert rule.level == 3.0  # adaptive_maximum_level
    assert tick(rule, 1, ready=5, alive_calls=12) == 18  # round(3.0 x 10) - 12


def test_adaptive_average_halves_and_hard_limit_drops_to_one_over_the_limit() -> None:
    over = dict(ready=5, calls_today=1000, answered_today=300, drops_today=30)  # 10 %
    average, hard = AdaptiveRule(hard_limit=False, level=3.0), AdaptiveRule(True, level=3.0)
    tick(average, 15, **over)
    tick(hard, 15, **over)
    assert average.level == pytest.approx(1.5)
    assert hard.level == 1.0
