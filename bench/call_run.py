"""The call benchmarks proper: per set-up, a stepped rate search and a fixed-rate run.

Set-ups, all on the same Asterisk, callers from 127.0.0.2 (the `bench` endpoint):
  a  plain Dial() to one agent (8<ext>)               Asterisk alone, the ceiling
  b  Asterisk Queue() `baseline`, strategy leastrecent Asterisk alone, the incumbent
  c  madoguchi ACD through number 200 (no IVR)
  d  madoguchi IVR (number 100: menu 2 = support, # skips the account) then the ACD

Stepped search: callers at each rate for `step_s` seconds; a step holds when every call
completed as scripted (answered, reached an agent, agent hung up) within the caller's
bound. The search stops at the first step with a failed call, then tries one rate half
way between the last good and the failed rate.

Fixed-rate run: queue entry -> agent INVITE per call. Queue entry is stamped by the
caller's own channel, in microseconds, in the dialplan line that hands it to the queue:
(c)/(d) the first line of madoguchi-wait (ACD_ENTERED, reported in AcdEnqueue), (b) the
line before Queue(), (a) the line before Dial() (no queue: what a Dial() from the
dialplan costs), (e) the AGI session's first command (BENCH_ENTERED reported by a
UserEvent when the call is over). The agent side is the SIPp UAS's gettimeofday on INVITE
receipt, same clock. For comparison the run also times from the AMI `Timestamp` of an
event ((b) MusicOnHoldStart, (c)/(d)/(e) AcdEnqueue), the method of the runs before
2026-11-23: the manager stamps an event when it writes it, after the stasis hop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.call_probes import AmiRecorder, Desktops, Sampler
from bench.call_sipp import Digits, caller_scenario, start_callers
from bench.call_stack import BenchStack

SETTLE_LIMIT_S = 90.0  # after a step, for Asterisk to drop its last channels

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Setup:
    key: str
    label: str
    number: str
    madoguchi: bool
    entry_event: str | None  # AMI event (by its Timestamp) near queue entry: comparison only
    bye_timeout_ms: int  # from answer to the far end's BYE: longer = a failed call
    dtmf: tuple[Digits, ...] = ()
    search: bool = True  # False: the fixed-rate latency run only


WARMUP_S = 2.0  # seconds of unmeasured calls before each fixed-rate run


def setups(first_agent: str) -> dict[str, Setup]:
    return {
        "a": Setup("a", "plain Dial() to one agent", f"8{first_agent}", False, None, 5000),
        "b": Setup("b", "Asterisk Queue() leastrecent", "7000", False, "MusicOnHoldStart", 5000),
        "e": Setup(
            "e",
            "floor: outside decision doing nothing (FastAGI)",
            "7001",
            False,
            "AcdEnqueue",
            5000,
            search=False,
        ),
        "c": Setup("c", "madoguchi ACD (number 200)", "200", True, "AcdEnqueue", 5000),
        "d": Setup(
            "d",
            "madoguchi IVR+DTMF+ACD (number 100)",
            "100",
            True,
            "AcdEnqueue",
            30000,
            (Digits(1500, "2"), Digits(800, "#")),
        ),
    }


@dataclass(frozen=True, slots=True)
class Params:
    rates: tuple[int, ...]
    step_s: float
    fixed_rate: int
    fixed_s: float
    refine: bool
    budget_s: float  # for all set-ups' calls together; a search stops when it runs out


@dataclass
class StepResult:
    rate: float
    calls: int
    completed: int
    failed: int
    exit_code: int | None
    offered_rate: float | None
    seconds: float
    channels_left: list[str]
    surrogates_added: int
    procs: dict[str, dict[str, float]] = field(default_factory=dict)
    error_tail: str = ""

    @property
    def held(self) -> bool:
        return self.failed == 0 and self.exit_code == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "calls": self.calls,
            "completed": self.completed,
            "failed": self.failed,
            "held": self.held,
            "sipp_exit": self.exit_code,
            "offered_rate": self.offered_rate,
            "seconds": round(self.seconds, 1),
            **({"channels_left": self.channels_left} if self.channels_left else {}),
            "surrogate_channels_left": self.surrogates_added,
            "procs": self.procs,
            **({"errors": self.error_tail} if not self.held and self.error_tail else {}),
        }


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values: Sequence[float]) -> dict[str, float | int] | None:
    if not values:
        return None
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(pct(ms, 99), 2),
        "max_ms": round(max(ms), 2),
        "min_ms": round(min(ms), 2),
    }


class CallBench:
    def __init__(
        self, bench: BenchStack, params: Params, workdir: Path, progress: Progress
    ) -> None:
        self.bench = bench
        self.params = params
        self.workdir = workdir
        self.progress = progress
        self.desktops: Desktops | None = None
        self._prefixes = itertools.count(1)
        self.surrogates = 0  # Surrogate/ channels left in Asterisk (see BenchStack.channels)
        self.deadline = time.monotonic() + params.budget_s

    def _pids(self, with_service: bool) -> dict[str, int | None]:
        pids: dict[str, int | None] = {"asterisk": self.bench.asterisk_pid()}
        if with_service:
            pids["service"] = self.bench.stack.service_pid()
        return pids

    async def _settle(self, setup: Setup) -> list[str]:
        """Waits until Asterisk has no channel left (and agents are ready again).

        Returns a sample of the channels still up after 20 s (then hung up), else [].
        """
        started = time.monotonic()
        deadline = started + 20
        left: list[str] = []
        hung_up = False
        while True:
            try:
                real, surrogates = await asyncio.to_thread(self.bench.channels)
            except subprocess.TimeoutExpired:
                # An overloaded Asterisk can take longer than the CLI's timeout to list
                # (or hang up) a thousand channels: keep asking, within a bound.
                real, surrogates = ["(Asterisk CLI did not answer in time)"], []
            if not real:
                self.surrogates = len(surrogates)
                break
            now = time.monotonic()
            if now > started + SETTLE_LIMIT_S:
                self.progress(f"  {len(real)} channels still up {SETTLE_LIMIT_S:.0f} s after it")
                left = left or [f"{len(real)} channels", *real[:8]]
                break
            if now > deadline and not hung_up:
                left = [f"{len(real)} channels", *real[:8]]
                self.progress(f"  {len(real)} channels still up 20 s after the step: hangup")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    await asyncio.to_thread(self.bench.cli, "channel request hangup all")
                hung_up = True
            await asyncio.sleep(0.5)
        if setup.madoguchi and self.desktops is not None:
            stuck = await self.desktops.make_ready(within_s=20)
            if stuck:
                self.progress(f"  agents not ready after the step: {stuck}")
        await asyncio.sleep(1.0)
        return left

    async def run_calls(
        self, setup: Setup, rate: float, seconds: float, tag: str
    ) -> tuple[StepResult, str]:
        """Places rate*seconds callers; returns the result and the caller-number prefix."""
        prefix = f"9{next(self._prefixes):03d}"  # fixed length: numbers are unambiguous
        count = max(1, round(rate * seconds))
        scenario = caller_scenario(setup.number, prefix, setup.bye_timeout_ms, setup.dtmf)
        bound = seconds + setup.bye_timeout_ms / 1000 + 30
        started = time.monotonic()
        run = start_callers(
            self.workdir / "callers" / f"{setup.key}-{tag}-{prefix}",
            scenario,
            count,
            rate,
            self.bench.server,
            timeout_s=bound,
            media_port=36000,
        )
        async with Sampler(self._pids(setup.madoguchi)) as sampler:
            try:
                await asyncio.to_thread(run.proc.wait, bound + 10)
            except subprocess.TimeoutExpired:
                self.progress(f"  callers still running after {bound + 10:.0f} s: stopped")
            finally:
                run.stop()
        elapsed = time.monotonic() - started
        sent = sorted(run.stamps("SENT").values())
        done = run.stamps("DONE")
        offered = (
            (len(sent) - 1) / (sent[-1] - sent[0]) if len(sent) > 1 and sent[-1] > sent[0] else None
        )
        before = self.surrogates
        left = await self._settle(setup)
        result = StepResult(
            rate=rate,
            calls=count,
            completed=len(done),
            failed=count - len(done),
            exit_code=run.proc.returncode,
            offered_rate=round(offered, 1) if offered else None,
            seconds=elapsed,
            channels_left=left,
            surrogates_added=self.surrogates - before,
            procs=sampler.figures(),
            error_tail=run.errors(600),
        )
        return result, prefix

    async def search(self, setup: Setup, deadline: float) -> dict[str, Any]:
        steps: list[StepResult] = []
        best = 0.0
        failed_at: float | None = None
        cut = False
        for rate in self.params.rates:
            if time.monotonic() > deadline:
                cut = True
                break
            step, _ = await self.run_calls(setup, rate, self.params.step_s, f"step{rate}")
            steps.append(step)
            self._report_step(setup, step)
            if not step.held:
                failed_at = rate
                break
            best = rate
        if (
            self.params.refine
            and failed_at is not None
            and best > 0
            and failed_at / best > 1.3
            and time.monotonic() < deadline
        ):
            mid = round((best + failed_at) / 2 / 5) * 5 or round((best + failed_at) / 2)
            if best < mid < failed_at:
                step, _ = await self.run_calls(setup, mid, self.params.step_s, f"step{mid}")
                steps.append(step)
                self._report_step(setup, step)
                if step.held:
                    best = mid
        return {
            "max_rate": best,
            "first_failed_rate": failed_at,
            "search_cut_by_budget": cut,
            "steps": [s.as_dict() for s in steps],
        }

    def _report_step(self, setup: Setup, step: StepResult) -> None:
        procs = " ".join(f"{k} {v['cpu_pct']:.0f}%" for k, v in step.procs.items())
        self.progress(
            f"  ({setup.key}) {step.rate:g} calls/s: {step.completed}/{step.calls} completed, "
            f"{'held' if step.held else 'FAILED'} (offered {step.offered_rate} calls/s; "
            f"cpu {procs}; {step.seconds:.0f} s)"
            + (
                f"; {step.surrogates_added} Surrogate channels left in Asterisk"
                if step.surrogates_added
                else ""
            )
        )

    async def latency(self, setup: Setup, rate: float) -> dict[str, Any]:
        ami = self.bench.config.service.ami
        recorder = AmiRecorder()
        await recorder.connect(ami.host, self.bench.ports.ami, ami.user, ami.secret)
        if self.desktops is not None:
            self.desktops.offered.clear()
        try:
            step, prefix = await self.run_calls(setup, rate, self.params.fixed_s, "latency")
        finally:
            await recorder.close()
        invites: dict[str, float] = {}
        for agent in self.bench.agents:
            for number, at in (await asyncio.to_thread(agent.invites)).items():
                if number.startswith(prefix):
                    invites.setdefault(number, at)

        def waits(entries: dict[str, float]) -> list[float]:
            return [
                invites[n] - t for n, t in entries.items() if n.startswith(prefix) and n in invites
            ]

        entered = waits(recorder.entered)
        out: dict[str, Any] = {
            "rate": rate,
            "step": step.as_dict(),
            "queue_to_invite": summary_ms(entered),
            "unmatched": step.calls - len(entered),
        }
        if setup.entry_event is not None:
            out["entry_event"] = setup.entry_event
            out["event_to_invite"] = summary_ms(waits(recorder.times.get(setup.entry_event, {})))
        if setup.madoguchi and self.desktops is not None:
            pops = {n: t for n, t in self.desktops.offered.items() if n.startswith(prefix)}
            # Signed: negative when the pop arrived before the phone rang (as designed).
            diffs = [pops[n] - invites[n] for n in pops if n in invites]
            out["ring_to_pop"] = summary_ms(diffs)
            out["pop_before_ring_pct"] = (
                round(100 * sum(d < 0 for d in diffs) / len(diffs), 1) if diffs else None
            )
        return out

    async def measure(self, setup: Setup) -> dict[str, Any]:
        """The fixed-rate run of one set-up. ``python -m bench`` runs every fixed-rate run of
        a phase before its searches: no latency is timed on an Asterisk still busy with the
        remains of an overload step."""
        result: dict[str, Any] = {"label": setup.label, "number": setup.number}
        rate = float(self.params.fixed_rate)
        self.progress(f"({setup.key}) {setup.label}: fixed rate {rate:g} calls/s")
        # Unmeasured calls first, the same for every set-up: app_queue's fresh members
        # otherwise make a caller or two wait a whole retry (1 s) for a device state.
        warmup, _ = await self.run_calls(setup, rate, min(WARMUP_S, self.params.fixed_s), "warmup")
        result["warmup"] = warmup.as_dict()
        result["latency"] = await self.latency(setup, rate)
        self.progress(
            f"  ({setup.key}) queue entry -> INVITE: {result['latency']['queue_to_invite']}"
        )
        if "event_to_invite" in result["latency"]:
            self.progress(
                f"  ({setup.key}) AMI {setup.entry_event} Timestamp -> INVITE: "
                f"{result['latency']['event_to_invite']}"
            )
        if "ring_to_pop" in result["latency"]:
            self.progress(f"  ({setup.key}) ring -> screen pop: {result['latency']['ring_to_pop']}")
        if not setup.search:
            result["max_rate"] = None
        return result

    async def search_rates(
        self, setup: Setup, result: dict[str, Any], still_to_run: int = 1
    ) -> None:
        """The stepped search into ``result``; the set-ups left share what is left of the
        budget."""
        now = time.monotonic()
        deadline = now + max(0.0, self.deadline - now) / max(1, still_to_run)
        self.progress(f"({setup.key}) {setup.label}: stepped search")
        result.update(await self.search(setup, deadline))
