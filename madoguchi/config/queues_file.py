"""queues.toml: each queue's strategy, timers, skill requirements, relaxation and overflow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict

from acd.core.requirements import RequirementError, parse_requirement
from configfile import ConfigProblem
from configfile.fields import BOOLEAN, integer, name, text
from configfile.schema import problem, validate_file
from madoguchi.config.model import (
    STRATEGIES,
    OverflowConfig,
    QueueConfig,
    RelaxStep,
)
from madoguchi.config.names import QUEUE_NAME, QUEUE_NAME_HINT

_TARGET = r"queue:" + QUEUE_NAME + r"|voicemail|callback"
# Instances, not classes: slotted dataclasses keep no defaults as class attributes.
_QUEUE, _OVERFLOW = QueueConfig(name=""), OverflowConfig()


def _requirement(value: str) -> str:
    """One grammar for skill expressions: the ACD's own parser decides."""
    try:
        parse_requirement(value)
    except RequirementError as exc:
        raise problem(
            f"invalid skill requirement '{value}': {exc.reason} at column {exc.column}"
        ) from None
    return value.strip()


Requirement = Annotated[str, text(then=_requirement)]
Seconds = Annotated[int, integer(0, 86400)]
Flag = Annotated[bool, BOOLEAN]
QueueName = Annotated[
    str, name(QUEUE_NAME, lambda q: f"'{q}' is not a valid queue name: {QUEUE_NAME_HINT}")
]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Relax(_Table):
    after: Annotated[int, integer(1, 86400)] = 0  # required: checked with the steps' order
    requirements: Requirement = ""


class _Overflow(_Table):
    after: Seconds = _OVERFLOW.after
    target: Annotated[
        str, text(pattern=_TARGET, hint="use queue:<name>, voicemail or callback")
    ] = _OVERFLOW.target
    estimated_wait_above: Seconds = _OVERFLOW.estimated_wait_above
    position_above: Annotated[int, integer(0, 100_000)] = _OVERFLOW.position_above
    when_no_agents: Annotated[
        str, text(pattern=_TARGET + "|wait", hint="use wait, queue:<name>, voicemail or callback")
    ] = _OVERFLOW.when_no_agents


class _Queue(_Table):
    display_name: Annotated[str | None, text(non_empty=True)] = None  # default: the name
    strategy: Annotated[str, text(choices=STRATEGIES)] = _QUEUE.strategy
    ring_timeout: Annotated[int, integer(5, 300)] = _QUEUE.ring_timeout
    wrapup: Annotated[int, integer(0, 3600)] = _QUEUE.wrapup
    max_wait: Seconds = _QUEUE.max_wait
    service_level: Annotated[int, integer(1, 3600)] = _QUEUE.service_level
    weight: Annotated[int, integer(1, 100)] = _QUEUE.weight
    announce_interval: Annotated[int, integer(0, 3600)] = _QUEUE.announce_interval
    allow_callback: Flag = _QUEUE.allow_callback
    allow_voicemail: Flag = _QUEUE.allow_voicemail
    requirements: Requirement = _QUEUE.requirements
    relax: list[_Relax] = []
    overflow: _Overflow = _Overflow()
    ring_ahead: Flag = _QUEUE.ring_ahead


class QueuesFile(_Table):
    queue: dict[QueueName, _Queue] = {}


def read_queues(
    data: Mapping[str, Any], file: str, env: Mapping[str, str]
) -> tuple[dict[str, QueueConfig], list[ConfigProblem]]:
    parsed, problems = validate_file(QueuesFile, data, file=file, context={"env": env})
    reported = {p.key for p in problems}
    queues: dict[str, QueueConfig] = {}
    for queue_name, q in parsed.queue.items():
        relax: list[RelaxStep] = []
        for index, step in enumerate(q.relax):
            key = f"queue.{queue_name}.relax[{index}].after"
            if "after" not in step.model_fields_set:
                if key not in reported:
                    reason = "is required (seconds in queue before this step applies)"
                    problems.append(ConfigProblem(file, key, reason))
            elif relax and step.after <= relax[-1].after:
                reason = f"must be greater than the previous step's ({relax[-1].after})"
                problems.append(ConfigProblem(file, key, reason))
            else:
                relax.append(RelaxStep(step.after, step.requirements))
        o = q.overflow
        queues[queue_name] = QueueConfig(
            name=queue_name,
            display_name=q.display_name or queue_name,
            strategy=q.strategy,
            ring_timeout=q.ring_timeout,
            wrapup=q.wrapup,
            max_wait=q.max_wait,
            service_level=q.service_level,
            weight=q.weight,
            announce_interval=q.announce_interval,
            allow_callback=q.allow_callback,
            allow_voicemail=q.allow_voicemail,
            requirements=q.requirements,
            relax=tuple(relax),
            overflow=OverflowConfig(
                o.after, o.target, o.estimated_wait_above, o.when_no_agents, o.position_above
            ),
            ring_ahead=q.ring_ahead,
        )
    return queues, problems
