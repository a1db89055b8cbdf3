"""The bench's table and the lines that read the targets against the floor (e)."""

from __future__ import annotations

from typing import Any

from bench import call_report


def _setup(label: str, max_rate: float | None, p99: float, searched: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "label": label,
        "number": "200" if label.startswith("madoguchi") else "7000",
        "max_rate": max_rate,
        "latency": {"rate": 20, "queue_to_invite": {"p50_ms": p99 / 2, "p99_ms": p99}},
    }
    if searched:
        out["steps"] = [{"rate": max_rate, "held": True, "procs": {}}]
    return out


RESULTS = {
    "a": _setup("plain", 200, 1.4),
    "b": _setup("app_queue", 25, 3.5),
    "e": _setup("floor", None, 2.7, searched=False),
    "c": _setup("madoguchi", 100, 6.5),
}


def test_the_floor_row_has_latency_but_no_rate() -> None:
    rows = {row[0][:3]: row for row in call_report.table(RESULTS)[1:]}
    assert [r[:3] for r in rows] == ["(a)", "(b)", "(e)", "(c)"]
    assert rows["(e)"][1:4] == ["n/a", "n/a", "n/a"]
    assert rows["(e)"][5] == "2.70"
    assert rows["(c)"][1] == "100"


def test_floor_lines_compare_with_this_runs_figures() -> None:
    lines = call_report.floor_lines(RESULTS)
    assert "p99 2.70 ms" in lines[0] and "3.50 ms" in lines[0]
    assert lines[1].startswith("madoguchi (c) p99 6.50 ms, +3.80 ms against the floor")


def test_no_floor_lines_without_the_floor() -> None:
    assert call_report.floor_lines({k: v for k, v in RESULTS.items() if k != "e"}) == []


def test_targets_ignore_the_floor() -> None:
    assert call_report.targets(RESULTS) == {
        "c_rate_at_least_b": True,
        "c_rate_at_least_half_a": True,
        "c_p99_below_b": False,
    }
