"""`python -m bench` (`make bench`): madoguchi against plain Dial() and app_queue, one run.

    .venv/bin/python -m bench [--quick] [--only a,b,c,d,e] [--rates 10,20] [--fixed-rate N]
                              [--json FILE] [--no-micro]
    .venv/bin/python -m bench --wait-accuracy [--hours H] [--seed S] [--scale K] [--docs F]

Starts a private stack (own config copy, var dir and ports), measures set-ups (a)-(d) on
the same Asterisk build and config, and the floor (e) of any decision made outside it
(Asterisk is restarted before (c) and (d): no fixed-rate run follows another set-up's
overload steps), stops everything,
runs the micro-benchmarks, prints the table, writes the JSON (default
bench/results/latest.json) and, after a full run, docs/benchmarks.md.
Method and reproduction: bench/README.md and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.call_run import CallBench, Setup

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "bench" / "results" / "latest.json"
DEFAULT_DOCS = ROOT / "docs" / "benchmarks.md"
DEFAULT_WORKDIR = ROOT / "bench" / "results" / "run"

FULL = {
    "rates": (10, 20, 30, 40, 60, 80, 100, 150, 200, 300),
    "step_s": 10.0,
    "fixed_rate": 20,
    "fixed_s": 30.0,
    "refine": True,
    "budget_s": 700.0,
    "agents": 24,
}
QUICK = {
    "rates": (4, 8),
    "step_s": 2.5,
    "fixed_rate": 4,
    "fixed_s": 2.5,
    "refine": False,
    "budget_s": 60.0,
    "agents": 2,
}
ALL_SETUPS = ("a", "b", "c", "d", "e")
SEARCHED = ("a", "b", "c", "d")  # (e) has no stepped search: it shares no budget
RING_MS = 20
TALK_MS = 100


def log(msg: str) -> None:
    # A closed stdout (`make bench | head`) must not stop the clean-up that logs as it goes.
    try:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)
    except (BrokenPipeError, OSError):
        pass


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny parameters (smoke test)")
    p.add_argument("--only", default="a,b,c,d,e", help="set-ups to run, e.g. a,b (default all)")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the results")
    p.add_argument("--no-micro", action="store_true", help="skip the micro-benchmarks")
    p.add_argument("--no-calls", action="store_true", help="only the micro-benchmarks")
    p.add_argument("--agents", type=int, help="number of SIPp agents (default 24, quick 2)")
    p.add_argument("--rates", help="calls/s of the stepped search, e.g. 10,20,40 (default full)")
    p.add_argument("--fixed-rate", type=int, help="calls/s of the latency run (default 20)")
    p.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="SIPp logs of this run")
    p.add_argument(
        "--render",
        type=Path,
        help="measure nothing: print the table of a saved JSON (and write --docs if given)",
    )
    p.add_argument(
        "--docs",
        type=Path,
        help="write the markdown report here (default docs/benchmarks.md after a full run)",
    )
    args = p.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in only if s not in ALL_SETUPS]
    if bad or not only:
        p.error(f"--only takes a comma list of a, b, c, d, e (got {args.only!r})")
    args.only = only
    if args.agents is not None and not 1 <= args.agents <= 200:
        p.error("--agents must be between 1 and 200")
    if args.rates is not None:
        try:
            args.rates = tuple(int(r) for r in args.rates.split(",") if r.strip())
        except ValueError:
            p.error(f"--rates takes a comma list of whole calls/s (got {args.rates!r})")
        if not args.rates or any(not 1 <= r <= 1000 for r in args.rates):
            p.error("--rates: each rate between 1 and 1000 calls/s")
    if args.fixed_rate is not None and not 1 <= args.fixed_rate <= 1000:
        p.error("--fixed-rate must be between 1 and 1000 calls/s")
    return args


async def search_all(
    runner: CallBench,
    all_setups: Mapping[str, Setup],
    keys: list[str],
    out: dict[str, Any],
    log: Callable[[str], None],
) -> None:
    """The stepped searches of ``keys`` whose fixed-rate run worked, in order."""
    for index, key in enumerate(keys):
        result = out["setups"].get(key)
        if result is None or "error" in result:
            continue
        try:
            await runner.search_rates(all_setups[key], result, len(keys) - index)
        except Exception as exc:
            log(f"({key}) search failed: {exc!r}")
            result["error"] = repr(exc)


async def run_calls(args: argparse.Namespace, conf: dict[str, Any]) -> dict[str, Any]:
    from bench.call_probes import Desktops
    from bench.call_report import clean_version
    from bench.call_run import CallBench, Params, setups
    from bench.call_stack import BenchStack

    if args.workdir.exists():
        shutil.rmtree(args.workdir)
    args.workdir.mkdir(parents=True)
    out: dict[str, Any] = {"setups": {}}
    bench = BenchStack(args.workdir, conf["agents"], RING_MS, TALK_MS)
    params = Params(
        conf["rates"],
        conf["step_s"],
        conf["fixed_rate"],
        conf["fixed_s"],
        conf["refine"],
        conf["budget_s"],
    )
    out["parameters"] = {
        "rates": list(params.rates),
        "step_s": params.step_s,
        "fixed_rate": params.fixed_rate,
        "fixed_s": params.fixed_s,
        "agents": conf["agents"],
        "agent_ring_ms": RING_MS,
        "agent_talk_ms": TALK_MS,
        "ports": dataclasses.asdict(bench.ports),
    }
    runner = CallBench(bench, params, args.workdir, log)
    all_setups = setups(bench.dial_agent.extension)
    try:
        await asyncio.to_thread(bench.start_asterisk, log)
        out["asterisk_version"] = clean_version(
            await asyncio.to_thread(bench.cli, "core show version")
        )
        await asyncio.to_thread(bench.start_agents, log)
        # Without the service: Asterisk alone (a, b), then the floor (e) on the FastAGI port.
        # Every fixed-rate run of a phase comes before its searches (overload steps).
        alone = [k for k in ("a", "b", "e") if k in args.only]
        if "b" in alone:
            await asyncio.to_thread(bench.add_baseline_members)
        for key in alone:
            try:
                if key == "e":
                    async with bench.agi_floor():
                        out["setups"][key] = await runner.measure(all_setups[key])
                else:
                    out["setups"][key] = await runner.measure(all_setups[key])
            except Exception as exc:
                log(f"({key}) failed: {exc!r}")
                out["setups"][key] = {"label": all_setups[key].label, "error": repr(exc)}
        await search_all(runner, all_setups, [k for k in alone if k in SEARCHED], out, log)
        if "b" in alone:
            await asyncio.to_thread(bench.remove_baseline_members)
        wanted = [k for k in ("c", "d") if k in args.only]
        if wanted:
            try:
                if alone:
                    # Every fixed-rate run on an Asterisk no overload step has touched.
                    await asyncio.to_thread(bench.restart_asterisk, log)
                await asyncio.to_thread(bench.start_service, log)
                await asyncio.to_thread(bench.reregister_agents, log)
                cti = bench.config.service.cti
                runner.desktops = Desktops(
                    f"http://{cti.host}:{bench.ports.cti}",
                    [(a.extension, a.password) for a in bench.pool],
                )
                await runner.desktops.open()
                stuck = await runner.desktops.make_ready(within_s=30)
                if stuck:
                    raise RuntimeError(f"agents never became ready in the ACD: {stuck}")
                log(f"{len(bench.pool)} agents logged in and ready on the CTI websocket")
            except Exception as exc:
                log(f"madoguchi service not usable: {exc!r}")
                for key in wanted:
                    out["setups"][key] = {"label": all_setups[key].label, "error": repr(exc)}
                wanted = []
            for key in wanted:
                try:
                    out["setups"][key] = await runner.measure(all_setups[key])
                except Exception as exc:
                    log(f"({key}) failed: {exc!r}")
                    out["setups"][key] = {"label": all_setups[key].label, "error": repr(exc)}
            await search_all(runner, all_setups, wanted, out, log)
    finally:
        if runner.desktops is not None:
            await runner.desktops.close()
        await asyncio.to_thread(bench.stop, log)
        logs = args.workdir / "stack-logs"
        for src in (bench.var / "log", bench.var / "asterisk" / "log"):
            if src.exists():
                shutil.copytree(src, logs / src.relative_to(bench.var), dirs_exist_ok=True)
        bench.cleanup()
    return out


def render_saved(args: argparse.Namespace) -> int:
    from bench import call_micro, call_report

    report = json.loads(args.render.read_text(encoding="utf-8"))
    call_micro.reparse(report.get("micro", {}))
    rows = call_report.table(report.get("setups", {}))
    print(call_report.render_text(rows))
    if args.docs is not None:
        from bench.call_docs import write_docs

        write_docs(args.docs, report, rows)
        log(f"report: {args.docs}")
    return 0


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--wait-accuracy" in argv:  # the estimated-wait benchmark: no stack, its own options
        sys.path.insert(0, str(ROOT))
        from bench import wait_accuracy

        return wait_accuracy.main([a for a in argv if a != "--wait-accuracy"])
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    # The bench's own PostgreSQL port, so it can run beside a demo or test stack; read by
    # madoguchi.stack.runner at import time.
    if "MADOGUCHI_PG_PORT" not in os.environ:
        from bench.call_stack import free_tcp_port

        os.environ["MADOGUCHI_PG_PORT"] = str(free_tcp_port())
    from bench import call_micro, call_report

    if args.render is not None:
        return render_saved(args)
    conf = dict(QUICK if args.quick else FULL)
    if args.agents:
        conf["agents"] = args.agents
    if args.rates:
        conf["rates"] = args.rates
    if args.fixed_rate:
        conf["fixed_rate"] = args.fixed_rate
    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C so every process gets stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "only": args.only,
    }
    exit_code = 0
    if not args.no_calls:
        try:
            report.update(asyncio.run(run_calls(args, conf)))
        except KeyboardInterrupt:
            log("interrupted: everything started by the bench was stopped")
            return 130
        except Exception as exc:
            log(f"call benchmarks failed: {exc!r}")
            report["calls_error"] = repr(exc)
            exit_code = 1
    if not args.no_micro:
        report["micro"] = call_micro.run_all(args.quick, log)
    report["machine"] = call_report.machine(report.get("asterisk_version"))
    setups = report.get("setups", {})
    report["ratios"] = call_report.ratios(setups)
    report["targets"] = call_report.targets(setups)
    report["duration_s"] = round(time.monotonic() - started, 1)
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")

    rows = call_report.table(setups)
    print()
    print(call_report.render_text(rows))
    print()
    for line in call_report.target_lines(report["targets"]):
        print(line)
    for line in call_report.floor_lines(setups):
        print(line)
    for line in call_report.micro_lines(report.get("micro", {})):
        print(line)
    print(f"\ntotal {report['duration_s']:.0f} s")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"results: {args.json}")
    full_run = (
        not args.quick
        and sorted(args.only) == sorted(ALL_SETUPS)
        and not args.no_calls
        and conf["rates"] == FULL["rates"]
        and conf["fixed_rate"] == FULL["fixed_rate"]
    )
    docs = args.docs or (DEFAULT_DOCS if full_run else None)
    if docs is not None:
        from bench.call_docs import write_docs

        write_docs(docs, report, rows)
        log(f"report: {docs}")
    if any((s or {}).get("error") for s in setups.values()):
        exit_code = exit_code or 2
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
