"""The whole configuration the service runs on: config/ plus the IVR flows checked against it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ivr.loader import load_flows
from madoguchi.config import Config, ConfigError, ConfigProblem, ExtraCheck, load_config
from madoguchi.config.campaigns_file import check_campaigns
from madoguchi.paths import Paths


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


def extra_checks() -> list[ExtraCheck]:
    return [_check_flows, check_campaigns]


def load_service_config(config_dir: Path) -> Config:
    return load_config(config_dir, extra_checks=extra_checks())


def database_dsn(paths: Paths, config: Config | None = None) -> str:
    """The DSN the service writes to: set by the stack runner, else config, else local cluster."""
    from db.cluster import LocalCluster

    if os.environ.get("MADOGUCHI_DATABASE_DSN"):
        return os.environ["MADOGUCHI_DATABASE_DSN"]
    cfg = config or load_service_config(paths.config)
    if cfg.service.database.url:
        return cfg.service.database.url
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return LocalCluster(paths.pg_data, port=int(os.environ.get("MADOGUCHI_PG_PORT", "5433"))).dsn
