"""Validating a parsed file with a pydantic model: every problem at once, as ConfigProblems.

Each problem names the file, the dotted key path (``queue.sales.relax[0].after``; an entry
of an array of tables with a valid ``id`` is named by it: ``agent.2001.password``) and the
reason. Leaf validators raise ``problem(reason)``, whose message is the reason as written;
pydantic's own errors (unknown key, missing key, not a table, not an array) are worded here.
Values that fail are dropped and the model validated again, so the caller also gets a model
with the defaults where the file was wrong, for the checks that span files.
"""

from __future__ import annotations

import copy
import difflib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from configfile.problems import ConfigProblem

M = TypeVar("M", bound=BaseModel)
Loc = tuple[int | str, ...]

PROBLEM = "config_problem"  # the pydantic error type of problem()
_MAX_ROUNDS = 8  # each round drops every failing value; nesting is shallower than this
_DROPPED = object()


def problem(reason: str) -> PydanticCustomError:
    """The error a validator raises: ``reason`` is reported as it is."""
    return PydanticCustomError(PROBLEM, "{reason}", {"reason": reason})


# TOML's names for the Python types tomllib returns; bool before int (a bool is an int).
_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a float"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
    (date, "a date"),
)


def describe_type(value: object) -> str:
    """How a TOML value's type is named in a reason ("a string", "an array", ...)."""
    return next(
        (name for kind, name in _TYPE_NAMES if isinstance(value, kind)), type(value).__name__
    )


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def validate_file(
    schema: type[M],
    data: Mapping[str, Any],
    *,
    file: str,
    context: Mapping[str, Any] | None = None,
) -> tuple[M, list[ConfigProblem]]:
    """The validated model (defaults where values failed) and every problem of ``data``."""
    working: dict[str, Any] = copy.deepcopy(dict(data))
    problems: list[ConfigProblem] = []
    for round_ in range(_MAX_ROUNDS):
        try:
            return schema.model_validate(working, context=dict(context or {})), problems
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        if round_ == 0:  # later rounds only see what dropping a value left behind
            failed: set[Loc] = {tuple(error["loc"]) for error in errors}
            problems.extend(
                ConfigProblem(file, key_path(data, error["loc"], failed), _reason(schema, error))
                for error in errors
            )
        for error in errors:
            _drop(working, _drop_loc(error))
        working = _without_dropped(working)
    raise RuntimeError(f"{file}: validation did not settle")  # a schema bug, not a file's


def key_path(data: Mapping[str, Any], loc: Loc, failed: AbstractSet[Loc] = frozenset()) -> str:
    """The dotted key of ``loc`` in ``data``; array items by their valid ``id`` or index."""
    key = ""
    node: Any = data
    for depth, part in enumerate(loc):
        if part == "[key]":
            continue
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            ident = item.get("id") if isinstance(item, dict) else None
            own = (*loc[:depth], part, "id")
            if isinstance(ident, str) and ident and own not in failed:
                key += f".{ident}"
            else:
                key += f"[{part}]"
            node = item
            continue
        key = f"{key}.{part}" if key else part
        node = node.get(part) if isinstance(node, dict) else None
    return key


def _reason(schema: type[BaseModel], error: ErrorDetails) -> str:
    kind = error["type"]
    value = error["input"]
    if kind == PROBLEM:
        return str(error["ctx"]["reason"]) if "ctx" in error else error["msg"]
    if kind == "extra_forbidden":
        name = str(error["loc"][-1])
        return f"unknown key{did_you_mean(name, _fields_at(schema, error['loc'][:-1]))}"
    if kind == "missing":
        return "is required"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a table{_table_header(schema, error['loc'])}, got {describe_type(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"expected an array, got {describe_type(value)}"
    return error["msg"]


def _table_header(schema: type[BaseModel], loc: Sequence[int | str]) -> str:
    """How the admin writes the table expected at ``loc``: ``([[relax]])``, ``([queue.x])``."""
    if len(loc) < 2 or isinstance(loc[-2], int):
        return ""
    if isinstance(loc[-1], int):
        return f" ([[{loc[-2]}]])"
    if not _fields_at(schema, loc[:-1]):  # an entry of a table of tables, not a key of a model
        return f" ([{loc[-2]}.{loc[-1]}])"
    return ""


def _fields_at(schema: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys the model allows at ``loc`` (for a did-you-mean)."""
    annotation: Any = schema
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        else:
            args = typing.get_args(annotation)
            annotation = args[-1] if args else None
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sorted(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = members[0]
        else:
            return annotation


def _drop_loc(error: ErrorDetails) -> Loc:
    loc = tuple(error["loc"])
    if loc and loc[-1] == "[key]":
        return loc[:-1]  # a bad name: the entry it names goes
    if error["type"] == "missing":
        return loc[:-1]  # an entry without a required key goes as a whole
    return loc


def _drop(data: dict[str, Any], loc: Loc) -> None:
    """Mark the value at ``loc`` (or the deepest container on the way) as dropped."""
    for length in range(len(loc), 0, -1):
        node: Any = data
        for part in loc[: length - 1]:
            node = _child(node, part)
        last = loc[length - 1]
        if isinstance(node, dict) and last in node:
            node[last] = _DROPPED
            return
        if isinstance(node, list) and isinstance(last, int) and last < len(node):
            node[last] = _DROPPED
            return


def _child(node: Any, part: int | str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return node[part]
    return None


def _without_dropped(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_dropped(v) for k, v in node.items() if v is not _DROPPED}
    if isinstance(node, list):
        return [_without_dropped(v) for v in node if v is not _DROPPED]
    return node
