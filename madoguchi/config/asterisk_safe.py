"""Which configuration values may be written into Asterisk's .conf files (no injection)."""

from __future__ import annotations

import unicodedata

from configfile.schema import problem

# Characters that would let a value start a new line, a comment (;), a section ([...]),
# or break out of a quoted caller-ID name in Asterisk's .conf syntax.
ASTERISK_UNSAFE = frozenset('\r\n;[]"<>\\\x00')
# Control characters and Unicode line/paragraph separators: some tools treat them as newlines.
_LINE_LIKE = frozenset({"Cc", "Zl", "Zp"})


def unsafe_characters(text: str) -> str:
    """The characters of ``text`` that must never reach an Asterisk .conf file, listed."""
    found = sorted(
        {c for c in text if c in ASTERISK_UNSAFE or unicodedata.category(c) in _LINE_LIKE}
    )
    return ", ".join(repr(c) for c in found)


def asterisk_unsafe_reason(text: str) -> str | None:
    """Why ``text`` cannot be written as a value into an Asterisk .conf file, or None."""
    if bad := unsafe_characters(text):
        return f"contains characters not allowed in Asterisk config files: {bad}"
    if text != text.strip():
        return "must not begin or end with spaces (Asterisk would strip them)"
    return None


def asterisk_safe(text: str) -> str:
    """``text`` when it may be written into a .conf file (a ``then`` of configfile.fields.text)."""
    if reason := asterisk_unsafe_reason(text):
        raise problem(reason)
    return text
