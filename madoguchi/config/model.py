"""The typed configuration model: frozen dataclasses with the documented defaults.

Mappings inside the model are read-only views (``MappingProxyType``) so a loaded
``Config`` can be shared between the ACD, IVR and CTI without anyone mutating it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Literal, TypeVar

from configfile import ConfigProblem

STRATEGIES = ("longest_idle", "fewest_calls", "round_robin", "linear", "random", "ring_all")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


K = TypeVar("K")
V = TypeVar("V")


def frozen_map(items: Mapping[K, V] | None = None) -> Mapping[K, V]:
    """A read-only copy of ``items`` (insertion order kept)."""
    return MappingProxyType(dict(items or {}))


# --- service (madoguchi.toml) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SipConfig:
    bind: str = "127.0.0.1"
    port: int = 5060
    qualify_frequency: int = 30


@dataclass(frozen=True, slots=True)
class AmiConfig:
    host: str = "127.0.0.1"
    port: int = 5038
    user: str = "madoguchi"
    secret: str = field(default="", repr=False)
    # After a caller starts ringing a claimed agent (ring ahead), the ACD steps aside this long
    # so Asterisk has the cores to build the call (0 = never); see acd/ami/ring_ahead.py.
    ring_ahead_yield_ms: int = 4


@dataclass(frozen=True, slots=True)
class FastAgiConfig:
    host: str = "127.0.0.1"
    port: int = 4573
    allowed_peers: tuple[str, ...] = ("127.0.0.1",)


@dataclass(frozen=True, slots=True)
class CtiConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    token_ttl: int = 28800
    allowed_origins: tuple[str, ...] = ("http://127.0.0.1:8080", "http://localhost:8080")


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = ""  # empty: the project-local PostgreSQL cluster
    spool_dir: str = "var/spool"

    def __repr__(self) -> str:  # the URL may carry a password: never print it
        return f"DatabaseConfig(url={'<set>' if self.url else ''!r}, spool_dir={self.spool_dir!r})"


@dataclass(frozen=True, slots=True)
class RecordingConfig:
    enabled: bool = False
    directory: str = "var/recordings"
    format: Literal["wav", "wav49", "gsm"] = "wav"


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    days: int = 400
    recordings_days: int = 90


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    sip: SipConfig = SipConfig()
    ami: AmiConfig = AmiConfig()
    fastagi: FastAgiConfig = FastAgiConfig()
    cti: CtiConfig = CtiConfig()
    database: DatabaseConfig = DatabaseConfig()
    recording: RecordingConfig = RecordingConfig()
    retention: RetentionConfig = RetentionConfig()


# --- people (agents.toml) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentConfig:
    id: str  # the extension: SIP endpoint name and desktop login
    name: str
    password: str = field(repr=False)  # SIP digest secret and desktop password
    pin: str = field(default="", repr=False)  # phone feature-code login
    skills: Mapping[str, int] = field(default_factory=frozen_map)  # skill -> level 0..10
    queues: Mapping[str, int] = field(default_factory=frozen_map)  # queue -> level, 1 = first


@dataclass(frozen=True, slots=True)
class SupervisorConfig:
    id: str
    name: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class StatesConfig:
    not_ready_reasons: tuple[str, ...] = ("break", "lunch", "meeting", "training", "no_answer")


# --- queues.toml --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelaxStep:
    after: int  # seconds in queue
    requirements: str  # skill requirement expression; "" = any member


@dataclass(frozen=True, slots=True)
class OverflowConfig:
    after: int = 0  # seconds in queue before overflowing; 0 = never
    target: str = "voicemail"  # "queue:<name>" | "voicemail" | "callback"
    estimated_wait_above: int = 0  # on arrival: overflow if the estimated wait is longer; 0 = off
    when_no_agents: str = "wait"  # "wait" | "queue:<name>" | "voicemail" | "callback"
    position_above: int = 0  # on arrival: overflow if further back in line than this; 0 = off


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: str
    display_name: str = ""
    strategy: str = "longest_idle"
    ring_timeout: int = 15
    wrapup: int = 10
    max_wait: int = 600  # 0 = no limit
    service_level: int = 20
    weight: int = 1
    announce_interval: int = 30
    allow_callback: bool = True
    allow_voicemail: bool = True
    requirements: str = ""
    relax: tuple[RelaxStep, ...] = ()
    overflow: OverflowConfig = OverflowConfig()
    ring_ahead: bool = True


# --- calendar.toml ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Opening interval within one day, in minutes after midnight; end may be 1440 (24:00)."""

    start: int
    end: int

    def __str__(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


@dataclass(frozen=True, slots=True)
class HoursConfig:
    name: str
    days: Mapping[str, tuple[TimeRange, ...]] = field(default_factory=frozen_map)  # mon..sun
    closed: tuple[date, ...] = ()  # this schedule's own closed days
    japanese_holidays: bool = True  # closed on Japanese public holidays (effective value)


@dataclass(frozen=True, slots=True)
class CalendarConfig:
    timezone: str = "Asia/Tokyo"
    japanese_holidays: bool = True  # default for every schedule
    closed: tuple[date, ...] = ()  # closed days of every schedule
    hours: Mapping[str, HoursConfig] = field(default_factory=frozen_map)


# --- numbers.toml -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NumberRoute:
    number: str
    kind: Literal["flow", "queue"]
    target: str  # flow name (config/ivr/<target>.toml) or queue name
    # How Asterisk runs a flow: FastAGI into `madoguchi serve` (default) or the classic
    # AGI script (pyst2, one process per call) for deployments that prefer AGI scripts.
    transport: Literal["fastagi", "agi"] = "fastagi"


# --- the whole thing ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    service: ServiceConfig = ServiceConfig()
    agents: Mapping[str, AgentConfig] = field(default_factory=frozen_map)
    supervisors: Mapping[str, SupervisorConfig] = field(default_factory=frozen_map)
    states: StatesConfig = StatesConfig()
    queues: Mapping[str, QueueConfig] = field(default_factory=frozen_map)
    calendar: CalendarConfig = CalendarConfig()
    numbers: Mapping[str, NumberRoute] = field(default_factory=frozen_map)
    flows: tuple[str, ...] = ()  # stems of config/ivr/*.toml (the IVR package loads them)
    source_dir: Path | None = field(default=None, compare=False)
    warnings: tuple[ConfigProblem, ...] = field(default=(), compare=False)
