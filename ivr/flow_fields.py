"""Typed access to one table of a flow file; every problem names ``<table key>.<field>``.

``FlowFile`` collects, for one file, its problems and the node and prompt references seen
while parsing (checked once every flow is known).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from configfile import ConfigProblem
from ivr.flow import CheckDigit, LookupBy, Prompts, SayMode
from ivr.flow_syntax import NAME, PROMPT

_E = TypeVar("_E", LookupBy, CheckDigit, SayMode)


@dataclasses.dataclass
class FlowFile:
    file: str
    problems: list[ConfigProblem]
    # (key path, reference) seen while parsing; checked once every flow is known
    node_refs: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    prompt_refs: list[tuple[str, Prompts]] = dataclasses.field(default_factory=list)

    def problem(self, key: str, reason: str) -> None:
        self.problems.append(ConfigProblem(self.file, key, reason))


class Fields:
    """Typed access to one TOML table; every problem names `key.<field>`."""

    def __init__(self, parser: FlowFile, key: str, body: Mapping[str, Any]) -> None:
        self.parser = parser
        self.key = key
        self.body = body
        self.seen: set[str] = set()

    def _get(self, field: str, required: bool) -> Any:
        self.seen.add(field)
        if field not in self.body:
            if required:
                self.parser.problem(f"{self.key}.{field}", "missing")
            return None
        return self.body[field]

    def raw_value(self, field: str, required: bool = False) -> Any:
        return self._get(field, required)

    def text(
        self,
        field: str,
        *,
        required: bool = False,
        default: str | None = None,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        value = self._get(field, required)
        if value is None:
            return default
        if not isinstance(value, str):
            self.parser.problem(f"{self.key}.{field}", "must be a string")
            return None
        if pattern is not None and not pattern.match(value):
            self.parser.problem(f"{self.key}.{field}", f"invalid value {value!r}")
            return None
        return value

    def text_list(self, field: str, pattern: re.Pattern[str]) -> list[str] | None:
        value = self._get(field, False)
        if value is None:
            return None
        if not isinstance(value, list) or not all(
            isinstance(v, str) and pattern.match(v) for v in value
        ):
            self.parser.problem(f"{self.key}.{field}", f"must be a list of {pattern.pattern}")
            return None
        return list(value)

    def integer(self, field: str, *, default: int | None = None, low: int, high: int) -> int | None:
        value = self._get(field, False)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.parser.problem(f"{self.key}.{field}", f"must be an integer {low}..{high}")
            return None
        return value

    def number(self, field: str, *, default: float, low: float, high: float) -> float | None:
        value = self._get(field, False)
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (low <= value <= high)
        ):
            self.parser.problem(f"{self.key}.{field}", f"must be a number {low}..{high}")
            return None
        return float(value)

    def boolean(self, field: str, *, default: bool) -> bool:
        value = self._get(field, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.parser.problem(f"{self.key}.{field}", "must be true or false")
            return default
        return value

    def choice(
        self, field: str, enum: type[_E], *, required: bool = False, default: _E | None = None
    ) -> _E | None:
        value = self._get(field, required)
        if value is None:
            return default
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(str(e.value) for e in enum)
            self.parser.problem(f"{self.key}.{field}", f"{value!r} is not one of: {allowed}")
            return None

    def table(self, field: str, *, required: bool = False) -> dict[str, Any]:
        value = self._get(field, required)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.parser.problem(f"{self.key}.{field}", "must be a table")
            return {}
        return value

    def prompts(self, field: str, *, required: bool = False, default: Prompts = ()) -> Prompts:
        value = self._get(field, required)
        if value is None:
            return default
        items = [value] if isinstance(value, str) else value
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(p, str) and PROMPT.match(p) for p in items)
        ):
            self.parser.problem(
                f"{self.key}.{field}",
                "a sound name or a list of them (letters, digits, _ - /; no extension)",
            )
            return default
        result = tuple(items)
        self.parser.prompt_refs.append((f"{self.key}.{field}", result))
        return result

    def ref(self, field: str, *, required: bool = False) -> str | None:
        value = self.text(field, required=required, pattern=NAME)
        if value is not None:
            self.parser.node_refs.append((f"{self.key}.{field}", value))
        return value

    def done(self) -> None:
        for field in sorted(set(self.body) - self.seen):
            self.parser.problem(f"{self.key}.{field}", "unknown key")
