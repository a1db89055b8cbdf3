"""Seeded simulation that drives the real routing core (``acd.core.Router``) as acd/ami does.

Callers arrive (``CallArrived``), phones ring and are answered (``AgentAnswered``), calls end
(``CallCompleted``), callers hang up (``CallerHungUp``), agents take breaks (``AgentPaused``,
``AgentReady``), end wrap-up early (``WrapUpDone``) and log in and out; the router gets a
``Tick`` at ``next_deadline()``. For every caller the simulation keeps the estimate at entry
and at each ``Announce`` from three methods (the router's forecast, the old formula, an
app_queue-style average hold time) and the wait that followed.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from acd.core import (
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    AgentState,
    Announce,
    CallArrived,
    CallbackRequested,
    CallCompleted,
    CallEnded,
    CallerHungUp,
    CallState,
    CallStateChanged,
    CancelRing,
    Command,
    Event,
    IllegalTransition,
    RingAgent,
    Router,
    Tick,
    WrapUpDone,
    WrapUpScheduled,
)
from acd.core.estimator import estimated_wait
from acd.core.wait_estimates import spoken_wait
from bench.wait_scenarios import Scenario

TALK_MEDIAN, TALK_SIGMA = 180.0, 0.6
PATIENCE_MEDIAN, PATIENCE_SIGMA = 360.0, 1.0
RING_DELAY = (2.0, 8.0)
EARLY_WRAP_SHARE = 0.25
BREAK_EVERY, BREAK_LENGTH = 90 * 60.0, (5 * 60.0, 15 * 60.0)
CALLBACK_SHARE, CALLBACK_ABOVE = 0.2, 180.0
METHODS = ("forecast", "formula", "app_queue")


@dataclass(slots=True)
class Estimate:
    at: float
    seconds: dict[str, float | None]  # method -> estimate
    spoken: tuple[int, int, bool] | None = None  # (low, high minutes, less than a minute)


@dataclass(slots=True)
class Caller:
    call_id: str
    queue: str
    arrived: float
    priority: int
    entry: Estimate | None = None  # None: an agent took it at once, nothing was announced
    announcements: list[Estimate] = field(default_factory=list)
    answered: float | None = None
    outcome: str = ""
    callback_quoted: float | None = None  # seconds quoted when the caller asked
    callback_answered: float | None = None
    callback_asked: float | None = None


class Simulation:
    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.rng = random.Random(seed)
        self.router = Router(scenario.queues, scenario.agents, rng=random.Random(seed + 1))
        self.now = 0.0
        self.events: list[tuple[float, int, Callable[[], None]]] = []
        self.order = itertools.count()
        self.callers: dict[str, Caller] = {}
        self.rings: dict[tuple[str, str], int] = {}  # (call, agent) -> ring token
        self.holdtime = {q.name: 0 for q in scenario.queues}  # app_queue's average, whole s
        self.end = scenario.hours * 3600.0
        self.errors = 0

    # ---- the world ----------------------------------------------------------------------

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.events, (when, next(self.order), action))

    def run(self) -> dict[str, Caller]:
        for stream_index, _stream in enumerate(self.scenario.streams):
            self._next_arrival(stream_index, 0.0)
        for spec in self.scenario.agents:
            shifts = self.scenario.shifts.get(spec.id, ((0.0, math.inf),))
            for start, stop in shifts:
                if start < self.end:
                    self.at(start, lambda a=spec.id: self._login(a))
                    if stop < self.end:
                        self.at(stop, lambda a=spec.id: self._shift_end(a))
        while self.events:
            when, _order, action = heapq.heappop(self.events)
            if when > self.end + 3 * 3600:
                break
            self._ticks_until(when)
            self.now = max(self.now, when)
            action()
        return self.callers

    def _ticks_until(self, when: float) -> None:
        deadline = self.router.next_deadline()
        while deadline is not None and deadline <= when:
            self.now = max(self.now, deadline)
            self.send(Tick())
            deadline = self.router.next_deadline()

    def send(self, event: Event) -> list[Command]:
        try:
            out = self.router.handle(event, self.now)
        except IllegalTransition:
            self.errors += 1
            return []
        for command in out:
            self._carry_out(command)
        return out

    def _next_arrival(self, stream_index: int, after: float) -> None:
        stream = self.scenario.streams[stream_index]
        peak = stream.peak()
        t = after
        while True:  # thinning: a Poisson process with a rate that changes over the day
            t += self.rng.expovariate(peak)
            if t > self.end:
                return
            if self.rng.random() * peak <= stream.at(t):
                break
        self.at(t, lambda: self._arrive(stream_index))

    def _arrive(self, stream_index: int) -> None:
        stream = self.scenario.streams[stream_index]
        self._next_arrival(stream_index, self.now)
        call_id = f"c{len(self.callers) + 1}"
        caller = Caller(call_id, stream.queue, self.now, stream.priority)
        self.callers[call_id] = caller
        self.send(CallArrived(call_id, stream.queue, stream.priority, stream.requirements, "0"))
        if self.router.position(call_id) is not None:
            caller.entry = self._estimates(caller)
        patience = self.rng.lognormvariate(math.log(PATIENCE_MEDIAN), PATIENCE_SIGMA)
        self.at(self.now + patience, lambda: self._give_up(call_id))

    def _give_up(self, call_id: str) -> None:
        view = self.router.call_view(call_id, self.now)
        if view is not None and view.state in (CallState.QUEUED, CallState.OFFERED):
            self.send(CallerHungUp(call_id))

    def _login(self, agent_id: str) -> None:
        self.send(AgentLoggedIn(agent_id))
        if self.scenario.breaks:
            self._plan_break(agent_id)

    def _plan_break(self, agent_id: str) -> None:
        self.at(self.now + self.rng.expovariate(1 / BREAK_EVERY), lambda: self._break(agent_id))

    def _break(self, agent_id: str) -> None:
        state = self._state(agent_id)
        if state in (AgentState.LOGGED_OUT, AgentState.NOT_READY):
            return
        self.send(AgentPaused(agent_id, "break"))
        length = self.rng.uniform(*BREAK_LENGTH)
        self.at(self.now + length, lambda: self._back(agent_id))

    def _back(self, agent_id: str) -> None:
        view = self.router.agent_view(agent_id, self.now)
        if view is None or view.state is AgentState.LOGGED_OUT:
            return
        if view.state is AgentState.NOT_READY and view.reason == "break":
            self.send(AgentReady(agent_id))
        elif view.pending_reason == "break":  # still on the call or in its wrap-up
            self.at(self.now + 5.0, lambda: self._back(agent_id))
            return
        self._plan_break(agent_id)

    def _shift_end(self, agent_id: str) -> None:
        state = self._state(agent_id)
        if state is AgentState.LOGGED_OUT:
            return
        if state is AgentState.ON_CALL:
            self.send(AgentPaused(agent_id, "shift_end"))  # after this call
            self.at(self.now + 5.0, lambda: self._shift_end(agent_id))
            return
        self.send(AgentLoggedOut(agent_id))

    def _state(self, agent_id: str) -> AgentState:
        view = self.router.agent_view(agent_id, self.now)
        return AgentState.LOGGED_OUT if view is None else view.state

    # ---- commands -----------------------------------------------------------------------

    def _carry_out(self, command: Command) -> None:
        match command:
            case RingAgent(call_id=call_id, agent_id=agent_id):
                token = next(self.order)
                self.rings[(call_id, agent_id)] = token
                delay = self.rng.uniform(*RING_DELAY)
                self.at(self.now + delay, lambda: self._answer(call_id, agent_id, token))
            case CancelRing(call_id=call_id, agent_id=agent_id):
                self.rings.pop((call_id, agent_id), None)
            case CallStateChanged(new=CallState.CONNECTED, call_id=call_id):
                self._connected(call_id)
            case WrapUpScheduled(agent_id=agent_id, until=until):
                if self.rng.random() < EARLY_WRAP_SHARE:
                    early = self.now + self.rng.uniform(0.2, 0.8) * (until - self.now)
                    self.at(early, lambda: self._wrap_done(agent_id))
            case Announce(call_id=call_id):
                self._announced(call_id)
            case CallEnded(call_id=call_id, outcome=outcome):
                caller = self.callers.get(call_id)
                if caller is not None and not caller.outcome:
                    caller.outcome = outcome.value
            case _:
                pass

    def _answer(self, call_id: str, agent_id: str, token: int) -> None:
        if self.rings.get((call_id, agent_id)) == token:
            del self.rings[(call_id, agent_id)]
            self.send(AgentAnswered(call_id, agent_id))

    def _wrap_done(self, agent_id: str) -> None:
        if self._state(agent_id) is AgentState.WRAP_UP:
            self.send(WrapUpDone(agent_id))

    def _connected(self, call_id: str) -> None:
        talk = self.rng.lognormvariate(math.log(TALK_MEDIAN), TALK_SIGMA)
        self.at(self.now + talk, lambda: self.send(CallCompleted(call_id)))
        original, _, suffix = call_id.partition(":")
        caller = self.callers.get(original)
        if caller is None:
            return
        if suffix:
            caller.callback_answered = self.now
            return
        caller.answered = self.now
        wait = int(self.now - caller.arrived)
        old = self.holdtime[caller.queue]
        self.holdtime[caller.queue] = ((old << 2) - old + wait) >> 2  # app_queue recalc_holdtime

    def _announced(self, call_id: str) -> None:
        caller = self.callers.get(call_id)
        if caller is None or self.router.position(call_id) is None:
            return
        estimate = self._estimates(caller)
        caller.announcements.append(estimate)
        forecast = self.router.wait_estimate(call_id)
        if (
            len(caller.announcements) == 1
            and forecast is not None
            and forecast.seconds > CALLBACK_ABOVE
            and self.rng.random() < CALLBACK_SHARE
        ):
            caller.callback_quoted = spoken_wait(forecast).callback_minutes * 60.0
            caller.callback_asked = self.now
            self.send(CallbackRequested(call_id, "0"))

    def _estimates(self, caller: Caller) -> Estimate:
        call_id = caller.call_id
        forecast = self.router.wait_estimate(call_id)
        stats = self.router.queue_stats(caller.queue, self.now)
        position = self.router.position(call_id)
        formula = None
        if stats is not None and position is not None:
            formula = estimated_wait(position, stats.staffed, stats.average_handle_time)
        elapsed = self.now - caller.arrived
        # app_queue says |holdtime - time already waited| (say_position).
        incumbent = float(abs(self.holdtime[caller.queue] - elapsed))
        spoken = None
        if forecast is not None:
            words = spoken_wait(forecast)
            spoken = (words.low_minutes, words.high_minutes, words.less_than_a_minute)
        return Estimate(
            self.now,
            {
                "forecast": None if forecast is None else forecast.seconds,
                "formula": formula,
                "app_queue": incumbent,
            },
            spoken,
        )


def simulate(scenario: Scenario, seed: int) -> tuple[dict[str, Caller], int]:
    sim = Simulation(scenario, seed)
    return sim.run(), sim.errors
