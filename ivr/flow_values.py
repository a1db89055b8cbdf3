"""The values of a flow file as pydantic validators, worded as the IVR's admins know them.

Fields that name a node carry ``NODE_REF``, fields of prompts ``PROMPTS_REF``: the loader
collects both from the parsed tables and checks them once every flow is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, TypeVar

from pydantic import PlainValidator

from configfile.schema import Wording, problem
from ivr.flow import Prompts
from ivr.flow_syntax import NAME, PROMPT

E = TypeVar("E", bound=Enum)

# The loader's own words for pydantic's errors (no did-you-mean: flows are short).
WORDING = Wording(missing="missing", suggest_keys=False, not_a_table="must be a table")


class Marker:
    """Marks a field for the loader: its value names a node, or lists prompts."""

    def __init__(self, what: str) -> None:
        self.what = what


NODE_REF = Marker("node")
PROMPTS_REF = Marker("prompts")


def text(pattern: re.Pattern[str] | None = None) -> PlainValidator:
    def check(value: object) -> str:
        if not isinstance(value, str):
            raise problem("must be a string")
        if pattern is not None and not pattern.match(value):
            raise problem(f"invalid value {value!r}")
        return value

    return PlainValidator(check)


def text_list(pattern: re.Pattern[str]) -> PlainValidator:
    def check(value: object) -> list[str]:
        if not isinstance(value, list) or not all(
            isinstance(v, str) and pattern.match(v) for v in value
        ):
            raise problem(f"must be a list of {pattern.pattern}")
        return value

    return PlainValidator(check)


def integer(low: int, high: int) -> PlainValidator:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise problem(f"must be an integer {low}..{high}")
        return value

    return PlainValidator(check)


def number(low: float, high: float) -> PlainValidator:
    def check(value: object) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise problem(f"must be a number {low}..{high}")
        return float(value)

    return PlainValidator(check)


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise problem("must be true or false")
    return value


BOOLEAN = PlainValidator(_boolean)


def choice(enum: type[E]) -> PlainValidator:
    def check(value: object) -> E:
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(str(e.value) for e in enum)
            raise problem(f"{value!r} is not one of: {allowed}") from None

    return PlainValidator(check)


def _prompts(value: object) -> Prompts:
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, list)
        or not items
        or not all(isinstance(p, str) and PROMPT.match(p) for p in items)
    ):
        raise problem("a sound name or a list of them (letters, digits, _ - /; no extension)")
    return tuple(items)


def _regex(value: object) -> re.Pattern[str]:
    try:
        return re.compile(str(value))
    except re.error as exc:
        raise problem(f"not a regular expression: {exc}") from None


def checked(rule: Callable[[Any], Any]) -> PlainValidator:
    """A validator from a function that returns the value or raises ``problem``."""
    return PlainValidator(rule)


NodeName = Annotated[str, text(NAME), NODE_REF]
PromptList = Annotated[Prompts, PlainValidator(_prompts), PROMPTS_REF]
Regex = Annotated[re.Pattern[str], PlainValidator(_regex)]
Flag = Annotated[bool, BOOLEAN]
