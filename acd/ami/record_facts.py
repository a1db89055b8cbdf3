"""AMI events the call records need -> frozen facts: a caller's channel on a caller-facing
number, its hang-up, the classic IVR's hand-off to a queue and the dialplan's word that a
leaving caller heard its last prompt.

The routing facts (acd/ami/convert.py) start at the queue; a call record starts earlier, when
the caller's channel appears in the caller-facing context (Newchannel), so a caller who hangs
up before the IVR or the queue has heard of it still leaves its record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from acd.ami.fields import RawEvent, ami_caller_name, header
from acd.ami.text import clean_number

CALLER_CONTEXT = "from-callers"  # the callers' endpoint context (asterisk/etc/pjsip.conf)
PROMPT_PLAYED_USEREVENT = "AcdPromptPlayed"
IVR_ENDED_USEREVENT = "IvrEnded"
NAME = re.compile(r"[-a-zA-Z0-9_]{1,64}")
PROMPTS = frozenset({"voicemail", "goodbye"})


@dataclass(frozen=True, slots=True)
class CallerChannel:
    """A caller's INVITE created its channel in the caller-facing context (before any answer)."""

    uniqueid: str
    number: str  # the number dialled (the extension in that context)
    caller_number: str
    caller_name: str


@dataclass(frozen=True, slots=True)
class ChannelGone:
    uniqueid: str


@dataclass(frozen=True, slots=True)
class HandedToQueue:
    """The classic IVR handed the caller to a queue (UserEvent IvrEnded, Left: queue)."""

    uniqueid: str
    queue: str


@dataclass(frozen=True, slots=True)
class PromptPlayed:
    """A caller the ACD sent away heard the prompt that tells it (voicemail: up to the
    beep; goodbye: the callback or overflow farewell)."""

    uniqueid: str
    prompt: str


RecordFact = CallerChannel | ChannelGone | HandedToQueue | PromptPlayed


def record_fact(event: RawEvent) -> RecordFact | None:
    """One AMI event -> a record fact, or None when the records have no use for it."""
    name = header(event, "Event").lower()
    if name not in ("hangup", "newchannel", "userevent"):
        return None
    uniqueid = header(event, "Uniqueid")
    if not uniqueid:
        return None
    if name == "hangup":
        return ChannelGone(uniqueid)
    if name == "newchannel":
        return _caller_channel(event, uniqueid)
    user_event = header(event, "UserEvent")
    if user_event == PROMPT_PLAYED_USEREVENT:
        prompt = header(event, "Prompt").strip()
        return PromptPlayed(uniqueid, prompt) if prompt in PROMPTS else None
    if user_event == IVR_ENDED_USEREVENT and header(event, "Left").strip() == "queue":
        queue = header(event, "Queue").strip()
        return HandedToQueue(uniqueid, queue if NAME.fullmatch(queue) else "")
    return None


def _caller_channel(event: RawEvent, uniqueid: str) -> CallerChannel | None:
    # The first channel of its call (Linkedid = its own id): not a leg some call created.
    linkedid = header(event, "Linkedid")
    if header(event, "Context") != CALLER_CONTEXT or (linkedid and linkedid != uniqueid):
        return None
    number = clean_number(header(event, "Exten"))
    if not number:
        return None
    return CallerChannel(
        uniqueid,
        number,
        clean_number(header(event, "CallerIDNum")),
        ami_caller_name(event),
    )
