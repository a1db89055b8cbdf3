"""Scenarios of the estimated-wait benchmark: queues, agents, traffic, shifts (seeded).

Every scenario shares the same people: talk times lognormal (median 180 s, sigma 0.6, mean
~215 s), 15 s of wrap-up that one agent in four ends early, the phone answered 2-8 s after
it starts ringing, callers' patience lognormal (median 6 min, sigma 1.0: a few hang up at
once, some wait very long), breaks of 5-15 minutes about every 90 minutes of work, and a
fifth of the callers who hear an estimate above 3 minutes asking for a callback.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from acd.core import AgentSpec, QueueSpec, RelaxStep

HOUR = 3600.0
CAPACITY_PER_AGENT = 1 / (215.0 + 15.0 + 5.0)  # calls per second one agent answers


@dataclass(frozen=True, slots=True)
class Stream:
    """Callers of one class: ``rate`` as (time, calls per second) points, linear between."""

    queue: str
    rate: tuple[tuple[float, float], ...]
    priority: int = 0
    requirements: str = ""
    share: float = 1.0  # the part of ``rate`` that is this class

    def at(self, t: float) -> float:
        points = self.rate
        if t <= points[0][0]:
            return points[0][1] * self.share
        for (t0, r0), (t1, r1) in itertools.pairwise(points):
            if t <= t1:
                return (r0 + (r1 - r0) * (t - t0) / (t1 - t0)) * self.share
        return points[-1][1] * self.share

    def peak(self) -> float:
        return max(r for _, r in self.rate) * self.share


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str  # one line for the docs
    queues: tuple[QueueSpec, ...]
    agents: tuple[AgentSpec, ...]
    streams: tuple[Stream, ...]
    hours: float
    # agent -> (login at, logout at) shifts; agents not listed work the whole time
    shifts: dict[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)
    breaks: bool = True


def _queue(name: str, **kwargs: object) -> QueueSpec:
    base: dict[str, object] = {
        "ring_timeout": 20.0,
        "wrapup": 15.0,
        "max_wait": 0.0,
        "announce_interval": 30.0,
        "allow_callback": True,
        "allow_voicemail": False,
    }
    base.update(kwargs)
    return QueueSpec(name, **base)  # type: ignore[arg-type]


def _agents(prefix: str, count: float, queues: dict[str, int], **skills: int) -> list[AgentSpec]:
    return [
        AgentSpec(f"{prefix}{i:03d}", f"{prefix} {i}", skills=dict(skills), queues=dict(queues))
        for i in range(round(count))
    ]


def _flat(load: float, agents: float, hours: float) -> tuple[tuple[float, float], ...]:
    rate = load * agents * CAPACITY_PER_AGENT
    return ((0.0, rate), (hours * HOUR, rate))


def one_queue(hours: float, k: float) -> Scenario:
    return Scenario(
        "one_queue",
        f"one queue, {round(20 * k)} agents, traffic at 100 % of their capacity",
        (_queue("support"),),
        tuple(_agents("a", 20 * k, {"support": 1})),
        (Stream("support", _flat(1.0, 20 * k, hours)),),
        hours,
    )


def shared_weights(hours: float, k: float) -> Scenario:
    agents = (
        _agents("s", 8 * k, {"sales": 1})
        + _agents("t", 8 * k, {"support": 1})
        + _agents("b", 8 * k, {"sales": 1, "support": 1})
    )
    return Scenario(
        "shared_weights",
        f"sales (weight 1) and support (weight 2), {round(8 * k)} agents each plus "
        f"{round(8 * k)} shared",
        (_queue("sales", weight=1.0), _queue("support", weight=2.0)),
        tuple(agents),
        (
            Stream("sales", _flat(0.92, 11 * k, hours)),
            Stream("support", _flat(0.98, 13 * k, hours)),
        ),
        hours,
    )


def skills_relax(hours: float, k: float) -> Scenario:
    agents = (
        _agents("x", 6 * k, {"help": 1}, billing=3)
        + _agents("m", 6 * k, {"help": 1}, billing=2)
        + _agents("n", 8 * k, {"help": 1}, billing=1)
    )
    relax = (RelaxStep(60.0, "billing>=2"), RelaxStep(180.0, "billing>=1"))
    rate = _flat(0.95, 20 * k, hours)
    return Scenario(
        "skills_relax",
        f"half the callers ask billing>=3 ({round(6 * k)} experts of {round(20 * k)}), "
        "widened to >=2 after 60 s, to >=1 after 180 s",
        (_queue("help", relax=relax),),
        tuple(agents),
        (
            Stream("help", rate, requirements="billing>=3", share=0.5),
            Stream("help", rate, share=0.5),
        ),
        hours,
    )


def vip(hours: float, k: float) -> Scenario:
    rate = _flat(0.96, 20 * k, hours)
    return Scenario(
        "vip",
        f"one queue, {round(20 * k)} agents, a fifth of the callers VIP (priority 5) who go "
        "ahead of the line",
        (_queue("support"),),
        tuple(_agents("a", 20 * k, {"support": 1})),
        (
            Stream("support", rate, share=0.8),
            Stream("support", rate, priority=5, share=0.2),
        ),
        hours,
    )


def login_logout(hours: float, k: float) -> Scenario:
    agents = _agents("a", 28 * k, {"support": 1})
    full_day = round(8 * k)
    shifts: dict[str, tuple[tuple[float, float], ...]] = {}
    for i, spec in enumerate(agents[full_day:]):
        # Part-timers on staggered 2-hour shifts, 3 hours apart: 2/3 of them at a time.
        start = (i % 10) * 0.3 * HOUR + (i // 10) * 0.03 * HOUR
        shifts[spec.id] = tuple(
            (start + n * 3.0 * HOUR, start + n * 3.0 * HOUR + 2.0 * HOUR)
            for n in range(int(hours / 3.0) + 1)
        )
    return Scenario(
        "login_logout",
        f"{full_day} agents all day and {len(agents) - full_day} on staggered 2-hour shifts "
        "(about 2/3 of them logged in at a time, fewer in the first hours), flat traffic at "
        "92 % of what the usual number can answer",
        (_queue("support"),),
        tuple(agents),
        (Stream("support", _flat(0.92, 19 * k, hours)),),
        hours,
        shifts=shifts,
    )


def morning_ramp(hours: float, k: float) -> Scenario:
    agents = _agents("a", 24 * k, {"support": 1})
    step = 0.125 * HOUR * 24 / len(agents)  # everyone logged in 1.5 h after opening
    shifts = {spec.id: ((i * step, hours * HOUR + 1.0),) for i, spec in enumerate(agents)}
    capacity = len(agents) * CAPACITY_PER_AGENT
    ramp = (
        (0.0, 0.1 * capacity),
        (1.0 * HOUR, 0.6 * capacity),
        (1.75 * HOUR, 1.1 * capacity),
        (2.5 * HOUR, 1.05 * capacity),
        (3.0 * HOUR, 0.9 * capacity),
        (hours * HOUR, 0.9 * capacity),
    )
    return Scenario(
        "morning_ramp",
        f"opening: agents log in one by one over 1.5 h up to {len(agents)}; traffic climbs to "
        "110 % of their capacity by 1:45, then settles at 90 %",
        (_queue("support"),),
        tuple(agents),
        (Stream("support", ramp),),
        hours,
        shifts=shifts,
    )


ALL = (one_queue, shared_weights, skills_relax, vip, login_logout, morning_ramp)


def scenarios(hours: float, scale: float = 1.0) -> list[Scenario]:
    """Every scenario over ``hours``; ``scale`` multiplies the team sizes (and the traffic)."""
    return [make(hours, scale) for make in ALL]
