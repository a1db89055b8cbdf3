"""Tokenizers for retrieval: SudachiPy (dictionary forms) for Japanese, a small one for English.

Both return the content words of a normalised text; particles, auxiliaries, symbols and
function words carry no topic and would only add noise to the ranking.
"""

from __future__ import annotations

import re
from functools import cache

from sudachipy import Dictionary, SplitMode, Tokenizer

from selfservice.faq.normalize import hiragana

# Sudachi parts of speech that never decide which question this is.
_SKIP_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白", "接頭辞"})
# Dictionary forms of light verbs and politeness that appear in every question.
_JA_STOP = frozenset(
    hiragana(w)
    for w in (
        "為る", "有る", "居る", "成る", "出来る", "下さる", "頂く", "貰う", "呉れる", "遣る",
        "欲しい", "たい", "です", "ます", "此の", "其の", "彼の", "此れ", "其れ", "何", "様",
        "事", "物", "方", "良い", "思う", "言う", "の", "ん", "御", "お", "ご", "て", "しまう",
        "仕舞う", "くる", "来る", "行く", "いる", "ある", "なる",
    )
)  # fmt: skip
_EN_STOP = frozenset(
    """a an the i me my mine we our you your it its is are was were be been am do does did
    to of in on at for from by with about as into and or but if so than then there here this
    that these those what which who whom when where how why can could would should will shall
    may might must have has had get got please just not no any some all it's i'm im dont don't
    can't cant isn't doesn't didn't won't want wanted need like know tell help hi hello thanks
    thank""".split()
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@cache
def _sudachi() -> Tokenizer:
    # Loaded once per process: the core dictionary is tens of megabytes.
    return Dictionary(dict="core").tokenizer(mode=SplitMode.A)


def japanese_tokens(text: str) -> list[str]:
    """Content words of ``text`` as Sudachi's normalised dictionary forms, kana folded."""
    out: list[str] = []
    for m in _sudachi().tokenize(text):
        if m.part_of_speech()[0] in _SKIP_POS:
            continue
        word = hiragana(m.normalized_form())
        if word and word not in _JA_STOP and not word.isspace():
            out.append(word)
    return out


def stem(word: str) -> str:
    """A light suffix stripper: charge, charges, charged and charging all become "charg"."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)] + keep
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]  # shipping -> shipp -> ship
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def english_tokens(text: str) -> list[str]:
    """Lower-case content words of ``text``, stemmed; digits kept (they name amounts)."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in _EN_STOP]


def tokens(text: str, lang: str) -> list[str]:
    return japanese_tokens(text) if lang == "ja" else english_tokens(text)
