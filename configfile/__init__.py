"""Configuration files, shared by every package that reads one: problems and TOML reading.

A leaf: it imports nothing of the project, so ``ivr`` and ``madoguchi.config`` can both use
it without importing each other.
"""

from configfile.problems import ConfigError, ConfigProblem, Severity
from configfile.toml import TomlUnreadable, load_toml, read_toml

__all__ = ["ConfigError", "ConfigProblem", "Severity", "TomlUnreadable", "load_toml", "read_toml"]
