"""Loading a configuration directory: read every file, check across files, report everything."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from configfile import ConfigError, ConfigProblem, read_toml
from configfile.toml import FILE_KEY
from madoguchi.config.agents_file import read_agents
from madoguchi.config.calendar_file import read_calendar
from madoguchi.config.model import Config, frozen_map
from madoguchi.config.names import (
    AGENTS_FILE,
    CALENDAR_FILE,
    IVR_DIR,
    NUMBERS_FILE,
    QUEUES_FILE,
    SERVICE_FILE,
)
from madoguchi.config.numbers_file import read_numbers
from madoguchi.config.queues_file import read_queues
from madoguchi.config.service_file import read_service
from madoguchi.config.validate import cross_checks

T = TypeVar("T")
Reader = Callable[[Mapping[str, Any], str, Mapping[str, str]], tuple[T, list[ConfigProblem]]]
"""Reads one parsed file (data, file name, environment) into its model and its problems."""

ExtraCheck = Callable[[Config, Path], Iterable[ConfigProblem]]
"""A check plugged in by another package (e.g. the IVR flows against the known queues).

It receives the loaded Config and the configuration directory and yields problems.
It runs only when every file of the directory could be read and parsed, so it never
reports consequences of a file that failed to parse."""


def collect(
    config_dir: Path,
    env: Mapping[str, str] | None = None,
    *,
    extra_checks: Iterable[ExtraCheck] = (),
) -> tuple[Config, list[ConfigProblem]]:
    """Load ``config_dir``; return the Config (defaults where invalid) and every problem."""
    config_dir = Path(config_dir)
    environment: Mapping[str, str] = os.environ if env is None else env
    problems: list[ConfigProblem] = []
    if not config_dir.is_dir():
        problems.append(
            ConfigProblem(str(config_dir), "(directory)", "configuration directory not found")
        )
        return Config(source_dir=config_dir), problems

    def read(name: str, reader: Reader[T], *, required: bool) -> T:
        file = str(config_dir / name)
        value, found = reader(
            read_toml(config_dir / name, problems, required=required) or {}, file, environment
        )
        problems.extend(found)
        return value

    service = read(SERVICE_FILE, read_service, required=False)
    agents, supervisors, states = read(AGENTS_FILE, read_agents, required=True)
    queues = read(QUEUES_FILE, read_queues, required=True)
    calendar = read(CALENDAR_FILE, read_calendar, required=False)
    numbers = read(NUMBERS_FILE, read_numbers, required=True)
    files_readable = not any(p.key == FILE_KEY and p.severity == "error" for p in problems)
    ivr_dir = config_dir / IVR_DIR
    flows = tuple(sorted(p.stem for p in ivr_dir.glob("*.toml"))) if ivr_dir.is_dir() else ()

    config = Config(
        service=service,
        agents=frozen_map(agents),
        supervisors=frozen_map(supervisors),
        states=states,
        queues=frozen_map(queues),
        calendar=calendar,
        numbers=frozen_map(numbers),
        flows=flows,
        source_dir=config_dir,
    )
    found = list(problems)
    found.extend(cross_checks(config, config_dir))
    if files_readable:
        for check in extra_checks:
            found.extend(check(config, config_dir))
    warnings = tuple(p for p in found if p.severity == "warning")
    return dataclasses.replace(config, warnings=warnings), found


def load_config(
    config_dir: Path,
    env: Mapping[str, str] | None = None,
    *,
    extra_checks: Iterable[ExtraCheck] = (),
) -> Config:
    """The validated configuration of ``config_dir``.

    ``env`` supplies ``${NAME}`` values (default: the process environment). Raises
    ConfigError carrying every problem (warnings included) when any is an error;
    otherwise the warnings are available as ``Config.warnings``.
    """
    config, problems = collect(config_dir, env, extra_checks=extra_checks)
    if any(p.severity == "error" for p in problems):
        raise ConfigError(problems)
    return config


def check_config(
    config_dir: Path,
    env: Mapping[str, str] | None = None,
    *,
    extra_checks: Iterable[ExtraCheck] = (),
) -> list[ConfigProblem]:
    """Every problem (errors and warnings) of ``config_dir``; empty when all is well."""
    return collect(config_dir, env, extra_checks=extra_checks)[1]
