"""Make caller-supplied and agent-supplied text safe to store, without ever raising.

Policy (documented in docs/kpis.md, "Stored text"):
- ``bytes`` are decoded as UTF-8; invalid sequences become U+FFFD.
- Lone surrogates (what ``surrogateescape`` leaves behind for invalid bytes) become U+FFFD.
- NUL (U+0000) is removed: PostgreSQL ``text`` and ``jsonb`` cannot hold it.
- Single-line fields (caller ID, numbers, codes, ids) also lose every other control character;
  free text (notes) keeps tab, newline and carriage return.
- Every field has a documented maximum length in characters (``LIMITS``); longer values are
  truncated to that length. The schema enforces the same limits with CHECK constraints.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

# Maximum length in characters of each bounded text field. The schema's CHECK constraints use
# the same numbers (db/migrations/001_initial.sql); tests keep them in step.
LIMITS: Final[Mapping[str, int]] = {
    "call_id": 128,
    "caller_number": 64,
    "caller_name": 256,
    "dialled_number": 64,
    "queue": 64,
    "agent_id": 64,
    "outcome": 32,
    "disposition": 64,
    "notes": 16384,
    "event_uid": 128,
    "kind": 64,
    "state": 32,
    "reason": 64,
    "customer_name": 256,
    "name_kana": 256,
    "account_number": 64,
    "phone": 32,
    "tier": 16,
    "recording_id": 128,
    "path": 1024,
}

# Serialised size above which a jsonb document is replaced by a truncation marker.
MAX_JSON_CHARS: Final[int] = 65536

_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROL_ALL = re.compile("[\x00-\x1f\x7f]")
_CONTROL_BUT_WHITESPACE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: object, limit: int, *, multiline: bool = False) -> str:
    """Return ``value`` as storable text: valid UTF-8, no NUL, at most ``limit`` characters."""
    if isinstance(value, bytes | bytearray | memoryview):
        text = bytes(value).decode("utf-8", errors="replace")
    elif isinstance(value, str):
        text = value
    else:
        text = str(value)
    text = _SURROGATES.sub("\ufffd", text)
    pattern = _CONTROL_BUT_WHITESPACE if multiline else _CONTROL_ALL
    text = pattern.sub("", text)
    return text[:limit]


def clean_field(name: str, value: object, *, multiline: bool = False) -> str:
    """``clean_text`` with the documented limit of field ``name``."""
    return clean_text(value, LIMITS[name], multiline=multiline)


def optional_field(name: str, value: object, *, multiline: bool = False) -> str | None:
    """Like ``clean_field`` but keeps ``None`` as ``None``."""
    if value is None:
        return None
    return clean_field(name, value, multiline=multiline)


def clean_json(value: object) -> Any:
    """Return a JSON-serialisable copy of ``value`` whose strings are all storable in jsonb.

    Non-finite floats become ``None``; unknown objects become their ``str``; a document whose
    serialised form exceeds ``MAX_JSON_CHARS`` becomes ``{"truncated": true, "preview": ...}``.
    """
    cleaned = _clean_json_value(value, depth=0)
    encoded = json.dumps(cleaned, ensure_ascii=False)
    if len(encoded) > MAX_JSON_CHARS:
        return {"truncated": True, "preview": encoded[:1000]}
    return cleaned


def _clean_json_value(value: object, depth: int) -> Any:
    if depth > 32:
        return None
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str | bytes | bytearray):
        return clean_text(value, MAX_JSON_CHARS, multiline=True)
    if isinstance(value, Mapping):
        return {clean_text(k, 256): _clean_json_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json_value(v, depth + 1) for v in value]
    return clean_text(str(value), MAX_JSON_CHARS, multiline=True)


def normalise_phone(number: object) -> str:
    """Canonical form of a phone number for storage and lookup.

    Keeps digits only (``*`` and ``#`` too, for extensions); a leading ``+81`` (Japan) becomes the
    national ``0`` prefix, any other leading ``+`` is kept. ``03-1234-5678`` -> ``0312345678``,
    ``+81 90 1111 2222`` -> ``09011112222``. The result may be empty.
    """
    text = clean_text(number, 256)
    stripped = text.strip()
    plus = stripped.startswith("+")
    digits = "".join(ch for ch in stripped if ch.isascii() and (ch.isdigit() or ch in "*#"))
    if plus and digits.startswith("81"):
        digits = "0" + digits[2:]
    elif plus:
        digits = "+" + digits
    return digits[: LIMITS["phone"]]
