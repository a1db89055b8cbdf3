"""Ranking FAQ entries for one language: BM25 (bm25s) over question variants, plus a confidence.

Every question variant of an entry is one document, and the entry's answer is one more
(customers often ask in the answer's words: 代引き, PayPay). An entry scores as its best
document. BM25 scores are not comparable across questions, so each entry also gets its
coverage: the share of the question's information (IDF-weighted content words) found in the
entry. An out-of-scope question keeps most of its words unmatched, whatever its BM25 score.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np

from selfservice.faq.model import KnowledgeBase, Lang
from selfservice.faq.normalize import normalize

Tokenize = Callable[[str], list[str]]


@dataclass(frozen=True, slots=True)
class Ranked:
    entry: str
    question: str
    coverage: float
    bm25: float


@dataclass(frozen=True, slots=True)
class _Doc:
    entry: str
    question: str
    tokens: frozenset[str]


class FaqIndex:
    """The searchable form of one language of a knowledge base (built once per load)."""

    def __init__(self, base: KnowledgeBase, lang: Lang, tokenize: Tokenize) -> None:
        self._tokenize = tokenize
        docs: list[_Doc] = []
        for entry in base.entries:
            for question in entry.questions[lang]:
                docs.append(_Doc(entry.id, question, frozenset(self.tokens(question))))
            for keyword in entry.keywords[lang]:
                docs.append(
                    _Doc(entry.id, entry.questions[lang][0], frozenset(self.tokens(keyword)))
                )
            answer_words = frozenset(self.tokens(entry.answer[lang]))
            docs.append(_Doc(entry.id, entry.questions[lang][0], answer_words))
        self._docs = tuple(docs)
        self._entry_words: dict[str, set[str]] = {}
        for doc in docs:
            self._entry_words.setdefault(doc.entry, set()).update(doc.tokens)
        self._bm25 = bm25s.BM25()
        self._bm25.index([sorted(d.tokens) or [""] for d in docs], show_progress=False)
        df: dict[str, int] = {}
        for words in self._entry_words.values():
            for w in words:
                df[w] = df.get(w, 0) + 1
        n = len(self._entry_words)
        # IDF over entries, not documents: a word in every variant of one entry is still rare.
        self._idf = {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)

    def idf(self, word: str) -> float:
        return self._idf.get(word, self._unknown_idf)

    def tokens(self, text: str) -> list[str]:
        """Content words of ``text``, normalised the same way for the base and the customer."""
        return self._tokenize(normalize(text))

    def rank(self, words: Sequence[str], limit: int = 5) -> list[Ranked]:
        """The best entries for the query's content words, best first (at most ``limit``)."""
        known = [w for w in words if w in self._idf]
        if not known:
            return []
        scores = np.asarray(self._bm25.get_scores(known), dtype=float)
        best: dict[str, tuple[float, str]] = {}
        for doc, score in zip(self._docs, scores, strict=True):
            if score > best.get(doc.entry, (0.0, ""))[0]:
                best[doc.entry] = (float(score), doc.question)
        total = sum(self.idf(w) for w in set(words))
        ranked = [
            Ranked(entry, question, self._coverage(entry, words, total), score)
            for entry, (score, question) in best.items()
        ]
        ranked.sort(key=lambda r: (r.bm25, r.coverage), reverse=True)
        return ranked[:limit]

    def _coverage(self, entry: str, words: Sequence[str], total: float) -> float:
        have = self._entry_words[entry]
        found = sum(self.idf(w) for w in set(words) if w in have)
        return found / total if total > 0 else 0.0
