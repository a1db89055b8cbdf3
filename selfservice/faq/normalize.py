"""Normalising customer text before retrieval: NFKC, case, spaces, kana folding, script checks."""

from __future__ import annotations

import re
import unicodedata

from selfservice.faq.model import Lang

_SPACES = re.compile(r"\s+")
_KATAKANA_START, _KATAKANA_END = 0x30A1, 0x30F6
_KANA_OFFSET = 0x60


def normalize(text: str) -> str:
    """NFKC (full-width letters and digits, half-width katakana), lower case, one space."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return _SPACES.sub(" ", folded).strip()


def hiragana(text: str) -> str:
    """Katakana folded to hiragana, so ログイン and ろぐいん index as one word."""
    return "".join(
        chr(ord(c) - _KANA_OFFSET) if _KATAKANA_START <= ord(c) <= _KATAKANA_END else c
        for c in text
    )


def is_japanese_char(c: str) -> bool:
    code = ord(c)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF
        or code == 0x3005  # 々
    )


def is_latin_letter(c: str) -> bool:
    return c.isascii() and c.isalpha()


def detect_lang(text: str, hint: Lang) -> Lang:
    """Japanese when the text has any kana or kanji, English when it has Latin letters only;
    the caller's hint when it has neither."""
    if any(is_japanese_char(c) for c in text):
        return "ja"
    if any(is_latin_letter(c) for c in text):
        return "en"
    return hint


def readable_share(text: str) -> float:
    """The share of the letters that are Japanese or Latin: other scripts cannot match the base."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    ours = sum(1 for c in letters if is_japanese_char(c) or is_latin_letter(c))
    return ours / len(letters)


def asks_for_person(text: str, phrases: tuple[str, ...], lang: Lang) -> bool:
    """Whether normalised ``text`` contains one of the hand-off phrases (whole words in English)."""
    for phrase in phrases:
        wanted = normalize(phrase)
        if lang == "ja" and hiragana(wanted) in hiragana(text):
            return True
        if lang == "en" and re.search(rf"\b{re.escape(wanted)}s?\b", text):
            return True
    return False
