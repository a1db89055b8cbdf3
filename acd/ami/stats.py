"""The counters ``AcdRuntime.status()`` reports, shared by the parts that count."""

from __future__ import annotations

from dataclasses import dataclass, field

from acd.core.commands import Announce


@dataclass(slots=True)
class RuntimeStats:
    logins: int = 0
    reconnects: int = 0
    resyncs: int = 0
    events: int = 0
    last_event_at: float | None = None
    originates: int = 0
    rings_ahead: int = 0
    rings_ahead_refused: int = 0
    errors: int = 0
    last_error: str = ""
    announcements: dict[str, Announce] = field(default_factory=dict)  # call -> the last one
