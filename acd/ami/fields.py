"""Reading AMI headers: one header of an event (case-insensitive, repeats resolved), numbers,
durations, and the agent behind a PJSIP channel name.

panoramisk turns a header that appears twice into a list. The waiting context's UserEvent
repeats ``Context`` and ``Priority`` (the channel's dialplan position comes first, the ACD's
values after it), so for those the last value is the one the dialplan wrote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from acd.ami.text import clean_caller_name, unescape_ami

RawEvent = Mapping[str, object]

QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
AGENT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
FLOW_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # an IVR flow name or an IVR_RESULT value
_PJSIP_CHANNEL = re.compile(r"PJSIP/([A-Za-z0-9_.-]{1,64})-[0-9a-f]+")


def header(event: RawEvent, key: str, *, last: bool = False) -> str:
    """One header, case-insensitively; a repeated header gives its first (or last) value."""
    value = event.get(key)
    if value is None:
        lowered = key.lower()
        for name, item in event.items():
            if name.lower() == lowered:
                value = item
                break
    if isinstance(value, list | tuple):
        value = value[-1] if (last and value) else value[0] if value else ""
    return value if isinstance(value, str) else ""


def has_header(event: RawEvent, key: str) -> bool:
    return any(name.lower() == key.lower() for name in event)


def to_int(text: str, default: int = 0) -> int:
    text = text.strip()
    return int(text) if re.fullmatch(r"-?[0-9]{1,9}", text) else default


def parse_duration(text: str) -> float:
    """CoreShowChannel ``Duration`` (``HH:MM:SS``) -> seconds (0 when unreadable)."""
    parts = text.strip().split(":")
    if not parts or not all(p.isdigit() for p in parts):
        return 0.0
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return float(seconds)


def endpoint_of(channel: str) -> str | None:
    """``PJSIP/1001-0000000a`` -> ``1001`` (None for anything else)."""
    match = _PJSIP_CHANNEL.fullmatch(channel.strip())
    return match.group(1) if match else None


def ami_caller_name(event: RawEvent) -> str:
    """The ``CallerIDName`` of an AMI channel event: unescaped once, then cleaned."""
    return clean_caller_name(unescape_ami(header(event, "CallerIDName")))
