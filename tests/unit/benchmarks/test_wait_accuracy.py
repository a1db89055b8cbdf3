"""The estimated-wait benchmark, short: the real router simulated, figures and the docs block."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import wait_accuracy
from bench.wait_docs import BEGIN, END, OTHERS
from bench.wait_scenarios import scenarios
from bench.wait_sim import Caller, Estimate, simulate


def test_within_is_20_percent_or_30_seconds_whichever_is_wider() -> None:
    assert wait_accuracy.within(130, 100) and not wait_accuracy.within(131, 100)
    assert wait_accuracy.within(360, 300) and not wait_accuracy.within(361, 300)
    assert not wait_accuracy.within(None, 10)


def test_figures_count_unknown_estimates_as_misses() -> None:
    figures = wait_accuracy.figures([(100, 100), (None, 50), (200, 100)])
    assert (figures["n"], figures["unknown"]) == (3, 1)
    assert figures["mdae"] == 50 and figures["bias"] == 50
    assert figures["within"] == pytest.approx(1 / 3)


def test_measure_compares_entry_and_announcements_with_the_wait_that_followed() -> None:
    said = {"forecast": 60.0, "formula": 10.0, "app_queue": None}
    caller = Caller("c1", "q", arrived=0, priority=0, entry=Estimate(0, said, (1, 2, False)))
    caller.announcements.append(Estimate(30, dict(said)))
    caller.answered = 90
    result = wait_accuracy.measure([caller, Caller("c2", "q", 5, 0, outcome="abandoned_queue")])
    assert result["answered_after_waiting"] == 1 and result["abandoned"] == 1
    assert result["entry"]["forecast"]["bias"] == -30  # 60 said, 90 waited
    assert result["announcements"]["forecast"]["bias"] == 0  # 60 said at 30 s, 60 left
    assert result["entry"]["app_queue"]["unknown"] == 1
    assert (result["ranges_said"], result["ranges_kept"]) == (1, 1)  # 1-2 min: 90 s


def test_a_short_run_of_every_scenario_drives_the_router_to_real_waits() -> None:
    for scenario in scenarios(0.5, 0.5):
        callers, refused = simulate(scenario, seed=3)
        result = wait_accuracy.measure(callers.values())
        assert refused == 0, scenario.name  # the simulation never breaks an agent rule
        assert result["answered_after_waiting"] > 0, scenario.name
        for method in ("forecast", "formula", "app_queue"):
            within = result["entry"][method]["within"]
            assert within is not None and 0 <= within <= 1


def test_the_forecast_beats_the_formula_where_skills_decide() -> None:
    (scenario,) = [s for s in scenarios(1.0, 0.5) if s.name == "skills_relax"]
    callers, _ = simulate(scenario, seed=1)
    entry = wait_accuracy.measure(callers.values())["entry"]
    assert entry["forecast"]["within"] > entry["formula"]["within"]


def test_the_docs_block_is_replaced_alone_under_other_benchmarks(tmp_path: Path) -> None:
    report = {
        "hours": 1.0,
        "seed": 1,
        "scale": 1.0,
        "duration_s": 3.0,
        "scenarios": {},
        "targets": {"x": True},
    }
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# Benchmarks\n\ncalls\n\n{OTHERS}\n\n### other\n", encoding="utf-8")
    wait_accuracy.write_docs(docs, report)
    wait_accuracy.write_docs(docs, report)
    text = docs.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1 and text.count(OTHERS) == 1
    assert text.startswith(f"# Benchmarks\n\ncalls\n\n{OTHERS}\n\n### other\n\n{BEGIN}")
    assert "### Estimated wait accuracy" in text
