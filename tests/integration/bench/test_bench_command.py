"""`python -m bench` works end to end with tiny parameters (speed itself is bench/'s job).

Runs the real command: its own stack (Asterisk, PostgreSQL, the service, SIPp callers and
agents) on its own ports, set-ups (a), (b), (c) and the floor (e), the micro-benchmarks,
the JSON report.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from madoguchi.paths import PROJECT_ROOT

SETUPS = ("a", "b", "e", "c")
SEARCHED = ("a", "b", "c")  # (e), the floor of an outside decision, has a latency run only


def _run_bench(args: list[str], deadline_s: float) -> tuple[int, str]:
    # The suite's own stack may be up and holds MADOGUCHI_PG_PORT: the bench picks its own.
    env = {k: v for k, v in os.environ.items() if k != "MADOGUCHI_PG_PORT"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = proc.communicate(timeout=deadline_s)
    except subprocess.TimeoutExpired:
        # SIGTERM lets the bench stop every process it started before it exits.
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        raise AssertionError(f"python -m bench --quick did not finish:\n{out[-4000:]}") from None
    return proc.returncode, out


def test_quick_bench_measures_each_setup_and_writes_the_report(tmp_path: Path) -> None:
    report_file = tmp_path / "bench.json"
    code, out = _run_bench(
        [
            "--quick",
            "--only",
            ",".join(SETUPS),
            "--json",
            str(report_file),
            "--workdir",
            str(tmp_path / "run"),
        ],
        deadline_s=150,
    )
    assert code == 0, out[-4000:]
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["mode"] == "quick"
    for key in SETUPS:
        setup = report["setups"][key]
        assert "error" not in setup, setup
        if key in SEARCHED:
            assert setup["max_rate"] > 0, setup["steps"]
            assert all(s["calls"] == s["completed"] for s in setup["steps"] if s["held"])
        else:
            assert setup["max_rate"] is None and "steps" not in setup, setup
            assert setup["latency"]["step"]["held"], setup["latency"]["step"]
        latency = setup["latency"]["queue_to_invite"]
        assert latency is not None and latency["n"] > 0, setup["latency"]
        # Every call stamped by its own channel, and always before its agent's INVITE.
        assert setup["latency"]["unmatched"] == 0, setup["latency"]
        assert latency["min_ms"] > 0, setup["latency"]
        assert f"({key}) " in out
    service = report["setups"]["c"]["latency"]["step"]["procs"]["service"]
    assert service["rss_mb_max"] > 0
    assert report["setups"]["c"]["latency"]["ring_to_pop"]["n"] > 0
    assert set(report["ratios"]) == set(SETUPS)
    assert report["ratios"]["a"]["rate_vs_a"] == 1.0
    assert report["ratios"]["e"]["p99_vs_b"] is not None
    assert "floor (e): a decision outside Asterisk" in out
    for name in ("ivr_fastagi", "cti_fanout", "db_writer"):
        assert "error" not in report["micro"][name], report["micro"][name]
    # A quick run never rewrites the published report.
    assert "report:" not in out
