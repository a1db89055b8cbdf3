"""Skill requirement expressions: parsed once into a small, safe AST (no eval).

Grammar (keywords are case-insensitive, whitespace is free)::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := atom ("and" atom)*
    atom       := "(" expr ")" | comparison
    comparison := SKILL OP LEVEL          e.g. lang_ja>=3
    SKILL      := [A-Za-z_][A-Za-z0-9_]*
    OP         := ">=" | "<=" | "==" | "!=" | ">" | "<"
    LEVEL      := non-negative integer

An empty (or blank) expression means "anyone". A skill the agent does not have counts as
level 0, so ``lang_en<2`` is true for an agent without ``lang_en``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Operator = Literal[">=", "<=", "==", "!=", ">", "<"]
_OPERATORS: tuple[Operator, ...] = (">=", "<=", "==", "!=", ">", "<")

_TOKEN = re.compile(
    r"\s*(?:(?P<op>>=|<=|==|!=|>|<)|(?P<paren>[()])|(?P<num>\d+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_MAX_LENGTH = 1000


class RequirementError(ValueError):
    """A requirement expression could not be parsed; says where and why."""

    def __init__(self, text: str, column: int, reason: str) -> None:
        self.text = text
        self.column = column
        self.reason = reason
        super().__init__(f"invalid skill requirement {text!r}: {reason} at column {column}")


@dataclass(frozen=True, slots=True)
class Anyone:
    """The empty requirement: every agent qualifies."""

    def matches(self, skills: Mapping[str, int]) -> bool:
        return True

    def __str__(self) -> str:
        return ""


@dataclass(frozen=True, slots=True)
class Comparison:
    skill: str
    op: Operator
    level: int

    def matches(self, skills: Mapping[str, int]) -> bool:
        have = skills.get(self.skill, 0)
        match self.op:
            case ">=":
                return have >= self.level
            case "<=":
                return have <= self.level
            case "==":
                return have == self.level
            case "!=":
                return have != self.level
            case ">":
                return have > self.level
            case "<":
                return have < self.level

    def __str__(self) -> str:
        return f"{self.skill}{self.op}{self.level}"


@dataclass(frozen=True, slots=True)
class AllOf:
    terms: tuple[Requirement, ...]

    def matches(self, skills: Mapping[str, int]) -> bool:
        return all(term.matches(skills) for term in self.terms)

    def __str__(self) -> str:
        return " and ".join(
            f"({term})" if isinstance(term, AnyOf) else str(term) for term in self.terms
        )


@dataclass(frozen=True, slots=True)
class AnyOf:
    terms: tuple[Requirement, ...]

    def matches(self, skills: Mapping[str, int]) -> bool:
        return any(term.matches(skills) for term in self.terms)

    def __str__(self) -> str:
        return " or ".join(str(term) for term in self.terms)


Requirement = Anyone | Comparison | AllOf | AnyOf
ANYONE = Anyone()


def any_of(*requirements: Requirement) -> Requirement:
    """The union of requirements (used for relaxation: it can only widen who qualifies)."""
    flat: list[Requirement] = []
    for requirement in requirements:
        if isinstance(requirement, Anyone):
            return ANYONE
        members = requirement.terms if isinstance(requirement, AnyOf) else (requirement,)
        for member in members:
            if member not in flat:
                flat.append(member)
    if not flat:
        return ANYONE
    if len(flat) == 1:
        return flat[0]
    return AnyOf(tuple(flat))


def parse_requirement(text: str) -> Requirement:
    """Parse ``text`` into a :data:`Requirement`; raises :class:`RequirementError`."""
    return _parse_cached(text)


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Requirement:
    if len(text) > _MAX_LENGTH:
        raise RequirementError(text[:40] + "...", 0, f"longer than {_MAX_LENGTH} characters")
    tokens = _tokenize(text)
    if not tokens:
        return ANYONE
    parser = _Parser(text, tokens)
    result = parser.parse_or()
    if parser.position < len(tokens):
        _, value, column = tokens[parser.position]
        raise RequirementError(text, column, f"unexpected {value!r}")
    return result


_Token = tuple[str, str, int]  # (kind, value, 1-based column)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            column = position + 1 + (len(text[position:]) - len(text[position:].lstrip()))
            raise RequirementError(text, column, f"unexpected character {text[column - 1]!r}")
        kind = match.lastgroup
        assert kind is not None
        value = match.group(kind)
        tokens.append((kind, value, match.start(kind) + 1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.position = 0

    def _peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _end_column(self) -> int:
        return len(self.text) + 1

    def _is_keyword(self, token: _Token | None, keyword: str) -> bool:
        return token is not None and token[0] == "word" and token[1].lower() == keyword

    def parse_or(self) -> Requirement:
        terms = [self.parse_and()]
        while self._is_keyword(self._peek(), "or"):
            self.position += 1
            terms.append(self.parse_and())
        if len(terms) == 1:
            return terms[0]
        return any_of(*terms)

    def parse_and(self) -> Requirement:
        terms = [self.parse_atom()]
        while self._is_keyword(self._peek(), "and"):
            self.position += 1
            terms.append(self.parse_atom())
        if len(terms) == 1:
            return terms[0]
        flat: list[Requirement] = []
        for term in terms:
            flat.extend(term.terms if isinstance(term, AllOf) else (term,))
        return AllOf(tuple(flat))

    def parse_atom(self) -> Requirement:
        token = self._peek()
        if token is None:
            raise RequirementError(self.text, self._end_column(), "expression ends too early")
        kind, value, column = token
        if kind == "paren" and value == "(":
            self.position += 1
            inner = self.parse_or()
            closing = self._peek()
            if closing is None or closing[:2] != ("paren", ")"):
                where = closing[2] if closing else self._end_column()
                raise RequirementError(self.text, where, "missing ')'")
            self.position += 1
            return inner
        if kind != "word" or value.lower() in ("and", "or"):
            raise RequirementError(self.text, column, f"expected a skill name, got {value!r}")
        self.position += 1
        op_token = self._peek()
        if op_token is None or op_token[0] != "op":
            where = op_token[2] if op_token else self._end_column()
            raise RequirementError(
                self.text, where, f"expected a comparison ({', '.join(_OPERATORS)}) after {value!r}"
            )
        self.position += 1
        level_token = self._peek()
        if level_token is None or level_token[0] != "num":
            where = level_token[2] if level_token else self._end_column()
            raise RequirementError(self.text, where, "expected a skill level (whole number)")
        self.position += 1
        op = next(candidate for candidate in _OPERATORS if candidate == op_token[1])
        return Comparison(skill=value, op=op, level=int(level_token[1]))
