"""The call as the IVR sees it, built once from the AGI environment at the edge.

Everything here is supplied by the caller or the network (caller ID can carry quotes,
newlines or kilobytes of text), so it is validated and bounded before any use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

MAX_NAME = 64
MAX_NUMBER = 32
_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
_UNIQUE_ID = re.compile(r"^[0-9A-Za-z._-]{1,64}$")
_CHANNEL = re.compile(r"^[\x21-\x7e]{1,128}$")
_LANGUAGE = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")


@dataclass(frozen=True, slots=True)
class CallInfo:
    caller_number: str  # "" when withheld or not a phone number
    caller_name: str
    channel: str = ""
    unique_id: str = ""
    language: str = ""  # the channel's language when the IVR started ("" = unknown)
    dialled_number: str = ""  # the number the caller dialled (agi_dnid), for the call record

    @classmethod
    def from_agi_env(cls, env: Mapping[str, str]) -> CallInfo:
        return cls(
            caller_number=clean_number(env.get("agi_callerid", "")),
            caller_name=clean_text(env.get("agi_calleridname", ""), MAX_NAME),
            channel=_matching(_CHANNEL, env.get("agi_channel", "")),
            unique_id=_matching(_UNIQUE_ID, env.get("agi_uniqueid", "")),
            language=_matching(_LANGUAGE, env.get("agi_language", "")),
            dialled_number=clean_number(env.get("agi_dnid", "")),
        )


def clean_number(value: str) -> str:
    value = value.strip()[: MAX_NUMBER + 1]
    return value if _NUMBER.match(value) else ""


def clean_text(value: str, limit: int) -> str:
    """Printable text only (control, format and separator characters dropped), bounded."""
    if value.strip().lower() in ("unknown", "<unknown>"):
        return ""
    kept = []
    for c in value[: limit * 4]:
        category = unicodedata.category(c)
        if category == "Zs":
            kept.append(" ")  # the ideographic space of 山田　花子 too
        elif category[0] not in ("C", "Z"):
            kept.append(c)
    return " ".join("".join(kept).split())[:limit]


def _matching(pattern: re.Pattern[str], value: str) -> str:
    return value if pattern.match(value) else ""
