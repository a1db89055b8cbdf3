"""The other helpers' micro-benchmarks, run as subprocesses and folded into the report.

Each runs with its own command line (smaller parameters with --quick), bounded in time;
its stdout is kept in the JSON and its headline figures are picked out of it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from madoguchi.paths import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "bench"


def _generic(out: str) -> dict[str, Any]:
    """`name: 123.4 unit` lines and JSON-object lines."""
    figs: dict[str, Any] = {}
    for line in out.splitlines():
        text = line.strip()
        if text.startswith("{"):
            try:
                obj = json.loads(text)
            except ValueError:
                continue
            if isinstance(obj, dict):
                label = " ".join(
                    f"{k}={obj[k]}" for k in ("name", "scenario", "concurrency") if k in obj
                )
                figs[label or f"row{len(figs) + 1}"] = obj
            continue
        match = re.match(r"([A-Za-z(][^:]{1,70}):\s+([-\d.]+.{0,70})", text)
        if match:
            figs[match.group(1).strip()] = match.group(2).strip()
    return figs


def _ivr(out: str) -> dict[str, Any]:
    figs: dict[str, Any] = {}
    for line in out.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and "concurrency" in row:
            c = row["concurrency"]
            figs[f"calls/s (concurrency {c})"] = row.get("calls_per_second")
            figs[f"AGI turn p99 ms (concurrency {c})"] = row.get("turn_ms_p99")
    return figs or _generic(out)


def _cti(out: str) -> dict[str, Any]:
    figs: dict[str, Any] = {}
    for line in out.splitlines():
        match = re.match(r"(single|burst)\s.*?\s(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", line)
        if match:
            figs[f"{match.group(1)} pop p50 ms"] = float(match.group(3))
            figs[f"{match.group(1)} pop p99 ms"] = float(match.group(4))
    return figs or _generic(out)


@dataclass(frozen=True, slots=True)
class Micro:
    name: str
    script: str
    full_args: tuple[str, ...]
    quick_args: tuple[str, ...]
    parse: Callable[[str], dict[str, Any]] = _generic
    timeout_s: float = 240


MICROS = (
    Micro(
        "routing_core",
        "routing_core.py",
        (),
        ("--agents", "200", "--waiting", "1000", "--rounds", "2000"),
    ),
    Micro("ivr_fastagi", "ivr_fastagi.py", (), ("--calls", "200"), _ivr),
    Micro(
        "cti_fanout",
        "cti_fanout.py",
        (),
        ("--desktops", "50", "--singles", "30", "--bursts", "2"),
        _cti,
    ),
    Micro("db_writer", "db_writer.py", (), ("--calls", "500")),
)


def run_micro(micro: Micro, quick: bool, progress: Callable[[str], None]) -> dict[str, Any]:
    script = BENCH_DIR / micro.script
    if not script.exists():
        return {"error": f"bench/{micro.script} does not exist yet"}
    args = micro.quick_args if quick and _accepts(script, micro.quick_args) else micro.full_args
    progress(f"micro-benchmark {micro.name}: {script.name} {' '.join(args)}")
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(script), *args],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=micro.timeout_s,
            check=False,
            env=_env(),
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {micro.timeout_s:.0f} s"}
    seconds = time.monotonic() - started
    result: dict[str, Any] = {
        "command": f"python bench/{micro.script} {' '.join(args)}".strip(),
        "seconds": round(seconds, 1),
        "exit": done.returncode,
        "stdout": done.stdout[-4000:],
    }
    if done.returncode != 0:
        result["error"] = f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
        return result
    result["figures"] = micro.parse(done.stdout)
    return result


def _accepts(script: Path, args: tuple[str, ...]) -> bool:
    """Whether the script's --help names every option in `args` (it may not have --quick)."""
    try:
        helptext = subprocess.run(
            [sys.executable, str(script), "--help"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=_env(),
        ).stdout
    except subprocess.TimeoutExpired:
        return False
    return all(a in helptext for a in args if a.startswith("--"))


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(PROJECT_ROOT) + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    return env


def run_all(quick: bool, progress: Callable[[str], None]) -> dict[str, Any]:
    return {m.name: run_micro(m, quick, progress) for m in MICROS}


def reparse(results: dict[str, Any]) -> dict[str, Any]:
    """Picks the figures out of saved outputs again (after a parser got better)."""
    for micro in MICROS:
        res = results.get(micro.name)
        if isinstance(res, dict) and res.get("stdout") and not res.get("error"):
            res["figures"] = micro.parse(res["stdout"])
    return results
