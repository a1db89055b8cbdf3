"""Soak test of the ACD on the real stack: many concurrent callers, many SIPp agents, minutes.

    .venv/bin/python bench/load_acd.py [--agents 50] [--concurrent 200] [--calls 1000]
                                       [--talk-ms 8000] [--json FILE]

Callers dial 200 (queue `support`, no IVR) and wait in queue until an agent answers; SIPp
keeps `--concurrent` callers in the system at all times (new ones start as others end).
Each agent's SIPp phone answers after 200 ms and hangs up after `--talk-ms`. Agents are
made ready over the CTI websockets, as a desktop would.

Passes when every call was answered and completed (SIPp: no failed call), PostgreSQL
holds exactly one record per call with outcome `answered`, and the agents' phones saw
exactly one INVITE per call (no duplicate Originate). Prints calls/s, the service's CPU
and memory, and the answer-wait distribution from the records.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.call_probes import Desktops, Sampler
from bench.call_stack import BenchStack, free_tcp_port
from bench.harness.caller import CallerScript, place_calls
from madoguchi.service_config import database_dsn

ROOT = Path(__file__).resolve().parents[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir)
    shutil.rmtree(workdir, ignore_errors=True)  # the previous run's logs and config copy
    bench = BenchStack(workdir, args.agents, ring_ms=200, talk_ms=args.talk_ms)
    desktops: Desktops | None = None
    caller = None
    try:
        bench.start_asterisk(print)
        bench.start_agents(print)
        bench.start_service(print)
        bench.reregister_agents(print)
        cti = bench.config.service.cti
        desktops = Desktops(
            f"http://{cti.host}:{cti.port}", [(a.extension, a.password) for a in bench.agents]
        )
        await desktops.open()
        stuck = await desktops.make_ready(within_s=30)
        if stuck:
            raise RuntimeError(f"agents not ready: {stuck}")
        print(f"{len(bench.agents)} agents ready; {args.calls} calls, {args.concurrent} at once")

        service_pid = bench.stack.service_pid()
        started = time.monotonic()
        async with Sampler({"service": service_pid}) as sampler:
            caller = place_calls(
                CallerScript(
                    "200", caller_num="0399990000", caller_name="Soak", max_wait_ms=300_000
                ),
                workdir / "callers",
                count=args.calls,
                rate=50,
                concurrent=args.concurrent,
                server=bench.server,
                timeout_s=args.calls * 2 + 600,
            )
            code = await asyncio.to_thread(caller.wait, args.calls * 2 + 660)
        elapsed = time.monotonic() - started
        await asyncio.sleep(0)  # let the last records leave the service's writer
        dsn = database_dsn(bench.paths, bench.config)
        rows = await _records(dsn, args.calls)
        invites = sum(agent.invite_count() for agent in bench.agents)
        answered = [r for r in rows if r["outcome"] == "answered"]
        waits = [float(r["wait"]) for r in answered if r["wait"] is not None]
        result = {
            "agents": len(bench.agents),
            "concurrent_callers": args.concurrent,
            "calls": args.calls,
            "sipp_exit_code": code,
            "sipp_errors": caller.errors()[-2000:] if code else "",
            "records": len(rows),
            "answered": len(answered),
            "other_outcomes": sorted({str(r["outcome"]) for r in rows} - {"answered"}),
            "agent_invites": invites,
            "elapsed_s": round(elapsed, 1),
            "calls_per_s": round(args.calls / elapsed, 2),
            "answer_wait_p50_s": round(_pct(waits, 0.5), 2),
            "answer_wait_p99_s": round(_pct(waits, 0.99), 2),
            "service": sampler.figures().get("service"),
        }
        result["passed"] = (
            code == 0
            and len(rows) == args.calls
            and len(answered) == args.calls
            and invites == args.calls
        )
        return result
    finally:
        if caller is not None:
            caller.stop()
        if desktops is not None:
            await desktops.close()
        bench.stop(print)
        # Keep the stack's logs with the run (a lost call is diagnosed from them).
        for sub in ("log", "asterisk/log"):
            src = bench.paths.var / sub
            if src.exists():
                shutil.copytree(src, workdir / "stack-logs" / sub, dirs_exist_ok=True)
        bench.cleanup()


async def _records(dsn: str, expected: int) -> list[asyncpg.Record]:
    """The soak's call records, once the writer has flushed them (bounded wait)."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + 60
        while True:
            rows = await conn.fetch(
                "SELECT call_id, outcome, EXTRACT(EPOCH FROM answered_at - entered_queue_at)"
                " AS wait FROM calls WHERE caller_number = '0399990000' AND ended_at IS NOT NULL"
            )
            if len(rows) >= expected or time.monotonic() > deadline:
                return list(rows)
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--talk-ms", type=int, default=8000)
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "results" / "soak"))
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "soak.json"))
    args = parser.parse_args()
    os.environ.setdefault("MADOGUCHI_PG_PORT", str(free_tcp_port()))
    result = asyncio.run(soak(args))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
