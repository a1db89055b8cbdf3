"""Skill requirement expressions, e.g. ``lang_ja>=3 and (billing>=2 or vip==1)``.

Grammar (``and`` binds tighter than ``or``; the empty string means "no requirement")::

    expr       := and_expr ("or" and_expr)*
    and_expr   := term ("and" term)*
    term       := "(" expr ")" | SKILL OP LEVEL
    OP         := ">=" | "<=" | "==" | "!=" | ">" | "<"

A skill an agent does not have counts as level 0. The configuration uses this to
check that some agent can ever meet each requirement; the ACD has its own matcher
with the same semantics.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

_TOKEN = re.compile(r"\s*(?:(>=|<=|==|!=|>|<)|(\()|(\))|([A-Za-z_][A-Za-z0-9_]*)|(\d+)|(\S))")
_OPERATORS: Mapping[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}


class RequirementSyntaxError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Comparison:
    skill: str
    op: str
    level: int

    def matches(self, skills: Mapping[str, int]) -> bool:
        return _OPERATORS[self.op](skills.get(self.skill, 0), self.level)


@dataclass(frozen=True, slots=True)
class AllOf:
    terms: tuple[Requirement, ...]

    def matches(self, skills: Mapping[str, int]) -> bool:
        return all(t.matches(skills) for t in self.terms)


@dataclass(frozen=True, slots=True)
class AnyOf:
    terms: tuple[Requirement, ...]

    def matches(self, skills: Mapping[str, int]) -> bool:
        return any(t.matches(skills) for t in self.terms)


Requirement = Comparison | AllOf | AnyOf
NO_REQUIREMENT: Requirement = AllOf(())


def skills_named(requirement: Requirement) -> Iterator[str]:
    if isinstance(requirement, Comparison):
        yield requirement.skill
    else:
        for term in requirement.terms:
            yield from skills_named(term)


def parse_requirement(text: str) -> Requirement:
    """Parse an expression; raises RequirementSyntaxError with the position of the problem."""
    tokens = _tokenize(text)
    if not tokens:
        return NO_REQUIREMENT
    parser = _Parser(tokens, text)
    result = parser.expression()
    if parser.position < len(tokens):
        raise parser.error("unexpected")
    return result


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # only trailing whitespace is left
            break
        op, lparen, rparen, word, number, other = match.groups()
        start = match.start(match.lastindex or 0)
        if op:
            tokens.append(("op", op, start))
        elif lparen:
            tokens.append(("(", "(", start))
        elif rparen:
            tokens.append((")", ")", start))
        elif word:
            kind = word.lower() if word.lower() in ("and", "or") else "name"
            tokens.append((kind, word, start))
        elif number:
            tokens.append(("level", number, start))
        else:
            raise RequirementSyntaxError(f"unexpected character {other!r} at position {start + 1}")
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.position = 0

    def error(self, what: str) -> RequirementSyntaxError:
        if self.position >= len(self.tokens):
            return RequirementSyntaxError(f"{what} end of expression")
        _, value, start = self.tokens[self.position]
        return RequirementSyntaxError(f"{what} '{value}' at position {start + 1}")

    def peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def take(self, kind: str, expected: str) -> str:
        if self.peek() != kind:
            raise self.error(f"expected {expected}, found")
        value = self.tokens[self.position][1]
        self.position += 1
        return value

    def expression(self) -> Requirement:
        terms = [self.conjunction()]
        while self.peek() == "or":
            self.position += 1
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else AnyOf(tuple(terms))

    def conjunction(self) -> Requirement:
        terms = [self.term()]
        while self.peek() == "and":
            self.position += 1
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else AllOf(tuple(terms))

    def term(self) -> Requirement:
        if self.peek() == "(":
            self.position += 1
            inner = self.expression()
            self.take(")", "')'")
            return inner
        skill = self.take("name", "a skill name")
        op = self.take("op", "a comparison (>=, <=, ==, !=, >, <)")
        level = int(self.take("level", "a level number"))
        return Comparison(skill, op, level)
