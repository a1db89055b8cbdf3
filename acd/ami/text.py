"""Caller-supplied text, cleaned once at the edge: caller ID, the IVR's context blob, skills.

Everything that comes from Asterisk is text a caller may have influenced (caller ID name and
number, the IVR's context blob): control characters removed, lengths bounded, names checked,
the base64url JSON of ACD_CONTEXT decoded defensively. The same holds for text going back to
Asterisk in a header (``caller_id``, ``variable_value``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata

from acd.core.requirements import RequirementError, parse_requirement

NAME_LIMIT = 80
NUMBER_LIMIT = 40
REQUIREMENTS_LIMIT = 500
CONTEXT_B64_LIMIT = 16_384
CONTEXT_STRING_LIMIT = 500
CONTEXT_DEPTH_LIMIT = 6
CONTEXT_ITEMS_LIMIT = 100

_NUMBER_CHARS = re.compile(r"[^0-9A-Za-z+*#._-]")


def clean_text(value: object, limit: int) -> str:
    """Printable text only (Japanese kept): control/format characters dropped, whitespace
    runs collapsed to one space, at most ``limit`` characters."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    kept = [
        " " if ch.isspace() else ch
        for ch in unicodedata.normalize("NFC", text)
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    ]
    return " ".join("".join(kept).split())[:limit]


def clean_number(value: object) -> str:
    """A caller number: digits, letters and + * # . _ - only, at most NUMBER_LIMIT chars."""
    text = value if isinstance(value, str) else ""
    cleaned = _NUMBER_CHARS.sub("", text)[:NUMBER_LIMIT]
    return "" if cleaned.lower() in ("<unknown>", "unknown") else cleaned


def clean_caller_name(value: object) -> str:
    name = clean_text(value, NAME_LIMIT)
    return "" if name in ("<unknown>",) else name


# Asterisk's ast_escape_c: what follows a backslash in AMI channel-state headers.
_C_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "?": "?",
}  # fmt: skip
_C_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def unescape_ami(text: str) -> str:
    """Undo Asterisk's C-style escaping of a channel's caller ID name in AMI events
    (``O\\'Brien`` -> ``O'Brien``, ``a\\\\b`` -> ``a\\b``), once, left to right. A backslash
    before anything else (Asterisk never writes one) is kept as it is."""
    return _C_ESCAPED.sub(lambda m: _C_ESCAPES.get(m.group(1), m.group(0)), text)


def decode_context(text: str) -> tuple[dict[str, object], str | None]:
    """ACD_CONTEXT (base64url of a JSON object) -> (object, problem or None). Never raises."""
    text = text.strip()
    if not text:
        return {}, None
    if len(text) > CONTEXT_B64_LIMIT:
        return {}, f"context longer than {CONTEXT_B64_LIMIT} characters"
    if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", text):
        return {}, "context is not base64url"
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return {}, "context is not base64url JSON"
    if not isinstance(value, dict):
        return {}, "context is not a JSON object"
    cleaned = _clean_json(value, 0)
    assert isinstance(cleaned, dict)
    return cleaned, None


def _clean_json(value: object, depth: int) -> object:
    if isinstance(value, str):
        return clean_text(value, CONTEXT_STRING_LIMIT)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= CONTEXT_DEPTH_LIMIT:
        return None
    if isinstance(value, list):
        return [_clean_json(item, depth + 1) for item in value[:CONTEXT_ITEMS_LIMIT]]
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in list(value.items())[:CONTEXT_ITEMS_LIMIT]:
            name = clean_text(key, 64)
            if name:
                out[name] = _clean_json(item, depth + 1)
        return out
    return None


def check_requirements(text: str) -> tuple[str, str | None]:
    """A skill expression -> (expression or "" when unusable, problem or None)."""
    text = clean_text(text, REQUIREMENTS_LIMIT + 1)
    if len(text) > REQUIREMENTS_LIMIT:
        return "", f"skills expression longer than {REQUIREMENTS_LIMIT} characters"
    try:
        parse_requirement(text)
    except RequirementError as error:
        return "", f"bad skills expression: {error}"
    return text, None


# ---- towards Asterisk -------------------------------------------------------------------------


def caller_id(name: str, number: str) -> str:
    """``"name" <number>`` safe for an AMI header and Asterisk's caller ID parser."""
    safe_number = clean_number(number)
    safe_name = clean_text(name, NAME_LIMIT).replace("\\", "").replace('"', "")
    safe_name = safe_name.replace("<", "").replace(">", "").strip()
    if safe_name:
        return f'"{safe_name}" <{safe_number}>'
    return f"<{safe_number}>" if safe_number else ""


_VARIABLE_SPECIAL = re.compile(r'[",\\()\[\]]')


def variable_value(text: str, limit: int = NAME_LIMIT) -> str:
    """A value for an Originate ``Variable`` header: Asterisk splits that header at commas
    (respecting quotes, brackets, parentheses and backslashes, which it strips), so those
    characters are dropped; control characters too."""
    return " ".join(_VARIABLE_SPECIAL.sub(" ", clean_text(text, limit)).split())
