"""Benchmark: how close the announced wait comes to the wait callers then have.

    .venv/bin/python -m bench --wait-accuracy [--hours 4] [--seed 1] [--scale 2.5] [--docs FILE]
    .venv/bin/python bench/wait_accuracy.py [--hours 4] [--seed 1] [--scale 2.5] [--docs FILE]

Runs every scenario of ``bench/wait_scenarios.py`` through the real routing core
(``bench/wait_sim.py``) and compares, for callers an agent answered, the estimate at entry
and at each announcement with the wait that followed: median absolute error, bias (mean of
estimate - actual) and the share within +-20 % or +-30 s, side by side for the router's
forecast, the old formula ``(position - 0.5) x AHT / N`` and app_queue's average hold time.
Writes ``bench/results/wait_accuracy.json`` and, with ``--docs``, its section of
docs/benchmarks.md (between the markers, the rest of the file untouched).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.wait_docs import BEGIN, END, placed
from bench.wait_scenarios import scenarios
from bench.wait_sim import METHODS, Caller, simulate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "bench" / "results" / "wait_accuracy.json"
DEFAULT_DOCS = ROOT / "docs" / "benchmarks.md"
FULL_HOURS = 4.0
TARGET_WITHIN = 0.8
SCALE = 2.5  # team sizes: 50 agents where the scenario's base says 20
SMALL_SCALE = 1.0
LABELS = {"forecast": "forecast (new)", "formula": "old formula", "app_queue": "app_queue"}


def within(estimate: float | None, actual: float) -> bool:
    return estimate is not None and abs(estimate - actual) <= max(30.0, 0.2 * actual)


def figures(pairs: Sequence[tuple[float | None, float]]) -> dict[str, Any]:
    """n, median absolute error, bias, share within +-20 % or +-30 s (None counts as a miss)."""
    known = [(e, a) for e, a in pairs if e is not None]
    errors = [e - a for e, a in known]
    return {
        "n": len(pairs),
        "unknown": len(pairs) - len(known),
        "mdae": statistics.median(abs(x) for x in errors) if errors else None,
        "bias": statistics.fmean(errors) if errors else None,
        "within": sum(within(e, a) for e, a in pairs) / len(pairs) if pairs else None,
    }


def measure(callers: Iterable[Caller]) -> dict[str, Any]:
    answered = [c for c in callers if c.answered is not None and c.entry is not None]
    entry: dict[str, list[tuple[float | None, float]]] = {m: [] for m in METHODS}
    later: dict[str, list[tuple[float | None, float]]] = {m: [] for m in METHODS}
    ranges = covered = 0
    for caller in answered:
        assert caller.answered is not None and caller.entry is not None
        wait = caller.answered - caller.arrived
        for method in METHODS:
            entry[method].append((caller.entry.seconds[method], wait))
            for said in caller.announcements:
                later[method].append((said.seconds[method], caller.answered - said.at))
        spoken = caller.entry.spoken
        if spoken is not None and spoken[1] > spoken[0]:
            ranges += 1
            covered += spoken[0] * 60 <= wait <= spoken[1] * 60
    everyone = list(callers)
    callbacks = [c for c in everyone if c.callback_asked is not None]
    kept = [
        c
        for c in callbacks
        if c.callback_answered is not None
        and c.callback_quoted is not None
        and c.callback_asked is not None
        and c.callback_answered - c.callback_asked <= c.callback_quoted
    ]
    return {
        "callers": len(everyone),
        "waited": sum(1 for c in everyone if c.entry is not None),
        "answered_after_waiting": len(answered),
        "abandoned": sum(1 for c in everyone if c.outcome.startswith("abandoned")),
        "mean_wait": statistics.fmean(c.answered - c.arrived for c in answered)
        if answered
        else None,
        "entry": {m: figures(entry[m]) for m in METHODS},
        "announcements": {m: figures(later[m]) for m in METHODS},
        "ranges_said": ranges,
        "ranges_kept": covered,
        "callbacks": len(callbacks),
        "callbacks_kept": len(kept),
    }


def run(hours: float, seed: int, scale: float = SCALE, log: Any = print) -> dict[str, Any]:
    report: dict[str, Any] = {"hours": hours, "seed": seed, "scale": scale, "scenarios": {}}
    started = time.monotonic()
    for scenario in scenarios(hours, scale):
        t0 = time.monotonic()
        callers, errors = simulate(scenario, seed)
        result = measure(callers.values())
        result["title"] = scenario.title
        result["refused_agent_events"] = errors
        result["seconds"] = round(time.monotonic() - t0, 1)
        report["scenarios"][scenario.name] = result
        log(f"{scenario.name}: {result['callers']} callers, {result['seconds']} s")
    report["duration_s"] = round(time.monotonic() - started, 1)
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["targets"] = targets(report)
    return report


def targets(report: dict[str, Any]) -> dict[str, bool]:
    rows = report["scenarios"].values()
    return {
        "at least 80 % within at entry in every scenario": all(
            r["entry"]["forecast"]["within"] >= TARGET_WITHIN for r in rows
        ),
        "better than the formula and app_queue in every scenario": all(
            r["entry"]["forecast"]["within"]
            > max(r["entry"]["formula"]["within"], r["entry"]["app_queue"]["within"])
            for r in rows
        ),
    }


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def table_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, result in report["scenarios"].items():
        for method in METHODS:
            at_entry = result["entry"][method]
            later = result["announcements"][method]
            rows.append(
                [
                    name,
                    LABELS[method],
                    str(at_entry["n"]),
                    _s(at_entry["mdae"]),
                    _s(at_entry["bias"]),
                    _pct(at_entry["within"]),
                    str(later["n"]),
                    _s(later["mdae"]),
                    _s(later["bias"]),
                    _pct(later["within"]),
                ]
            )
    return rows


HEADER = [
    "scenario",
    "estimate",
    "callers",
    "entry: median abs error s",
    "bias s",
    "within ±20 % / ±30 s",
    "announcements",
    "median abs error s",
    "bias s",
    "within",
]


def render_markdown(report: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(report)]
    return "\n".join(lines)


def render_text(report: dict[str, Any]) -> str:
    rows = [HEADER, *table_rows(report)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(lines)


def extra_lines(report: dict[str, Any]) -> list[str]:
    out = []
    for name, r in report["scenarios"].items():
        kept = f"{r['callbacks_kept']}/{r['callbacks']}" if r["callbacks"] else "none asked"
        ranges = f"{r['ranges_kept']}/{r['ranges_said']}" if r["ranges_said"] else "none said"
        out.append(
            f"{name}: {r['callers']} callers, {r['waited']} waited, "
            f"{r['answered_after_waiting']} answered after waiting "
            f"(mean wait {_s(r['mean_wait'])} s), {r['abandoned']} abandoned; ranges said at "
            f"entry and kept: {ranges}; callback windows kept: {kept}"
        )
    return out


def docs_section(report: dict[str, Any]) -> str:
    from bench.wait_docs import section

    return section(report, render_markdown(report), extra_lines(report))


def write_docs(path: Path, report: dict[str, Any]) -> None:
    """Replace this benchmark's section of ``path`` (add it if there is none yet)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{BEGIN}\n{docs_section(report)}\n{END}"
    path.write_text(placed(text, block), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--hours", type=float, default=FULL_HOURS, help="simulated hours each")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--scale", type=float, default=SCALE, help="team size factor (1 = 20 agents)")
    p.add_argument(
        "--small-hours",
        type=float,
        default=FULL_HOURS,
        help="also run the scenarios with 20-agent teams for this long (0: not)",
    )
    p.add_argument("--json", type=Path, default=DEFAULT_JSON)
    p.add_argument(
        "--docs",
        type=Path,
        help="write the section into this file (default docs/benchmarks.md after a full run)",
    )
    args = p.parse_args(argv)
    full_run = (args.hours, args.seed, args.scale) == (FULL_HOURS, 1, SCALE)
    docs = args.docs or (DEFAULT_DOCS if full_run else None)
    report = run(args.hours, args.seed, args.scale)
    if args.small_hours > 0:
        print(f"small teams (scale {SMALL_SCALE:g}, {args.small_hours:g} h):")
        report["small"] = run(args.small_hours, args.seed, SMALL_SCALE)
    print()
    print(render_text(report))
    print()
    for line in extra_lines(report):
        print(line)
    for name, met in report["targets"].items():
        print(f"target: {name}: {'met' if met else 'NOT met'}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if docs is not None:
        write_docs(docs, report)
        print(f"docs: {docs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
