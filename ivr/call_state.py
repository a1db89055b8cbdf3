"""One call's progress through the IVR: where it is, what it set and entered, its limits."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.flow import Flow
from ivr.outcome import MAX_PATH_STEPS, Customer, Entered, IvrOutcome, IvrResult, Step


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-call bounds, so a DTMF flood or an admin's menu loop cannot hold a line forever."""

    max_digits: int = 200  # keys accepted over the whole call
    type_ahead: int = 8  # keys kept from barge-in for the next menu or entry


DEFAULT_LIMITS = Limits()


class OverLimit(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass
class CallState:
    flow: Flow
    entry_flow: str
    language: str
    queue: str | None
    node: str = ""
    priority: int = 0
    skills: str = ""
    data: dict[str, str] = field(default_factory=dict)
    path: deque[Step] = field(default_factory=lambda: deque(maxlen=MAX_PATH_STEPS))
    path_truncated: bool = False
    entered_clear: dict[str, str] = field(default_factory=dict)  # never leaves the engine
    entered: dict[str, Entered] = field(default_factory=dict)
    customer: Customer | None = None
    customer_record: Mapping[str, Any] | None = None
    steps: int = 0
    digits: int = 0
    type_ahead: deque[str] = field(default_factory=deque)

    def record(self, kind: str, value: str | None = None) -> None:
        if len(self.path) == self.path.maxlen:
            self.path_truncated = True
        self.path.append(Step(self.node, kind, value))

    def route(self, queue: str | None, priority: int | None, skills: str | None) -> None:
        """Set what a Set node or the queue ending gives; None keeps what was set before."""
        if queue is not None:
            self.queue = queue
        if priority is not None:
            self.priority = priority
        if skills is not None:
            self.skills = skills

    def outcome(self, result: IvrResult) -> IvrOutcome:
        return IvrOutcome(
            flow=self.entry_flow,
            result=result,
            language=self.language,
            queue=self.queue if result is IvrResult.QUEUE else None,
            priority=self.priority,
            skills=self.skills,
            path=tuple(self.path),
            path_truncated=self.path_truncated,
            entered=dict(self.entered),
            customer=self.customer,
            data=dict(self.data),
        )
