"""The results table (stdout, docs/benchmarks.md) and the targets of issue 9."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ORDER = ("a", "b", "e", "c", "d")


def machine(asterisk_version: str | None) -> dict[str, Any]:
    cpu = "unknown"
    mem_mb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    try:
        sipp = subprocess.run(
            ["sipp", "-v"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
        sipp_version = next((w for w in sipp.split() if w.startswith("v3")), sipp.strip())
    except (OSError, subprocess.TimeoutExpired):
        sipp_version = "unknown"
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "ram_mb": mem_mb,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "asterisk": asterisk_version,
        "sipp": sipp_version,
    }


def _get(d: Mapping[str, Any] | None, *keys: str) -> Any:
    cur: Any = d
    for key in keys:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def _ratio(x: Any, y: Any) -> float | None:
    if isinstance(x, int | float) and isinstance(y, int | float) and y:
        return round(x / y, 2)
    return None


def figures(setup: Mapping[str, Any] | None) -> dict[str, Any]:
    """The headline numbers of one set-up, flat."""
    if not setup or setup.get("error"):
        return {}
    lat = setup.get("latency") or {}
    fixed_procs = _get(lat, "step", "procs") or {}
    best_step = next(
        (
            s
            for s in reversed(setup.get("steps") or [])
            if s.get("held") and s.get("rate") == setup.get("max_rate")
        ),
        None,
    )
    max_procs = (best_step or {}).get("procs") or {}
    return {
        "max_rate": setup.get("max_rate"),
        "p50_ms": _get(lat, "queue_to_invite", "p50_ms"),
        "p99_ms": _get(lat, "queue_to_invite", "p99_ms"),
        "fixed_rate": lat.get("rate"),
        "service_cpu_fixed": _get(fixed_procs, "service", "cpu_pct"),
        "service_cpu_max": _get(max_procs, "service", "cpu_pct"),
        "service_rss_mb": max(
            (
                v
                for v in (
                    _get(fixed_procs, "service", "rss_mb_max"),
                    _get(max_procs, "service", "rss_mb_max"),
                )
                if v is not None
            ),
            default=None,
        ),
        "asterisk_cpu_fixed": _get(fixed_procs, "asterisk", "cpu_pct"),
        "asterisk_cpu_max": _get(max_procs, "asterisk", "cpu_pct"),
        "pop_p50_ms": _get(lat, "ring_to_pop", "p50_ms"),
        "pop_p99_ms": _get(lat, "ring_to_pop", "p99_ms"),
    }


def ratios(results: Mapping[str, Any]) -> dict[str, dict[str, float | None]]:
    flat = {k: figures(results.get(k)) for k in ORDER}
    out: dict[str, dict[str, float | None]] = {}
    for key in ORDER:
        f = flat[key]
        if not f:
            continue
        out[key] = {
            "rate_vs_a": _ratio(f.get("max_rate"), flat["a"].get("max_rate")),
            "rate_vs_b": _ratio(f.get("max_rate"), flat["b"].get("max_rate")),
            "p99_vs_a": _ratio(f.get("p99_ms"), flat["a"].get("p99_ms")),
            "p99_vs_b": _ratio(f.get("p99_ms"), flat["b"].get("p99_ms")),
        }
    return out


def targets(results: Mapping[str, Any]) -> dict[str, bool | None]:
    a, b, c = (figures(results.get(k)) for k in ("a", "b", "c"))

    def cmp(x: Any, y: Any, op: str) -> bool | None:
        if not isinstance(x, int | float) or not isinstance(y, int | float):
            return None
        return {"ge": x >= y, "lt": x < y}[op]

    half_a = a.get("max_rate") / 2 if isinstance(a.get("max_rate"), int | float) else None
    return {
        "c_rate_at_least_b": cmp(c.get("max_rate"), b.get("max_rate"), "ge"),
        "c_rate_at_least_half_a": cmp(c.get("max_rate"), half_a, "ge"),
        "c_p99_below_b": cmp(c.get("p99_ms"), b.get("p99_ms"), "lt"),
    }


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(results: Mapping[str, Any]) -> list[list[str]]:
    rat = ratios(results)
    rows = [
        [
            "set-up",
            "max calls/s",
            "vs (a)",
            "vs (b)",
            "queue→INVITE p50 ms",
            "p99 ms",
            "p99 vs (b)",
            "service CPU % (fixed / max)",
            "service RSS MB",
            "Asterisk CPU % (fixed / max)",
            "ring→pop p50 / p99 ms",
        ]
    ]
    for key in ORDER:
        setup = results.get(key)
        if setup is None:
            continue
        label = f"({key}) {setup.get('label', '')}"
        if setup.get("error"):
            rows.append([label, "not measured: " + str(setup["error"])[:80]] + [""] * 9)
            continue
        searched = "max_rate" in setup and setup["max_rate"] is not None
        f = figures(setup)
        r = rat.get(key, {})
        pop = (
            f"{_fmt(f['pop_p50_ms'])} / {_fmt(f['pop_p99_ms'])}"
            if f.get("pop_p50_ms") is not None
            else "n/a"
        )
        svc_cpu = (
            f"{_fmt(f['service_cpu_fixed'], 0)} / {_fmt(f['service_cpu_max'], 0)}"
            if setup.get("number") in ("200", "100")
            else "n/a"
        )
        rows.append(
            [
                label,
                _fmt(f.get("max_rate"), 0) if searched else "n/a",
                _fmt(r.get("rate_vs_a"), 2) if searched else "n/a",
                _fmt(r.get("rate_vs_b"), 2) if searched else "n/a",
                _fmt(f.get("p50_ms"), 2),
                _fmt(f.get("p99_ms"), 2),
                _fmt(r.get("p99_vs_b"), 2),
                svc_cpu,
                _fmt(f.get("service_rss_mb"), 0) if svc_cpu != "n/a" else "n/a",
                f"{_fmt(f['asterisk_cpu_fixed'], 0)} / {_fmt(f['asterisk_cpu_max'], 0)}",
                pop,
            ]
        )
    return rows


def render_text(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(rows: list[list[str]]) -> str:
    def esc(cell: str) -> str:
        return cell.replace("|", "\\|")

    out = ["| " + " | ".join(esc(c) for c in rows[0]) + " |"]
    out.append("|" + "|".join("---" for _ in rows[0]) + "|")
    out += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows[1:]]
    return "\n".join(out)


def micro_lines(micro: Mapping[str, Any]) -> list[str]:
    lines = []
    for name, res in micro.items():
        if res.get("error"):
            lines.append(f"{name}: not measured ({res['error']})")
            continue
        figs = res.get("figures") or {}
        text = ", ".join(f"{k} {v}" for k, v in figs.items()) or "(see JSON for its output)"
        lines.append(f"{name} ({res.get('seconds', 0):.0f} s): {text}")
    return lines


def target_lines(t: Mapping[str, bool | None]) -> list[str]:
    names = {
        "c_rate_at_least_b": "(c) holds at least the call rate of (b)",
        "c_rate_at_least_half_a": "(c) holds at least half the call rate of (a)",
        "c_p99_below_b": "queue-entry-to-agent-INVITE p99 lower for (c) than (b)",
    }
    word = {True: "met", False: "NOT met", None: "not measured"}
    return [f"{names[k]}: {word[v]}" for k, v in t.items()]


def floor_lines(results: Mapping[str, Any]) -> list[str]:
    """What the floor (e) says about the latency target, from this run's own figures."""
    b, c, e = (figures(results.get(k)) for k in ("b", "c", "e"))
    fb, fc, fe = b.get("p99_ms"), c.get("p99_ms"), e.get("p99_ms")
    if not all(isinstance(x, int | float) for x in (fb, fe)):
        return []
    lines = [
        f"floor (e): a decision outside Asterisk that does no work at all costs p99 {fe:.2f} ms"
        f" from queue entry to INVITE; app_queue (b), deciding inside Asterisk, {fb:.2f} ms"
    ]
    if isinstance(fc, int | float):
        lines.append(
            f"madoguchi (c) p99 {fc:.2f} ms, {fc - fe:+.2f} ms against the floor: with ring"
            f" ahead the caller's own Dial() rings the agent chosen before it arrived"
        )
    return lines


def clean_version(text: str) -> str | None:
    match = re.search(r"Asterisk\s+(\S+)", text)
    return match.group(1) if match else None
