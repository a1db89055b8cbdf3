"""What the wait forecast learns from the router's own events and commands (pure, no clock).

``WaitStats.observe(event, commands, now)`` is fed every ``Router.handle`` result. It keeps
recent talk times per queue (so a call in progress is expected to run on as long calls
lately did), actual wrap-up durations, the ring-to-answer delay, arrival rates per caller
class (queue, priority, requested skills: future callers who will overtake or compete for
shared agents), callers' patience (who hung up after how long), how long pauses of each
reason last, and how often agents pause or log out after a call.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import deque
from collections.abc import Iterable, Sequence

from acd.core.agent_state import AgentState
from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import AgentStateChanged, CallEnded, CallStateChanged, Command
from acd.core.events import CallArrived, Event

RATE_TIME_CONSTANT = 600.0  # seconds: rates follow the last ~10 minutes
_SAMPLES = 200
_MIN_RESIDUAL_SAMPLES = 5

ArrivalClass = tuple[str, int, str]  # (queue, priority, requested skills text)
CALLBACK_SUFFIX = ":callback"  # the router's callback entries


class ResidualSamples:
    """Recent durations; the expected remaining time of one that has already lasted ``t``."""

    def __init__(self, default: float, size: int = _SAMPLES) -> None:
        self.default = default
        self._samples: deque[float] = deque(maxlen=size)
        self._sorted: list[float] | None = None
        self._suffix: list[float] = []

    def add(self, seconds: float) -> None:
        self._samples.append(max(0.0, seconds))
        self._sorted = None

    def __len__(self) -> int:
        return len(self._samples)

    def mean(self) -> float:
        return sum(self._samples) / len(self._samples) if self._samples else self.default

    def draw(self, rng: random.Random) -> float:
        """One duration as seen lately (the default until something was seen)."""
        return rng.choice(self._samples) if self._samples else self.default

    def draw_residual(self, rng: random.Random, elapsed: float) -> float:
        """What is left of one that has lasted ``elapsed``: a recent duration longer than
        that, minus ``elapsed`` (with few such, an exponential of the expected remainder)."""
        if len(self._samples) >= _MIN_RESIDUAL_SAMPLES:
            ordered = self._ordered()
            start = bisect.bisect_right(ordered, elapsed)
            if len(ordered) - start >= _MIN_RESIDUAL_SAMPLES:
                return ordered[rng.randrange(start, len(ordered))] - elapsed
        return rng.expovariate(1.0 / max(self.residual(elapsed), 1e-3))

    def residual(self, elapsed: float) -> float:
        """E[T - elapsed | T > elapsed] over the samples (a heavy tail makes it grow)."""
        if len(self._samples) < _MIN_RESIDUAL_SAMPLES:
            return max(self.default - elapsed, 0.5 * self.default)
        ordered = self._ordered()
        start = bisect.bisect_right(ordered, elapsed)
        longer = len(ordered) - start
        if longer < _MIN_RESIDUAL_SAMPLES:
            # Longer than nearly everything seen: the longest few say what is left.
            start = len(ordered) - _MIN_RESIDUAL_SAMPLES
            longer = _MIN_RESIDUAL_SAMPLES
            return max(self._suffix[start] / longer - elapsed, 0.25 * self.mean())
        return self._suffix[start] / longer - elapsed

    def _ordered(self) -> list[float]:
        if self._sorted is None:
            self._sorted = sorted(self._samples)
            suffix = [0.0] * (len(self._sorted) + 1)
            for i in range(len(self._sorted) - 1, -1, -1):
                suffix[i] = suffix[i + 1] + self._sorted[i]
            self._suffix = suffix
        return self._sorted


class DecayingRate:
    """Events per second over roughly the last ``RATE_TIME_CONSTANT`` seconds."""

    __slots__ = ("_count", "_last", "_start")

    def __init__(self, start: float) -> None:
        self._start = start
        self._last = start
        self._count = 0.0

    def add(self, now: float, amount: float = 1.0) -> None:
        self._count = self._decayed(now) + amount
        self._last = max(now, self._last)

    def rate(self, now: float) -> float:
        # A few events in the first seconds say little: judged over 5 minutes at least.
        span = max(now - self._start, RATE_TIME_CONSTANT / 2)
        exposure = RATE_TIME_CONSTANT * (1.0 - math.exp(-span / RATE_TIME_CONSTANT))
        return self._decayed(now) / exposure

    def _decayed(self, now: float) -> float:
        return self._count * math.exp(-max(0.0, now - self._last) / RATE_TIME_CONSTANT)


class Patience:
    """How long callers wait before hanging up, from recent calls (Kaplan-Meier: a caller
    who was answered or left otherwise only says its patience was longer)."""

    def __init__(self, size: int = 4 * _SAMPLES) -> None:
        self._seen: deque[tuple[float, bool]] = deque(maxlen=size)  # (waited, hung up)
        self._curve: tuple[list[float], list[float]] | None = None

    def add(self, waited: float, hung_up: bool) -> None:
        self._seen.append((max(0.0, waited), hung_up))
        self._curve = None

    def draw(self, rng: random.Random, waited: float) -> float:
        """Seconds more a caller who has waited ``waited`` stays (inf: stays to the end)."""
        times, survival = self._survival()
        if not times:
            return math.inf
        start = bisect.bisect_right(times, waited)
        base = survival[start - 1] if start > 0 else 1.0
        target = rng.random() * base  # leaves when survival falls below this
        for i in range(start, len(times)):
            if survival[i] <= target:
                return times[i] - waited
        return math.inf

    def _survival(self) -> tuple[list[float], list[float]]:
        if self._curve is None:
            ordered = sorted(self._seen)
            at_risk = len(ordered)
            level = 1.0
            times: list[float] = []
            survival: list[float] = []
            for waited, hung_up in ordered:
                if hung_up and at_risk > 0:
                    level *= 1.0 - 1.0 / at_risk
                    times.append(waited)
                    survival.append(level)
                at_risk -= 1
            self._curve = (times, survival)
        return self._curve


class WaitStats:
    """Everything the forecast learns, updated from the router's output."""

    def __init__(self, default_handle_time: float, now: float = 0.0) -> None:
        self._default_handle_time = default_handle_time
        self._start = now
        self.talk: dict[str, ResidualSamples] = {}
        self.wrap: dict[str, ResidualSamples] = {}
        self.pauses: dict[str, ResidualSamples] = {}  # not_ready reason -> until ready again
        self.ring = ResidualSamples(default=0.0)
        self.arrivals: dict[ArrivalClass, DecayingRate] = {}
        self.patience: dict[str, Patience] = {}
        self._offered_at: dict[str, float] = {}
        self._calls_done = DecayingRate(now)
        self._leaving: dict[str, DecayingRate] = {}  # pause reason ("" = log out) -> count
        self._wrap_started: dict[str, tuple[float, str]] = {}
        self._paused_at: dict[str, tuple[float, str]] = {}
        self._last_queue: dict[str, str] = {}  # agent -> queue of its last call
        self.version = 0

    # ---- learning -----------------------------------------------------------------------

    def observe(self, event: Event, commands: Sequence[Command], now: float) -> None:
        self.version += 1
        if isinstance(event, CallArrived):
            key = (event.queue, event.priority, event.requirements.strip())
            self.arrivals.setdefault(key, DecayingRate(self._start)).add(now)
        for command in commands:
            if isinstance(command, CallStateChanged):
                self._on_call_state(command)
            elif isinstance(command, CallEnded):
                self._on_call_ended(command)
            elif isinstance(command, AgentStateChanged):
                self._on_agent_state(command)

    def _on_call_state(self, change: CallStateChanged) -> None:
        if change.new is CallState.OFFERED:
            self._offered_at[change.call_id] = change.at
        elif change.new is CallState.CONNECTED:
            offered = self._offered_at.pop(change.call_id, None)
            if offered is not None:
                self.ring.add(change.at - offered)
        elif change.new is CallState.QUEUED:
            self._offered_at.pop(change.call_id, None)

    def _on_call_ended(self, ended: CallEnded) -> None:
        self._offered_at.pop(ended.call_id, None)
        queue = ended.queue
        if queue is None:
            return
        hung_up = ended.outcome in (CallOutcome.ABANDONED_QUEUE, CallOutcome.ABANDONED_RINGING)
        if not ended.call_id.endswith(CALLBACK_SUFFIX):  # nobody was on the line
            self.patience.setdefault(queue, Patience()).add(ended.wait_time, hung_up)
        if ended.agent_id is not None and ended.talk_time > 0:
            self.talk_samples(queue).add(ended.talk_time)
            self._calls_done.add(ended.ended_at)
            self._last_queue[ended.agent_id] = queue

    def _on_agent_state(self, change: AgentStateChanged) -> None:
        agent = change.agent_id
        if change.new is AgentState.WRAP_UP:
            self._wrap_started[agent] = (change.at, self._last_queue.get(agent, ""))
        elif change.old is AgentState.WRAP_UP:
            started = self._wrap_started.pop(agent, None)
            if started is not None and started[1]:
                self.wrap_samples(started[1], 0.0).add(change.at - started[0])
        working = change.old in (AgentState.READY, AgentState.ON_CALL, AgentState.WRAP_UP)
        if working and change.new in (AgentState.NOT_READY, AgentState.LOGGED_OUT):
            reason = change.reason or "" if change.new is AgentState.NOT_READY else ""
            if reason != "no_answer":
                self._leaving.setdefault(reason, DecayingRate(self._start)).add(change.at)
        if change.new is AgentState.NOT_READY:
            self._paused_at.setdefault(agent, (change.at, change.reason or ""))
        elif change.old is AgentState.NOT_READY:
            paused = self._paused_at.pop(agent, None)
            if paused is not None and change.new is AgentState.READY:
                self.pause_samples(paused[1]).add(change.at - paused[0])

    # ---- reading ------------------------------------------------------------------------

    def talk_samples(self, queue: str) -> ResidualSamples:
        samples = self.talk.get(queue)
        if samples is None:
            samples = self.talk[queue] = ResidualSamples(self._default_handle_time)
        return samples

    def wrap_samples(self, queue: str, configured: float) -> ResidualSamples:
        samples = self.wrap.get(queue)
        if samples is None:
            samples = self.wrap[queue] = ResidualSamples(configured)
        return samples

    def last_queue(self, agent_id: str) -> str:
        """The queue of the agent's last answered call ("" if none seen)."""
        return self._last_queue.get(agent_id, "")

    def pause_samples(self, reason: str) -> ResidualSamples:
        samples = self.pauses.get(reason)
        if samples is None:
            samples = self.pauses[reason] = ResidualSamples(default=0.0)
        return samples

    def returns_from(self, reason: str | None) -> ResidualSamples | None:
        """How long pauses for ``reason`` last, once enough were seen to end (else None:
        an agent paused for it is not expected back)."""
        samples = self.pauses.get(reason or "")
        return samples if samples is not None and len(samples) >= _MIN_RESIDUAL_SAMPLES else None

    def leaving(self, now: float) -> tuple[float, list[tuple[str, float]]]:
        """How often an agent stops taking calls after a call (pauses and log-outs per
        call answered lately), and the reasons with their weights ("" = logged out)."""
        calls = self._calls_done.rate(now)
        if calls <= 0:
            return 0.0, []
        reasons = [(reason, rate.rate(now)) for reason, rate in self._leaving.items()]
        total = sum(weight for _, weight in reasons)
        return min(1.0, total / calls), reasons

    def arrival_rates(self, now: float) -> Iterable[tuple[ArrivalClass, float]]:
        for key, rate in self.arrivals.items():
            yield key, rate.rate(now)
