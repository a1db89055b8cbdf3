"""madoguchi's configuration: TOML files in config/ -> validated, typed, frozen objects.

Public API (see docs/configuration.md):

* ``load_config(dir, env=None, *, extra_checks=()) -> Config`` (raises ConfigError)
* ``check_config(dir, env=None, *, extra_checks=()) -> list[ConfigProblem]``
* ``render(config) -> dict[str, str]`` and ``write_generated(config, out_dir) -> list[str]``
* ``diff_config(old, new) -> ConfigDiff``
* ``main_check(dir, *, extra_checks=()) -> int`` (prints problems; non-zero on error)
* ``madoguchi.config.acd.queue_specs(config)`` / ``agent_specs(config)``: the ACD's specs
  (a separate module so this package does not import the ACD's specs)

Each file is validated by pydantic models in a module of its own (``service_file``,
``agents_file``, ``queues_file``, ``calendar_file``, ``numbers_file``);
the rules across files are ``validate``; problems and TOML reading are ``configfile``'s.
"""

from configfile import ConfigError, ConfigProblem, Severity
from madoguchi.config.asterisk import GENERATED_FILES, RELOAD_MODULES, render, write_generated
from madoguchi.config.check import main_check
from madoguchi.config.diff import ConfigDiff, diff_config
from madoguchi.config.load import ExtraCheck, check_config, load_config
from madoguchi.config.model import (
    STRATEGIES,
    WEEKDAYS,
    AgentConfig,
    AmiConfig,
    CalendarConfig,
    Config,
    CtiConfig,
    DatabaseConfig,
    FastAgiConfig,
    HoursConfig,
    NumberRoute,
    OverflowConfig,
    QueueConfig,
    RecordingConfig,
    RelaxStep,
    RetentionConfig,
    ServiceConfig,
    SipConfig,
    StatesConfig,
    SupervisorConfig,
    TimeRange,
)

__all__ = [
    "GENERATED_FILES",
    "RELOAD_MODULES",
    "STRATEGIES",
    "WEEKDAYS",
    "AgentConfig",
    "AmiConfig",
    "CalendarConfig",
    "Config",
    "ConfigDiff",
    "ConfigError",
    "ConfigProblem",
    "CtiConfig",
    "DatabaseConfig",
    "ExtraCheck",
    "FastAgiConfig",
    "HoursConfig",
    "NumberRoute",
    "OverflowConfig",
    "QueueConfig",
    "RecordingConfig",
    "RelaxStep",
    "RetentionConfig",
    "ServiceConfig",
    "Severity",
    "SipConfig",
    "StatesConfig",
    "SupervisorConfig",
    "TimeRange",
    "check_config",
    "diff_config",
    "load_config",
    "main_check",
    "render",
    "write_generated",
]
