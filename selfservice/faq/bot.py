"""The FAQ bot: answer with an entry's own text when confident, otherwise hand off to a person.

Pure: no I/O after construction (the tokenizer's dictionary loads once, in the constructor).
Every reply's answer is either None or exactly one answer of the knowledge base.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Final

from selfservice.faq.index import FaqIndex, Ranked
from selfservice.faq.model import LANGS, FaqReply, Guess, KnowledgeBase, Lang, Reason
from selfservice.faq.normalize import asks_for_person, detect_lang, normalize, readable_share
from selfservice.faq.tokens import tokens

MAX_CHARS: Final = 500
"""Longer text is not a question the base can answer; the REST edge caps the body as well."""
DEFAULT_THRESHOLD: Final = 0.3
"""Minimum confidence to answer (calibrated with bench/faq_accuracy.py)."""
AMBIGUITY_PENALTY: Final = 0.5
"""How much a runner-up's coverage lowers the confidence: two entries that both match well
mean the question is ambiguous, and a wrong answer costs more than a hand-off."""
GUESSES: Final = 3
MIN_READABLE: Final = 0.6
"""Share of letters that must be Japanese or Latin: other scripts cannot match any entry."""


class FaqBot:
    def __init__(self, base: KnowledgeBase, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.base = base
        self.threshold = threshold
        self._indexes: Mapping[Lang, FaqIndex] = {
            lang: FaqIndex(base, lang, partial(tokens, lang=lang)) for lang in LANGS
        }

    def ask(self, text: str, lang: Lang = "ja") -> FaqReply:
        """The reply to one customer question; ``lang`` is the widget's language (a hint)."""
        if len(text) > MAX_CHARS:
            return self._handoff(lang, "too_long", ())
        clean = normalize(text)
        if not clean:
            return self._handoff(lang, "empty", ())
        lang = detect_lang(clean, lang)
        if asks_for_person(clean, self.base.texts.handoff_phrases[lang], lang):
            return self._handoff(lang, "requested", ())
        if readable_share(clean) < MIN_READABLE:
            return self._handoff(lang, "unreadable", ())
        index = self._indexes[lang]
        ranked = index.rank(index.tokens(clean))
        if not ranked:
            return self._handoff(lang, "unreadable", ())
        best = ranked[0]
        score = confidence(ranked)
        if score < self.threshold:
            return self._handoff(lang, "low_confidence", ranked, score)
        return FaqReply(
            answer=self.base.entry(best.entry).answer[lang],
            entry=best.entry,
            score=round(score, 4),
            handoff=False,
            reason="answered",
            lang=lang,
            guesses=_guesses(ranked),
        )

    def _handoff(
        self, lang: Lang, reason: Reason, ranked: Sequence[Ranked], score: float = 0.0
    ) -> FaqReply:
        texts = self.base.texts
        message = texts.handoff[lang] if reason == "requested" else texts.not_found[lang]
        return FaqReply(
            answer=None,
            entry=None,
            score=round(score, 4),
            handoff=True,
            reason=reason,
            lang=lang,
            message=message,
            guesses=_guesses(ranked),
        )


def confidence(ranked: Sequence[Ranked]) -> float:
    """The best entry's coverage, less a share of the runner-up's (0 when nothing matched)."""
    if not ranked:
        return 0.0
    runner_up = max((r.coverage for r in ranked[1:]), default=0.0)
    return max(0.0, ranked[0].coverage - AMBIGUITY_PENALTY * runner_up)


def _guesses(ranked: Sequence[Ranked]) -> tuple[Guess, ...]:
    """The three best entries, each with its coverage, for the hand-off's "did you mean"."""
    return tuple(Guess(r.entry, r.question, round(r.coverage, 4)) for r in ranked[:GUESSES])
