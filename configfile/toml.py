"""Reading one TOML file; a file that cannot be used becomes a problem naming it and why."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from configfile.problems import ConfigError, ConfigProblem, Severity

FILE_KEY = "(file)"  # the key of a problem with the file as a whole


class TomlUnreadable(ConfigError):
    """The file is missing, unreadable or not TOML; carries the one problem that says so."""

    def __init__(self, problem: ConfigProblem, *, missing: bool = False) -> None:
        super().__init__([problem])
        self.problem = problem
        self.missing = missing


def load_toml(path: Path) -> dict[str, Any]:
    """The parsed file; raises TomlUnreadable naming the file and the reason."""
    file = str(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise TomlUnreadable(ConfigProblem(file, FILE_KEY, "file not found"), missing=True) from exc
    except tomllib.TOMLDecodeError as exc:
        raise TomlUnreadable(ConfigProblem(file, FILE_KEY, f"not valid TOML: {exc}")) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TomlUnreadable(ConfigProblem(file, FILE_KEY, f"cannot be read: {exc}")) from exc


def read_toml(
    path: Path, problems: list[ConfigProblem], *, required: bool
) -> dict[str, Any] | None:
    """The parsed file, or None after adding why it could not be read to ``problems``.

    A missing optional file is a warning (its defaults are used); anything else an error.
    """
    try:
        return load_toml(path)
    except TomlUnreadable as exc:
        if exc.missing and not required:
            warning: Severity = "warning"
            reason = "file not found; defaults are used"
            problems.append(ConfigProblem(exc.problem.file, FILE_KEY, reason, warning))
        else:
            problems.append(exc.problem)
        return None
