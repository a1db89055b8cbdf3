"""Reading raw TOML tables into typed values while collecting every problem.

Each ``Table`` knows its file and key path. Getters return the value or, after
recording a problem, the default, so one pass over a file reports everything wrong
with it. ``finish()`` reports the keys nobody asked for, with a did-you-mean.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from configfile import ConfigProblem, Severity
from madoguchi.config.envsubst import EnvSubstitutionError, substitute

# Characters that would let a value start a new line, a comment (;), a section ([...]),
# or break out of a quoted caller-ID name in Asterisk's .conf syntax.
ASTERISK_UNSAFE = frozenset('\r\n;[]"<>\\\x00')
# Control characters and Unicode line/paragraph separators: some tools treat them as newlines.
_LINE_LIKE = frozenset({"Cc", "Zl", "Zp"})


def describe_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, date):
        return "a date"
    return type(value).__name__


def unsafe_characters(text: str) -> str:
    """The characters of ``text`` that must never reach an Asterisk .conf file, listed."""
    found = sorted(
        {c for c in text if c in ASTERISK_UNSAFE or unicodedata.category(c) in _LINE_LIKE}
    )
    return ", ".join(repr(c) for c in found)


def asterisk_unsafe_reason(text: str) -> str | None:
    """Why ``text`` cannot be written as a value into an Asterisk .conf file, or None."""
    if bad := unsafe_characters(text):
        return f"contains characters not allowed in Asterisk config files: {bad}"
    if text != text.strip():
        return "must not begin or end with spaces (Asterisk would strip them)"
    return None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass
class Problems:
    """The problem sink shared by every reader of one load."""

    items: list[ConfigProblem] = field(default_factory=list)

    def add(self, file: str, key: str, reason: str, severity: Severity = "error") -> None:
        self.items.append(ConfigProblem(file, key, reason, severity))

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.items)


class Table:
    def __init__(
        self,
        data: Mapping[str, object],
        *,
        file: str,
        path: str,
        problems: Problems,
        env: Mapping[str, str],
    ) -> None:
        self.data = data
        self.file = file
        self.path = path
        self.problems = problems
        self.env = env
        self._known: set[str] = set()

    # -- helpers ---------------------------------------------------------------------------

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def problem(self, name: str, reason: str, severity: Severity = "error") -> None:
        self.problems.add(self.file, self.key(name), reason, severity)

    def has(self, name: str) -> bool:
        self._known.add(name)
        return name in self.data

    def raw(self, name: str) -> object | None:
        self._known.add(name)
        return self.data.get(name)

    def child(self, name: str, data: Mapping[str, object]) -> Table:
        return Table(
            data, file=self.file, path=self.key(name), problems=self.problems, env=self.env
        )

    def expand(self, name: str, text: str) -> str | None:
        try:
            return substitute(text, self.env)
        except EnvSubstitutionError as exc:
            self.problem(name, str(exc))
            return None

    # -- typed getters ---------------------------------------------------------------------

    def string(
        self,
        name: str,
        default: str,
        *,
        choices: Iterable[str] | None = None,
        pattern: str | None = None,
        pattern_hint: str = "",
        required: bool = False,
        non_empty: bool = False,
        asterisk_safe: bool = False,
        secret: bool = False,
    ) -> str:
        """A string (after ${ENV} substitution); ``secret`` values are never echoed."""
        value = self.raw(name)
        if value is None:
            if required:
                self.problem(name, "is required")
            return default
        if not isinstance(value, str):
            self.problem(name, f"expected a string, got {describe_type(value)}")
            return default
        text = self.expand(name, value)
        if text is None:
            return default
        return self.check_string(
            name,
            text,
            default,
            choices=choices,
            pattern=pattern,
            pattern_hint=pattern_hint,
            non_empty=non_empty,
            asterisk_safe=asterisk_safe,
            secret=secret,
        )

    def check_string(
        self,
        name: str,
        text: str,
        default: str,
        *,
        choices: Iterable[str] | None = None,
        pattern: str | None = None,
        pattern_hint: str = "",
        non_empty: bool = False,
        asterisk_safe: bool = False,
        secret: bool = False,
    ) -> str:
        if non_empty and not text.strip():
            self.problem(name, "must not be empty")
            return default
        if asterisk_safe and (reason := asterisk_unsafe_reason(text)):
            self.problem(name, reason)
            return default
        if choices is not None:
            options = list(choices)
            if text not in options:
                self.problem(
                    name,
                    f"'{text}' is not one of {', '.join(options)}{did_you_mean(text, options)}",
                )
                return default
        if pattern is not None and not re.fullmatch(pattern, text):
            shown = "the value" if secret else f"'{text}'"
            self.problem(name, f"{shown} is not valid{': ' + pattern_hint if pattern_hint else ''}")
            return default
        return text

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(name, f"expected an integer, got {describe_type(value)}")
            return default
        if not minimum <= value <= maximum:
            self.problem(name, f"{value} is out of range ({minimum}..{maximum})")
            return default
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(name, f"expected a boolean (true/false), got {describe_type(value)}")
            return default
        return value

    def array(self, name: str) -> list[object] | None:
        value = self.raw(name)
        if value is None:
            return None
        if not isinstance(value, list):
            self.problem(name, f"expected an array, got {describe_type(value)}")
            return None
        return value

    def string_list(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        items = self.array(name)
        if items is None:
            return default
        result: list[str] = []
        for index, item in enumerate(items):
            item_key = f"{name}[{index}]"
            if not isinstance(item, str):
                self.problem(item_key, f"expected a string, got {describe_type(item)}")
                continue
            text = self.expand(item_key, item)
            if text is not None:
                result.append(text)
        return tuple(result)

    def table(self, name: str) -> Table:
        """The sub-table ``name``, or an empty one (after a problem if it is not a table)."""
        value = self.raw(name)
        if value is None:
            return self.child(name, {})
        if not isinstance(value, dict):
            self.problem(name, f"expected a table, got {describe_type(value)}")
            return self.child(name, {})
        return self.child(name, value)

    def int_map(
        self, name: str, *, minimum: int, maximum: int, key_pattern: str, key_hint: str
    ) -> dict[str, int]:
        """A table of name -> integer, e.g. skills = { lang_ja = 5 }."""
        sub = self.table(name)
        result: dict[str, int] = {}
        for entry, value in sub.data.items():
            sub.raw(entry)
            if not re.fullmatch(key_pattern, entry):
                sub.problem(entry, f"'{entry}' is not a valid name: {key_hint}")
            elif isinstance(value, bool) or not isinstance(value, int):
                sub.problem(entry, f"expected an integer, got {describe_type(value)}")
            elif not minimum <= value <= maximum:
                sub.problem(entry, f"{value} is out of range ({minimum}..{maximum})")
            else:
                result[entry] = value
        sub.finish()
        return result

    def finish(self, *, allow: Iterable[str] = ()) -> None:
        """Report every key that was never read as unknown."""
        known = self._known | set(allow)
        for name in self.data:
            if name not in known:
                self.problem(name, f"unknown key{did_you_mean(name, sorted(known))}")
