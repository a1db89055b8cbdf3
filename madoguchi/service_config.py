"""The whole configuration the service runs on: config/ plus the IVR flows checked against it,
the DSN it writes to, and the IVR's flows, calendar and clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.calendar import Calendar, load_calendar
from ivr.clock import clock_starting_at
from ivr.flow import Flow
from ivr.loader import load_flows
from madoguchi.config import Config, ConfigError, ConfigProblem, ExtraCheck, load_config
from madoguchi.config.campaigns_file import check_campaigns
from madoguchi.paths import Paths
from selfservice.faq.loader import FAQ_DIR
from selfservice.faq.loader import collect as collect_faq


def _check_flows(config: Config, config_dir: Path) -> Iterable[ConfigProblem]:
    try:
        load_flows(
            config_dir / "ivr",
            known_queues=tuple(config.queues),
            schedules=tuple(config.calendar.hours) or None,
        )
    except ConfigError as exc:
        return exc.problems
    return ()


def _check_faq(_config: Config, config_dir: Path) -> Iterable[ConfigProblem]:
    faq_dir = config_dir / FAQ_DIR
    return collect_faq(faq_dir)[1] if faq_dir.is_dir() else ()


def extra_checks() -> list[ExtraCheck]:
    return [_check_flows, _check_faq, check_campaigns]


def load_service_config(config_dir: Path) -> Config:
    return load_config(config_dir, extra_checks=extra_checks())


def database_dsn(paths: Paths, config: Config | None = None) -> str:
    """The DSN the service writes to: set by the stack runner, else config, else local cluster."""
    from madoguchi.stack.postgres import LocalCluster

    if os.environ.get("MADOGUCHI_DATABASE_DSN"):
        return os.environ["MADOGUCHI_DATABASE_DSN"]
    cfg = config or load_service_config(paths.config)
    if cfg.service.database.url:
        return cfg.service.database.url
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return LocalCluster(paths.pg_data, port=int(os.environ.get("MADOGUCHI_PG_PORT", "5433"))).dsn


def load_ivr(config: Config) -> tuple[Mapping[str, Flow], Calendar]:
    """The IVR flows (config/ivr) and the business-hours calendar the service runs on."""
    assert config.source_dir is not None
    flows = load_flows(
        config.source_dir / "ivr",
        known_queues=tuple(config.queues),
        schedules=tuple(config.calendar.hours) or None,
    )
    return flows, load_calendar(config.source_dir / "calendar.toml")


def ivr_clock(tz: ZoneInfo) -> Callable[[], datetime]:
    """The IVR's business-hours clock. MADOGUCHI_IVR_CLOCK_START (ISO 8601 with offset) runs
    it from that instant: for trying flows (and testing) as if on another day."""
    start = os.environ.get("MADOGUCHI_IVR_CLOCK_START", "")
    if not start:
        return lambda: datetime.now(tz)
    now = clock_starting_at(start)
    return lambda: now().astimezone(tz)
