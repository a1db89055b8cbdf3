"""The FAQ knowledge base and the bot's reply as plain frozen values (no I/O, no parsing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")

Reason = Literal["answered", "low_confidence", "requested", "empty", "too_long", "unreadable"]
"""Why the bot answered or handed off; stored with each turn."""


@dataclass(frozen=True, slots=True)
class FaqEntry:
    id: str
    category: str
    questions: Mapping[Lang, tuple[str, ...]]
    keywords: Mapping[Lang, tuple[str, ...]]
    """Words customers use for this topic that the questions do not (代引き, postage)."""
    answer: Mapping[Lang, str]


@dataclass(frozen=True, slots=True)
class BotTexts:
    """What the bot says when it does not answer from an entry, and what asks for a person."""

    not_found: Mapping[Lang, str]
    handoff: Mapping[Lang, str]
    handoff_phrases: Mapping[Lang, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    entries: tuple[FaqEntry, ...]
    texts: BotTexts

    def entry(self, entry_id: str) -> FaqEntry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def answers(self) -> frozenset[str]:
        """Every answer text of the base, in every language (what a reply may contain)."""
        return frozenset(text for e in self.entries for text in e.answer.values())


@dataclass(frozen=True, slots=True)
class Guess:
    entry: str
    question: str
    score: float


@dataclass(frozen=True, slots=True)
class FaqReply:
    """One turn's outcome. ``answer`` is an entry's own answer text or None (hand-off)."""

    answer: str | None
    entry: str | None
    score: float
    handoff: bool
    reason: Reason
    lang: Lang
    message: str | None = None
    guesses: tuple[Guess, ...] = field(default=())
