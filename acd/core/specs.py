"""Routing configuration as plain frozen dataclasses.

These mirror ``config/queues.toml`` and ``config/agents.toml`` (see the config layout): the
config package maps TOML onto them. Every spec checks itself on construction and raises
:class:`SpecError` naming the offending key, so the config package can turn it into a
``ConfigProblem``. Durations are seconds (float).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from acd.core.requirements import Requirement, RequirementError, parse_requirement


class SpecError(ValueError):
    """A configuration value the router cannot use; ``key`` is the TOML key path."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


class Strategy(StrEnum):
    """How a queue picks among several eligible ready agents."""

    LONGEST_IDLE = "longest_idle"  # the agent ready for the longest time (default)
    FEWEST_CALLS = "fewest_calls"  # the agent who answered the fewest calls since reset
    ROUND_ROBIN = "round_robin"  # the next agent after the one rung last (per queue memory)
    LINEAR = "linear"  # always top-down in the configured agent order
    RANDOM = "random"  # uniformly at random (injected RNG)
    RING_ALL = "ring_all"  # ring every eligible agent; first answer wins


OverflowKind = Literal["queue", "voicemail", "callback"]


@dataclass(frozen=True, slots=True)
class OverflowTarget:
    """Where an overflowing caller goes: another queue, voicemail, or a callback."""

    kind: OverflowKind
    queue: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("queue", "voicemail", "callback"):
            raise SpecError("target", f"unknown overflow target kind {self.kind!r}")
        if (self.kind == "queue") != bool(self.queue):
            raise SpecError("target", "a queue target needs a queue name (and only it)")

    @classmethod
    def parse(cls, text: str) -> OverflowTarget:
        """Parse ``"queue:support"``, ``"voicemail"`` or ``"callback"``."""
        if text in ("voicemail", "callback"):
            return cls(kind=text)  # type: ignore[arg-type]  # narrowed by the test above
        prefix, _, name = text.partition(":")
        if prefix == "queue" and name:
            return cls(kind="queue", queue=name)
        raise SpecError("target", f"{text!r} is not 'queue:<name>', 'voicemail' or 'callback'")

    def __str__(self) -> str:
        return f"queue:{self.queue}" if self.kind == "queue" else self.kind


@dataclass(frozen=True, slots=True)
class RelaxStep:
    """After ``after`` seconds in the queue, agents matching ``requirements`` also qualify."""

    after: float
    requirements: str

    def __post_init__(self) -> None:
        _check_duration("after", self.after, allow_zero=False)
        _check_requirement("requirements", self.requirements)


@dataclass(frozen=True, slots=True)
class OverflowPolicy:
    """When a waiting caller leaves the queue for ``target``.

    ``after``: seconds waited in this queue. ``estimated_wait_above``: checked once on arrival,
    overflow if the estimated wait is longer (or unknown because nobody is staffed).
    ``position_above``: checked once on arrival, overflow if the caller's place in line (after
    priority) is further back than this: a full queue sheds callers instead of piling them
    up on hold, and a high-priority caller who goes to the front is never shed.
    ``when_no_agents``: on arrival, and for everybody waiting when the last member logs out.
    """

    after: float | None = None
    target: OverflowTarget | None = None
    estimated_wait_above: float | None = None
    when_no_agents: OverflowTarget | None = None
    position_above: int | None = None

    def __post_init__(self) -> None:
        if self.after is not None:
            _check_duration("overflow.after", self.after, allow_zero=False)
        if self.estimated_wait_above is not None:
            _check_duration("overflow.estimated_wait_above", self.estimated_wait_above)
        if self.position_above is not None and not 1 <= self.position_above <= 100_000:
            raise SpecError("overflow.position_above", "must be 1..100000")
        arrival_rules = (self.after, self.estimated_wait_above, self.position_above)
        if any(rule is not None for rule in arrival_rules) and not self.target:
            raise SpecError(
                "overflow.target",
                "required with 'after', 'estimated_wait_above' or 'position_above'",
            )

    def targets(self) -> tuple[OverflowTarget, ...]:
        return tuple(t for t in (self.target, self.when_no_agents) if t is not None)


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """One ``[queue.<name>]`` table. ``max_wait``/``announce_interval`` of 0 mean "never"."""

    name: str
    strategy: Strategy = Strategy.LONGEST_IDLE
    ring_timeout: float = 15.0
    wrapup: float = 10.0
    max_wait: float = 600.0
    service_level: float = 20.0
    weight: float = 1.0
    announce_interval: float = 30.0
    allow_callback: bool = True
    allow_voicemail: bool = True
    requirements: str = ""
    relax: tuple[RelaxStep, ...] = ()
    overflow: OverflowPolicy = field(default_factory=OverflowPolicy)
    ring_ahead: bool = True  # the adapter may ring ``Router.next_agent`` before a caller arrives

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise SpecError("queue", f"queue name {self.name!r} must be letters, digits, - or _")
        try:
            Strategy(self.strategy)
        except ValueError:
            choices = ", ".join(s.value for s in Strategy)
            raise SpecError(
                f"queue.{self.name}.strategy", f"{self.strategy!r} is not one of {choices}"
            ) from None
        key = f"queue.{self.name}"
        _check_duration(f"{key}.ring_timeout", self.ring_timeout, allow_zero=False)
        _check_duration(f"{key}.wrapup", self.wrapup)
        _check_duration(f"{key}.max_wait", self.max_wait)
        _check_duration(f"{key}.service_level", self.service_level, allow_zero=False)
        _check_duration(f"{key}.announce_interval", self.announce_interval)
        if not (math.isfinite(self.weight) and self.weight > 0):
            raise SpecError(f"{key}.weight", "must be a positive number")
        _check_requirement(f"{key}.requirements", self.requirements)
        afters = [step.after for step in self.relax]
        if afters != sorted(set(afters)):
            raise SpecError(f"{key}.relax", "steps must have strictly increasing 'after'")

    def default_requirement(self) -> Requirement:
        return parse_requirement(self.requirements)


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """One ``[[agent]]`` entry: skills (name -> level) and queues (name -> level, 1 = first)."""

    id: str
    name: str
    skills: Mapping[str, int] = field(default_factory=dict)
    queues: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            raise SpecError("agent.id", "must not be empty")
        for skill, level in self.skills.items():
            if not skill.isidentifier() or not skill.isascii():
                raise SpecError(f"agent.{self.id}.skills", f"{skill!r} is not a skill name")
            if isinstance(level, bool) or not isinstance(level, int) or level < 0:
                raise SpecError(f"agent.{self.id}.skills.{skill}", "level must be an int >= 0")
        for queue, level in self.queues.items():
            if isinstance(level, bool) or not isinstance(level, int) or level < 1:
                raise SpecError(f"agent.{self.id}.queues.{queue}", "level must be an int >= 1")


def _check_duration(key: str, value: float, *, allow_zero: bool = True) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpecError(key, "must be a number of seconds")
    if value < 0 or (value == 0 and not allow_zero):
        raise SpecError(key, "must be positive" if not allow_zero else "must not be negative")


def _check_requirement(key: str, text: str) -> None:
    try:
        parse_requirement(text)
    except RequirementError as error:
        raise SpecError(key, str(error)) from None
