"""Benchmark of the pure ACD routing core (acd.core.Router), no I/O.

Scenario A ("loaded"): N agents with skills, all busy, W callers waiting across 20 queues
with skill requirements and relaxation. Each round: a call completes, its agent ends wrap-up
(a routing decision: the best waiting call across the agent's queues), the agent answers,
and a new caller arrives (a routing decision that finds no free agent and queues) - so the
waiting population stays at W. Due timers (relaxation, announcements) run in a separate
``Tick`` that is measured on its own.

Scenario B ("idle agents"): the same agents, nobody waiting, most agents ready; each arrival
is routed at once to a ready agent (the call->agent decision).

Run: .venv/bin/python bench/routing_core.py [--agents 2000] [--waiting 10000] [--rounds 20000]
     [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acd.core import (
    AgentAnswered,
    AgentLoggedIn,
    AgentSpec,
    CallArrived,
    CallCompleted,
    Command,
    Event,
    QueueSpec,
    RelaxStep,
    RingAgent,
    Router,
    Strategy,
    Tick,
    WrapUpDone,
)

QUEUE_COUNT = 20
SKILLS = ("lang_ja", "lang_en", "lang_zh", "billing", "tech", "sales")
REQUIREMENTS = (
    "",
    "lang_ja>=3",
    "lang_en>=2",
    "lang_ja>=2 and billing>=2",
    "tech>=3 or lang_en>=4",
    "lang_zh>=1",
    "(lang_ja>=4 or lang_en>=4) and sales>=1",
    "billing>=3",
)
STRATEGIES = (
    Strategy.LONGEST_IDLE,
    Strategy.LONGEST_IDLE,
    Strategy.FEWEST_CALLS,
    Strategy.ROUND_ROBIN,
    Strategy.LINEAR,
    Strategy.RANDOM,
)


def make_config(agent_count: int, rng: random.Random) -> tuple[list[QueueSpec], list[AgentSpec]]:
    queues = [
        QueueSpec(
            f"q{i:02d}",
            strategy=STRATEGIES[i % len(STRATEGIES)],
            ring_timeout=15,
            wrapup=10,
            max_wait=0,  # keep the waiting population stable for the measurement
            weight=1 + (i % 3),
            announce_interval=60,
            relax=(RelaxStep(30, "lang_ja>=1 or lang_en>=1"), RelaxStep(120, "")),
        )
        for i in range(QUEUE_COUNT)
    ]
    agents = []
    for i in range(agent_count):
        member_of = rng.sample(range(QUEUE_COUNT), rng.randint(1, 3))
        agents.append(
            AgentSpec(
                f"{1000 + i}",
                f"担当者 {i}",
                skills={skill: rng.randint(0, 5) for skill in SKILLS},
                queues={f"q{q:02d}": rng.randint(1, 2) for q in member_of},
            )
        )
    return queues, agents


class Driver:
    def __init__(self, agent_count: int, seed: int) -> None:
        self.rng = random.Random(seed)
        queues, agents = make_config(agent_count, self.rng)
        self.router = Router(queues, agents, rng=random.Random(seed))
        self.agent_ids = [a.id for a in agents]
        self.now = 0.0
        self.next_call = 0
        self.talking: dict[str, str] = {}  # agent -> call
        self.latencies: dict[str, list[float]] = {}  # wall clock (includes preemption)
        self.cpu_latencies: dict[str, list[float]] = {}  # this thread's CPU time only
        self.offers = 0

    def send(self, event: Event, label: str | None = None) -> list[Command]:
        started_cpu = time.thread_time()
        started = time.perf_counter()
        out = self.router.handle(event, self.now)
        elapsed = time.perf_counter() - started
        elapsed_cpu = time.thread_time() - started_cpu
        if label is not None:
            self.latencies.setdefault(label, []).append(elapsed)
            self.cpu_latencies.setdefault(label, []).append(elapsed_cpu)
        for command in out:
            if isinstance(command, RingAgent):
                self.offers += 1
        return out

    def answer_all(self, out: list[Command], label: str | None = None) -> None:
        for command in out:
            if isinstance(command, RingAgent):
                self.send(AgentAnswered(command.call_id, command.agent_id), label)
                self.talking[command.agent_id] = command.call_id

    def arrival(self) -> CallArrived:
        self.next_call += 1
        return CallArrived(
            f"call-{self.next_call}",
            f"q{self.rng.randrange(QUEUE_COUNT):02d}",
            priority=self.rng.choice((0, 0, 0, 1, 2)),
            requirements=self.rng.choice(REQUIREMENTS),
            caller_number=f"03{self.next_call:08d}",
            caller_name="山田 太郎",
        )

    def waiting(self) -> int:
        return self.router.waiting_count()

    def login_all(self) -> None:
        for agent_id in self.agent_ids:
            self.answer_all(self.send(AgentLoggedIn(agent_id)))

    def fill(self, waiting: int) -> None:
        """Log everyone in, then add callers until all agents talk and ``waiting`` wait."""
        self.login_all()
        while self.waiting() < waiting:
            self.now += 0.01  # spread arrivals so relaxation and announcement timers spread too
            self.answer_all(self.send(self.arrival()))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def scenario_loaded(agents: int, waiting: int, rounds: int, seed: int) -> Driver:
    driver = Driver(agents, seed)
    driver.fill(waiting)
    driver.latencies.clear()
    driver.cpu_latencies.clear()
    for _ in range(rounds):
        driver.now += 0.01
        driver.send(Tick(), "timers (tick)")
        agent_id = driver.rng.choice(list(driver.talking))
        call_id = driver.talking.pop(agent_id)
        driver.send(CallCompleted(call_id), "call completed")
        out = driver.send(WrapUpDone(agent_id), "decision: agent ready -> best call")
        driver.answer_all(out, "agent answered")
        out = driver.send(driver.arrival(), "decision: call arrives (all busy)")
        driver.answer_all(out, "agent answered")
    return driver


def scenario_idle(agents: int, rounds: int, seed: int) -> Driver:
    driver = Driver(agents, seed)
    driver.login_all()
    driver.latencies.clear()
    driver.cpu_latencies.clear()
    for _ in range(rounds):
        driver.now += 0.01
        out = driver.send(driver.arrival(), "decision: call arrives (agents free)")
        driver.answer_all(out)
        for agent_id, call_id in list(driver.talking.items()):
            driver.send(CallCompleted(call_id))
            driver.send(WrapUpDone(agent_id))
            del driver.talking[agent_id]
    return driver


def measure_memory(agents: int, waiting: int, seed: int) -> dict[str, float]:
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    driver = Driver(agents, seed)
    driver.fill(waiting)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "router_mib": (current - baseline) / 2**20,
        "peak_mib": (peak - baseline) / 2**20,
        "waiting": driver.waiting(),
    }


def summarize(driver: Driver) -> dict[str, dict[str, float]]:
    rows = {}
    for label, values in driver.latencies.items():
        total = sum(values)
        rows[label] = {
            "count": len(values),
            "per_second": len(values) / total if total else 0.0,
            "p50_us": percentile(values, 0.50) * 1e6,
            "p99_us": percentile(values, 0.99) * 1e6,
            "max_us": max(values) * 1e6,
            "mean_us": statistics.fmean(values) * 1e6,
            "cpu_p99_us": percentile(driver.cpu_latencies[label], 0.99) * 1e6,
        }
    return rows


def print_table(title: str, rows: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    header = (
        f"{'event':42} {'count':>7} {'per s':>9} {'p50 µs':>8} {'p99 µs':>8} {'max µs':>8}"
        f" {'cpu p99':>8}"
    )
    print(header)
    print("-" * len(header))
    for label, row in rows.items():
        print(
            f"{label:42} {row['count']:7.0f} {row['per_second']:9.0f} {row['p50_us']:8.1f}"
            f" {row['p99_us']:8.1f} {row['max_us']:8.1f} {row['cpu_p99_us']:8.1f}"
        )
    print("(µs of wall-clock time per handle(); cpu p99: this thread's CPU time only, which")
    print(" leaves out time the process was preempted by other load on the machine)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)

    timed: list[tuple[str, Callable[[], Driver]]] = [
        (
            f"A: {args.agents} agents busy, {args.waiting} callers waiting",
            lambda: scenario_loaded(args.agents, args.waiting, args.rounds, args.seed),
        ),
        (
            f"B: {args.agents} agents, callers routed on arrival",
            lambda: scenario_idle(args.agents, args.rounds, args.seed),
        ),
    ]
    results: dict[str, object] = {"agents": args.agents, "waiting": args.waiting}
    scenarios: dict[str, object] = {}
    for title, run in timed:
        started = time.perf_counter()
        driver = run()
        rows = summarize(driver)
        print_table(title, rows)
        if "waiting" in title:
            print(f"waiting callers at the end: {driver.waiting()}")
        print(f"(wall time {time.perf_counter() - started:.1f} s)")
        scenarios[title] = rows
    decisions = [
        value
        for rows in scenarios.values()
        for label, value in rows.items()  # type: ignore[attr-defined]
        if label.startswith("decision")
    ]
    memory = measure_memory(args.agents, args.waiting, args.seed)
    print(
        f"\nmemory (tracemalloc) with {memory['waiting']:.0f} waiting callers and "
        f"{args.agents} agents: {memory['router_mib']:.1f} MiB held, "
        f"{memory['peak_mib']:.1f} MiB peak"
    )
    worst_p99 = max(d["p99_us"] for d in decisions)
    worst_cpu_p99 = max(d["cpu_p99_us"] for d in decisions)
    print(
        f"worst decision p99: {worst_p99:.1f} µs wall, {worst_cpu_p99:.1f} µs CPU"
        " (target < 1000 µs)"
    )
    results["worst_decision_cpu_p99_us"] = worst_cpu_p99
    results["scenarios"] = scenarios
    results["memory"] = memory
    results["worst_decision_p99_us"] = worst_p99
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
