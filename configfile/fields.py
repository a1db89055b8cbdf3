"""The leaf values of configuration files as pydantic validators, with the house's
reasons: integers in a range, booleans, strings (after ``${ENV}`` substitution, the
environment coming as ``context={"env": ...}``) with their checks, the names that key
tables, dates. Models use them as ``Annotated[int, integer(1, 9)]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date

from pydantic import PlainValidator, ValidationInfo

from configfile.envsubst import EnvSubstitutionError, substitute
from configfile.schema import describe_type, did_you_mean, problem


def integer(minimum: int, maximum: int) -> PlainValidator:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise problem(f"expected an integer, got {describe_type(value)}")
        if not minimum <= value <= maximum:
            raise problem(f"{value} is out of range ({minimum}..{maximum})")
        return value

    return PlainValidator(check)


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise problem(f"expected a boolean (true/false), got {describe_type(value)}")
    return value


BOOLEAN = PlainValidator(_boolean)


def text(
    *,
    choices: Iterable[str] | None = None,
    pattern: str | None = None,
    hint: str = "",
    non_empty: bool = False,
    secret: bool = False,
    then: Callable[[str], str] | None = None,
) -> PlainValidator:
    """A string after ``${ENV}`` substitution; ``secret`` values are never echoed.

    ``then`` checks (raising ``problem``) or normalises the value last.
    """
    options = None if choices is None else tuple(choices)

    def check(value: object, info: ValidationInfo) -> str:
        result = string(value, info)
        if non_empty and not result.strip():
            raise problem("must not be empty")
        if options is not None and result not in options:
            raise problem(
                f"'{result}' is not one of {', '.join(options)}{did_you_mean(result, options)}"
            )
        if pattern is not None and not re.fullmatch(pattern, result):
            shown = "the value" if secret else f"'{result}'"
            raise problem(f"{shown} is not valid{': ' + hint if hint else ''}")
        return then(result) if then is not None else result

    return PlainValidator(check)


def string(value: object, info: ValidationInfo) -> str:
    """``value`` as a string after ``${ENV}`` substitution (for validators of their own)."""
    if not isinstance(value, str):
        raise problem(f"expected a string, got {describe_type(value)}")
    try:
        return substitute(value, _env(info))
    except EnvSubstitutionError as exc:
        raise problem(str(exc)) from None


def name(pattern: str, reason: Callable[[str], str]) -> PlainValidator:
    """A table key (no substitution) that must match ``pattern``; ``reason(key)`` says why not."""

    def check(value: object) -> str:
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise problem(reason(str(value)))
        return value

    return PlainValidator(check)


def _date(value: object) -> date:
    if isinstance(value, date):
        return value  # TOML dates arrive parsed
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise problem(f"{value!r} is not a date like 2026-12-29")


DATE = PlainValidator(_date)


def _env(info: ValidationInfo) -> Mapping[str, str]:
    context = info.context
    env = context.get("env") if isinstance(context, dict) else None
    return env if isinstance(env, Mapping) else {}
